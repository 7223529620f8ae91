// The schedule shared by the collectors that sample on a period (scrapes and probes): first
// attempt at start(), then every `every`, never overlapping, and nothing delivered after stop().
// Each kind says only how one attempt goes.
//
// Thread-safety: everything runs on the collector's strand (CollectorContext::executor): start(),
// stop(), begin_attempt() and the kind's completion handlers, which must come back to the strand
// before calling record() or finish(). Time: attempt N+1 is due `every` after attempt N started
// (monotonic time from CollectorContext::time); an attempt still running then delays it, and it
// starts as soon as N ends.
// A kind with a hint that its source changed between attempts (the postgres probe sees the server
// close the connection it holds) may run the next attempt early with probe_now(): at most once
// between two scheduled attempts, so the cadence never exceeds twice the plan's.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "backout/collectors/collector.h"

namespace backout::collectors {

class PeriodicRunner : public std::enable_shared_from_this<PeriodicRunner> {
 public:
  /// `time`: the monotonic clock and the timer of the schedule (null: net::real_time()).
  PeriodicRunner(boost::asio::any_io_executor strand, SampleSink* sink, Duration every,
                 net::TimeSource* time = nullptr);
  virtual ~PeriodicRunner() = default;
  PeriodicRunner(const PeriodicRunner&) = delete;
  PeriodicRunner& operator=(const PeriodicRunner&) = delete;

  /// Starts the first attempt now. Once only; a stopped runner stays stopped.
  void start();
  /// Cancels the timer and the attempt in flight; after it returns the sink is not called again,
  /// even by handlers of that attempt that are already queued. Idempotent.
  void stop();

 protected:
  /// Begins attempt `id`; the kind ends it with finish(id, ...) on the strand. If it throws, the
  /// attempt ends as down with "internal error: ...".
  virtual void begin_attempt(std::uint64_t id) = 0;
  /// Cancels the I/O of the attempt in flight (from stop()). Its handlers still run later and
  /// find current(id) false.
  virtual void cancel_attempt() = 0;

  /// Whether attempt `id` is the one in flight: false once it finished or stop() was called.
  bool current(std::uint64_t id) const { return in_flight_ && !stopped_ && id == attempt_; }
  /// Delivers one value of attempt `id`; ignored when it is no longer current.
  void record(std::uint64_t id, const std::string& metric, const Labels& labels,
              double value);
  /// Records `up` (1 or 0 from outcome.up) and `duration` (outcome.duration, seconds), then
  /// ends attempt `id` and schedules the next. Ignored when `id` is no longer current.
  void finish(std::uint64_t id, AttemptOutcome outcome);
  /// Time since the current attempt started.
  Duration elapsed() const;
  /// When the next scheduled attempt is due (monotonic, as steady()): `every` after the current
  /// (or last) one started.
  Duration next_due() const { return attempt_start_ + every_; }
  /// The schedule's monotonic clock, and timers on it (for a kind's own waits).
  Duration steady() const { return time_.steady(); }
  net::TimeSource& time() { return time_; }
  Duration every() const { return every_; }
  /// Starts the next attempt now rather than at its due time; the schedule then runs on from
  /// this attempt's start. Refused (false) after stop(), while an attempt is in flight, and once
  /// an early attempt has run since the last scheduled one.
  bool probe_now();
  /// Whether the attempt in flight (or the last one) was started by probe_now().
  bool early() const { return early_; }
  bool stopped() const { return stopped_; }
  /// Called by stop() after cancel_attempt(): releases what the kind keeps between attempts (a
  /// connection it holds open). Default: nothing.
  virtual void release() {}

  const boost::asio::any_io_executor& strand() const { return strand_; }

  template <typename Derived>
  std::shared_ptr<Derived> self() {
    return std::static_pointer_cast<Derived>(shared_from_this());
  }

 private:
  void run_attempt(bool early);
  void schedule_next();

  boost::asio::any_io_executor strand_;
  SampleSink* sink_;
  Duration every_;
  net::TimeSource& time_;
  std::unique_ptr<net::Timer> timer_;
  Duration attempt_start_{0};
  std::uint64_t attempt_ = 0;
  bool in_flight_ = false;
  bool started_ = false;
  bool stopped_ = false;
  bool early_ = false;       // the current (or last) attempt came from probe_now()
  bool early_used_ = false;  // an early attempt ran since the last scheduled one
};

/// The Collector the agent holds: forwards start() and stop() to the runner and stops it when
/// destroyed (destroy it on the strand, or after stop()). The runner itself lives on until its
/// last queued handler has run.
std::unique_ptr<Collector> make_periodic_collector(std::shared_ptr<PeriodicRunner> runner);

/// The source's `bearer_token` secret resolved once, at creation: nullopt when the source has
/// none, an Error naming the source, option and variable or file when it cannot be resolved.
Result<std::optional<std::string>> resolve_bearer_token(const Source& source,
                                                        const CollectorContext& ctx);

/// What every kind checks of its context: a sink and a strand (and the HTTP client when it
/// needs one). The message names the source; this is a wiring bug, not a plan error.
std::optional<std::string> check_context(const Source& source, const CollectorContext& ctx,
                                         bool needs_http);

/// std::chrono::milliseconds for the HTTP client, rounded up so that 1500us is not 1ms.
std::chrono::milliseconds to_millis(Duration d);

}  // namespace backout::collectors
