// A manual clock with manual timers (net::TimeSource) for tests of the code that waits: the
// dispatcher's backoff, the collectors' cadence, the scheduler. Time moves only in advance(),
// which fires every timer falling due on the way, in due order, each at its own time, and runs
// what they post on the test's io_context. An hour of backoff takes milliseconds.
//
// Thread-safety: the clocks may be read from any thread; timers and advance() from the test's
// thread (the io_context runs there, inside advance()).
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "backout/net/time_source.h"

namespace backout::testing {

class ManualTime final : public net::TimeSource {
 public:
  /// The wall clock starts at `wall` (2026-06-07T03:00:00+01:00 by default).
  explicit ManualTime(TimePoint wall);
  ManualTime();
  ~ManualTime() override;

  TimePoint now() const override;
  Duration steady() const override;
  std::unique_ptr<net::Timer> timer(boost::asio::any_io_executor executor) override;

  /// Moves both clocks forward by `d`, firing the timers due on the way (each with the clocks at
  /// its due time) and running `io` after each, then once more at the end.
  void advance(Duration d, boost::asio::io_context& io);
  /// Runs what is ready on `io` without moving time.
  static void settle(boost::asio::io_context& io);
  /// Steps the wall clock alone (an NTP step); the monotonic clock and the timers are unmoved.
  void step_wall(Duration d);
  /// Waits not yet fired or cancelled.
  std::size_t pending() const;

 private:
  class ManualTimer;
  struct Wait {
    Duration due;
    std::uint64_t seq;
    std::uint64_t timer;
    boost::asio::any_io_executor executor;
    std::function<void(bool)> done;
  };
  void add(std::uint64_t timer, Duration d, boost::asio::any_io_executor ex,
           std::function<void(bool)> done);
  void cancel(std::uint64_t timer);

  mutable std::mutex mu_;
  TimePoint wall_start_;
  Duration steady_{std::chrono::hours{1000}};
  Duration wall_step_{0};
  std::uint64_t next_seq_ = 0;
  std::uint64_t next_timer_ = 0;
  std::vector<Wait> waits_;
};

}  // namespace backout::testing
