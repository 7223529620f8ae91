#include "app/runtime/guarded_clock.h"

namespace backout::agent {

GuardedClock::GuardedClock(net::TimeSource& base, ClockGuard::Options options)
    : base_(base), guard_(base.now(), base.steady(), options) {}

TimePoint GuardedClock::now() const {
  std::lock_guard lock(mu_);
  return guard_.now(base_.steady());
}

std::optional<ClockGuard::Event> GuardedClock::poll() {
  std::lock_guard lock(mu_);
  const Duration mono = base_.steady();
  return guard_.observe(base_.now(), mono);
}

Duration GuardedClock::offset() const {
  std::lock_guard lock(mu_);
  return base_.now() - guard_.now(base_.steady());
}

void GuardedClock::continue_from(const GuardedClock& previous) {
  ClockGuard theirs = [&] {
    std::lock_guard lock(previous.mu_);
    return previous.guard_;
  }();
  std::lock_guard lock(mu_);
  guard_ = theirs;
}

}  // namespace backout::agent
