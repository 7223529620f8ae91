// The running agent's clock: the injected wall clock, held on monotonic time across a step by a
// ClockGuard (backout/core/clock_guard.h; issue 14, defect 4). Everything in the runtime that
// stamps or compares times (the watch, the acts, the dispatcher, the timeline, the sources'
// table) reads this one clock, so they all agree while a step is pending and move together when
// the runtime takes it (AgentRuntime shifts the watch and the outbox at that moment).
//
// Thread-safe.
#pragma once

#include <functional>
#include <mutex>
#include <optional>

#include "backout/core/clock.h"
#include "backout/core/clock_guard.h"

namespace backout::agent {

class GuardedClock final : public Clock {
 public:
  /// A monotonic reading: time since any fixed origin (steady_clock by default).
  using Monotonic = std::function<Duration()>;
  static Duration steady();

  GuardedClock(const Clock& wall, ClockGuard::Options options, Monotonic mono = steady);

  /// The agent's time: the wall clock while no step is pending.
  TimePoint now() const override;
  /// Reads both clocks and compares them (ClockGuard::observe). On kApplied, now() has moved by
  /// the step when this returns.
  std::optional<ClockGuard::Event> poll();
  /// Wall clock minus the agent's time: 0 unless a step is pending.
  Duration offset() const;
  const ClockGuard::Options& options() const { return guard_.options(); }

 private:
  const Clock& wall_;
  Monotonic mono_;
  mutable std::mutex mu_;
  ClockGuard guard_;
};

}  // namespace backout::agent
