// ClockGuard: what time the agent runs on when the wall clock steps (issue 14, defect 4).
//
// The agent's clock is the wall clock read at start plus the monotonic time elapsed since
// (CLOCK_MONOTONIC, which NTP slews with the wall clock but never steps). While the two agree,
// it is the wall clock. When they part by more than `tolerance` (an NTP step, `date -s`, a VM
// resumed with a stale clock), the guard:
//   1. detects the step and keeps the agent on monotonic time: nothing in the watch moves;
//   2. applies it once the wall clock has held the new offset for `settle` of monotonic time:
//      the agent's clock takes the wall clock's reading again, and the caller moves every
//      duration in progress with it (rules::Watch::shift), so windows, `for`, acknowledgement,
//      repeat and escalation timers count the time that really passed, while the plan's
//      wall-clock instants (window start, end, point of no return) are read on the new clock;
//   3. forgets it if the wall clock comes back within `tolerance` before then (a step and its
//      correction): the watch never saw it.
// A step thus never pages by itself: at most the instants it crosses take effect, `settle` late.
//
// Pure: the readings are parameters (wall: a TimePoint; mono: a monotonic Duration since any
// fixed origin). Not thread-safe.
#pragma once

#include <chrono>
#include <optional>

#include "backout/core/time.h"

namespace backout {

class ClockGuard {
 public:
  struct Options {
    /// Offsets up to this are the clocks' noise, not a step.
    Duration tolerance = std::chrono::seconds{2};
    /// How long a step must hold before the agent takes it; 0 takes it at once.
    Duration settle = std::chrono::seconds{30};
  };

  enum class Outcome {
    kDetected,  // the wall clock parted from the agent's clock by `by`
    kApplied,   // the step held for `settle`: the agent's clock moved by `by`
    kReverted,  // the wall clock came back before the step was taken
  };
  struct Event {
    Outcome outcome;
    Duration by;     // wall clock minus the agent's clock when detected or applied
    TimePoint wall;  // the wall clock's reading
  };

  /// Anchors the agent's clock to the wall clock at the monotonic reading `mono`.
  ClockGuard(TimePoint wall, Duration mono, Options options);
  ClockGuard(TimePoint wall, Duration mono) : ClockGuard(wall, mono, Options{}) {}

  /// The agent's clock at the monotonic reading `mono`.
  TimePoint now(Duration mono) const { return anchor_wall_ + (mono - anchor_mono_); }

  /// Compares a pair of readings taken together; at most one event (nullopt: nothing new).
  std::optional<Event> observe(TimePoint wall, Duration mono);

  /// The step detected and not yet taken: wall clock minus the agent's clock.
  std::optional<Duration> pending() const { return pending_; }
  const Options& options() const { return options_; }

 private:
  static Duration magnitude(Duration d) { return d < Duration{0} ? -d : d; }

  Options options_;
  TimePoint anchor_wall_;
  Duration anchor_mono_;
  std::optional<Duration> pending_;
  Duration pending_since_{0};  // monotonic reading when the pending step was detected
};

std::string_view to_string(ClockGuard::Outcome o);  // detected, applied, reverted

}  // namespace backout
