#include "app/runtime/guarded_clock.h"

#include <chrono>

namespace backout::agent {

Duration GuardedClock::steady() {
  return std::chrono::duration_cast<Duration>(
      std::chrono::steady_clock::now().time_since_epoch());
}

GuardedClock::GuardedClock(const Clock& wall, ClockGuard::Options options, Monotonic mono)
    : wall_(wall), mono_(std::move(mono)), guard_(wall.now(), mono_(), options) {}

TimePoint GuardedClock::now() const {
  std::lock_guard lock(mu_);
  return guard_.now(mono_());
}

std::optional<ClockGuard::Event> GuardedClock::poll() {
  std::lock_guard lock(mu_);
  const Duration mono = mono_();
  return guard_.observe(wall_.now(), mono);
}

Duration GuardedClock::offset() const {
  std::lock_guard lock(mu_);
  return wall_.now() - guard_.now(mono_());
}

}  // namespace backout::agent
