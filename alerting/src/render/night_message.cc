#include "render/night_message.h"

#include <algorithm>

#include "backout/core/text.h"
#include "render/line.h"
#include "render/page_view.h"

namespace backout::alerting::render {
namespace {

using rules::PageKind;

// "step 5 of 11"
std::string step_number(const rules::Plan& plan, std::size_t i) {
  return "step " + std::to_string(i + 1) + " of " + std::to_string(plan.backout->steps.size());
}

// A trigger's name from its id (the id when the plan has no such trigger).
std::string trigger_name(const rules::Plan& plan, const std::string& id) {
  const rules::Trigger* t = plan.trigger(id);
  return t != nullptr && !t->name.empty() ? t->name : id;
}

class NightComposer {
 public:
  explicit NightComposer(const MessageContext& c)
      : ctx_(c), plan_(*c.plan), page_(c.page) {}

  ChatMessage compose() {
    m_.kind = page_.kind;
    m_.recommendation = page_.recommendation;
    m_.tone = tone();
    m_.emoji = emoji_of(m_.tone);
    m_.symbol = symbol_of(m_.tone);
    Line title;
    title.strong(headline()).text(" \xE2\x80\x94 " + release_name(plan_));
    m_.title = title.done();
    m_.mentions = mentions_of(plan_, page_);
    body();
    return std::move(m_);
  }

 private:
  const rules::BackoutStep* step() const {
    if (!page_.step || !plan_.backout || *page_.step >= plan_.backout->steps.size()) {
      return nullptr;
    }
    return &plan_.backout->steps[*page_.step];
  }

  Tone tone() const {
    switch (page_.kind) {
      case PageKind::kReversalVerified:
      case PageKind::kStepVerified:
        return Tone::kGood;
      case PageKind::kDeployOverrun:
      case PageKind::kProjection:
      case PageKind::kCheckFailed:
      case PageKind::kReversalIncomplete:
        return Tone::kDanger;
      case PageKind::kStepOverrun:
      case PageKind::kStep:
        return Tone::kWarning;
      default:
        return Tone::kNotice;
    }
  }

  std::string trigger_title() const {
    std::vector<std::string> names;
    for (const std::string& id : page_.triggers) {
      names.push_back(trigger_name(plan_, id));
    }
    return join(names, ", ");
  }

  std::string headline() const {
    const rules::BackoutStep* s = step();
    const std::string which =
        s != nullptr ? step_number(plan_, *page_.step) + ": " + s->action : std::string();
    switch (page_.kind) {
      case PageKind::kPhase:
        return phase_title();
      case PageKind::kDeployOverrun:
        return "No go-live declared";
      case PageKind::kStep:
        return "Backout " + which;
      case PageKind::kStepOverrun:
        return "Running late: " + which;
      case PageKind::kProjection:
        return "Backout projected past the window";
      case PageKind::kCheckFailed:
        return "Check failed: " + which;
      case PageKind::kStepVerified:
        return "Verified: " + which;
      case PageKind::kReversalVerified:
        return "REVERSAL VERIFIED at " + clock(ctx_, page_.at);
      case PageKind::kReversalIncomplete:
        return "REVERSAL INCOMPLETE at " + clock(ctx_, page_.at);
      case PageKind::kBlind:
        return "Cannot be judged: " + trigger_title();
      case PageKind::kBlindResolved:
        return "Can be judged again: " + trigger_title();
      default:
        return std::string(rules::to_string(page_.kind));
    }
  }

  std::string phase_title() const {
    const std::string& p = page_.night_phase;
    if (p == "deploying") {
      return "Deploying";
    }
    if (p == "in_window") {
      return "Live";
    }
    if (p == "backing_out") {
      return "Backing out";
    }
    if (p == "verifying") {
      return "Verifying the reversal";
    }
    if (p == "backed_out") {
      return "Backed out";
    }
    return p;
  }

  // "1 trigger is" / "6 triggers are"
  static std::string triggers_are(std::size_t n) {
    return std::to_string(n) + (n == 1 ? " trigger is" : " triggers are");
  }

  std::string names(const std::vector<std::string>& ids) const {
    std::vector<std::string> out;
    for (const std::string& id : ids) {
      out.push_back(trigger_name(plan_, id));
    }
    return join(out, ", ");
  }

  // "@mike.brown (DBA), phone xxx-xxxx"
  void owner(Line& l, const std::string& role) const {
    l.who(plan_, role);
    const rules::Contact* c = plan_.contact(role);
    if (c != nullptr && !c->phone.empty()) {
      l.text(", phone " + c->phone);
    }
  }

  // "Projected end of the backout 04:52, 1h08m before the window ends at 06:00."
  void projection(Line& l) const {
    if (!page_.projected_end) {
      return;
    }
    const TimePoint end = *page_.projected_end;
    const TimePoint window_end = page_.window_end;
    l.text("Projected end of the backout " + clock(ctx_, end) + ", ");
    if (end <= window_end) {
      l.text(format_span(window_end - end) + " before the window ends at " +
             clock(ctx_, window_end) + ".");
    } else {
      l.strong(format_span(end - window_end) + " after the window");
      l.text(" ends at " + clock(ctx_, window_end) + ".");
    }
  }

  std::string check_text(const rules::MeasureCheck& c) const {
    return c.measure.text() + " " + c.when.text;
  }

  // "Database version is v1.9: 19; Application is back: 100%"
  std::string check_values() const {
    std::vector<std::string> out;
    if (!plan_.backout) {
      return {};
    }
    const auto& checks = plan_.backout->checks;
    for (std::size_t i = 0; i < checks.size(); ++i) {
      std::string v = "no data";
      if (i < page_.check_values.size() && page_.check_values[i]) {
        v = rules::format_measure_value(checks[i].measure, *page_.check_values[i]);
      }
      out.push_back(checks[i].name + " " + v);
    }
    return join(out, "; ");
  }

  void add(Line& l) { m_.body.push_back(l.done()); }

  void body() {
    const rules::BackoutStep* s = step();
    Line l;
    switch (page_.kind) {
      case PageKind::kPhase:
        phase_body();
        return;
      case PageKind::kDeployOverrun: {
        const Duration planned = plan_.deployment ? plan_.deployment->duration : Duration{0};
        l.text("No go-live declared " + format_span(planned) + " after the start (" +
               clock(ctx_, plan_.window.start.at) +
               "): the deployment's outage is no longer expected and every trigger counts. ");
        l.text("Declare it: ").code("backout-agent deployed --by @you");
        l.text(", or decide.");
        add(l);
        return;
      }
      case PageKind::kStep:
      case PageKind::kStepOverrun:
        if (s == nullptr) {
          return;
        }
        owner(l, s->owner);
        l.text(": " + s->action + ", planned " + format_span(s->duration));
        if (!s->verify.empty()) {
          l.text("; verify: " + s->verify);
        }
        l.text(".");
        add(l);
        if (page_.kind == PageKind::kStepOverrun) {
          l.text("It has run 50% past its planned " + format_span(s->duration) + ".");
          add(l);
        }
        projection(l);
        add(l);
        l.text("When done: ").code("backout-agent done " + s->id + " --by @you");
        l.text(" (add ").code("--failed").text(" if it did not work).");
        add(l);
        return;
      case PageKind::kProjection:
        projection(l);
        add(l);
        if (s != nullptr) {
          l.text("Now at " + step_number(plan_, *page_.step) + ": " + s->action + ". ");
        }
        l.text("Decide whether to ask for more time (");
        l.code("backout-agent decide --decision extend --until TIME --by @you").text(").");
        add(l);
        return;
      case PageKind::kCheckFailed:
        if (s == nullptr) {
          return;
        }
        owner(l, s->owner);
        l.text(": " + s->action + " is done but ");
        if (s->check) {
          l.text("its check ").code(check_text(*s->check)).text(" fails");
        } else {
          l.text("was reported as not working");
        }
        l.text(". The next step has started; decide what to do.");
        add(l);
        return;
      case PageKind::kStepVerified:
        if (s != nullptr && s->check) {
          l.text("Its check ").code(check_text(*s->check)).text(" holds.");
          add(l);
        }
        return;
      case PageKind::kReversalVerified:
        l.text(check_values().empty() ? "Every trigger is fine" : check_values());
        l.text(" (held " + format_span(plan_.backout->hold) + ").");
        add(l);
        l.text("The old version is back; the post-backout actions are due now.");
        add(l);
        return;
      case PageKind::kReversalIncomplete:
        l.text("Not verified " + format_span(plan_.backout->timeout) + " after the last step. ");
        l.text("Failing: ").strong(join(page_.failing, ", ")).text(".");
        add(l);
        if (!check_values().empty()) {
          l.text("Now: " + check_values() + ".");
          add(l);
        }
        return;
      case PageKind::kBlind:
      case PageKind::kBlindResolved:
        blind_body();
        return;
      default:
        return;
    }
  }

  // "Login failure rate cannot be judged for 2m: source portal down: connection refused."
  // One line per trigger of the page.
  void blind_body() {
    for (const std::string& id : page_.triggers) {
      const TriggerView v = trigger_view(ctx_, id);
      Line l;
      if (page_.kind == PageKind::kBlindResolved) {
        l.em(v.name).text(" can be judged again");
        if (!v.evidence.empty()) {
          l.text(": " + v.evidence);
        }
        l.text(".");
        add(l);
        continue;
      }
      l.em(v.name).text(" cannot be judged");
      if (v.status != nullptr && v.status->since != TimePoint{}) {
        l.text(" for " + format_span(page_.at - v.status->since));
      }
      if (v.status != nullptr && !v.status->reason.empty()) {
        l.text(": " + v.status->reason);
      }
      l.text(".");
      add(l);
    }
    if (page_.kind == PageKind::kBlind) {
      Line l;
      l.text(page_.triggers.size() == 1 ? "A breach of it would not be seen"
                                        : "A breach of these would not be seen");
      l.text("; look at the source, or judge by hand.");
      add(l);
    }
  }

  void phase_body() {
    Line l;
    const std::string& p = page_.night_phase;
    const std::size_t n = page_.expected.size();
    if (p == "deploying") {
      l.text("deploying: " + triggers_are(n) + " expected to breach until go-live");
      if (n > 0) {
        l.text(" (" + names(page_.expected) + ")");
      }
      l.text("; they page nobody. Every other trigger pages as always. Declare go-live: ");
      l.code("backout-agent deployed --by @you");
      l.text(".");
    } else if (p == "in_window") {
      l.text("Live: every trigger counts; the deployment's triggers start afresh from now.");
    } else if (p == "backing_out") {
      l.text("backing_out: " + triggers_are(n) + " expected to breach until the last step is done");
      if (n > 0) {
        l.text(" (" + names(page_.expected) + ")");
      }
      l.text("; they page nobody.");
    } else if (p == "verifying") {
      l.text("Every step is done. Every trigger counts again; the reversal is verified when ");
      l.text(plan_.backout && !plan_.backout->checks.empty() ? "every check and " : "");
      l.text("every trigger have been fine for " +
             format_span(plan_.backout ? plan_.backout->hold : Duration{0}) + ".");
    } else {
      l.text("The night is " + p + ".");
    }
    add(l);
  }

  const MessageContext& ctx_;
  const rules::Plan& plan_;
  const rules::Page& page_;
  ChatMessage m_;
};

}  // namespace

bool is_night(rules::PageKind kind) {
  switch (kind) {
    case PageKind::kPhase:
    case PageKind::kDeployOverrun:
    case PageKind::kStep:
    case PageKind::kStepOverrun:
    case PageKind::kProjection:
    case PageKind::kCheckFailed:
    case PageKind::kStepVerified:
    case PageKind::kReversalVerified:
    case PageKind::kReversalIncomplete:
    case PageKind::kBlind:
    case PageKind::kBlindResolved:
      return true;
    default:
      return false;
  }
}

ChatMessage compose_night(const MessageContext& ctx) {
  NightComposer c(ctx);
  return c.compose();
}

}  // namespace backout::alerting::render
