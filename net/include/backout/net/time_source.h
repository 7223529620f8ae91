// Time for the I/O side (issue 10, item 3): the wall clock, a monotonic clock and timers, behind
// one interface, so that the code that waits (the dispatcher's backoff and Retry-After, the
// collectors' cadence, the scheduler's tick) runs in tests on a manual clock, in milliseconds of
// real time (tests/support/manual_time.h). The running agent uses real_time().
//
// Thread-safety: implementations are thread-safe; a Timer is used from its executor only.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>

#include "backout/core/clock.h"
#include "backout/core/time.h"

namespace backout::net {

/// One timer, used from one executor (a strand): at most one wait is pending; a new wait or
/// cancel() ends the pending one, whose handler then runs with `fired` false. Handlers run on
/// the timer's executor, never inside wait() or cancel(). Destroying the timer cancels it.
class Timer {
 public:
  virtual ~Timer() = default;
  /// Calls `done(true)` once `d` of monotonic time has passed (at once for d <= 0).
  virtual void wait(Duration d, std::function<void(bool fired)> done) = 0;
  virtual void cancel() = 0;
};

class TimeSource : public Clock {
 public:
  /// Monotonic time since an arbitrary origin: never steps, for durations and deadlines.
  virtual Duration steady() const = 0;
  /// A timer whose handlers run on `executor`.
  virtual std::unique_ptr<Timer> timer(boost::asio::any_io_executor executor) = 0;
};

/// The machine's clocks (system_clock, steady_clock) and Asio steady timers.
TimeSource& real_time();

}  // namespace backout::net
