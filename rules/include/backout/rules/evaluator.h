// The evaluator: on every tick, harvests the windows, captures baselines before the window starts,
// measures every trigger, runs early detection and steps every trigger's state machine.
// Pure (no I/O, no clock): `now` is the tick's time. Thread-safety: routers may be written by
// collectors while the evaluator runs; everything else belongs to the evaluator's thread.
//
// Baselines (DESIGN section 5): a relative trigger's baseline is its measure over
// [start - window.baseline, start), taken at the last tick before the window starts (for value(),
// the last value seen before the start), and frozen at the first tick at or after the start. A
// relative trigger without a baseline is inconclusive.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "backout/core/time.h"
#include "backout/rules/plan.h"
#include "backout/rules/series_store.h"
#include "backout/rules/trigger_machine.h"

namespace backout::rules {

/// What the evaluator knows about one trigger after a tick.
struct TriggerStatus {
  std::string id;
  TriggerState state = TriggerState::kOk;
  std::optional<Severity> severity;
  std::optional<double> value;      // the window measure
  std::optional<double> threshold;  // of the level in effect (or the least severe level)
  std::string condition;            // that level's condition as written, e.g. "> 5%"
  std::vector<std::optional<double>> thresholds;  // per level, in Trigger::levels order
  std::uint64_t count = 0;          // observations in the window
  TimePoint since{};
  DetectionPath path = DetectionPath::kAverage;
  std::string reason;    // why inconclusive
  std::string evidence;  // for people: "7.1% over 5m (> 5%)" or the early-detection sentence
  std::optional<double> baseline;
};

/// A check of the backout's verification or of a step (MeasureCheck) at one time.
struct CheckReading {
  std::optional<bool> ok;  // the `when` holds; nullopt: cannot be judged (no data, no baseline)
  std::optional<double> value;
};

struct TriggerChange {
  std::size_t trigger = 0;  // index into Plan::triggers
  TriggerState from = TriggerState::kOk;
  std::optional<Severity> from_severity;
  TriggerStatus to;
};

class Evaluator {
 public:
  /// `plan` must outlive the evaluator.
  explicit Evaluator(const Plan& plan);
  ~Evaluator();
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  /// The router collectors of `source` write to (nullptr for an unknown source).
  SourceRouter* router(const std::string& source);
  SeriesStore& store() { return store_; }

  /// Harvests, measures and steps every trigger at `now`; returns the triggers whose state or
  /// severity changed, in plan order.
  std::vector<TriggerChange> tick(TimePoint now);

  const std::vector<TriggerStatus>& statuses() const { return statuses_; }
  const Plan& plan() const { return *plan_; }

  /// Baselines: frozen at the window start; restored from the state store after a restart.
  std::optional<double> baseline(std::size_t trigger) const;
  void restore_baseline(std::size_t trigger, double value);

  /// After a restart: the trigger was breached at `severity` since `since` (an open episode).
  /// It stays breached until new data shows the condition unmet for clear_after.
  void restore_breach(std::size_t trigger, Severity severity, TimePoint since);
  bool baselines_frozen() const { return baselines_frozen_; }

  /// The phase that expected `trigger` to breach ended (DESIGN section 9): from `now` on its
  /// window counts only new data (a window still filling: min_count applies), and its `for`,
  /// `clear_after` and early detection start over; its baseline stays. The next tick reports the
  /// change of its state. Only a trigger some expect_outage names has windows of its own, so
  /// restarting it leaves every other trigger's windows as they are; for the others this only
  /// restarts their timers.
  void start_afresh(std::size_t trigger, TimePoint now);

  /// backout.verify.checks, in plan order, as the data stands after the last tick.
  std::vector<CheckReading> verify_checks(TimePoint now);
  /// backout.steps[step]'s check (ok nullopt for a step without one).
  CheckReading step_check(std::size_t step, TimePoint now);
  /// The verification began: each verify check's `over` is clipped to the time since `now`.
  void restart_verify_checks(TimePoint now);
  /// The step was done: its check judges only data from `now` on.
  void restart_step_check(std::size_t step, TimePoint now);

  /// The clock was stepped by d (the agent's clock guard saw an NTP step or `date -s`): windows,
  /// `for` and `clear_after` timers, early-detection runs and the statuses' times move with it,
  /// so that the next tick at now + d measures what the tick at now would have.
  void shift(Duration d);

  /// A reload: `previous` evaluated the plan that ran before. `same[i]` is the index there of
  /// trigger i when it is the same (Trigger::same_watch) and reads only sources in `sources`
  /// (those whose definition did not change): such a trigger keeps its state (the trigger
  /// machine's `for` and `clear_after`, early detection, baseline, status). The windows of every
  /// source in `sources` are taken over (SeriesStore::adopt); everything else starts fresh.
  /// Neither may have writers; `previous` is unusable afterwards.
  void adopt(Evaluator& previous, const std::vector<std::optional<std::size_t>>& same,
             const std::set<std::string>& sources);

 private:
  struct Runtime;
  struct CheckRuntime;
  void capture_baselines(TimePoint now);
  void evaluate(std::size_t i, TimePoint now);
  void make_check_slots();
  CheckReading read_check(CheckRuntime& c, TimePoint now);
  void capture_check_baseline(CheckRuntime& c, TimePoint now, TimePoint start);

  const Plan* plan_;
  SeriesStore store_;
  std::vector<std::unique_ptr<Runtime>> runtimes_;
  std::vector<std::unique_ptr<CheckRuntime>> verify_checks_;
  std::vector<std::unique_ptr<CheckRuntime>> step_checks_;  // by step; null: no check
  std::vector<TriggerStatus> statuses_;
  bool baselines_frozen_ = false;
};

}  // namespace backout::rules
