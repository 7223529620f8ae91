#include "backout/alerting/chat_message.h"

#include <algorithm>
#include <map>

#include "backout/core/text.h"
#include "render/line.h"
#include "render/night_message.h"
#include "render/page_view.h"

namespace backout::alerting {

using render::emoji_of;
using render::Line;
using render::sentence;
using render::symbol_of;
using render::TriggerView;
using rules::PageKind;
using rules::Recommendation;
using rules::Severity;

std::string_view to_string(Tone t) {
  switch (t) {
    case Tone::kDanger:
      return "danger";
    case Tone::kWarning:
      return "warning";
    case Tone::kNotice:
      return "notice";
    case Tone::kGood:
      return "good";
  }
  return "notice";
}

std::string TextLine::plain() const {
  std::string out;
  for (const Span& s : spans) {
    // Backticks are how plain text and chat show a command to copy.
    out += s.style == Span::Style::kCode ? "`" + s.text + "`" : s.text;
  }
  return out;
}

std::string ChatMessage::plain_text() const {
  std::string out = symbol.empty() ? title.plain() : symbol + " " + title.plain();
  for (const TextLine& l : body) {
    out += "\n" + l.plain();
  }
  if (!ack_hint.spans.empty()) {
    out += "\n" + ack_hint.plain();
  }
  return out;
}

std::string ChatMessage::summary() const {
  std::string out = title.plain();
  if (!body.empty()) {
    out += ": " + body.front().plain();
  }
  return out;
}

namespace {

Tone tone_of(Recommendation r) {
  switch (r) {
    case Recommendation::kBackout:
      return Tone::kDanger;
    case Recommendation::kFixForward:
      return Tone::kWarning;
    case Recommendation::kWatch:
      return Tone::kNotice;
    case Recommendation::kGo:
      return Tone::kGood;
  }
  return Tone::kNotice;
}

std::string severity_text(const std::optional<Severity>& s) {
  return s ? std::string(rules::to_string(*s)) : std::string();
}

// Everything compose_message needs, computed once.
class Composer {
 public:
  explicit Composer(const MessageContext& c)
      : ctx_(c),
        plan_(*c.plan),
        page_(c.page),
        triggers_(render::page_triggers(c)),
        at_(c.page.at),
        pnr_(c.plan->window.point_of_no_return()) {}

  ChatMessage compose();

 private:
  std::string clock(TimePoint t) const { return render::clock(ctx_, t); }

  bool honoured(const rules::FixForward& ff) const { return ff.eta <= pnr_ && at_ < ff.eta; }

  // The fix-forward the recommendation rests on: the earliest honoured ETA of the driving
  // triggers (the recommendation turns to backout when the first of them passes).
  const rules::FixForward* driving_fix_forward() const {
    const rules::FixForward* best = nullptr;
    auto consider = [&](const TriggerView& v) {
      if (v.fix_forward != nullptr && honoured(*v.fix_forward) &&
          (best == nullptr || v.fix_forward->eta < best->eta)) {
        best = v.fix_forward;
      }
    };
    for (const TriggerView& v : triggers_) {
      consider(v);
    }
    for (const std::string& id : ctx_.decision.triggers) {
      TriggerView v = render::trigger_view(ctx_, id);
      consider(v);
    }
    return best;
  }

  std::string recommendation_phrase() const {
    switch (page_.recommendation) {
      case Recommendation::kBackout:
        return "BACKOUT recommended";
      case Recommendation::kFixForward:
        if (const rules::FixForward* ff = driving_fix_forward()) {
          return "FIX-FORWARD, ETA " + clock(ff->eta);
        }
        return "FIX-FORWARD";
      case Recommendation::kWatch:
        return "WATCH";
      case Recommendation::kGo:
        return "GO";
    }
    return "GO";
  }

  // When the page's episodes were first paged (paged_at: reset by a rise in severity).
  std::optional<TimePoint> first_paged() const {
    std::optional<TimePoint> since;
    for (const TriggerView& v : triggers_) {
      if (v.episode != nullptr && v.episode->paged_at &&
          (!since || *v.episode->paged_at < *since)) {
        since = v.episode->paged_at;
      }
    }
    return since;
  }

  // Reminders come every repeat_every after the first page (an escalation in between shifts
  // them), so the number of whole periods since the first page counts them.
  std::int64_t reminder_number() const {
    const Duration every = plan_.notify.repeat_every;
    std::optional<TimePoint> since = first_paged();
    if (!since || every <= Duration{0}) {
      return 1;
    }
    return std::max<std::int64_t>(1, (at_ - *since) / every);
  }

  void subject(Line& l) const {
    bool first = true;
    for (const TriggerView& v : triggers_) {
      if (!first) {
        l.text(", ");
      }
      first = false;
      if (v.severity) {
        l.text(severity_text(v.severity) + ": ");
      }
      l.em(v.name);
    }
  }

  TextLine title() const {
    Line l;
    switch (page_.kind) {
      case PageKind::kResolve:
        l.strong("Resolved");
        break;
      case PageKind::kFinal:
        l.strong("Final: " + std::string(rules::headline(page_.recommendation)));
        break;
      case PageKind::kAct:
        l.strong("Noted");
        break;
      default:
        l.strong(recommendation_phrase());
        break;
    }
    l.text(" \xE2\x80\x94 " + render::release_name(plan_));
    std::string qualifier;
    switch (page_.kind) {
      case PageKind::kSeverityUp:
        qualifier = "severity up";
        break;
      case PageKind::kRepeat:
        qualifier = "reminder " + std::to_string(reminder_number());
        break;
      case PageKind::kEscalation:
        qualifier = "escalated";
        break;
      case PageKind::kPnrWarning:
        qualifier = at_ < pnr_ ? "point of no return in " + format_span(pnr_ - at_)
                               : "point of no return passed";
        break;
      case PageKind::kEtaPassed:
        qualifier = "fix-forward ETA passed";
        break;
      case PageKind::kFinal:
        qualifier = "the deployment window closed at " + clock(plan_.window.end.at);
        break;
      case PageKind::kBreach:
      case PageKind::kResolve:
      case PageKind::kAct:
      case PageKind::kPhase:  // the night's kinds: compose_night()
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
        break;
    }
    if (!qualifier.empty()) {
      l.text(" \xE2\x80\x94 " + qualifier);
    }
    if (page_.kind != PageKind::kFinal && !triggers_.empty()) {
      l.text(" \xE2\x80\x94 ");
      subject(l);
    }
    return l.done();
  }

  // The news of a repeat, escalation, PNR warning, ETA or severity change, before the evidence.
  void kind_line() {
    Line l;
    switch (page_.kind) {
      case PageKind::kRepeat: {
        std::optional<TimePoint> since = first_paged();
        l.text("Reminder " + std::to_string(reminder_number()) + ", not acknowledged");
        if (since) {
          l.text(" since " + clock(*since) + " (" + format_span(at_ - *since) + ")");
        }
        l.text(".");
        break;
      }
      case PageKind::kEscalation: {
        if (!page_.escalated_from.empty()) {
          l.who(plan_, page_.escalated_from).text(" has not acknowledged");
        } else {
          l.text("Nobody has acknowledged");
        }
        const rules::Authority* a = page_.severity ? plan_.authority_for(*page_.severity) : nullptr;
        if (a != nullptr && a->ack_within) {
          l.text(" within " + format_span(*a->ack_within));
        }
        l.text("; decides now: ");
        l.who(plan_, page_.decides).text(".");
        break;
      }
      case PageKind::kPnrWarning:
        if (at_ < pnr_) {
          l.text("Point of no return in " + format_span(pnr_ - at_) + " (" + clock(pnr_) +
                 "): a backout takes " + format_span(plan_.window.backout_duration) +
                 " and must start by then to end inside the window; decide now.");
        } else {
          l.text("The point of no return " + clock(pnr_) + " has passed.");
        }
        break;
      case PageKind::kEtaPassed: {
        bool any = false;
        for (const TriggerView& v : triggers_) {
          if (v.fix_forward != nullptr && at_ >= v.fix_forward->eta) {
            if (any) {
              l.text(" ");
            }
            any = true;
            l.text("The fix-forward ETA " + clock(v.fix_forward->eta) + " passed with the " +
                   (triggers_.size() > 1 ? v.name + " " : std::string()) +
                   "breach still open (declared by " + render::person(plan_, v.fix_forward->by) +
                   " at " + clock(v.fix_forward->declared_at) + ").");
          }
        }
        if (!any) {
          l.text("The fix-forward ETA passed with the breach still open.");
        }
        break;
      }
      case PageKind::kSeverityUp:
        for (const TriggerView& v : triggers_) {
          l.em(v.name).text(" rose to " + severity_text(v.severity) + ": ");
        }
        l.text("it needs a new acknowledgement.");
        break;
      case PageKind::kBreach:
      case PageKind::kResolve:
      case PageKind::kFinal:
      case PageKind::kAct:
      case PageKind::kPhase:  // the night's kinds: compose_night()
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
        break;
    }
    if (!l.empty()) {
      m_.body.push_back(l.done());
    }
  }

  void evidence_lines() {
    for (const TriggerView& v : triggers_) {
      Line l;
      if (triggers_.size() > 1) {
        l.em(v.name);
        l.text(v.severity ? " (" + severity_text(v.severity) + "): " : ": ");
      }
      std::string ev = v.evidence.empty() ? v.value_text : v.evidence;
      if (v.raise != nullptr && triggers_.size() == 1) {
        ev = render::capitalize(ev);  // "Raised by ..." starts the line
      }
      if (v.early) {
        // The average alone is still under the threshold: say why this is a breach anyway.
        l.text("Early detection: ");
      }
      l.text(ev.empty() ? "no reading." : sentence(ev));
      m_.body.push_back(l.done());
    }
  }

  void resolve_lines() {
    for (const TriggerView& v : triggers_) {
      Line l;
      if (triggers_.size() > 1) {
        l.em(v.name).text(": ");
        l.text("back to normal");
      } else {
        l.text("Back to normal");
      }
      l.text(v.evidence.empty() ? "." : ": " + sentence(v.evidence));
      m_.body.push_back(l.done());
      if (const rules::Episode* e = v.episode) {
        TimePoint end = e->resolved_at.value_or(at_);
        Line d;
        d.text("Breached " + clock(e->opened_at) + "\xE2\x80\x93" + clock(end) + " (" +
               format_span(end - e->opened_at) + ")");
        if (e->acked_at) {
          d.text("; acknowledged by " + render::person(plan_, e->acked_by) + " at " +
                 clock(*e->acked_at));
        } else if (e->paged_at) {
          d.text("; not acknowledged");
        }
        d.text(".");
        m_.body.push_back(d.done());
      }
    }
  }

  void fix_forward_lines() {
    for (const TriggerView& v : triggers_) {
      if (v.severity != Severity::kMajor) {
        continue;
      }
      Line l;
      if (triggers_.size() > 1) {
        l.em(v.name).text(": ");
      }
      const rules::FixForward* ff = v.fix_forward;
      if (ff != nullptr && honoured(*ff)) {
        l.text("Fix-forward by " + render::person(plan_, ff->by));
        l.text(", ETA " + clock(ff->eta) + " (in " + format_span(ff->eta - at_) + ").");
      } else if (ff != nullptr && ff->eta > pnr_) {
        l.text("The fix-forward ETA " + clock(ff->eta) + " (" + render::person(plan_, ff->by));
        l.text(") is after the point of no return " + clock(pnr_) +
               ", so it cannot replace a backout.");
      } else if (ff != nullptr) {
        if (page_.kind == PageKind::kEtaPassed) {
          continue;  // the kind line says it
        }
        l.text("The fix-forward ETA " + clock(ff->eta) + " (" + render::person(plan_, ff->by));
        l.text(") has passed.");
      } else if (at_ < pnr_ && page_.phase == rules::Phase::kInWindow) {
        l.text("No fix-forward declared: backout, unless a fix with an ETA before " + clock(pnr_) +
               " is declared (POST /api/v1/fix-forward).");
      } else {
        l.text("No fix-forward declared.");
      }
      m_.body.push_back(l.done());
    }
  }

  // Says why the recommendation is what it is when the page's own triggers do not drive it.
  void recommendation_line() {
    const rules::DecisionOutput& d = ctx_.decision;
    const std::string word(rules::headline(page_.recommendation));
    Line l;
    if (page_.kind == PageKind::kResolve || page_.kind == PageKind::kAct) {
      l.text("Recommendation now ").strong(word);
      if (!d.reason.empty()) {
        l.text(": " + sentence(d.reason));
      } else {
        l.text(".");
      }
      m_.body.push_back(l.done());
      return;
    }
    if (page_.recommendation == Recommendation::kBackout && d.triggers.empty() &&
        !d.reason.empty()) {
      l.text(sentence(render::capitalize(d.reason)));  // a person decided backout
      m_.body.push_back(l.done());
      return;
    }
    if (page_.recommendation == Recommendation::kGo || d.triggers.empty()) {
      return;
    }
    for (const std::string& id : d.triggers) {
      if (std::find(page_.triggers.begin(), page_.triggers.end(), id) != page_.triggers.end()) {
        return;
      }
    }
    l.text("Recommendation ").strong(word).text(" because of ");
    bool first = true;
    for (const std::string& id : d.triggers) {
      TriggerView v = render::trigger_view(ctx_, id);
      if (!first) {
        l.text(", ");
      }
      first = false;
      if (v.severity) {
        l.text(severity_text(v.severity) + ": ");
      }
      l.em(v.name);
    }
    l.text(".");
    m_.body.push_back(l.done());
  }

  void decides_line() {
    Line l;
    if (page_.kind != PageKind::kEscalation && !page_.decides.empty()) {
      l.text("Decides: ").who(plan_, page_.decides).text(".");
    }
    std::vector<std::string> fyi;
    const rules::Contact* decider = plan_.contact(page_.decides);
    for (const std::string& handle : page_.mention) {
      if (decider == nullptr || handle != decider->chat) {
        fyi.push_back(handle);
      }
    }
    if (!fyi.empty()) {
      l.text(l.empty() ? "FYI" : " FYI");
      for (const std::string& h : fyi) {
        l.text(" ").mention(h);
      }
      l.text(".");
    }
    if (l.empty() && page_.kind == PageKind::kBreach && page_.severity == Severity::kMinor) {
      l.text("Minor: log and continue; nobody is paged.");
    }
    if (!l.empty()) {
      m_.body.push_back(l.done());
    }
  }

  std::string pnr_text() const {
    if (at_ < pnr_) {
      return clock(pnr_) + " (in " + format_span(pnr_ - at_) + ")";
    }
    return clock(pnr_) + " (passed " + format_span(at_ - pnr_) + " ago)";
  }

  void pnr_line() {
    // A PNR warning says it in its first line already.
    if (page_.decides.empty() || page_.phase != rules::Phase::kInWindow ||
        page_.kind == PageKind::kPnrWarning) {
      return;
    }
    Line l;
    const std::string takes = format_span(plan_.window.backout_duration);
    if (at_ < pnr_) {
      l.text("Point of no return " + pnr_text() + "; backout takes " + takes + ".");
    } else {
      l.text("Point of no return " + clock(pnr_) + " passed " + format_span(at_ - pnr_) +
             " ago: a backout started now ends after " + clock(plan_.window.end.at) +
             " (it takes " + takes + ").");
    }
    m_.body.push_back(l.done());
  }

  void phase_line() {
    if (page_.phase == rules::Phase::kPostWindow && page_.kind != PageKind::kFinal) {
      Line l;
      l.text("The deployment window closed at " + clock(plan_.window.end.at) + ".");
      m_.body.push_back(l.done());
    }
  }

  bool all_acknowledged() const {
    if (triggers_.empty()) {
      return false;
    }
    for (const TriggerView& v : triggers_) {
      if (v.episode == nullptr || !v.episode->acked_at) {
        return false;
      }
    }
    return true;
  }

  void ack_hint() {
    if (page_.decides.empty() || page_.kind == PageKind::kResolve ||
        page_.kind == PageKind::kFinal || all_acknowledged()) {
      return;
    }
    Line l;
    l.text("Acknowledge: ");
    if (triggers_.size() == 1) {
      l.code("backout-agent ack --trigger " + triggers_.front().id + " --by @you");
    } else {
      l.code("backout-agent ack --by @you");
      l.text(" (all open breaches)");
    }
    l.text(" or POST /api/v1/ack.");
    m_.ack_hint = l.done();
  }

  void final_lines() {
    const rules::DecisionOutput& d = ctx_.decision;
    const Recommendation rec = page_.recommendation;
    const bool decided_by_person = rec == Recommendation::kBackout && d.triggers.empty();
    {
      Line l;
      if (rec == Recommendation::kWatch) {
        l.text("Still watching: " + sentence(d.reason));
      } else if (!d.reason.empty() && !decided_by_person) {  // the status line says who decided
        l.text(sentence(render::capitalize(d.reason)));
      }
      if (!l.empty()) {
        m_.body.push_back(l.done());
      }
    }
    if (rec == Recommendation::kBackout || rec == Recommendation::kFixForward) {
      const rules::HumanDecision* backout = nullptr;
      for (const rules::HumanDecision& hd : ctx_.acts.decisions) {
        if (hd.kind == rules::HumanDecision::Kind::kBackout && hd.at <= at_) {
          backout = &hd;
          break;
        }
      }
      Line l;
      if (backout != nullptr) {
        l.text("Backout status: decided by " + render::person(plan_, backout->by));
        l.text(" at " + clock(backout->at) +
               (backout->note.empty() ? "" : " (" + backout->note + ")") + ".");
      } else {
        l.text("Backout status: no decision recorded; record it with POST /api/v1/decision.");
      }
      m_.body.push_back(l.done());
      decides_line();
    }
    night_lines();
  }

  void night_lines() {
    std::map<Severity, int, std::greater<>> by_severity;
    std::uint64_t pages = 0;
    int acked = 0;
    std::vector<const rules::Episode*> eps;
    for (const rules::Episode& e : ctx_.episodes) {
      if (e.opened_at > at_) {
        continue;
      }
      eps.push_back(&e);
      ++by_severity[e.severity];
      pages += e.pages;
      acked += e.acked_at ? 1 : 0;
    }
    Line l;
    l.text("The night: ");
    if (eps.empty()) {
      l.text("no breaches, no pages");
    } else {
      l.text(std::to_string(eps.size()) + (eps.size() == 1 ? " breach (" : " breaches ("));
      bool first = true;
      for (const auto& [sev, n] : by_severity) {
        l.text((first ? "" : ", ") + std::to_string(n) + " " + std::string(rules::to_string(sev)));
        first = false;
      }
      l.text("), " + std::to_string(pages) + (pages == 1 ? " page, " : " pages, ") +
             std::to_string(acked) + " acknowledged");
    }
    const std::size_t ffs = ctx_.acts.fix_forwards.size();
    if (ffs > 0) {
      l.text(", " + std::to_string(ffs) +
             (ffs == 1 ? " fix-forward declared" : " fix-forwards declared"));
    }
    if (!ctx_.acts.decisions.empty()) {
      l.text("; decisions: ");
      bool first = true;
      for (const rules::HumanDecision& hd : ctx_.acts.decisions) {
        l.text(std::string(first ? "" : ", ") + std::string(rules::to_string(hd.kind)) + " by ");
        l.text(render::person(plan_, hd.by) + " at " + clock(hd.at));
        first = false;
      }
    }
    l.text(".");
    m_.body.push_back(l.done());

    constexpr std::size_t kMaxEpisodes = 10;
    for (std::size_t i = 0; i < eps.size() && i < kMaxEpisodes; ++i) {
      const rules::Episode& e = *eps[i];
      TriggerView v = render::trigger_view(ctx_, e.trigger);
      Line el;
      el.text("\xE2\x80\xA2 ")
          .em(v.name)
          .text(" (" + std::string(rules::to_string(e.severity)) + "): ");
      if (e.resolved_at) {
        el.text(clock(e.opened_at) + "\xE2\x80\x93" + clock(*e.resolved_at) + " (" +
                format_span(*e.resolved_at - e.opened_at) + ")");
      } else {
        el.text("since " + clock(e.opened_at) + ", still open");
      }
      if (e.acked_at) {
        el.text(", acknowledged by " + render::person(plan_, e.acked_by) + " at " +
                clock(*e.acked_at));
      } else if (e.paged_at) {
        el.text(", not acknowledged");
      }
      el.text(".");
      m_.body.push_back(el.done());
    }
    if (eps.size() > kMaxEpisodes) {
      Line more;
      more.text("\xE2\x80\xA6 and " + std::to_string(eps.size() - kMaxEpisodes) + " more.");
      m_.body.push_back(more.done());
    }
  }

  void facts() {
    auto add = [&](std::string title, std::string value) {
      if (!value.empty()) {
        m_.facts.push_back({std::move(title), std::move(value)});
      }
    };
    add("Recommendation", std::string(rules::headline(page_.recommendation)));
    if (page_.kind == PageKind::kFinal) {
      std::uint64_t pages = 0;
      int acked = 0;
      for (const rules::Episode& e : ctx_.episodes) {
        pages += e.pages;
        acked += e.acked_at ? 1 : 0;
      }
      add("Breaches", std::to_string(ctx_.episodes.size()));
      add("Pages", std::to_string(pages));
      add("Acknowledged", std::to_string(acked));
      std::vector<std::string> ds;
      for (const rules::HumanDecision& hd : ctx_.acts.decisions) {
        ds.push_back(std::string(rules::to_string(hd.kind)) + " by " +
                     render::person(plan_, hd.by) + " at " + clock(hd.at));
      }
      add("Decisions", join(ds, ", "));
      if (!page_.decides.empty()) {
        add("Decides", render::who(plan_, page_.decides));
      }
      return;
    }
    if (triggers_.size() == 1) {
      const TriggerView& v = triggers_.front();
      add("Value", v.value_text.empty()
                       ? std::string()
                       : v.value_text + (v.window.empty() ? "" : " over " + v.window));
      add("Threshold", v.condition + (v.early ? " (early detection)" : ""));
    } else {
      for (const TriggerView& v : triggers_) {
        std::string value = v.value_text.empty() ? std::string("no reading") : v.value_text;
        add(v.name, value + (v.condition.empty() ? "" : " (" + v.condition + ")"));
      }
    }
    if (page_.kind == PageKind::kResolve) {
      for (const TriggerView& v : triggers_) {
        if (v.episode != nullptr) {
          TimePoint end = v.episode->resolved_at.value_or(at_);
          add(triggers_.size() > 1 ? "Breached (" + v.name + ")" : "Breached",
              clock(v.episode->opened_at) + "\xE2\x80\x93" + clock(end) + " (" +
                  format_span(end - v.episode->opened_at) + ")");
        }
      }
      return;
    }
    if (!page_.decides.empty()) {
      add("Decides", render::who(plan_, page_.decides));
      add("Point of no return", pnr_text());
      add("Backout takes", format_span(plan_.window.backout_duration));
    }
  }

  const MessageContext& ctx_;
  const rules::Plan& plan_;
  const rules::Page& page_;
  std::vector<TriggerView> triggers_;
  TimePoint at_;
  TimePoint pnr_;
  ChatMessage m_;
};

ChatMessage Composer::compose() {
  m_.kind = page_.kind;
  m_.recommendation = page_.recommendation;
  m_.tone = page_.kind == PageKind::kResolve ? Tone::kGood : tone_of(page_.recommendation);
  m_.emoji = emoji_of(m_.tone);
  m_.symbol = symbol_of(m_.tone);
  m_.title = title();
  m_.mentions = render::mentions_of(plan_, page_);
  switch (page_.kind) {
    case PageKind::kFinal:
      final_lines();
      break;
    case PageKind::kResolve:
      resolve_lines();
      recommendation_line();
      break;
    case PageKind::kAct: {
      // The act itself, as the agent recorded it, then what the plan says now.
      Line l;
      l.text(sentence(page_.reason));
      m_.body.push_back(l.done());
      recommendation_line();
      break;
    }
    default:
      kind_line();
      evidence_lines();
      fix_forward_lines();
      recommendation_line();
      decides_line();
      pnr_line();
      break;
  }
  phase_line();
  ack_hint();
  facts();
  return std::move(m_);
}

}  // namespace

ChatMessage compose_message(const MessageContext& ctx) {
  if (render::is_night(ctx.page.kind)) {
    return render::compose_night(ctx);
  }
  Composer c(ctx);
  return c.compose();
}

}  // namespace backout::alerting
