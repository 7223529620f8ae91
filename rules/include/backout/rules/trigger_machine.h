// The state machine of one trigger (DESIGN section 5): ok, pending, breached (with a severity),
// inconclusive. Pure; not thread-safe (owned by the evaluator); time is the `now` of each step.
//
// Per level (severity) of the trigger's `when`, most severe first:
//   - the level's condition is met when the window average meets it, or its early-detection
//     alarm is latched (the evaluator latches a CUSUM alarm until the average is under the
//     threshold and the CUSUM is back at zero);
//   - the level is *held* from the first step its condition is met, and *breached* once it has
//     been held continuously for `for` (immediately with for: 0);
//   - a breached level stays breached until its condition has been unmet continuously for
//     `clear_after` (default max(for, 30s)). This is the anti-flap rule: a value wobbling around
//     the threshold keeps one breach open instead of paging, resolving and paging again.
// The trigger is breached at the most severe breached level; else inconclusive if the input is
// (too few observations, source down, no value, no baseline); else pending at the most severe held
// level; else ok.
//
// Inconclusive input never clears a breach (no evidence that the fault is gone) and never
// advances a pending level (no evidence that it persists).
//
// Worked example (for: 1m, clear_after: 1m, threshold 5%), one step per 10 s:
//   02:10:00 7%   -> pending (held since 02:10:00)
//   02:11:00 6%   -> breached (held 1m)                       page
//   02:11:10 4.9% -> breached (unmet since 02:11:10)
//   02:11:20 5.2% -> breached (met again: the unmet clock restarts)
//   02:12:30 4%   -> breached ... 02:13:30 4% -> ok           resolve
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backout/core/time.h"
#include "backout/rules/plan.h"

namespace backout::rules {

enum class TriggerState { kOk, kPending, kBreached, kInconclusive };
std::string_view to_string(TriggerState s);

/// Which evidence made a level's condition true when it breached.
enum class DetectionPath { kAverage, kEarly };
std::string_view to_string(DetectionPath p);

/// What the evaluator measured for one step.
struct TriggerInput {
  TimePoint now;
  std::optional<double> value;  // the window measure; nullopt when there is nothing to measure
  std::uint64_t count = 0;      // observations in the window
  bool source_down = false;     // a non-probe measure's source cannot be reached
  bool baseline_missing = false;
  /// Per level (same order as Trigger::levels): average condition met / early alarm latched.
  std::vector<bool> average_met;
  std::vector<bool> early_met;
  std::string inconclusive_reason;  // set by the evaluator when the input is inconclusive
};

class TriggerMachine {
 public:
  explicit TriggerMachine(const Trigger& trigger);

  /// Advances to `in.now`; returns true when the state or the severity changed.
  bool step(const TriggerInput& in);

  TriggerState state() const { return state_; }
  std::optional<Severity> severity() const { return severity_; }
  /// Level index (into Trigger::levels) of the current severity, if any.
  std::optional<std::size_t> level() const { return level_; }
  TimePoint since() const { return since_; }
  /// The path that made the current breach: the one that started the hold that breached.
  DetectionPath path() const { return path_; }
  const std::string& inconclusive_reason() const { return reason_; }

  /// Restores a breach after a restart (the evaluator re-derives the rest from data).
  void restore_breach(std::size_t level, TimePoint since, DetectionPath path);
  /// The clock was stepped by d: every hold and clear timer moves with it, so a `for` or a
  /// `clear_after` in progress still needs the time that really remains.
  void shift(Duration d);
  /// A reload: takes the state of `previous`, the machine of the same trigger (Trigger::same_watch)
  /// in the plan that ran before, so a `for` or `clear_after` in progress goes on.
  void continue_from(const TriggerMachine& previous);

 private:
  struct LevelState {
    std::optional<TimePoint> held_since;
    std::optional<TimePoint> unmet_since;
    bool breached = false;
    bool started_early = false;  // the hold began with the early path alone
  };

  const Trigger* trigger_;
  std::vector<LevelState> levels_;
  TriggerState state_ = TriggerState::kOk;
  std::optional<Severity> severity_;
  std::optional<std::size_t> level_;
  TimePoint since_{};
  DetectionPath path_ = DetectionPath::kAverage;
  std::string reason_;
  bool started_ = false;
};

}  // namespace backout::rules
