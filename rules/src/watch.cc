#include "backout/rules/watch.h"

#include <algorithm>
#include <set>

#include "backout/core/text.h"

namespace backout::rules {

Watch::Watch(const Plan& plan) : plan_(&plan), evaluator_(plan), paging_(plan) {}

TickResult Watch::tick(TimePoint now) {
  TickResult r;
  r.at = now;
  r.changes = evaluator_.tick(now);
  // Manual raises are breaches of their own: they open and close episodes like triggers.
  r.decision = rules::decide(*plan_, evaluator_.statuses(), acts_, now);
  r.recommendation_changed = !ticked_ || r.decision.recommendation != decision_.recommendation;
  r.phase_changed = !ticked_ || r.decision.phase != decision_.phase;
  std::vector<BreachChange> breaches = breach_changes(*plan_, r.changes);
  breaches.insert(breaches.end(), manual_changes_.begin(), manual_changes_.end());
  manual_changes_.clear();
  r.pages = paging_.tick(now, breaches, r.decision);
  decision_ = r.decision;
  ticked_ = true;
  return r;
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
