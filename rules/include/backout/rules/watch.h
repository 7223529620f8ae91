// The watch: evaluator + decision engine + paging policy + human acts, stepped tick by tick.
// The same object runs inside the live agent and inside `simulate`, so a rehearsal replays
// exactly what the agent would do. Pure (no I/O, no clock); not thread-safe: the live agent calls
// it from one strand (routers excepted, see SeriesStore).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "backout/core/result.h"
#include "backout/rules/decision_engine.h"
#include "backout/rules/evaluator.h"
#include "backout/rules/lifecycle.h"
#include "backout/rules/paging_policy.h"
#include "backout/rules/plan.h"

namespace backout::rules {

struct TickResult {
  TimePoint at{};
  std::vector<TriggerChange> changes;
  DecisionOutput decision;
  bool recommendation_changed = false;
  bool phase_changed = false;
  std::vector<Page> pages;
  /// The night's changes since the last tick (DESIGN section 9): those of the acts in between,
  /// then the tick's own.
  std::vector<LifecycleEvent> lifecycle;
  /// By trigger (Plan::triggers index): breached and expected by the night's phase.
  std::vector<bool> expected;
};

/// What a reload kept of the watch that ran before (Watch::carry_over), by trigger and source id.
struct CarryOver {
  std::vector<std::string> kept;     // same trigger, same sources: its state goes on
  std::vector<std::string> changed;  // new definition, or a source it reads changed: fresh
  std::vector<std::string> added;
  std::vector<std::string> removed;  // its open breach, if any, is closed
  std::vector<std::string> sources_kept;
  std::vector<std::string> sources_fresh;  // changed or new: their windows start empty
};

class Watch {
 public:
  /// `plan` must outlive the watch.
  explicit Watch(const Plan& plan);

  SourceRouter* router(const std::string& source) { return evaluator_.router(source); }
  Evaluator& evaluator() { return evaluator_; }
  const Evaluator& evaluator() const { return evaluator_; }
  const Plan& plan() const { return *plan_; }

  TickResult tick(TimePoint now);

  /// The wall clock was stepped by d (the agent's clock guard detected it; see ClockGuard):
  /// before the next tick at the new time, every duration in progress moves with the clock
  /// (windows, `for`, clear_after, early detection, acknowledgement, repeat and escalation
  /// timers, the acts' times), so a step alone breaches, pages or clears nothing. The window's
  /// start, end and point of no return stay wall-clock instants: a step across one of them is
  /// taken as the time it now is.
  void shift(Duration d);

  const DecisionOutput& decision() const { return decision_; }
  const Lifecycle& lifecycle() const { return lifecycle_; }
  /// The time of the last tick (the epoch before the first).
  TimePoint last_tick() const { return last_tick_; }
  /// Whether trigger `i` (Plan::triggers index) is breached and the night's phase expects it
  /// (DESIGN section 9): recorded with "expected": true, it pages nobody and drives no
  /// recommendation.
  bool expected(std::size_t i) const;
  /// Since when trigger `i` has been inconclusive (nullopt: it can be judged).
  std::optional<TimePoint> blind_since(std::size_t i) const;
  /// backout.verify.checks as the last tick read them (empty before verifying).
  const std::vector<CheckReading>& verify_readings() const { return verify_readings_; }
  const HumanActs& acts() const { return acts_; }
  const PagingPolicy& paging() const { return paging_; }
  PagingPolicy& paging() { return paging_; }

  // Human acts. Each validates its input against the plan and the current state and returns an
  // error an operator can act on; the change shows from the next tick on.
  /// Acknowledges the open breach of `trigger` (all open breaches when empty).
  Result<std::vector<std::string>> acknowledge(const std::string& trigger, const std::string& by,
                                               TimePoint now);
  Status declare_fix_forward(const std::string& trigger, TimePoint eta, const std::string& by,
                             TimePoint now);
  /// `until` is the new window end for kExtend (required there, ignored otherwise).
  Status decide(HumanDecision::Kind kind, const std::string& by, const std::string& note,
                TimePoint now, std::optional<TimePoint> until = std::nullopt);
  Result<std::string> raise(Severity severity, const std::string& reason, const std::string& by,
                            TimePoint now);
  Status clear_raise(const std::string& id, const std::string& by, TimePoint now);
  /// Go-live (`deployed`): refused, with the reason, outside `deploying`.
  Status deployed(const std::string& by, TimePoint now);
  /// `done ITEM`: the current backout step is finished (`failed`: it did not work). Refused,
  /// with the reason, for an unknown item, a step that is not the current one, or outside the
  /// backout.
  Status done(const std::string& item, const std::string& by, const std::string& note,
              bool failed, TimePoint now);

  /// Restores human acts after a restart, and the night's lifecycle from them (Lifecycle::
  /// replay): a restart in the middle of step 5 is still in step 5, with its start time.
  void restore_acts(HumanActs acts, TimePoint now);

  /// A reload (SIGHUP): `previous` watched the plan that ran before this one, the same night.
  /// Keeps what a person would not want lost: the windows of every source whose definition did
  /// not change; the baseline, early-detection state, `for` and `clear_after` in progress and
  /// status of every trigger that is the same (Trigger::same_watch) over such sources; every
  /// episode with its acknowledgement and paging times, the human acts, the decision. A changed
  /// trigger starts fresh, but an open breach of it stays breached at its severity until the new
  /// definition's data clears it (as after a restart); a removed trigger's open breach is closed
  /// at the next tick. Call before the first tick and before collectors write; `previous` is
  /// unusable afterwards.
  CarryOver carry_over(Watch& previous);

 private:
  /// What the evaluator does for the night's changes: triggers starting afresh, the verify
  /// checks restarting when verification begins.
  void enact(const std::vector<LifecycleEvent>& events, TimePoint now);
  LifecycleInput lifecycle_input(TimePoint now, TimePoint window_end);
  /// The breach changes people see: a breach the phase expects is not one.
  std::vector<BreachChange> known_changes();
  std::vector<TriggerStatus> unexpected_statuses() const;
  std::vector<Page> night_pages(const std::vector<LifecycleEvent>& events, TimePoint now,
                                const DecisionOutput& decision) const;
  /// Blind triggers (DESIGN section 9): inconclusive past notify.blind_after while deploying or
  /// in the window pages the trigger's decider once per spell, and a resolve when it sees again.
  std::vector<Page> blind_pages(TimePoint now, const DecisionOutput& decision);

  struct BlindSpell {
    std::uint32_t spells = 0;  // told so far (the page key's number)
    bool told = false;         // the current spell was told
  };

  const Plan* plan_;
  Evaluator evaluator_;
  PagingPolicy paging_;
  Lifecycle lifecycle_;
  std::vector<LifecycleEvent> pending_lifecycle_;  // of acts since the last tick
  std::vector<std::optional<Severity>> known_;    // per trigger: the breach people know of
  std::vector<CheckReading> verify_readings_;
  std::vector<BlindSpell> blind_;
  HumanActs acts_;
  std::vector<BreachChange> manual_changes_;  // raises and clears since the last tick
  DecisionOutput decision_;
  bool ticked_ = false;
  TimePoint last_tick_{};
};

}  // namespace backout::rules
