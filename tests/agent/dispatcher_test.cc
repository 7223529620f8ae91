// The dispatcher on a manual clock (issue 10, item 3): backoff doubling within its jitter,
// Retry-After, oldest first, a channel down for an hour, nothing after stop. An hour of retries
// runs in milliseconds.
#include "backout/alerting/dispatcher.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <functional>
#include <string>
#include <vector>

#include "backout/alerting/outbox.h"
#include "app/record/timeline.h"
#include "app/runtime/delivery_recorder.h"
#include "support/manual_time.h"
#include "support/test_plan.h"

namespace backout::agent {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// A channel whose answers a test scripts: each delivery is recorded with the monotonic time it
// was made at, and answered by `answer(key, attempt)` (attempt 1, 2, ... per key).
class ScriptedChannel final : public alerting::Channel {
 public:
  struct Call {
    std::string key;
    Duration at;
  };
  using Answer = std::function<alerting::DeliveryResult(const std::string& key, int attempt)>;

  ScriptedChannel(const net::TimeSource& time, Answer answer)
      : time_(time), answer_(std::move(answer)) {}
  std::string name() const override { return "chat"; }
  bool wants(const rules::Page&) const override { return true; }
  std::string render(const alerting::MessageContext& ctx) const override { return ctx.page.key; }
  void deliver(const std::string& payload, const std::string& key,
               std::function<void(alerting::DeliveryResult)> done) override {
    EXPECT_EQ(payload, key);
    calls.push_back({key, time_.steady()});
    int attempt = 0;
    for (const Call& c : calls) {
      attempt += c.key == key ? 1 : 0;
    }
    done(answer_(key, attempt));
  }
  std::vector<Duration> times_of(const std::string& key) const {
    std::vector<Duration> out;
    for (const Call& c : calls) {
      if (c.key == key) {
        out.push_back(c.at);
      }
    }
    return out;
  }

  std::vector<Call> calls;

 private:
  const net::TimeSource& time_;
  Answer answer_;
};

alerting::DeliveryResult delivered() { return {alerting::Delivery::kDelivered, "HTTP 200", {}}; }
alerting::DeliveryResult unavailable(std::optional<Duration> retry_after = std::nullopt) {
  return {alerting::Delivery::kRetry, "HTTP 503", retry_after};
}

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() : plan_(backout::testing::base_plan()), metrics_(plan_) {}

  ScriptedChannel& start(ScriptedChannel::Answer answer) {
    dispatcher_ =
        std::make_unique<alerting::Dispatcher>(io_.get_executor(), outbox_, time_, recorder_);
    auto ch = std::make_unique<ScriptedChannel>(time_, std::move(answer));
    ScriptedChannel& ref = *ch;
    dispatcher_->add_channel(std::move(ch));
    dispatcher_->start();
    testing::ManualTime::settle(io_);
    return ref;
  }
  void page(const std::string& key) {
    rules::Page p;
    p.key = key;
    p.at = time_.now();
    alerting::MessageContext ctx;
    ctx.plan = &plan_;
    dispatcher_->submit({p}, ctx);
    testing::ManualTime::settle(io_);
  }
  std::size_t queued() { return outbox_.stats("chat", time_.now()).depth; }

  rules::Plan plan_;
  AgentMetrics metrics_;
  alerting::MemoryOutbox outbox_;
  MemoryTimeline timeline_;
  DeliveryRecorder recorder_{metrics_, timeline_, minutes{60}};
  testing::ManualTime time_;
  boost::asio::io_context io_;
  std::unique_ptr<alerting::Dispatcher> dispatcher_;
};

TEST(DispatcherBackoffTest, DoublesFromOneSecondToAMinuteWithinItsJitter) {
  for (int attempts = 0; attempts < 20; ++attempts) {
    const double full = std::min(60.0, std::pow(2.0, std::min(attempts, 10)));
    EXPECT_DOUBLE_EQ(to_seconds(alerting::Dispatcher::backoff(attempts, 0.0)), full / 2) << attempts;
    EXPECT_NEAR(to_seconds(alerting::Dispatcher::backoff(attempts, 0.999999)), full, full * 1e-6) << attempts;
    EXPECT_LE(alerting::Dispatcher::backoff(attempts, 5.0), from_seconds(full)) << "unit clamped";
    EXPECT_GE(alerting::Dispatcher::backoff(attempts, -1.0), from_seconds(full / 2));
  }
}

TEST_F(DispatcherTest, RetriesWithDoublingBackoffUntilTheChannelTakesIt) {
  ScriptedChannel& chat = start([](const std::string&, int attempt) {
    return attempt <= 5 ? unavailable() : delivered();
  });
  page("breach:login#1");
  time_.advance(minutes{2}, io_);
  const std::vector<Duration> at = chat.times_of("breach:login#1");
  ASSERT_EQ(at.size(), 6u);
  for (std::size_t i = 1; i < at.size(); ++i) {
    const double wait = to_seconds(at[i] - at[i - 1]);
    const double full = std::pow(2.0, static_cast<double>(i - 1));
    EXPECT_GE(wait, full / 2 - 1e-9) << "wait " << i;
    EXPECT_LE(wait, full + 1e-9) << "wait " << i;
  }
  EXPECT_EQ(queued(), 0u);
  EXPECT_EQ(time_.pending(), 0u) << "nothing left waiting once delivered";
}

TEST_F(DispatcherTest, RetryAfterIsHonouredUpToFiveMinutes) {
  ScriptedChannel& chat = start([](const std::string& key, int attempt) {
    if (attempt > 1) {
      return delivered();
    }
    return unavailable(key == "a" ? Duration{seconds{120}} : Duration{hours{1}});
  });
  page("a");
  time_.advance(minutes{10}, io_);
  page("b");
  time_.advance(minutes{10}, io_);
  const auto a = chat.times_of("a");
  const auto b = chat.times_of("b");
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_GE(a[1] - a[0], seconds{120});
  EXPECT_LE(a[1] - a[0], seconds{121});
  EXPECT_EQ(b[1] - b[0], minutes{5}) << "an hour's Retry-After is capped at 5 minutes";
}

TEST_F(DispatcherTest, AChannelDownForAnHourGetsEveryMessageOnceInOrderWhenBack) {
  const Duration up_at = time_.steady() + hours{1};
  ScriptedChannel& chat = start([&](const std::string&, int) {
    return time_.steady() < up_at ? unavailable() : delivered();
  });
  std::vector<std::string> keys;
  for (int i = 0; i < 10; ++i) {
    keys.push_back("page:" + std::to_string(i));
    page(keys.back());
    time_.advance(minutes{5}, io_);
  }
  time_.advance(minutes{15}, io_);  // the hour is over
  time_.advance(minutes{2}, io_);
  EXPECT_EQ(queued(), 0u);
  std::vector<std::string> order;
  for (const auto& c : chat.calls) {
    if (c.at >= up_at) {
      order.push_back(c.key);
    }
  }
  EXPECT_EQ(order, keys) << "each once, oldest first";
  // Only the oldest message is tried while the channel is down, once per backoff: 6 attempts
  // while it doubles to its cap, then every 30 to 60 s (the jitter), not once per message.
  std::size_t while_down = chat.calls.size() - order.size();
  EXPECT_LE(while_down, 6u + 120u);
  EXPECT_GE(while_down, 6u + 58u);
  for (const auto& c : chat.calls) {
    if (c.at < up_at) {
      EXPECT_EQ(c.key, keys.front()) << "a younger message never overtakes the oldest";
    }
  }
}

// Issue 14, defect 4: a retry time recorded on a clock that has since stepped back (a message
// restored after a restart) would hold the page for the step. No wait is longer than kMaxWait.
TEST_F(DispatcherTest, AWaitRecordedBeforeAClockStepBackIsCutToTheLongestRetryAfter) {
  alerting::OutboxMessage m;
  m.id = 7;
  m.channel = "chat";
  m.key = "breach:login#1";
  m.payload = m.key;
  m.created_at = time_.now();
  m.attempts = 3;
  m.next_attempt_at = time_.now() + hours{1};
  outbox_.restore(m);
  ScriptedChannel& chat = start([](const std::string&, int) { return delivered(); });
  time_.advance(seconds{1}, io_);
  ASSERT_EQ(chat.calls.size(), 1u) << "not an hour later";
  EXPECT_EQ(queued(), 0u);

  // A wait within kMaxWait is kept.
  m.id = 8;
  m.key = "breach:login#2";
  m.payload = m.key;
  m.next_attempt_at = time_.now() + minutes{4};
  outbox_.restore(m);
  dispatcher_->clock_stepped(Duration{0});
  time_.advance(minutes{3}, io_);
  EXPECT_EQ(chat.calls.size(), 1u);
  time_.advance(minutes{1} + seconds{1}, io_);
  EXPECT_EQ(chat.calls.size(), 2u);
}

TEST_F(DispatcherTest, NothingIsSentAfterStop) {
  ScriptedChannel& chat = start([](const std::string&, int) { return unavailable(); });
  page("breach:login#1");
  time_.advance(seconds{10}, io_);
  const std::size_t before = chat.calls.size();
  ASSERT_GE(before, 2u);
  dispatcher_->stop();
  testing::ManualTime::settle(io_);
  time_.advance(hours{1}, io_);
  EXPECT_EQ(chat.calls.size(), before);
  EXPECT_EQ(queued(), 1u) << "undelivered messages stay in the outbox";
}

}  // namespace
}  // namespace backout::agent
