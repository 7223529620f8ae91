#include "backout/core/clock_guard.h"

namespace backout {

ClockGuard::ClockGuard(TimePoint wall, Duration mono, Options options)
    : options_(options), anchor_wall_(wall), anchor_mono_(mono) {}

std::optional<ClockGuard::Event> ClockGuard::observe(TimePoint wall, Duration mono) {
  const Duration off = wall - now(mono);
  const bool stepped = magnitude(off) > options_.tolerance;
  if (pending_) {
    if (!stepped) {
      const Duration by = *pending_;
      pending_.reset();
      return Event{Outcome::kReverted, by, wall};
    }
    if (magnitude(off - *pending_) > options_.tolerance) {
      // A second step before the first was taken: the settle starts again from this one.
      pending_ = off;
      pending_since_ = mono;
      return Event{Outcome::kDetected, off, wall};
    }
    if (mono - pending_since_ >= options_.settle) {
      pending_.reset();
      anchor_wall_ += off;
      return Event{Outcome::kApplied, off, wall};
    }
    return std::nullopt;
  }
  if (!stepped) {
    return std::nullopt;
  }
  if (options_.settle <= Duration{0}) {
    anchor_wall_ += off;
    return Event{Outcome::kApplied, off, wall};
  }
  pending_ = off;
  pending_since_ = mono;
  return Event{Outcome::kDetected, off, wall};
}

std::string_view to_string(ClockGuard::Outcome o) {
  switch (o) {
    case ClockGuard::Outcome::kDetected:
      return "detected";
    case ClockGuard::Outcome::kApplied:
      return "applied";
    case ClockGuard::Outcome::kReverted:
      return "reverted";
  }
  return "detected";
}

}  // namespace backout
