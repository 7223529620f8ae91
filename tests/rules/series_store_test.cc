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

}  // namespace
}  // namespace backout::rules
