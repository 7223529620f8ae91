// The runtime in process, with a fake source kind, a fake channel and the manual clock (issue
// 10): a breach, its page, an acknowledgement through the real HTTP API, the resolve and the
// final message, a quarter of an hour of the night in a fraction of a second of real time.
#include "app/runtime/agent_runtime.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "support/apps/agent_process.h"
#include "support/manual_time.h"
#include "support/test_plan.h"

namespace backout::agent {
namespace {

namespace fs = std::filesystem;
using std::chrono::minutes;
using std::chrono::seconds;

// What the fake source kind's collector was given: the test feeds samples through it.
struct FakeFeed {
  boost::asio::any_io_executor executor;
  collectors::SampleSink* sink = nullptr;
  double failed = 0;
  double all = 0;

  // One scrape of cumulative login counters, `rate` of them failed.
  void scrape(double rate) {
    all += 100;
    failed += 100 * rate;
    boost::asio::post(executor, [s = sink, f = failed, a = all] {
      s->record("f_total", {}, f);
      s->record("a_total", {}, a);
      s->end_attempt({.up = true, .samples = 2});
    });
  }
};

// Hands its feed the runtime's executor and sink, and takes them back when the runtime destroys
// it: the executor is a strand of the runtime's io_context, which must not outlive it (a strand
// released after its io_context locks freed memory; a test that restarts the runtime over one
// feed hung on exactly that).
class FakeCollector final : public collectors::Collector {
 public:
  FakeCollector(std::shared_ptr<FakeFeed> feed, boost::asio::any_io_executor executor,
                collectors::SampleSink* sink)
      : feed_(std::move(feed)) {
    feed_->executor = std::move(executor);
    feed_->sink = sink;
  }
  ~FakeCollector() override {
    feed_->executor = {};
    feed_->sink = nullptr;
  }
  void start() override {}
  void stop() override {}

 private:
  std::shared_ptr<FakeFeed> feed_;
};

// A channel that delivers at once and remembers what it delivered, by page kind and key.
class FakeChannel final : public alerting::Channel {
 public:
  explicit FakeChannel(std::shared_ptr<std::vector<std::string>> log) : log_(std::move(log)) {}
  std::string name() const override { return "chat"; }
  bool wants(const rules::Page&) const override { return true; }
  std::string render(const alerting::MessageContext& ctx) const override {
    return std::string(rules::to_string(ctx.page.kind)) + " " + ctx.page.key;
  }
  void deliver(const std::string& payload, const std::string&,
               std::function<void(alerting::DeliveryResult)> done) override {
    log_->push_back(payload);
    done({alerting::Delivery::kDelivered, "fake", std::nullopt});
  }

 private:
  std::shared_ptr<std::vector<std::string>> log_;
};

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("backout-runtime-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ::setenv("BACKOUT_RUNTIME_TEST_TOKEN", "runtime-test-token", 1);
  }
  void TearDown() override { fs::remove_all(dir_); }

  rules::Plan plan() {
    rules::Plan p = backout::testing::base_plan();
    p.window.start = *parse_rfc3339("2026-06-07T02:00:00+01:00");
    p.window.end = *parse_rfc3339("2026-06-07T03:15:00+01:00");
    p.window.backout_duration = minutes{10};
    p.window.warn_before_pnr = minutes{1};
    p.window.baseline = Duration{0};
    p.sources.clear();
    Source portal;
    portal.id = "portal";
    portal.kind = "fake";
    p.sources.push_back(portal);
    p.triggers.push_back(backout::testing::trigger("login", "ratio(portal.f_total, portal.a_total)",
                                                   "> 5%", rules::Severity::kMajor, seconds{30},
                                                   Duration{0}, 10));
    p.notify.channels.push_back(rules::Channel{"chat", "slack", {}});
    p.server.token = SecretRef{SecretRef::From::kEnv, "BACKOUT_RUNTIME_TEST_TOKEN"};
    p.state_dir = dir_.string();
    return p;
  }

  // The fake source kind (fed by `feed`) and the fake channel (logging to `delivered`).
  static RuntimeParts fakes(std::shared_ptr<FakeFeed> feed,
                            std::shared_ptr<std::vector<std::string>> delivered) {
    RuntimeParts parts;
    parts.sources.emplace();
    parts.sources->add({KindSpec{"fake", "a test's samples", {}, {}, false, {}},
                        [feed](const Source&, collectors::CollectorContext ctx)
                            -> Result<std::unique_ptr<collectors::Collector>> {
                          return std::unique_ptr<collectors::Collector>(
                              new FakeCollector(feed, ctx.executor, ctx.sink));
                        }});
    parts.channel = [delivered](const rules::Channel&, const std::string&)
        -> Result<std::unique_ptr<alerting::Channel>> {
      return std::unique_ptr<alerting::Channel>(new FakeChannel(delivered));
    };
    return parts;
  }

  // POST /api/v1/ack from another thread while this one runs `io` (when `poll`).
  static backout::testing::HttpResult ack(AgentRuntime& runtime, bool poll) {
    auto answer = std::async(std::launch::async, [port = runtime.http_port()] {
      return backout::testing::http_post(port, "/api/v1/ack", R"({"by": "@john.smith"})",
                                         "runtime-test-token");
    });
    while (answer.wait_for(std::chrono::milliseconds{1}) != std::future_status::ready) {
      if (poll) {
        backout::testing::ManualTime::settle(runtime.io());
      }
    }
    return answer.get();
  }

  fs::path dir_;
};

TEST_F(RuntimeTest, ABreachIsPagedAcknowledgedResolvedAndTheNightEnds) {
  backout::testing::ManualTime time;  // 03:00 +01:00, inside the window
  auto feed = std::make_shared<FakeFeed>();
  auto delivered = std::make_shared<std::vector<std::string>>();
  RuntimeOptions options;
  options.tick = seconds{1};
  options.listen = "127.0.0.1:0";
  AgentRuntime runtime(plan(), options, time, fakes(feed, delivered));
  ASSERT_TRUE(runtime.prepare().ok());
  runtime.start();
  auto& io = runtime.io();
  auto run = [&](Duration span, double rate) {
    for (Duration t{0}; t < span; t += seconds{5}) {
      feed->scrape(rate);
      time.advance(seconds{5}, io);
    }
  };

  run(minutes{1}, 0.01);
  EXPECT_TRUE(delivered->empty());
  run(seconds{30}, 0.20);
  ASSERT_EQ(*delivered, std::vector<std::string>{"breach breach:login#1"});

  // The acknowledgement, through the real API: the request is taken on the HTTP server's thread
  // and run on the tick strand of the runtime's io_context, which this thread polls while
  // another thread waits for the answer.
  ASSERT_EQ(ack(runtime, /*poll=*/true).status, 200);
  time.advance(seconds{1}, io);
  ASSERT_EQ(delivered->size(), 2u);
  EXPECT_EQ(delivered->back().rfind("act act:", 0), 0u) << delivered->back();

  run(minutes{2}, 0.01);
  ASSERT_EQ(delivered->size(), 3u);
  EXPECT_EQ(delivered->back(), "resolve resolve:login#1");

  // The rest of the night is quiet: no repeat, no escalation (acknowledged), then the final
  // message at 03:15.
  run(minutes{12}, 0.01);
  ASSERT_EQ(delivered->size(), 4u) << delivered->back();
  EXPECT_EQ(delivered->back().rfind("final ", 0), 0u) << delivered->back();

  runtime.stop();
  backout::testing::ManualTime::settle(io);
}

}  // namespace
}  // namespace backout::agent

namespace backout::agent {
namespace {

// An act waits for the watch's strand (no lock): one the watch does not take within watch_wait
// (here the test does not run the io_context, as a stalled tick would not) is refused with 503
// and never applied, even once the watch runs again.
TEST_F(RuntimeTest, AnActTheWatchDoesNotTakeInTimeIsRefusedAndNeverApplied) {
  backout::testing::ManualTime time;
  auto feed = std::make_shared<FakeFeed>();
  auto delivered = std::make_shared<std::vector<std::string>>();
  RuntimeOptions options;
  options.tick = seconds{1};
  options.listen = "127.0.0.1:0";
  options.watch_wait = std::chrono::milliseconds{200};
  AgentRuntime runtime(plan(), options, time, fakes(feed, delivered));
  ASSERT_TRUE(runtime.prepare().ok());
  runtime.start();
  auto& io = runtime.io();
  for (Duration t{0}; t < seconds{90}; t += seconds{5}) {
    feed->scrape(t < minutes{1} ? 0.01 : 0.20);
    time.advance(seconds{5}, io);
  }
  ASSERT_EQ(*delivered, std::vector<std::string>{"breach breach:login#1"});

  const backout::testing::HttpResult refused = ack(runtime, /*poll=*/false);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.body.find("nothing was applied"), std::string::npos) << refused.body;
  time.advance(seconds{1}, io);  // the withdrawn act reaches the strand: it must not run
  EXPECT_EQ(delivered->size(), 1u) << delivered->back();

  const backout::testing::HttpResult taken = ack(runtime, /*poll=*/true);
  ASSERT_EQ(taken.status, 200) << taken.body;
  time.advance(seconds{1}, io);
  ASSERT_EQ(delivered->size(), 2u);  // one acknowledgement echoed: the refused one never ran
  EXPECT_EQ(delivered->back().rfind("act act:", 0), 0u) << delivered->back();

  runtime.stop();
  backout::testing::ManualTime::settle(io);
}

// --start-now (a rehearsal): the window starts now and keeps its length; a restart within that
// window keeps the shifted start (the store remembers it), one after it shifts afresh.
TEST_F(RuntimeTest, ARehearsalKeepsItsShiftedWindowAcrossARestartUntilThatWindowEnds) {
  const TimePoint first = parse_rfc3339("2026-12-04T21:00:00+01:00")->at;
  RuntimeOptions options;
  options.tick = seconds{1};
  options.listen = "127.0.0.1:0";
  options.start_now = true;
  auto feed = std::make_shared<FakeFeed>();
  auto delivered = std::make_shared<std::vector<std::string>>();
  auto window_start_at = [&](TimePoint wall) {
    backout::testing::ManualTime time(wall);
    AgentRuntime runtime(plan(), options, time, fakes(feed, delivered));
    const Status prepared = runtime.prepare();
    EXPECT_TRUE(prepared.ok()) << prepared.error();
    EXPECT_EQ(runtime.plan().window.length(), minutes{75});
    return runtime.plan().window.start.at;
  };
  EXPECT_EQ(window_start_at(first), first);
  EXPECT_EQ(window_start_at(first + minutes{30}), first) << "a restart within it keeps it";
  EXPECT_EQ(window_start_at(first + minutes{80}), first + minutes{80}) << "that window ended";
  EXPECT_EQ(window_start_at(first + minutes{90}), first + minutes{80});
}

}  // namespace
}  // namespace backout::agent
