// The running agent's clock: the injected time source's wall clock, held on its monotonic time
// across a step by a ClockGuard (backout/core/clock_guard.h; issue 14, defect 4). Everything in the runtime that
// stamps or compares times (the watch, the acts, the dispatcher, the timeline, the sources'
// table) reads this one clock, so they all agree while a step is pending and move together when
// the runtime takes it (AgentRuntime shifts the watch and the outbox at that moment).
//
// Thread-safe.
#pragma once

#include <functional>
#include <mutex>
#include <optional>

#include "backout/core/clock_guard.h"
#include "backout/net/time_source.h"

namespace backout::agent {

class GuardedClock final : public net::TimeSource {
 public:
  /// `base` gives the wall clock to guard, the monotonic clock and the timers.
  GuardedClock(net::TimeSource& base, ClockGuard::Options options);

  /// The agent's time: the wall clock while no step is pending.
  TimePoint now() const override;
  Duration steady() const override { return base_.steady(); }
  std::unique_ptr<net::Timer> timer(boost::asio::any_io_executor executor) override {
    return base_.timer(std::move(executor));
  }
  /// Reads both clocks and compares them (ClockGuard::observe). On kApplied, now() has moved by
  /// the step when this returns.
  std::optional<ClockGuard::Event> poll();
  /// Wall clock minus the agent's time: 0 unless a step is pending.
  Duration offset() const;
  const ClockGuard::Options& options() const { return guard_.options(); }
  /// A reload: goes on with `previous`'s time (a step pending there stays pending here).
  void continue_from(const GuardedClock& previous);

 private:
  net::TimeSource& base_;
  mutable std::mutex mu_;
  ClockGuard guard_;
};

}  // namespace backout::agent
