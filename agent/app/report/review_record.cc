// Reading the record: the typed timeline events -> the facts the review needs (episodes, pages,
// acts, decisions, recommendations, sources, restarts, deliveries, the timeline's rows).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <variant>

#include "app/report/review_parts.h"
#include "backout/core/text.h"

namespace backout::agent::report {
namespace {

template <typename... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <typename... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

template <typename E>
std::string name_of(E e) {
  return std::string(rules::to_string(e));
}

std::string lower(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

// Walks the events in order, keeping which episodes are open.
class EventReader {
 public:
  EventReader(Facts& f, const Names& names) : f_(f), r_(f.review), n_(names) {}

  void read() {
    std::optional<TimePoint> previous;
    for (std::size_t i = 0; i < f_.events.size(); ++i) {
      const record::TimelineEvent& e = *f_.events[i];
      at_ = e.at.at;
      kind_ = e.kind();
      const record::TimelineEvent* prev = i > 0 ? f_.events[i - 1] : nullptr;
      std::visit(Overloaded{[&](const record::Notified& n) { on_notify(n, prev); },
                            [&](const record::AgentLifecycle& a) { on_agent(a, previous); },
                            [&](const auto& body) { on(body); }},
                 e.body);
      previous = at_;
    }
  }

 private:
  std::optional<std::size_t> open_episode(const std::string& id) const {
    auto it = open_.find(id);
    return it == open_.end() ? std::nullopt : std::optional<std::size_t>(it->second);
  }

  // The most severe open episode now (for the authority of a decision).
  std::string open_severity() const {
    std::string best;
    for (const auto& [id, idx] : open_) {
      if (severity_rank(r_.episodes[idx].severity) > severity_rank(best)) {
        best = r_.episodes[idx].severity;
      }
    }
    return best;
  }

  void add_row(std::string event, std::string details) {
    Row row;
    row.row = {at_, std::move(event), std::move(details)};
    f_.rows.push_back(std::move(row));
  }

  std::size_t add_act(std::string what, const std::string& by, std::string details) {
    Act a;
    a.at = at_;
    a.kind = std::string(kind_);
    a.what = std::move(what);
    a.by = by;
    a.who = n_.who(by);
    a.details = std::move(details);
    r_.acts.push_back(std::move(a));
    Row row;
    row.row = {at_, r_.acts.back().what, ""};
    row.act = r_.acts.size() - 1;
    f_.rows.push_back(std::move(row));
    return r_.acts.size() - 1;
  }

  void on(const record::TriggerChanged& t);
  void breached(const record::TriggerChanged& t, std::string details);
  void on(const record::RecommendationChanged& rc);
  void on_notify(const record::Notified& n, const record::TimelineEvent* prev);
  void page_effects(std::size_t page, const std::string& trigger);
  void on(const record::Delivery& d);
  void on(const record::Acknowledged& a);
  void on(const record::FixForwardDeclared& ff);
  void on(const record::Decided& d);
  void on(const record::Raised& x);
  void on(const record::RaiseCleared& c);
  void on(const record::SourceChanged& s);
  void on(const record::PhaseChanged& p);
  void on_agent(const record::AgentLifecycle& a, std::optional<TimePoint> previous);
  void on(const record::ClockStepped& c);
  // The plan as the agent watched it: read in read_timeline(), no row of its own (the agent's
  // start or restart beside it has one).
  void on(const record::PlanSnapshot&) {}
  // The night (DESIGN section 9): go-live and each done item are acts; the steps and the
  // verification make the planned-versus-actual rows.
  void on(const record::GoLiveDeclared& g);
  void on(const record::ItemDoneRecorded& d);
  void on(const record::NightPhaseChanged& n);
  void on(const record::StepChanged& c);
  void on(const record::VerifyOutcome& v);
  StepRecord& step(const std::string& id) {
    for (StepRecord& s : r_.steps) {
      if (s.id == id) {
        return s;
      }
    }
    r_.steps.push_back({id});
    return r_.steps.back();
  }
  void on(const record::Unknown& u);

  Facts& f_;
  Review& r_;
  const Names& n_;
  TimePoint at_{};                           // the event's
  std::string_view kind_;                    // the event's
  std::map<std::string, std::size_t> open_;  // trigger or raise id -> open episode
};

void EventReader::on(const record::TriggerChanged& t) {
  const std::string value = n_.value_text(t.trigger, t.value);
  std::string details = n_.trigger_text(t.trigger);
  if (t.state == rules::TriggerState::kBreached) {
    breached(t, std::move(details));
    return;
  }
  const std::string state = name_of(t.state);
  if (t.state == rules::TriggerState::kInconclusive) {
    details += ": " + t.reason;
  } else if (!value.empty()) {
    details += ": value " + value;
  }
  if (auto ep = open_episode(t.trigger)) {
    EpisodeRecord& rec = r_.episodes[*ep];
    rec.resolved_at = at_;
    open_.erase(t.trigger);
    details += "; breached for " + n_.span(at_ - rec.breached_at);
    add_row(state == "ok" ? "Trigger resolved" : "Trigger resolved (" + state + ")", details);
    return;
  }
  add_row("Trigger " + state, details);
}

void EventReader::breached(const record::TriggerChanged& t, std::string details) {
  const std::string sev = t.severity ? name_of(*t.severity) : std::string();
  const std::string value = n_.value_text(t.trigger, t.value);
  const std::string path = !t.path                                   ? std::string()
                           : *t.path == rules::DetectionPath::kEarly ? "early detection"
                                                                     : "window average";
  details += ": " + (sev.empty() ? std::string("breached") : sev) +
             (value.empty() ? "" : ", value " + value) + (path.empty() ? "" : ", by the " + path);
  if (auto ep = open_episode(t.trigger)) {
    EpisodeRecord& rec = r_.episodes[*ep];
    if (severity_rank(sev) > severity_rank(rec.severity)) {
      rec.severity = sev;
      rec.ack_within = n_.ack_within(sev);
    }
    add_row("Trigger severity changed", details);
    return;
  }
  EpisodeRecord rec;
  rec.trigger = t.trigger;
  rec.name = n_.trigger_name(t.trigger);
  rec.severity = sev;
  rec.breached_at = at_;
  rec.value = value;
  rec.path = path;
  rec.ack_within = n_.ack_within(sev);
  r_.episodes.push_back(std::move(rec));
  open_[t.trigger] = r_.episodes.size() - 1;
  add_row("Trigger breached", details);
}

void EventReader::on(const record::RecommendationChanged& rc) {
  Recommendation rec{at_, name_of(rc.recommendation), rc.reason};
  if (rc.recommendation == rules::Recommendation::kBackout && !r_.backout_recommended_at) {
    r_.backout_recommended_at = at_;
  }
  add_row("Recommendation: " + headline(rec.rec), rec.reason);
  f_.recs.push_back(std::move(rec));
}

void EventReader::on_notify(const record::Notified& n, const record::TimelineEvent* prev) {
  const std::string kind = name_of(n.page);
  const std::string trigger = n.trigger.value_or("");
  // One page about several triggers is one notify event per trigger, at the same instant, with
  // the page's key (a record from before keys were written: the same kind, decider and
  // mentions at the same instant).
  const PageRecord* last = r_.pages.empty() ? nullptr : &r_.pages.back();
  const bool same_page =
      prev != nullptr && prev->as<record::Notified>() != nullptr && last != nullptr &&
      prev->at.at == at_ &&
      (n.key.empty() ? last->key.empty() && last->at == at_ && last->kind == kind &&
                           last->decides == n.decides && last->mention == n.mention
                     : last->key == n.key);
  if (same_page) {
    PageRecord& p = r_.pages.back();
    if (!trigger.empty()) {
      p.triggers.push_back(trigger);
    }
    page_effects(r_.pages.size() - 1, trigger);
    return;
  }
  PageRecord p;
  p.at = at_;
  p.kind = kind;
  if (!trigger.empty()) {
    p.triggers.push_back(trigger);
  }
  p.decides = n.decides;
  p.decides_who = n.decides.empty() ? "" : n_.role_who(n.decides);
  p.mention = n.mention;
  p.key = n.key;
  r_.pages.push_back(std::move(p));
  Row row;
  row.row = {at_, (n.decides.empty() ? "Posted: " : "Page: ") + page_title(kind), ""};
  row.page = r_.pages.size() - 1;
  f_.rows.push_back(std::move(row));
  page_effects(r_.pages.size() - 1, trigger);
}

void EventReader::page_effects(std::size_t page, const std::string& trigger) {
  PageRecord& p = r_.pages[page];
  auto ep = open_episode(trigger);
  if (!ep) {
    return;
  }
  EpisodeRecord& rec = r_.episodes[*ep];
  if (severity_rank(rec.severity) > severity_rank(p.severity)) {
    p.severity = rec.severity;
  }
  if (p.kind == "breach" || p.kind == "severity_up") {
    if (!p.detected_at || rec.breached_at < *p.detected_at) {
      p.detected_at = rec.breached_at;
    }
    if (!rec.paged_at && !p.decides.empty()) {
      rec.paged_at = at_;
    }
  } else if (p.kind == "escalation" && !rec.escalated_at) {
    rec.escalated_at = at_;
    rec.escalated_to = p.decides_who;
  }
}

void EventReader::on(const record::Delivery& d) {
  f_.deliveries.push_back({at_, d.channel, d.key, std::string(record::to_string(d.outcome)),
                           d.attempts, d.detail, r_.pages.size(), std::nullopt});
  Row row;
  row.row = {at_, "", ""};
  row.delivery = f_.deliveries.size() - 1;
  f_.rows.push_back(std::move(row));
}

void EventReader::on(const record::Acknowledged& a) {
  std::vector<std::string> parts;
  for (const std::string& id : a.triggers) {
    std::string part = n_.trigger_name(id);
    auto ep = open_episode(id);
    if (!ep) {
      // Acknowledged just after it resolved (same tick): the latest episode.
      for (std::size_t k = r_.episodes.size(); k-- > 0;) {
        if (r_.episodes[k].trigger == id) {
          ep = k;
          break;
        }
      }
    }
    if (ep) {
      EpisodeRecord& rec = r_.episodes[*ep];
      if (!rec.acked_at) {
        rec.acked_at = at_;
        rec.acked_by = n_.who(a.by);
      }
      if (rec.paged_at) {
        part += ", " + n_.span(at_ - *rec.paged_at) + " after the page";
      }
    }
    parts.push_back(part);
  }
  add_act("Acknowledged", a.by, join(parts, "; "));
}

void EventReader::on(const record::FixForwardDeclared& ff) {
  std::string details =
      "for " + n_.trigger_name(ff.trigger) + ", ETA " + n_.t(ff.eta.at) +
      (ff.before_point_of_no_return ? " (before the point of no return)"
                                    : " (after the point of no return: not honoured, the "
                                      "recommendation stays BACKOUT)");
  std::size_t act = add_act("Fix-forward declared", ff.by, details);
  f_.fix_forwards.push_back({act, ff.eta.at, open_episode(ff.trigger)});
}

void EventReader::on(const record::Decided& d) {
  const std::string what = name_of(d.decision);
  std::string details = d.note;
  if (d.until && d.decision == rules::HumanDecision::Kind::kExtend) {
    details = "window extended to " + n_.t(d.until->at) + (d.note.empty() ? "" : ": " + d.note);
    r_.header.extended_end = d.until->at;
  }
  if (d.decision == rules::HumanDecision::Kind::kGo && d.accepted && !d.accepted->empty()) {
    std::vector<std::string> parts;
    for (const std::string& a : *d.accepted) {
      std::size_t colon = a.find(':');  // "trigger:severity"
      parts.push_back(n_.trigger_name(a.substr(0, colon)) +
                      (colon == std::string::npos ? "" : " (" + a.substr(colon + 1) + ")"));
    }
    details += (details.empty() ? "" : "; ") + std::string("accepting ") + join(parts, ", ");
  }
  const std::string severity = open_severity();
  std::size_t act = add_act("Decision: " + headline(what), d.by, details);
  if (d.decision != rules::HumanDecision::Kind::kExtend) {
    r_.acts[act].authority = n_.authority_note(d.by, severity);
  }
  f_.decisions.push_back({act, at_, what, d.by, d.note});
  if (d.decision == rules::HumanDecision::Kind::kBackout && !r_.backout_decided_at) {
    r_.backout_decided_at = at_;
    f_.backout_decision = f_.decisions.size() - 1;
  }
  // The team records the end of the backout as a decision noted "backout complete: ...".
  const bool complete_note = lower(d.note).rfind("backout complete", 0) == 0;
  if (complete_note && r_.backout_decided_at && at_ > *r_.backout_decided_at &&
      !r_.backout_complete_at) {
    r_.backout_complete_at = at_;
    r_.acts[act].what += " (backout complete)";
  }
}

void EventReader::on(const record::Raised& x) {
  const std::string severity = name_of(x.severity);
  EpisodeRecord ep;
  ep.trigger = x.id;
  ep.name = "raised by " + n_.who(x.by) + ": " + x.reason;
  ep.severity = severity;
  ep.breached_at = at_;
  ep.manual = true;
  ep.raised_by = n_.who(x.by);
  ep.reason = x.reason;
  ep.ack_within = n_.ack_within(severity);
  r_.episodes.push_back(std::move(ep));
  open_[x.id] = r_.episodes.size() - 1;
  add_act("Raised (" + severity + ")", x.by, x.id + ": " + x.reason);
}

void EventReader::on(const record::RaiseCleared& c) {
  if (auto ep = open_episode(c.id)) {
    r_.episodes[*ep].resolved_at = at_;
    open_.erase(c.id);
  }
  add_act("Raise cleared", c.by, c.id);
}

void EventReader::on(const record::SourceChanged& s) {
  if (s.up) {
    add_row("Source up", s.source);
    for (SourcePeriod& p : f_.down) {
      if (p.source == s.source && !p.to) {
        p.to = at_;
      }
    }
    return;
  }
  add_row("Source down", s.source + ": " + s.error);
  const bool already = std::any_of(f_.down.begin(), f_.down.end(), [&](const SourcePeriod& p) {
    return p.source == s.source && !p.to;
  });
  if (!already) {
    f_.down.push_back({s.source, at_, std::nullopt, s.error});
  }
}

void EventReader::on(const record::PhaseChanged& p) {
  switch (p.phase) {
    case rules::Phase::kInWindow:
      add_row("Window opened", "the deployment window is open; paging is on");
      return;
    case rules::Phase::kPostWindow:
      add_row("Window closed", "the deployment window has closed; still watching");
      return;
    case rules::Phase::kPreWindow:
      add_row("Before the window", "capturing baselines; nobody is paged");
      return;
  }
}

void EventReader::on_agent(const record::AgentLifecycle& a, std::optional<TimePoint> previous) {
  using What = record::AgentLifecycle::What;
  switch (a.event) {
    case What::kRestarted: {
      Restart rs{at_, previous ? std::optional<Duration>(at_ - *previous) : std::nullopt};
      f_.restarts.push_back(rs);
      add_row("Agent restarted", rs.gap ? "state restored from the store; " + n_.span(*rs.gap) +
                                              " since the previous event"
                                        : "state restored from the store");
      return;
    }
    case What::kStarted:
      add_row("Agent started", "a new state store for this release and window");
      return;
    case What::kReloaded:
      add_row("Plan reloaded", a.detail);
      return;
    case What::kReloadRefused:
      add_row("Reload refused", a.detail + "; the plan that was running kept running");
      return;
    case What::kStoreRecovered:
      add_row("State store damaged",
              a.detail + "; the agent started afresh, without the history before");
      return;
  }
}

// The agent's clock against the wall clock (issue 14, defect 4): the times after an applied
// step are on the new clock.
void EventReader::on(const record::ClockStepped& c) {
  const double by = c.by_seconds;
  const std::string step = std::string(by < 0 ? "back " : "forward ") +
                           n_.span(from_seconds(std::round(by < 0 ? -by : by)));
  switch (c.outcome) {
    case ClockGuard::Outcome::kDetected:
      add_row("Clock step", "the wall clock stepped " + step + " (it read " +
                                format_rfc3339(c.wall.at, c.wall.offset) +
                                "); durations kept the time that really passed");
      return;
    case ClockGuard::Outcome::kApplied:
      add_row("Clock step taken",
              "the step " + step + " held: times from here on are on the new clock");
      return;
    case ClockGuard::Outcome::kReverted:
      add_row("Clock step undone",
              "the wall clock came back; its step " + step + " was never taken");
      return;
  }
}

void EventReader::on(const record::GoLiveDeclared& g) {
  if (g.overrun) {
    add_row("No go-live declared", "the deployment's planned time passed without one");
    return;
  }
  add_act("Go-live declared", g.by, "");
}

void EventReader::on(const record::ItemDoneRecorded& d) {
  StepRecord& s = step(d.item);
  s.done_at = at_;
  s.by = d.by;
  s.note = d.note;
  s.failed = d.failed;
  add_act(d.failed ? "Step failed: " + d.item : "Step done: " + d.item, d.by, d.note);
}

void EventReader::on(const record::NightPhaseChanged& n) {
  // The last step done is the end of the backout proper; the verification follows.
  if (n.phase == rules::NightPhase::kVerifying && !r_.backout_complete_at) {
    r_.backout_complete_at = at_;
  }
  add_row("Night: " + std::string(rules::to_string(n.phase)), "");
}

void EventReader::on(const record::StepChanged& c) {
  StepRecord& s = step(c.step);
  switch (c.what) {
    case record::StepChanged::What::kStarted:
      s.started_at = at_;
      break;
    case record::StepChanged::What::kOverrun:
      s.overran = true;
      break;
    case record::StepChanged::What::kCheckFailed:
      s.check_failed = true;
      break;
    case record::StepChanged::What::kVerified:
      s.verified = true;
      break;
    case record::StepChanged::What::kProjection:
      break;
  }
}

void EventReader::on(const record::VerifyOutcome& v) {
  if (v.verified) {
    r_.reversal_verified_at = at_;
    add_row("Reversal verified", "");
  } else {
    r_.reversal_incomplete_at = at_;
    r_.reversal_failing = v.failing;
    add_row("Reversal incomplete", "failing: " + join(v.failing, ", "));
  }
}

void EventReader::on(const record::Unknown& u) {
  if (u.kind == "backout_complete") {
    if (!r_.backout_complete_at) {
      r_.backout_complete_at = at_;
    }
    add_act("Backout complete", record::string_field(u, "by"), record::string_field(u, "note"));
    return;
  }
  // A kind this report does not know: kept, with its fields, so nothing is lost.
  add_row(u.kind.empty() ? "Event" : u.kind, record::fields_json(u));
}

}  // namespace

void decode_timeline(const std::vector<std::string>& lines, ReviewInput& input) {
  for (const std::string& line : lines) {
    auto e = record::decode(line);
    if (!e.ok()) {
      ++input.unreadable_events;
      continue;
    }
    input.events.push_back(std::move(e).value());
  }
}

void read_timeline(const ReviewInput& in, Facts& f) {
  for (const record::TimelineEvent& e : in.events) {
    f.events.push_back(&e);
  }
  // Events are appended from several threads (ticks, deliveries, acts): store order can differ
  // from time order by a few milliseconds. Time order reads right; stable keeps ties in order.
  std::stable_sort(f.events.begin(), f.events.end(),
                   [](const record::TimelineEvent* a, const record::TimelineEvent* b) {
                     return a->at.at < b->at.at;
                   });
  Review& r = f.review;
  r.events = f.events.size();
  r.unreadable_events = in.unreadable_events;
  if (!f.events.empty()) {
    r.first_at = f.events.front()->at.at;
    r.last_at = f.events.back()->at.at;
  }
  f.plan = in.plan;
  // Without --plan, the plan the agent recorded at its (latest) start names people, roles and
  // triggers and gives the window and durations.
  if (f.plan == nullptr) {
    for (auto it = in.events.rbegin(); it != in.events.rend(); ++it) {
      if (const auto* s = it->as<record::PlanSnapshot>()) {
        f.recorded_plan = record::plan_of(*s);
        f.plan = &*f.recorded_plan;
        break;
      }
    }
  }
}

void read_events(Facts& f, const Names& names) { EventReader(f, names).read(); }

}  // namespace backout::agent::report
