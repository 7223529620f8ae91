#include "backout/rules/evaluator.h"

#include <gtest/gtest.h>

#include <cmath>

#include "backout/rules/expression_parser.h"
#include "backout/rules/series_matcher.h"
#include "support/test_plan.h"

namespace backout::rules {
namespace {

using backout::testing::at;
using std::chrono::minutes;
using std::chrono::seconds;

Labels labels(std::initializer_list<std::pair<const char*, const char*>> l) {
  Labels out;
  for (const auto& [k, v] : l) {
    out.push_back({k, v});
  }
  return out;
}

class EvaluatorTest : public ::testing::Test {
 protected:
  EvaluatorTest() : plan_(testing::base_plan()) {}

  // Builds the evaluator after the test added its triggers.
  Evaluator& start() {
    ev_ = std::make_unique<Evaluator>(plan_);
    return *ev_;
  }
  void scrape(const std::string& source, const std::string& metric, double v, Labels l = {}) {
    SourceRouter* r = ev_->router(source);
    ASSERT_NE(r, nullptr);
    r->record(metric, l, v);
    r->end_batch();
  }
  const TriggerStatus& status(std::size_t i) { return ev_->statuses()[i]; }

  Plan plan_;
  std::unique_ptr<Evaluator> ev_;
};

TEST_F(EvaluatorTest, RatioOfCounterIncreasesWithTheFirstScrapeAsStartingPoint) {
  plan_.triggers.push_back(testing::trigger("login", "ratio(portal.f_total, portal.a_total)",
                                            "> 5%", Severity::kMajor, minutes{5}, Duration{0}, 50));
  Evaluator& ev = start();
  SourceRouter* r = ev.router("portal");
  r->record("f_total", {}, 1000);  // cumulative since the process started: not in the window
  r->record("a_total", {}, 90000);
  r->end_batch();
  ev.tick(at(0));
  EXPECT_EQ(status(0).state, TriggerState::kInconclusive);
  EXPECT_EQ(status(0).reason, "0 observations in the last 5m, fewer than min_count 50");
  r->record("f_total", {}, 1003);
  r->record("a_total", {}, 90100);
  r->end_batch();
  ev.tick(at(1));
  EXPECT_EQ(status(0).state, TriggerState::kOk);
  EXPECT_DOUBLE_EQ(*status(0).value, 0.03);
  EXPECT_EQ(status(0).count, 100u);
  r->record("f_total", {}, 1013);
  r->record("a_total", {}, 90200);
  r->end_batch();
  auto changes = ev.tick(at(2));
  EXPECT_DOUBLE_EQ(*status(0).value, 13.0 / 200.0);
  EXPECT_EQ(status(0).state, TriggerState::kBreached);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].from, TriggerState::kOk);
  EXPECT_EQ(status(0).evidence, "6.5% over 5m (threshold > 5%)");
}

TEST_F(EvaluatorTest, CounterResetCountsTheNewValueAsTheIncrease) {
  plan_.triggers.push_back(testing::trigger("req", "increase(portal.req_total)", "> 1000",
                                            Severity::kMinor));
  Evaluator& ev = start();
  scrape("portal", "req_total", 500);
  scrape("portal", "req_total", 700);  // +200
  scrape("portal", "req_total", 30);   // restart: +30
  scrape("portal", "req_total", 50);   // +20
  ev.tick(at(0));
  EXPECT_DOUBLE_EQ(*status(0).value, 250);
}

TEST_F(EvaluatorTest, LabelMatchersSumMatchingSeriesAndLateSeriesCountFromZero) {
  plan_.triggers.push_back(testing::trigger(
      "errors", "ratio(portal.http_requests_total{code=~\"5..\"}, portal.http_requests_total)",
      "> 1%", Severity::kMajor));
  Evaluator& ev = start();
  SourceRouter* r = ev.router("portal");
  r->record("http_requests_total", labels({{"code", "200"}}), 1000);
  r->end_batch();
  r->record("http_requests_total", labels({{"code", "200"}}), 1970);
  r->record("http_requests_total", labels({{"code", "503"}}), 20);  // new series: +20
  r->record("http_requests_total", labels({{"code", "404"}}), 10);  // new, not 5xx: +10
  r->end_batch();
  r->record("http_requests_total", labels({{"code", "200"}}), 1970);
  r->record("http_requests_total", labels({{"code", "503"}}), 25);
  r->record("http_requests_total", labels({{"code", "5xx"}}), 5);  // "5.." matches "5xx"
  r->record("http_requests_total", labels({{"code", "1503"}}), 5);  // anchored: no match
  r->record("http_requests_total", labels({{"code", "404"}}), 10);
  r->end_batch();
  ev.tick(at(0));
  // errors: 20 + 5 + 5 = 30; all: 970 + 20 + 10 + 5 + 5 + 5 = 1015
  EXPECT_NEAR(*status(0).value, 30.0 / 1015.0, 1e-12);
}

TEST_F(EvaluatorTest, NotRegexAndNotEqualMatchers) {
  plan_.triggers.push_back(testing::trigger(
      "non_get", "increase(portal.req_total{method!=\"GET\",path!~\"/health.*\"})", "> 100",
      Severity::kMinor));
  Evaluator& ev = start();
  SourceRouter* r = ev.router("portal");
  auto batch = [&](double v) {
    r->record("req_total", labels({{"method", "POST"}, {"path", "/login"}}), v);
    r->record("req_total", labels({{"method", "GET"}, {"path", "/login"}}), v * 10);
    r->record("req_total", labels({{"method", "POST"}, {"path", "/healthz"}}), v * 100);
    r->record("req_total", labels({{"path", "/x"}}), v);  // no method label: "" != "GET"
    r->end_batch();
  };
  batch(1);
  batch(3);
  ev.tick(at(0));
  EXPECT_DOUBLE_EQ(*status(0).value, 4);  // (3-1) twice
}

TEST_F(EvaluatorTest, RateDividesByTheCoveredSpanWhileTheWindowFills) {
  plan_.triggers.push_back(testing::trigger("rps", "rate(portal.req_total)", "> 100",
                                            Severity::kMinor, minutes{5}));
  Evaluator& ev = start();
  scrape("portal", "req_total", 0);
  for (int s = 1; s <= 600; ++s) {
    scrape("portal", "req_total", 50.0 * s);
    ev.tick(at(s));
    if (s == 60 || s == 600) {
      EXPECT_NEAR(*status(0).value, 50, 2) << "at +" << s << "s";
    }
  }
}

TEST_F(EvaluatorTest, LatencyMeasuresFromObservations) {
  plan_.triggers.push_back(testing::trigger("p95", "p95(api.duration)", "> 5s", Severity::kMajor));
  plan_.triggers.push_back(testing::trigger("mean", "mean(api.duration)", "> 5s", Severity::kMajor));
  plan_.triggers.push_back(testing::trigger("max", "max(api.duration)", "> 5s", Severity::kMajor));
  Evaluator& ev = start();
  for (int i = 1; i <= 100; ++i) {
    scrape("api", "duration", i * 0.1);  // 0.1 .. 10 s
  }
  ev.tick(at(0));
  EXPECT_NEAR(*status(0).value, 9.5, 9.5 * 0.01);
  EXPECT_NEAR(*status(1).value, 5.05, 1e-9);
  EXPECT_NEAR(*status(2).value, 10, 10 * 0.01);
  EXPECT_EQ(status(0).state, TriggerState::kBreached);
  EXPECT_EQ(status(1).state, TriggerState::kBreached);
  EXPECT_EQ(status(0).count, 100u);
  EXPECT_EQ(status(0).evidence.substr(0, 8), "p95 9.5s");
}

TEST_F(EvaluatorTest, ProbeOutcomesFailuresAndAvailability) {
  plan_.triggers.push_back(testing::trigger("db", "failures(portal_db)", "> 0",
                                            Severity::kCritical, minutes{1}));
  plan_.triggers.push_back(testing::trigger("avail", "availability(home_page)", "< 50%",
                                            Severity::kCritical, minutes{1}));
  Evaluator& ev = start();
  for (int s = 0; s < 10; ++s) {
    scrape("portal_db", "up", 1);
    scrape("home_page", "up", s < 4 ? 1 : 0);
    ev.tick(at(s));
  }
  EXPECT_EQ(status(0).state, TriggerState::kOk);
  EXPECT_DOUBLE_EQ(*status(0).value, 0);
  EXPECT_DOUBLE_EQ(*status(1).value, 0.4);
  EXPECT_EQ(status(1).state, TriggerState::kBreached);
  scrape("portal_db", "up", 0);
  ev.tick(at(10));
  EXPECT_EQ(status(0).state, TriggerState::kBreached);
  EXPECT_EQ(status(0).evidence, "1 failed check over 1m (threshold > 0)");
  // The failure leaves the 1m window after +70 s (1 s buckets), then clear_after (30 s) passes.
  for (int s = 11; s <= 100; ++s) {
    scrape("portal_db", "up", 1);
    ev.tick(at(s));
  }
  EXPECT_EQ(status(0).state, TriggerState::kBreached);
  scrape("portal_db", "up", 1);
  ev.tick(at(101));
  EXPECT_EQ(status(0).state, TriggerState::kOk);
}

TEST_F(EvaluatorTest, SourceDownMakesNonProbeMeasuresInconclusive) {
  plan_.triggers.push_back(testing::trigger("login", "ratio(portal.f_total, portal.a_total)",
                                            "> 5%", Severity::kMajor));
  plan_.triggers.push_back(testing::trigger("scrapes", "failures(portal)", "> 3",
                                            Severity::kMajor, minutes{1}));
  Evaluator& ev = start();
  scrape("portal", "a_total", 0);
  scrape("portal", "a_total", 100);
  scrape("portal", "f_total", 0);
  ev.tick(at(0));
  EXPECT_EQ(status(0).state, TriggerState::kOk);
  ev.router("portal")->set_up(false);
  ev.router("portal")->record("up", {}, 0);
  ev.tick(at(1));
  EXPECT_EQ(status(0).state, TriggerState::kInconclusive);
  EXPECT_EQ(status(0).reason, "source 'portal' is down");
  EXPECT_EQ(status(1).state, TriggerState::kOk);  // probe measures count the failure instead
  EXPECT_DOUBLE_EQ(*status(1).value, 1);
}

TEST_F(EvaluatorTest, ValueIsTheLatestValueWithinTheWindow) {
  plan_.triggers.push_back(testing::trigger("rows", "value(customers)", "< 100",
                                            Severity::kCritical, minutes{5}));
  Evaluator& ev = start();
  ev.tick(at(0));
  EXPECT_EQ(status(0).state, TriggerState::kInconclusive);
  EXPECT_EQ(status(0).reason, "no value in the last 5m");
  scrape("customers", "value", 150);
  ev.tick(at(1));
  EXPECT_EQ(status(0).state, TriggerState::kOk);
  EXPECT_DOUBLE_EQ(*status(0).value, 150);
  EXPECT_EQ(status(0).count, 1u);
  scrape("customers", "value", 160);
  ev.tick(at(61));
  ev.tick(at(62));  // no new value: still two in the window
  EXPECT_DOUBLE_EQ(*status(0).value, 160);
  EXPECT_EQ(status(0).count, 2u);
  ev.tick(at(302));  // the value of 1 s is out of the window, the one of 61 s is not
  EXPECT_EQ(status(0).count, 1u);
  ev.tick(at(362));
  EXPECT_EQ(status(0).state, TriggerState::kInconclusive);
  EXPECT_EQ(status(0).count, 0u);
}

TEST_F(EvaluatorTest, BaselineIsTheMeasureBeforeTheStartAndRelativeTriggersWaitForIt) {
  plan_.triggers.push_back(testing::trigger("slower", "p95(api.duration)", "> +50% baseline",
                                            Severity::kMajor, minutes{5}));
  plan_.triggers.push_back(testing::trigger("rows", "value(customers)", "< baseline",
                                            Severity::kCritical, minutes{5}));
  Evaluator& ev = start();
  // 40 minutes before the start: outside the 30-minute baseline period.
  for (int s = -2400; s < -1800; s += 2) {
    scrape("api", "duration", 5.0);
    ev.tick(at(s));
  }
  for (int s = -1800; s < 0; s += 2) {
    scrape("api", "duration", 0.4);
    if (s % 60 == 0) {
      scrape("customers", "value", 1000);
    }
    ev.tick(at(s));
  }
  EXPECT_EQ(status(0).state, TriggerState::kInconclusive);
  EXPECT_EQ(status(0).reason, "baseline not captured yet (it is taken at the window start)");
  EXPECT_FALSE(ev.baselines_frozen());
  for (int s = 0; s < 120; s += 2) {
    scrape("api", "duration", 0.5);
    ev.tick(at(s));
  }
  EXPECT_TRUE(ev.baselines_frozen());
  ASSERT_TRUE(ev.baseline(0).has_value());
  EXPECT_NEAR(*ev.baseline(0), 0.4, 0.4 * 0.01);
  EXPECT_DOUBLE_EQ(*ev.baseline(1), 1000);
  EXPECT_EQ(status(0).state, TriggerState::kOk);
  EXPECT_NEAR(*status(0).threshold, 0.6, 0.6 * 0.01);
  for (int s = 120; s < 240; s += 2) {
    scrape("api", "duration", 0.9);
    ev.tick(at(s));
  }
  EXPECT_EQ(status(0).state, TriggerState::kBreached);
  scrape("customers", "value", 999);
  ev.tick(at(240));
  EXPECT_EQ(status(1).state, TriggerState::kBreached);
  EXPECT_EQ(status(1).evidence, "latest value 999 (threshold < 1000, the baseline)");
}

TEST_F(EvaluatorTest, NoDataBeforeTheStartMeansNoBaseline) {
  plan_.triggers.push_back(testing::trigger("slower", "p95(api.duration)", "> +50% baseline",
                                            Severity::kMajor, minutes{5}));
  Evaluator& ev = start();
  scrape("api", "duration", 0.4);
  ev.tick(at(10));
  EXPECT_EQ(status(0).state, TriggerState::kInconclusive);
  EXPECT_EQ(status(0).reason,
            "no baseline: too little data in the 30m before the window start");
  ev.restore_baseline(0, 0.3);
  ev.tick(at(11));
  EXPECT_EQ(status(0).state, TriggerState::kOk);
}

TEST_F(EvaluatorTest, SelectorsAreSharedBetweenTriggersWithTheSameWindow) {
  plan_.triggers.push_back(testing::trigger("a", "p95(api.duration)", "> 5s", Severity::kMajor));
  plan_.triggers.push_back(testing::trigger("b", "p95(api.duration)", "> 9s", Severity::kMajor));
  plan_.triggers.push_back(testing::trigger("c", "p95(api.duration)", "> 9s", Severity::kMajor,
                                            minutes{1}));
  Evaluator& ev = start();
  EXPECT_EQ(ev.store().slot_count(), 2u);
}

}  // namespace
}  // namespace backout::rules

namespace backout::rules {
namespace {

TEST(SeriesMatcherTest, HugeLabelValuesAreNeverSelectedByARegex) {
  auto m = std::get<Measure>(parse_measure("increase(portal.x_total{path=~\".*\"})"));
  SeriesMatcher matcher(m.args[0]);
  EXPECT_TRUE(matcher.matches("x_total", {{"path", "/login"}}));
  EXPECT_FALSE(matcher.matches("x_total", {{"path", std::string(100000, 'a')}}));
  auto n = std::get<Measure>(parse_measure("increase(portal.x_total{path!~\"/health\"})"));
  SeriesMatcher not_matcher(n.args[0]);
  EXPECT_TRUE(not_matcher.matches("x_total", {{"path", "/login"}}));
  EXPECT_FALSE(not_matcher.matches("x_total", {{"path", "/health"}}));
  EXPECT_FALSE(not_matcher.matches("x_total", {{"path", std::string(100000, 'a')}}));
}

}  // namespace
}  // namespace backout::rules
