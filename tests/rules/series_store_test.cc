// The router's guard against values that would poison a window (issue 14, defect 2): two StatsD
// datagrams `app_requests:1e308|c` made a ratio trigger's window infinite, then NaN, and the
// trigger stayed inconclusive while 40% failures went unpaged.
#include "backout/rules/series_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "support/test_plan.h"

namespace backout::rules {
namespace {

using ::testing::HasSubstr;

SeriesSelector selector(const std::string& source, const std::string& metric) {
  SeriesSelector s;
  s.source = source;
  s.metric = metric;
  return s;
}

TEST(SourceRouterTest, AbsurdAndNonFiniteCounterValuesAreRefusedAndCounted) {
  SeriesStore store({"app"});
  CounterSlot* requests = store.counter(selector("app", "app_requests"), SeriesRole::kCounter,
                                        std::chrono::minutes{5});
  CounterSlot* failures = store.counter(selector("app", "app_failures"), SeriesRole::kCounter,
                                        std::chrono::minutes{5});
  SourceRouter& r = *store.router("app");
  r.record("app_requests", {}, 0);
  r.record("app_failures", {}, 0);
  r.end_batch();
  // What the push source forwarded for two `app_requests:1e308|c`: 1e308, then inf.
  r.record("app_requests", {}, 1e308);
  r.end_batch();
  r.record("app_requests", {}, std::numeric_limits<double>::infinity());
  r.record("app_requests", {}, std::nan(""));
  r.end_batch();
  EXPECT_EQ(r.refused(), 3u);
  EXPECT_THAT(r.last_refusal(), HasSubstr("app_requests = nan: not a finite number"));
  // Then the real traffic: 100 requests, 40 failed. The series goes on from its last finite
  // value, so the next increase counts.
  r.record("app_requests", {}, 1e308);
  r.record("app_failures", {}, 40);
  r.end_batch();
  const TimePoint t = backout::testing::at(10);
  store.harvest(t);
  EXPECT_EQ(requests->window.totals(t).sum, 0.0) << "1e308 + 0: no finite increase yet";
  r.record("app_requests", {}, 1e308 + 1e294);  // +1e294 is absurd too
  EXPECT_EQ(r.refused(), 4u);
  EXPECT_THAT(r.last_refusal(), HasSubstr("an increase above 1e12"));

  // A scraped counter: one absurd sample is refused, the next ones count from it.
  SeriesStore scraped({"app"});
  CounterSlot* c = scraped.counter(selector("app", "app_requests"), SeriesRole::kCounter,
                                   std::chrono::minutes{5});
  SourceRouter& s = *scraped.router("app");
  s.record("app_requests", {}, 10);
  s.end_batch();
  s.record("app_requests", {}, 5e15);
  s.end_batch();
  s.record("app_requests", {}, 5e15 + 100);
  s.end_batch();
  scraped.harvest(t);
  EXPECT_EQ(c->window.totals(t).sum, 100.0);
  EXPECT_TRUE(std::isfinite(failures->window.totals(t).sum));
  EXPECT_EQ(failures->window.totals(t).sum, 40.0);
  EXPECT_EQ(s.refused(), 1u);
}

TEST(SourceRouterTest, ObservationsOutsideTheRangeAndNonFiniteGaugesAreRefused) {
  SeriesStore store({"app"});
  HistogramSlot* latency =
      store.histogram(selector("app", "latency"), std::chrono::minutes{5});
  GaugeSlot* gauge = store.gauge(selector("app", "queue"), std::chrono::minutes{5});
  SourceRouter& r = *store.router("app");
  for (double v : {1e308, 1e308, -1.0, std::numeric_limits<double>::infinity(), 0.25}) {
    r.record("latency", {}, v);
  }
  r.record("queue", {}, std::nan(""));
  r.record("queue", {}, 7);
  r.end_batch();
  const TimePoint t = backout::testing::at(10);
  store.harvest(t);
  const Histogram& h = latency->window.totals(t);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_NEAR(h.sum(), 0.25, 1e-12);
  EXPECT_EQ(gauge->value, 7.0);
  EXPECT_EQ(r.refused(), 5u);
  // A metric no trigger reads is not looked at, so its NaN is nobody's concern.
  r.record("unused", {}, std::nan(""));
  EXPECT_EQ(r.refused(), 5u);
}

// Issue 14, item 6: serve m{x="1"} 1 and m{x="2"} 2, then only m{x="1"}: value(src.m) read 3
// forever (Prometheus reads 1). A series absent from a successful scrape is stale at once.
TEST(StalenessTest, ASeriesAbsentFromAWholeScrapeLeavesTheSum) {
  SeriesStore store({"src"});
  GaugeSlot* g = store.gauge(selector("src", "m"), std::chrono::minutes{1});
  SourceRouter& r = *store.router("src");
  r.record("m", {{"x", "1"}}, 1);
  r.record("m", {{"x", "2"}}, 2);
  r.end_batch(true);
  store.harvest(backout::testing::at(1));
  EXPECT_EQ(g->value, 3.0);
  r.record("m", {{"x", "1"}}, 1);
  r.end_batch(true);
  store.harvest(backout::testing::at(2));
  EXPECT_EQ(g->value, 1.0);
  // Nothing at all in a successful scrape: no value (not 0), as Prometheus' sum() of nothing.
  r.end_batch(true);
  store.harvest(backout::testing::at(3));
  EXPECT_FALSE(g->value.has_value());
}

TEST(StalenessTest, APartialBatchKeepsWhatItDoesNotCarry) {
  SeriesStore store({"src"});
  GaugeSlot* g = store.gauge(selector("src", "m"), std::chrono::minutes{1});
  SourceRouter& r = *store.router("src");
  r.record("m", {{"x", "1"}}, 1);
  r.record("m", {{"x", "2"}}, 2);
  r.end_batch();
  r.record("m", {{"x", "1"}}, 5);
  r.end_batch();
  store.harvest(backout::testing::at(1));
  EXPECT_EQ(g->value, 7.0) << "a push carries what changed, not everything";
}

TEST(StalenessTest, APushedGaugeSeriesIsStaleAfterItsWindow) {
  SeriesStore store({"src"});
  GaugeSlot* g = store.gauge(selector("src", "queue_depth"), std::chrono::minutes{1});
  SourceRouter& r = *store.router("src");
  r.record("queue_depth", {{"q", "a"}}, 10);
  r.record("queue_depth", {{"q", "b"}}, 20);
  r.end_batch();
  r.expire(backout::testing::at(0));
  r.record("queue_depth", {{"q", "a"}}, 11);
  r.end_batch();
  r.expire(backout::testing::at(30));
  store.harvest(backout::testing::at(30));
  EXPECT_EQ(g->value, 31.0) << "b was pushed 30 s ago: within its 1m window";
  r.record("queue_depth", {{"q", "a"}}, 12);
  r.end_batch();
  r.expire(backout::testing::at(61));
  store.harvest(backout::testing::at(61));
  EXPECT_EQ(g->value, 12.0) << "b was last pushed 61 s ago: stale";
}

TEST(StalenessTest, ACounterThatComesBackAfterAWholeScrapeWithoutItCountsFromZero) {
  SeriesStore store({"src"});
  CounterSlot* c = store.counter(selector("src", "errors_total"), SeriesRole::kCounter,
                                 std::chrono::minutes{5});
  SourceRouter& r = *store.router("src");
  r.record("errors_total", {{"pod", "a"}}, 10);
  r.record("errors_total", {{"pod", "b"}}, 5);
  r.end_batch(true);  // the starting points
  r.record("errors_total", {{"pod", "a"}}, 12);
  r.end_batch(true);  // b is gone (its pod restarted)
  r.record("errors_total", {{"pod", "a"}}, 13);
  r.record("errors_total", {{"pod", "b"}}, 7);
  r.end_batch(true);  // b is back, counting from zero
  const TimePoint t = backout::testing::at(10);
  store.harvest(t);
  EXPECT_EQ(c->window.totals(t).sum, 2.0 + 1.0 + 7.0);
}

}  // namespace
}  // namespace backout::rules
