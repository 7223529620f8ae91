// The collectors' schedule on a manual clock (issue 10, item 3): the cadence runs from each
// attempt's start, a slow attempt delays the next without overlap, an early probe runs at most
// once between two scheduled attempts, and nothing reaches the sink after stop().
#include "periodic_runner.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <memory>
#include <vector>

#include "support/manual_time.h"
#include "support/recording_sink.h"

namespace backout::collectors {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// An attempt that takes `took` of manual time, on its own timer like real I/O.
class TimedRunner final : public PeriodicRunner {
 public:
  TimedRunner(boost::asio::any_io_executor strand, SampleSink* sink, Duration every,
              net::TimeSource& time, Duration took)
      : PeriodicRunner(strand, sink, every, &time), took_(took), io_(time.timer(strand)) {}

  std::vector<Duration> starts;
  int in_flight = 0;
  int most_in_flight = 0;
  Duration took_;

  using PeriodicRunner::probe_now;

 protected:
  void begin_attempt(std::uint64_t id) override {
    starts.push_back(steady());
    most_in_flight = std::max(most_in_flight, ++in_flight);
    io_->wait(took_, [self = self<TimedRunner>(), id](bool fired) {
      --self->in_flight;
      if (fired) {
        self->record(id, "value", {}, 1);
        self->finish(id, {.up = true, .duration = self->elapsed()});
      }
    });
  }
  void cancel_attempt() override { io_->cancel(); }

 private:
  std::unique_ptr<net::Timer> io_;
};

class PeriodicRunnerTest : public ::testing::Test {
 protected:
  std::shared_ptr<TimedRunner> make(Duration every, Duration took) {
    auto r = std::make_shared<TimedRunner>(strand_, &sink_, every, time_, took);
    origin_ = time_.steady();
    return r;
  }
  std::vector<double> seconds_of(const std::vector<Duration>& v) const {
    std::vector<double> out;
    for (Duration d : v) {
      out.push_back(to_seconds(d - origin_));
    }
    return out;
  }

  boost::asio::io_context io_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_{io_.get_executor()};
  testing::ManualTime time_;
  testing::RecordingSink sink_;
  Duration origin_{0};
};

TEST_F(PeriodicRunnerTest, TheCadenceRunsFromEachAttemptsStart) {
  auto r = make(seconds{5}, seconds{1});
  r->start();
  time_.advance(seconds{20} + milliseconds{500}, io_);
  EXPECT_EQ(seconds_of(r->starts), (std::vector<double>{0, 5, 10, 15, 20}));
  EXPECT_EQ(sink_.attempt_count(), 4u) << "the fifth is still running";
  EXPECT_EQ(r->most_in_flight, 1);
  r->stop();
}

TEST_F(PeriodicRunnerTest, ASlowAttemptDelaysTheNextWithoutOverlap) {
  auto r = make(seconds{5}, seconds{7});
  r->start();
  time_.advance(seconds{30}, io_);
  EXPECT_EQ(seconds_of(r->starts), (std::vector<double>{0, 7, 14, 21, 28}));
  EXPECT_EQ(r->most_in_flight, 1) << "attempts never overlap";
  r->stop();
}

TEST_F(PeriodicRunnerTest, AnEarlyProbeRunsAtMostOnceBetweenScheduledAttempts) {
  auto r = make(seconds{10}, milliseconds{100});
  r->start();
  time_.advance(seconds{2}, io_);
  EXPECT_TRUE(r->probe_now());
  time_.advance(seconds{1}, io_);
  EXPECT_FALSE(r->probe_now()) << "once between two scheduled attempts";
  time_.advance(seconds{20}, io_);
  // 0, the early one at 2, then every 10 s from it.
  EXPECT_EQ(seconds_of(r->starts), (std::vector<double>{0, 2, 12, 22}));
  r->stop();
}

TEST_F(PeriodicRunnerTest, NothingReachesTheSinkAfterStop) {
  auto r = make(seconds{5}, seconds{2});
  r->start();
  time_.advance(seconds{6}, io_);  // the second attempt is in flight
  ASSERT_EQ(r->starts.size(), 2u);
  const std::size_t calls = sink_.calls();
  r->stop();
  time_.advance(seconds{60}, io_);
  EXPECT_EQ(sink_.calls(), calls);
  EXPECT_EQ(r->starts.size(), 2u);
  EXPECT_EQ(time_.pending(), 0u);
}

}  // namespace
}  // namespace backout::collectors
