#include "backout/rules/watch.h"

#include <algorithm>
#include <set>

#include "backout/core/text.h"

namespace backout::rules {

Watch::Watch(const Plan& plan)
    : plan_(&plan),
      evaluator_(plan),
      paging_(plan),
      lifecycle_(plan),
      known_(plan.triggers.size()),
      blind_(plan.triggers.size()) {}

namespace {

std::optional<Severity> breach_of(const TriggerStatus& st) {
  return st.state == TriggerState::kBreached ? st.severity : std::nullopt;
}

}  // namespace

bool Watch::expected(std::size_t i) const {
  const auto& st = evaluator_.statuses();
  return i < st.size() && breach_of(st[i]) && lifecycle_.expects_outage(plan_->triggers[i].id);
}

TickResult Watch::tick(TimePoint now) {
  TickResult r;
  r.at = now;
  if (!ticked_) {
    // The breaches restored before the first tick (restore_breach) are known already.
    for (std::size_t i = 0; i < known_.size(); ++i) {
      known_[i] = breach_of(evaluator_.statuses()[i]);
    }
  }
  r.changes = evaluator_.tick(now);
  const TimePoint window_end = effective_window(*plan_, acts_, now).end.at;
  r.lifecycle = std::move(pending_lifecycle_);
  pending_lifecycle_.clear();
  std::vector<LifecycleEvent> own = lifecycle_.tick(lifecycle_input(now, window_end));
  enact(own, now);
  r.lifecycle.insert(r.lifecycle.end(), own.begin(), own.end());
  // Manual raises are breaches of their own: they open and close episodes like triggers.
  r.decision = rules::decide(*plan_, unexpected_statuses(), acts_, now);
  r.recommendation_changed = !ticked_ || r.decision.recommendation != decision_.recommendation;
  r.phase_changed = !ticked_ || r.decision.phase != decision_.phase;
  r.expected.resize(plan_->triggers.size());
  for (std::size_t i = 0; i < r.expected.size(); ++i) {
    r.expected[i] = expected(i);
  }
  std::vector<BreachChange> breaches = known_changes();
  breaches.insert(breaches.end(), manual_changes_.begin(), manual_changes_.end());
  manual_changes_.clear();
  r.pages = paging_.tick(now, breaches, r.decision);
  std::vector<Page> night = night_pages(r.lifecycle, now, r.decision);
  r.pages.insert(r.pages.end(), std::make_move_iterator(night.begin()),
                 std::make_move_iterator(night.end()));
  std::vector<Page> blind = blind_pages(now, r.decision);
  r.pages.insert(r.pages.end(), std::make_move_iterator(blind.begin()),
                 std::make_move_iterator(blind.end()));
  decision_ = r.decision;
  ticked_ = true;
  last_tick_ = now;
  return r;
}

LifecycleInput Watch::lifecycle_input(TimePoint now, TimePoint window_end) {
  LifecycleInput in;
  in.now = now;
  in.window_end = window_end;
  if (!plan_->backout) {
    return in;
  }
  const NightPhase phase = lifecycle_.phase();
  if (phase == NightPhase::kVerifying) {
    verify_readings_ = evaluator_.verify_checks(now);
    for (const CheckReading& c : verify_readings_) {
      in.checks.push_back(c.ok);
    }
    const auto& st = evaluator_.statuses();
    for (std::size_t i = 0; i < st.size(); ++i) {
      if (breach_of(st[i])) {
        in.breached.push_back(plan_->triggers[i].id);
      }
    }
  }
  const auto& steps = lifecycle_.steps();
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const bool judged = steps[i].state == StepState::kDone && !steps[i].verified.value_or(false);
    in.step_checks.push_back(judged ? evaluator_.step_check(i, now).ok : std::nullopt);
  }
  return in;
}

void Watch::enact(const std::vector<LifecycleEvent>& events, TimePoint now) {
  for (const LifecycleEvent& e : events) {
    if (e.kind == LifecycleEvent::Kind::kStartAfresh) {
      for (const std::string& id : e.triggers) {
        for (std::size_t i = 0; i < plan_->triggers.size(); ++i) {
          if (plan_->triggers[i].id == id) {
            evaluator_.start_afresh(i, now);
          }
        }
      }
    } else if (e.kind == LifecycleEvent::Kind::kPhase && e.phase == NightPhase::kVerifying) {
      evaluator_.restart_verify_checks(now);
    }
  }
}

std::vector<BreachChange> Watch::known_changes() {
  std::vector<BreachChange> out;
  const auto& st = evaluator_.statuses();
  for (std::size_t i = 0; i < st.size(); ++i) {
    const std::optional<Severity> breach = breach_of(st[i]);
    const bool is_expected = breach && lifecycle_.expects_outage(plan_->triggers[i].id);
    const std::optional<Severity> known = is_expected ? std::nullopt : breach;
    if (known != known_[i]) {
      out.push_back({plan_->triggers[i].id, known_[i], known, is_expected});
      known_[i] = known;
    }
  }
  return out;
}

std::vector<TriggerStatus> Watch::unexpected_statuses() const {
  const auto& st = evaluator_.statuses();
  bool any = false;
  for (std::size_t i = 0; i < st.size() && !any; ++i) {
    any = expected(i);
  }
  if (!any) {
    return st;
  }
  std::vector<TriggerStatus> out = st;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (expected(i)) {
      out[i].state = TriggerState::kOk;
      out[i].severity.reset();
    }
  }
  return out;
}

void Watch::restore_acts(HumanActs acts, TimePoint now) {
  acts_ = std::move(acts);
  lifecycle_ = Lifecycle(*plan_);
  lifecycle_.replay(acts_, now);
}

Status Watch::deployed(const std::string& by, TimePoint now) {
  if (by.empty()) {
    return Error{"say who declares go-live ('by')"};
  }
  auto r = lifecycle_.deployed(now);
  if (!r.ok()) {
    return Error{r.error()};
  }
  acts_.deployed = GoLive{by, now};
  enact(r.value(), now);
  pending_lifecycle_.insert(pending_lifecycle_.end(), r.value().begin(), r.value().end());
  return {};
}

Status Watch::done(const std::string& item, const std::string& by, const std::string& note,
                   bool failed, TimePoint now) {
  if (by.empty()) {
    return Error{"say who has done it ('by')"};
  }
  const TimePoint window_end = effective_window(*plan_, acts_, now).end.at;
  auto r = lifecycle_.done(item, now, window_end, by, note, failed);
  if (!r.ok()) {
    return Error{r.error()};
  }
  acts_.done.push_back({item, by, note, failed, now});
  for (std::size_t i = 0; i < plan_->backout->steps.size(); ++i) {
    if (plan_->backout->steps[i].id == item) {
      evaluator_.restart_step_check(i, now);
    }
  }
  enact(r.value(), now);
  pending_lifecycle_.insert(pending_lifecycle_.end(), r.value().begin(), r.value().end());
  return {};
}

CarryOver Watch::carry_over(Watch& previous) {
  CarryOver out;
  const Plan& before = previous.plan();
  std::set<std::string> sources;
  for (const Source& s : plan_->sources) {
    auto it = std::find_if(before.sources.begin(), before.sources.end(),
                           [&](const Source& o) { return o.id == s.id; });
    if (it != before.sources.end() && *it == s) {
      sources.insert(s.id);
      out.sources_kept.push_back(s.id);
    } else {
      out.sources_fresh.push_back(s.id);
    }
  }
  std::vector<std::optional<std::size_t>> same(plan_->triggers.size());
  for (std::size_t i = 0; i < plan_->triggers.size(); ++i) {
    const Trigger& t = plan_->triggers[i];
    auto it = std::find_if(before.triggers.begin(), before.triggers.end(),
                           [&](const Trigger& o) { return o.id == t.id; });
    if (it == before.triggers.end()) {
      out.added.push_back(t.id);
      continue;
    }
    const bool sources_same = std::all_of(t.measure.args.begin(), t.measure.args.end(),
                                          [&](const SeriesSelector& a) {
                                            return sources.count(a.source) != 0;
                                          });
    if (t.same_watch(*it) && sources_same) {
      same[i] = static_cast<std::size_t>(it - before.triggers.begin());
      out.kept.push_back(t.id);
    } else {
      out.changed.push_back(t.id);
    }
  }
  for (const Trigger& t : before.triggers) {
    if (plan_->trigger(t.id) == nullptr) {
      out.removed.push_back(t.id);
    }
  }
  evaluator_.adopt(previous.evaluator_, same, sources);
  paging_.continue_from(previous.paging_);
  acts_ = previous.acts_;
  lifecycle_.replay(acts_, previous.last_tick_);
  last_tick_ = previous.last_tick_;
  pending_lifecycle_ = previous.pending_lifecycle_;
  for (std::size_t i = 0; i < plan_->triggers.size(); ++i) {
    for (std::size_t j = 0; j < previous.plan_->triggers.size(); ++j) {
      if (previous.plan_->triggers[j].id == plan_->triggers[i].id) {
        known_[i] = previous.known_[j];
      }
    }
  }
  manual_changes_ = previous.manual_changes_;
  decision_ = previous.decision_;
  ticked_ = previous.ticked_;
  for (const Episode& e : paging_.episodes()) {
    if (!e.open()) {
      continue;
    }
    if (std::find(out.changed.begin(), out.changed.end(), e.trigger) != out.changed.end()) {
      for (std::size_t i = 0; i < plan_->triggers.size(); ++i) {
        if (plan_->triggers[i].id == e.trigger) {
          evaluator_.restore_breach(i, e.severity, e.opened_at);
        }
      }
    } else if (std::find(out.removed.begin(), out.removed.end(), e.trigger) !=
               out.removed.end()) {
      manual_changes_.push_back({e.trigger, e.severity, std::nullopt});
    }
  }
  return out;
}

void Watch::shift(Duration d) {
  evaluator_.shift(d);
  paging_.shift(d);
  acts_.shift(d);
  lifecycle_.shift(d);
  last_tick_ += d;
}

Result<std::vector<std::string>> Watch::acknowledge(const std::string& trigger,
                                                    const std::string& by, TimePoint now) {
  if (by.empty()) {
    return Error{"say who acknowledges ('by')"};
  }
  // A manual raise is paged like a trigger (its page says "ack --trigger manual_1"), so its id
  // is acknowledged like a trigger's.
  const bool raised = std::any_of(acts_.raises.begin(), acts_.raises.end(),
                                  [&](const ManualRaise& r) { return r.id == trigger; });
  if (!trigger.empty() && plan_->trigger(trigger) == nullptr && !raised) {
    return Error{"unknown trigger '" + trigger + "'"};
  }
  auto acked = paging_.acknowledge(trigger, by, now);
  if (acked.empty()) {
    return Error{trigger.empty() ? "no open breach to acknowledge"
                                 : "trigger '" + trigger + "' has no open breach to acknowledge"};
  }
  return acked;
}

Status Watch::declare_fix_forward(const std::string& trigger, TimePoint eta,
                                  const std::string& by, TimePoint now) {
  const Trigger* t = plan_->trigger(trigger);
  if (t == nullptr) {
    std::vector<std::string> ids;
    for (const auto& x : plan_->triggers) {
      ids.push_back(x.id);
    }
    std::string msg = "unknown trigger '" + trigger + "'";
    if (auto near = closest_match(trigger, ids)) {
      msg += "; did you mean '" + *near + "'?";
    }
    return Error{msg};
  }
  if (by.empty()) {
    return Error{"say who declares the fix-forward ('by')"};
  }
  if (eta <= now) {
    return Error{"the ETA " + format_rfc3339(eta, plan_->window.offset()) + " has already passed"};
  }
  acts_.fix_forwards.push_back({trigger, eta, by, now});
  return {};
}

Status Watch::decide(HumanDecision::Kind kind, const std::string& by, const std::string& note,
                     TimePoint now, std::optional<TimePoint> until) {
  if (by.empty()) {
    return Error{"say who decides ('by')"};
  }
  const Window current = effective_window(*plan_, acts_, now);
  if (kind == HumanDecision::Kind::kExtend) {
    if (!until) {
      return Error{"an extension needs 'until': the new end of the window (RFC 3339)"};
    }
    if (*until <= current.end.at) {
      return Error{"'until' " + format_rfc3339(*until, current.offset()) +
                   " does not extend the window, which ends at " +
                   format_rfc3339(current.end.at, current.offset())};
    }
  }
  HumanDecision d{kind, by, note, now, {}, kind == HumanDecision::Kind::kExtend ? until
                                                                                : std::nullopt};
  if (kind == HumanDecision::Kind::kGo) {
    const auto& st = evaluator_.statuses();
    for (std::size_t i = 0; i < st.size(); ++i) {
      if (st[i].state == TriggerState::kBreached && st[i].severity) {
        d.accepted.push_back(plan_->triggers[i].id + ":" +
                             std::string(to_string(*st[i].severity)));
      }
    }
  }
  acts_.decisions.push_back(std::move(d));
  if (kind == HumanDecision::Kind::kBackout) {
    // With backout.steps the night enters backing_out and step 1 starts; a second backout
    // decision (or one after the window) is recorded and changes nothing in the procedure.
    auto r = lifecycle_.backout_decided(now, current.end.at);
    if (r.ok()) {
      enact(r.value(), now);
      pending_lifecycle_.insert(pending_lifecycle_.end(), r.value().begin(), r.value().end());
    }
  }
  return {};
}

Result<std::string> Watch::raise(Severity severity, const std::string& reason,
                                 const std::string& by, TimePoint now) {
  if (reason.empty()) {
    return Error{"give a reason, e.g. \"security breach: credentials leaked\""};
  }
  if (by.empty()) {
    return Error{"say who raises it ('by')"};
  }
  std::string id = "manual_" + std::to_string(acts_.raises.size() + 1);
  acts_.raises.push_back({id, severity, reason, by, now, false});
  manual_changes_.push_back({id, std::nullopt, severity});
  return id;
}

Status Watch::clear_raise(const std::string& id, const std::string& by, TimePoint now) {
  (void)now;
  if (by.empty()) {
    return Error{"say who clears it ('by')"};
  }
  for (ManualRaise& r : acts_.raises) {
    if (r.id == id) {
      if (r.cleared) {
        return Error{"'" + id + "' is already cleared"};
      }
      r.cleared = true;
      (void)by;
      manual_changes_.push_back({id, r.severity, std::nullopt});
      return {};
    }
  }
  return Error{"unknown raise '" + id + "'"};
}

}  // namespace backout::rules
