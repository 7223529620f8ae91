// Clock: the one place the running agent reads the time. Pure code takes `now` as a parameter;
// I/O code gets a Clock injected so that tests can drive it with a ManualClock.
#pragma once

#include "backout/core/time.h"

namespace backout {

/// A source of wall-clock time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

/// The real clock (std::chrono::system_clock). Thread-safe.
class SystemClock final : public Clock {
 public:
  TimePoint now() const override {
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  }
};

}  // namespace backout
