// The push kind: the StatsD parser and the accumulator (pure), then the collector built through
// the registry, fed through a PushHub (from another thread) and over a real UDP socket on
// 127.0.0.1, port 0, into a sink that checks it is called on the collector's strand. Networked
// tests run one io_context with bounded waits.
#include "push/push_collector.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "backout/collectors/collector.h"
#include "backout/collectors/push_hub.h"
#include "backout/collectors/statsd.h"
#include "push/push_accumulator.h"
#include "support/manual_time.h"
#include "support/recording_sink.h"
#include "support/test_http_server.h"

namespace backout::collectors {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Type = PushedSample::Type;
using udp = asio::ip::udp;

PushedSample sample(std::string metric, double value, Type type, Labels labels = {}) {
  return {std::move(metric), std::move(labels), value, type};
}

// ---- StatsD lines ----

std::vector<PushedSample> statsd(std::string_view text, StatsdParseStats* stats = nullptr) {
  std::vector<PushedSample> out;
  StatsdParseStats s = parse_statsd(text, out);
  if (stats != nullptr) {
    *stats = s;
  }
  return out;
}

TEST(StatsdTest, EveryTypeWithRatesTagsAndUnits) {
  StatsdParseStats stats;
  auto out = statsd(
      "logins:1|c\n"
      "logins:2|c|@0.5|#region:eu,canary\n"
      "queue.depth:-7|g\r\n"
      "\n"
      "login.latency:250|ms|#route:/login\n"
      "size:0.3|h\n"
      "dist:1:2.5|d|#a:b|T1717722000\n",
      &stats);
  EXPECT_EQ(stats.lines, 6u);
  EXPECT_EQ(stats.malformed, 0u) << stats.first_error;
  EXPECT_EQ(stats.samples, 7u);
  ASSERT_EQ(out.size(), 7u);
  EXPECT_EQ(out[0].metric, "logins");
  EXPECT_EQ(out[0].type, Type::kCounter);
  EXPECT_EQ(out[0].value, 1.0);
  EXPECT_TRUE(out[0].labels.empty());
  EXPECT_EQ(out[1].value, 4.0);                                 // 2 at a sample rate of 1/2
  EXPECT_EQ(out[1].labels, (Labels{{"region", "eu"}}));  // the bare tag is ignored
  EXPECT_EQ(out[2].metric, "queue_depth");
  EXPECT_EQ(out[2].type, Type::kGauge);
  EXPECT_EQ(out[2].value, -7.0);
  EXPECT_EQ(out[3].metric, "login_latency");
  EXPECT_EQ(out[3].type, Type::kObservation);
  EXPECT_DOUBLE_EQ(out[3].value, 0.25);  // milliseconds -> seconds
  EXPECT_EQ(out[3].labels, (Labels{{"route", "/login"}}));
  EXPECT_EQ(out[4].type, Type::kObservation);
  EXPECT_DOUBLE_EQ(out[4].value, 0.3);
  EXPECT_EQ(out[5].value, 1.0);  // packed values, one sample each
  EXPECT_EQ(out[6].value, 2.5);
  EXPECT_EQ(out[6].labels, (Labels{{"a", "b"}}));
}

TEST(StatsdTest, NamesAndTagKeysAreMadePrometheusSafe) {
  auto out = statsd(
      "portal.login-failures:1|c|#k8s.pod/name:web-1,k8s.pod/name:web-2\n"
      "5xx:1|c\n");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].metric, "portal_login_failures");
  EXPECT_EQ(out[0].labels, (Labels{{"k8s_pod_name", "web-1"}}));  // first one wins
  EXPECT_EQ(out[1].metric, "_5xx");
  EXPECT_EQ(statsd_safe_name(""), "");
}

TEST(StatsdTest, MalformedLinesAreCountedAndSkipped) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"no value", "expected name:value|type"},
      {"name:1", "expected name:value|type"},
      {":1|c", "empty metric name"},
      {"a:1|x", "unknown type 'x' (expected c, g, ms, h or d)"},
      {"a:1|s", "sets (|s) are not supported"},
      {"a:abc|c", "value 'abc' is not a finite number"},
      {"a:|c", "value '' is not a finite number"},
      {"a:nan|g", "value 'nan' is not a finite number"},
      {"a:inf|c", "value 'inf' is not a finite number"},
      {"a:-1|c", "value '-1' is negative"},
      {"a:-1|ms", "value '-1' is negative"},
      {"a:+3|g", "value '+3' is not a finite number"},
      {"a:1|c|@0", "sample rate '@0' is not in (0, 1]"},
      {"a:1|c|@2", "sample rate '@2' is not in (0, 1]"},
      {"a:1|c|@x", "sample rate '@x' is not in (0, 1]"},
      {"a:1|c|", "unexpected field '|'"},
      {"a:1|c|zzz", "unexpected field '|zzz'"},
      {"a:1:x|h", "value 'x' is not a finite number"},
      {"_e{5,4}:title|text", "DogStatsD events and service checks are not supported"},
      {"_sc|check|0", "DogStatsD events and service checks are not supported"},
  };
  for (const auto& [line, why] : cases) {
    StatsdParseStats stats;
    auto out = statsd("good:1|c\n" + line + "\n", &stats);
    EXPECT_EQ(stats.malformed, 1u) << line;
    EXPECT_EQ(stats.first_error, "line 2: " + why) << line;
    ASSERT_EQ(out.size(), 1u) << line;  // nothing of the bad line, the good one kept
    EXPECT_EQ(out[0].metric, "good");
  }
}

TEST(StatsdTest, ArbitraryBytesNeverCrash) {
  std::string junk;
  for (int i = 0; i < 4096; ++i) {
    junk.push_back(static_cast<char>((i * 7919 + 13) % 256));
  }
  std::vector<PushedSample> out;
  StatsdParseStats stats = parse_statsd(junk, out);
  EXPECT_EQ(stats.samples, out.size());
  EXPECT_LE(stats.malformed, stats.lines);
  stats = parse_statsd(std::string(70000, '|'), out);
  EXPECT_EQ(stats.malformed, 1u);
  stats = parse_statsd(std::string(70000, ':') + "|c", out);
  EXPECT_EQ(stats.malformed, 1u);
}

// ---- the accumulator ----

struct Emitted {
  std::string metric;
  Labels labels;
  double value;
};

std::vector<Emitted> add(PushAccumulator& acc, const std::vector<PushedSample>& batch,
                         PushAccumulator::Counts* counts = nullptr) {
  std::vector<Emitted> out;
  auto c = acc.add(batch, [&](const std::string& m, const Labels& l, double v) {
    out.push_back({m, l, v});
  });
  if (counts != nullptr) {
    *counts = c;
  }
  return out;
}

std::vector<double> values(const std::vector<Emitted>& e) {
  std::vector<double> out;
  for (const Emitted& x : e) {
    out.push_back(x.value);
  }
  return out;
}

TEST(PushAccumulatorTest, CounterIncrementsBecomeCumulativeTotalsPerSeries) {
  PushAccumulator acc;
  EXPECT_EQ(values(add(acc, {sample("logins", 3, Type::kCounter),
                             sample("logins", 1, Type::kCounter, {{"region", "eu"}})})),
            (std::vector<double>{3, 1}));
  EXPECT_EQ(values(add(acc, {sample("logins", 2, Type::kCounter),
                             sample("logins", 0.5, Type::kCounter, {{"region", "eu"}})})),
            (std::vector<double>{5, 1.5}));
  EXPECT_EQ(acc.counter_series(), 2u);
}

TEST(PushAccumulatorTest, AbsurdIncrementsAreMalformedAndCannotBlindTheSeries) {
  PushAccumulator acc;
  PushAccumulator::Counts counts;
  // Two `app_requests:1e308|c` datagrams: once added, the total would be inf for good.
  EXPECT_TRUE(values(add(acc, {sample("app_requests", 1e308, Type::kCounter),
                              sample("app_requests", 1e308, Type::kCounter)},
                         &counts))
                  .empty());
  EXPECT_EQ(counts.malformed, 2u);
  EXPECT_NE(counts.first_error.find("an increase above 1e12"), std::string::npos) << counts.first_error;
  EXPECT_EQ(values(add(acc, {sample("app_requests", 3, Type::kCounter)})),
            (std::vector<double>{3}));
  // A counter total jumping by an absurd amount: refused, and counted on from the new total.
  add(acc, {sample("req", 10, Type::kCounterTotal)});
  EXPECT_TRUE(values(add(acc, {sample("req", 1e300, Type::kCounterTotal)}, &counts)).empty());
  EXPECT_EQ(counts.malformed, 1u);
  EXPECT_EQ(values(add(acc, {sample("req", 1e300, Type::kCounterTotal)})),
            (std::vector<double>{0}));
}

TEST(PushAccumulatorTest, CounterTotalsFollowTheContract) {
  PushAccumulator acc;
  const Labels ok{{"code", "200"}};
  const Labels bad{{"code", "503"}};
  // A sender's first push: its totals ran up before the agent listened.
  EXPECT_EQ(values(add(acc, {sample("req", 100, Type::kCounterTotal, ok)})),
            (std::vector<double>{0}));
  EXPECT_EQ(values(add(acc, {sample("req", 104, Type::kCounterTotal, ok)})),
            (std::vector<double>{4}));
  // A series created at its first increment, beside a known one: counts from zero.
  EXPECT_EQ(values(add(acc, {sample("req", 110, Type::kCounterTotal, ok),
                             sample("req", 2, Type::kCounterTotal, bad)})),
            (std::vector<double>{10, 2}));
  // The process restarted: a drop is a reset, the new value the increase since.
  EXPECT_EQ(values(add(acc, {sample("req", 3, Type::kCounterTotal, ok)})),
            (std::vector<double>{13}));
  // Another sender's first push (no series of it known): starting points again.
  EXPECT_EQ(values(add(acc, {sample("req", 5000, Type::kCounterTotal, {{"instance", "b"}})})),
            (std::vector<double>{0}));
}

TEST(PushAccumulatorTest, GaugesAndObservationsAreRecordedAsTheyAre) {
  PushAccumulator acc;
  auto e = add(acc, {sample("depth", -2, Type::kGauge), sample("depth", NAN, Type::kGauge),
                     sample("latency", 0.25, Type::kObservation),
                     sample("latency", 0.25, Type::kObservation)});
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].value, -2);
  EXPECT_TRUE(std::isnan(e[1].value));
  EXPECT_EQ(e[2].value, 0.25);
  EXPECT_EQ(e[3].value, 0.25);
  EXPECT_EQ(acc.counter_series(), 0u);
}

TEST(PushAccumulatorTest, InvalidValuesAreMalformedAndSeriesBeyondTheLimitDropped) {
  PushAccumulator acc;
  PushAccumulator::Counts counts;
  auto e = add(acc,
               {sample("c", -1, Type::kCounter), sample("t", INFINITY, Type::kCounterTotal),
                sample("o", -0.1, Type::kObservation), sample("c", 1, Type::kCounter)},
               &counts);
  EXPECT_EQ(values(e), (std::vector<double>{1}));
  EXPECT_EQ(counts.malformed, 3u);
  EXPECT_EQ(counts.samples, 1u);
  EXPECT_EQ(counts.first_error, "counter increment c = -1: must be a finite number >= 0");

  std::vector<PushedSample> many;
  for (std::size_t i = 0; i < PushAccumulator::kMaxCounterSeries + 5; ++i) {
    many.push_back(sample("c", 1, Type::kCounter, {{"id", std::to_string(i)}}));
  }
  add(acc, many, &counts);
  EXPECT_EQ(acc.counter_series(), PushAccumulator::kMaxCounterSeries);
  EXPECT_EQ(counts.dropped, 6u);  // "c" without labels already held a place
  EXPECT_EQ(counts.samples, PushAccumulator::kMaxCounterSeries - 1);
}

// ---- the collector ----

using Strand = asio::strand<asio::io_context::executor_type>;

// A RecordingSink that fails the test when called off the collector's strand.
class StrandCheckingSink : public testing::RecordingSink {
 public:
  explicit StrandCheckingSink(const Strand& strand) : strand_(strand) {}
  void record(const std::string& metric, const Labels& labels, double value) override {
    EXPECT_TRUE(strand_.running_in_this_thread()) << "record() off the strand";
    RecordingSink::record(metric, labels, value);
  }
  void end_attempt(const AttemptOutcome& outcome) override {
    EXPECT_TRUE(strand_.running_in_this_thread()) << "end_attempt() off the strand";
    RecordingSink::end_attempt(outcome);
  }

 private:
  const Strand& strand_;
};

class PushCollectorTest : public ::testing::Test {
 protected:
  static Source source(std::optional<std::vector<std::string>> series = std::nullopt,
                              std::optional<std::string> statsd_listen = std::nullopt) {
    Source s;
    s.id = "events";
    s.kind = "push";
    if (series) {
      s.options.set("series", *series);
    }
    if (statsd_listen) {
      s.options.set("statsd_listen", *statsd_listen);
    }
    return s;
  }

  CollectorContext context() {
    CollectorContext ctx{strand_, &sink_, nullptr, {}};
    ctx.push = &hub_;
    return ctx;
  }

  std::unique_ptr<Collector> start(const Source& s) {
    const SourceKind* kind = registry_.find("push");
    EXPECT_NE(kind, nullptr);
    if (kind == nullptr) {
      return nullptr;
    }
    auto made = s.options.has("statsd_listen") ? create_push_collector(s, context(), &port_)
                                               : kind->create(s, context());
    EXPECT_TRUE(made.ok()) << made.error();
    if (!made.ok()) {
      return nullptr;
    }
    std::unique_ptr<Collector> c = std::move(made).value();
    asio::post(strand_, [p = c.get()] { p->start(); });
    EXPECT_TRUE(wait_attempts(1));  // the empty first batch
    return c;
  }

  void stop(Collector& c) {
    bool stopped = false;
    asio::post(strand_, [&] {
      c.stop();
      stopped = true;
    });
    ASSERT_TRUE(testing::run_until(ioc_, [&] { return stopped; }));
  }

  bool wait_attempts(std::size_t n) {
    return testing::run_until(ioc_, [&] { return sink_.attempt_count() >= n; });
  }

  void send(const std::string& datagram) {
    udp::socket out(ioc_, udp::endpoint(udp::v4(), 0));
    out.send_to(asio::buffer(datagram), udp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  }

  asio::io_context ioc_;
  Strand strand_ = asio::make_strand(ioc_);
  StrandCheckingSink sink_{strand_};
  PushHub hub_;
  Registry registry_ = builtin_registry();
  std::uint16_t port_ = 0;
};

TEST_F(PushCollectorTest, StartEndsAnEmptyBatchSoThatCountersCountFromZero) {
  auto c = start(source());
  ASSERT_EQ(sink_.attempt_count(), 1u);
  EXPECT_TRUE(sink_.last().records.empty());
  EXPECT_TRUE(sink_.last().outcome.up);
  EXPECT_TRUE(hub_.has("events"));
  EXPECT_FALSE(hub_.has("other"));
}

TEST_F(PushCollectorTest, HubDeliversFromAnyThreadOntoTheCollectorsStrand) {
  auto c = start(source());
  PushReceipt receipt;
  bool delivered = false;
  std::thread pusher([&] {
    delivered = hub_.deliver(
        "events",
        {sample("logins", 3, Type::kCounter, {{"region", "eu"}}),
         sample("queue_depth", 7, Type::kGauge), sample("login_seconds", 0.25, Type::kObservation)},
        &receipt);
  });
  pusher.join();
  EXPECT_TRUE(delivered);
  EXPECT_EQ(receipt.accepted, 3u);
  EXPECT_EQ(receipt.dropped, 0u);
  EXPECT_EQ(sink_.attempt_count(), 1u);  // posted, not run inside deliver()
  ASSERT_TRUE(wait_attempts(2));
  const auto& a = sink_.last();
  EXPECT_TRUE(a.outcome.up);
  EXPECT_EQ(a.outcome.samples, 3u);
  EXPECT_EQ(a.value("logins", {{"region", "eu"}}), 3.0);
  EXPECT_EQ(a.value("queue_depth"), 7.0);
  EXPECT_EQ(a.value("login_seconds"), 0.25);
  EXPECT_FALSE(a.value("up").has_value());  // a push source has no up/duration series
}

TEST_F(PushCollectorTest, CountersAreCumulativeGaugesAndObservationsAsPushed) {
  auto c = start(source());
  ASSERT_TRUE(hub_.deliver(
      "events", {sample("logins", 3, Type::kCounter), sample("depth", 5, Type::kGauge)}));
  ASSERT_TRUE(hub_.deliver(
      "events",
      {sample("logins", 2, Type::kCounter), sample("depth", 1, Type::kGauge),
       sample("latency", 0.5, Type::kObservation), sample("latency", 0.7, Type::kObservation)}));
  ASSERT_TRUE(wait_attempts(3));
  EXPECT_EQ(sink_.attempts()[1].value("logins"), 3.0);
  const auto& a = sink_.attempts()[2];
  EXPECT_EQ(a.value("logins"), 5.0);
  EXPECT_EQ(a.value("depth"), 1.0);
  ASSERT_EQ(a.records.size(), 4u);
  EXPECT_EQ(a.records[2].value, 0.5);
  EXPECT_EQ(a.records[3].value, 0.7);
}

TEST_F(PushCollectorTest, UndeclaredSeriesAreDroppedAndCounted) {
  auto c = start(source(std::vector<std::string>{"logins"}));
  PushReceipt receipt;
  ASSERT_TRUE(hub_.deliver("events",
                           {sample("logins", 1, Type::kCounter), sample("login", 1, Type::kCounter),
                            sample("other", 2, Type::kGauge)},
                           &receipt));
  EXPECT_EQ(receipt.accepted, 1u);
  EXPECT_EQ(receipt.dropped, 2u);
  ASSERT_TRUE(wait_attempts(2));
  const auto& a = sink_.last();
  EXPECT_EQ(a.outcome.samples, 1u);
  EXPECT_EQ(a.outcome.dropped, 2u);
  ASSERT_EQ(a.records.size(), 1u);
  EXPECT_EQ(a.records[0].metric, "logins");
}

TEST_F(PushCollectorTest, InvalidPushedValuesAreMalformed) {
  auto c = start(source());
  ASSERT_TRUE(hub_.deliver("events", {sample("logins", -1, Type::kCounter)}));
  ASSERT_TRUE(wait_attempts(2));
  EXPECT_TRUE(sink_.last().outcome.up);
  EXPECT_EQ(sink_.last().outcome.malformed, 1u);
  EXPECT_EQ(sink_.last().outcome.error,
            "counter increment logins = -1: must be a finite number >= 0");
  EXPECT_TRUE(sink_.last().records.empty());
}

// Issue 14, item 13: datagrams the kernel dropped because the socket's queue was full were
// invisible. Each attempt now carries how many were lost before its datagram (SO_RXQ_OVFL).
TEST_F(PushCollectorTest, DatagramsTheKernelDroppedAreCounted) {
  auto c = start(source(std::nullopt, std::string("127.0.0.1:0")));
  ASSERT_NE(c, nullptr);
  ASSERT_NE(port_, 0);
  // The collector's strand does not run while these are sent: far more than the receive
  // queue holds (net.core.rmem_max caps it at a few hundred KiB) queue up in the kernel.
  udp::socket out(ioc_, udp::endpoint(udp::v4(), 0));
  const std::string datagram = "app_requests:1|c|#pad:" + std::string(1000, 'x');
  const int sent = 20000;
  for (int i = 0; i < sent; ++i) {
    out.send_to(asio::buffer(datagram), udp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  }
  // Read what the kernel kept: then every sent datagram is either read or counted as lost.
  std::size_t read = 0;
  std::size_t lost = 0;
  testing::run_until(ioc_, [&] {
    read = 0;
    lost = 0;
    for (const auto& a : sink_.attempts()) {
      read += a.outcome.samples > 0 ? 1 : 0;
      lost += a.outcome.lost;
    }
    return read + lost >= static_cast<std::size_t>(sent);
  });
  EXPECT_GT(lost, 0u) << "the queue overflowed";
  EXPECT_GT(read, 0u);
  EXPECT_EQ(read + lost, static_cast<std::size_t>(sent)) << "nothing unaccounted for";
  stop(*c);
}

// A push source that goes silent still ends an empty attempt every 5 s, so the agent's
// staleness check runs (issue 14, item 6); none while batches arrive; none after stop.
TEST(PushHeartbeatTest, ASilentSourceEndsAnEmptyAttemptEveryFiveSeconds) {
  asio::io_context io;
  auto strand = asio::make_strand(io);
  testing::ManualTime time;
  testing::RecordingSink sink;
  PushHub hub;
  Source s;
  s.id = "events";
  s.kind = "push";
  CollectorContext ctx{strand, &sink, nullptr, {}};
  ctx.push = &hub;
  ctx.time = &time;
  auto made = builtin_registry().find("push")->create(s, ctx);
  ASSERT_TRUE(made.ok()) << made.error();
  std::unique_ptr<Collector> c = std::move(made).value();
  asio::post(strand, [&] { c->start(); });
  testing::ManualTime::settle(io);
  ASSERT_EQ(sink.attempt_count(), 1u);  // the empty first batch
  for (int i = 0; i < 3; ++i) {
    time.advance(std::chrono::seconds{4}, io);
    ASSERT_TRUE(hub.deliver("events", {{"depth", {}, 1, PushedSample::Type::kGauge}}));
    time.advance(std::chrono::seconds{1}, io);
  }
  EXPECT_EQ(sink.attempt_count(), 4u) << "one per push, no heartbeat while pushes arrive";
  time.advance(std::chrono::seconds{30}, io);
  EXPECT_GE(sink.attempt_count(), 4u + 5u);
  EXPECT_LE(sink.attempt_count(), 4u + 6u);
  EXPECT_EQ(sink.last().outcome.samples, 0u);
  EXPECT_TRUE(sink.last().outcome.up);
  const std::size_t before = sink.attempt_count();
  asio::post(strand, [&] { c->stop(); });
  testing::ManualTime::settle(io);
  time.advance(std::chrono::minutes{1}, io);
  EXPECT_EQ(sink.attempt_count(), before);
}

TEST_F(PushCollectorTest, StopUnsubscribesAndNothingReachesTheSinkAfterIt) {
  auto c = start(source());
  ASSERT_TRUE(hub_.deliver("events", {sample("logins", 1, Type::kCounter)}));
  ASSERT_TRUE(wait_attempts(2));
  stop(*c);
  const std::size_t calls = sink_.calls();
  EXPECT_FALSE(hub_.has("events"));
  EXPECT_FALSE(hub_.deliver("events", {sample("logins", 1, Type::kCounter)}));
  EXPECT_TRUE(testing::run_until_idle(ioc_));
  EXPECT_EQ(sink_.calls(), calls);
}

TEST_F(PushCollectorTest, ABatchQueuedBeforeStopIsIgnored) {
  auto c = start(source());
  bool stopped = false;
  // On the strand: deliver (posts the batch behind us), then stop before it runs.
  asio::post(strand_, [&] {
    EXPECT_TRUE(hub_.deliver("events", {sample("logins", 1, Type::kCounter)}));
    c->stop();
    stopped = true;
  });
  ASSERT_TRUE(testing::run_until(ioc_, [&] { return stopped; }));
  EXPECT_TRUE(testing::run_until_idle(ioc_));
  EXPECT_EQ(sink_.attempt_count(), 1u);  // only the empty first batch
}

TEST_F(PushCollectorTest, ARestartedCollectorKeepsItsSubscriptionWhenTheOldOneStops) {
  auto old_one = start(source());
  auto new_one = start(source());  // subscribes over the first
  stop(*old_one);
  EXPECT_TRUE(hub_.has("events"));
  ASSERT_TRUE(hub_.deliver("events", {sample("logins", 1, Type::kCounter)}));
  ASSERT_TRUE(wait_attempts(3));
  EXPECT_EQ(sink_.last().value("logins"), 1.0);
  stop(*new_one);
  EXPECT_FALSE(hub_.has("events"));
}

TEST_F(PushCollectorTest, DeliverBeforeStartOrForAnotherSourceIsRefused) {
  EXPECT_FALSE(hub_.deliver("events", {sample("logins", 1, Type::kCounter)}));
  auto made = registry_.find("push")->create(source(), context());
  ASSERT_TRUE(made.ok()) << made.error();
  EXPECT_FALSE(hub_.deliver("events", {}));  // created, not started
  EXPECT_TRUE(testing::run_until_idle(ioc_));
  EXPECT_EQ(sink_.calls(), 0u);
}

TEST_F(PushCollectorTest, StatsdOverUdpWithTagsAndSampleRatesOneAttemptPerDatagram) {
  auto c = start(source(std::nullopt, "127.0.0.1:0"));
  ASSERT_NE(port_, 0);
  send(
      "logins:1|c|#region:eu\nlogins:2|c|@0.5|#region:eu\nlogin.latency:250|ms|#route:/login\n"
      "queue.depth:7|g");
  ASSERT_TRUE(wait_attempts(2));
  const auto& a = sink_.last();
  EXPECT_TRUE(a.outcome.up) << a.outcome.error;
  EXPECT_EQ(a.outcome.samples, 4u);
  ASSERT_EQ(a.records.size(), 4u);
  EXPECT_EQ(a.records[0].value, 1.0);
  EXPECT_EQ(a.records[1].value, 5.0);  // 1 + 2 / 0.5, cumulative
  EXPECT_EQ(a.records[1].labels, (Labels{{"region", "eu"}}));
  EXPECT_DOUBLE_EQ(a.value("login_latency", {{"route", "/login"}}).value_or(0), 0.25);
  EXPECT_EQ(a.value("queue_depth"), 7.0);

  send("logins:1|c|#region:eu");
  ASSERT_TRUE(wait_attempts(3));
  EXPECT_EQ(sink_.last().value("logins", {{"region", "eu"}}), 6.0);
}

TEST_F(PushCollectorTest, StatsdMalformedLinesAreCountedAndUndeclaredDropped) {
  auto c = start(source(std::vector<std::string>{"logins"}, "127.0.0.1:0"));
  send("logins:1|c\nnot a line\nlogins:1|s\nother:1|c\n");
  ASSERT_TRUE(wait_attempts(2));
  const auto& a = sink_.last();
  EXPECT_TRUE(a.outcome.up);
  EXPECT_EQ(a.outcome.samples, 1u);
  EXPECT_EQ(a.outcome.malformed, 2u);
  EXPECT_EQ(a.outcome.dropped, 1u);
  EXPECT_EQ(a.outcome.error, "line 2: expected name:value|type");

  std::string junk;
  for (int i = 0; i < 2000; ++i) {
    junk.push_back(static_cast<char>((i * 31 + 7) % 256));
  }
  send(junk);
  send("logins:2|c");
  ASSERT_TRUE(wait_attempts(4));  // still listening after garbage
  EXPECT_EQ(sink_.last().value("logins"), 3.0);
}

TEST_F(PushCollectorTest, StopClosesTheStatsdSocket) {
  auto c = start(source(std::nullopt, "127.0.0.1:0"));
  stop(*c);
  const std::size_t calls = sink_.calls();
  send("logins:1|c");
  EXPECT_TRUE(testing::run_until_idle(ioc_));
  EXPECT_EQ(sink_.calls(), calls);
  // The port is free again.
  udp::socket again(ioc_);
  again.open(udp::v4());
  boost::system::error_code ec;
  again.bind(udp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
  EXPECT_FALSE(ec) << ec.message();
}

TEST_F(PushCollectorTest, StatsdPortInUseFailsCreationNamingTheOption) {
  udp::socket taken(ioc_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const std::string address = "127.0.0.1:" + std::to_string(taken.local_endpoint().port());
  auto made = registry_.find("push")->create(source(std::nullopt, address), context());
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.error(), "source 'events': statsd_listen " + address + ": Address already in use");
}

TEST_F(PushCollectorTest, WithoutAHubCreationFails) {
  CollectorContext ctx = context();
  ctx.push = nullptr;
  auto made = registry_.find("push")->create(source(), ctx);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.error(), "source 'events': no push hub");
}

}  // namespace
}  // namespace backout::collectors
