#include "backout/rules/early_detector.h"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <vector>

#include "support/test_plan.h"

namespace backout::rules {
namespace {

using backout::testing::at;
using std::chrono::hours;
using std::chrono::seconds;

// The reference plan's login failures: 50 attempts a second, a 4 h window, "> 5%", shift 2. A
// tick of 50 with 10 bad adds 10 ln 2 + 40 ln(0.90/0.95) = 4.77 to S, and h = 16.3
// (bernoulli_cusum.h), so a step to 20% alarms at the fourth tick; a tick of 50 good takes 2.70
// off.
constexpr double kRate = 50;
const Duration kWindow = hours{4};

Trigger login(const std::string& when = "> 5%") {
  Trigger t =
      testing::trigger("login", "ratio(portal.f_total, portal.a_total)", when, Severity::kMajor);
  t.early.enabled = true;
  return t;
}

EarlyDetector::Batch ratio(std::uint64_t bad, std::uint64_t total = 50) {
  return {.total = total, .counted = bad, .rate = kRate};
}

// One level, its threshold fixed.
struct Detector {
  explicit Detector(const Trigger& trigger, std::optional<double> threshold)
      : t(trigger), d(t, kWindow), thresholds{threshold} {}
  bool step(const EarlyDetector::Batch& b, double at_s, bool average_met = false) {
    d.step(b, thresholds, {average_met}, at(at_s), early_met);
    return early_met.at(0);
  }
  Trigger t;
  EarlyDetector d;
  std::vector<std::optional<double>> thresholds;
  std::vector<bool> early_met;
};

TEST(EarlyDetectorTest, AStepToTwentyPercentAlarmsAtTheFourthTick) {
  Detector d(login(), 0.05);
  EXPECT_FALSE(d.step(ratio(10), 1));
  EXPECT_FALSE(d.step(ratio(10), 2));
  EXPECT_FALSE(d.step(ratio(10), 3));
  EXPECT_TRUE(d.step(ratio(10), 4));
  const BernoulliCusum* c = d.d.cusum(0);
  ASSERT_NE(c, nullptr);
  EXPECT_DOUBLE_EQ(c->p0(), 0.05);
  EXPECT_EQ(c->run_bad(), 40u);
  EXPECT_EQ(c->run_total(), 200u);
  EXPECT_EQ(c->run_start(), at(1));
}

TEST(EarlyDetectorTest, AlarmLevelIsSetForTheObservedRateOverTheDeploymentWindow) {
  Detector d(login(), 0.05);
  d.step(ratio(2), 1);
  const BernoulliCusum* c = d.d.cusum(0);
  ASSERT_NE(c, nullptr);
  EXPECT_DOUBLE_EQ(c->alarm_level(), c->alarm_level_for(expected_observations(kRate, kWindow)));
  EXPECT_NEAR(c->alarm_level(), 16.3, 0.05);
  d.step({.total = 50, .counted = 2, .rate = 5 * kRate}, 2);
  EXPECT_DOUBLE_EQ(c->alarm_level(), c->alarm_level_for(expected_observations(5 * kRate, kWindow)));
}

TEST(EarlyDetectorTest, StaysLatchedUntilTheStatisticIsBackAtZeroAndTheAverageClear) {
  Detector d(login(), 0.05);
  for (int i = 1; i <= 4; ++i) {
    d.step(ratio(10), i);
  }
  ASSERT_TRUE(d.early_met[0]);
  // Good ticks bring S down by 2.70 each: from h = 16.3, zero is reached at the seventh.
  for (int i = 5; i <= 10; ++i) {
    EXPECT_TRUE(d.step(ratio(0), i)) << "tick " << i;
  }
  EXPECT_TRUE(d.step(ratio(0), 11, /*average_met=*/true)) << "the average still meets it";
  EXPECT_TRUE(d.d.cusum(0)->at_zero());
  EXPECT_FALSE(d.step(ratio(0), 12));
}

TEST(EarlyDetectorTest, FourPercentAgainstFiveNeverAlarms) {
  Detector d(login(), 0.05);
  for (int i = 1; i <= 3600; ++i) {
    ASSERT_FALSE(d.step(ratio(i % 10 == 0 ? 3 : 2), i)) << "tick " << i;  // 4.2%
  }
}

TEST(EarlyDetectorTest, ADownwardConditionCountsTheOtherSideAsBad) {
  // "< 95%" on a ratio: the bad outcomes are those the ratio does not count.
  Detector d(login("< 95%"), 0.95);
  EXPECT_FALSE(d.step(ratio(40), 1));  // 10 of 50 not counted
  ASSERT_NE(d.d.cusum(0), nullptr);
  EXPECT_NEAR(d.d.cusum(0)->p0(), 0.05, 1e-12);
  EXPECT_EQ(d.d.cusum(0)->run_bad(), 10u);
  d.step(ratio(40), 2);
  d.step(ratio(40), 3);
  EXPECT_TRUE(d.step(ratio(40), 4));
}

TEST(EarlyDetectorTest, AvailabilityWatchesFailedProbes) {
  Trigger t = testing::trigger("home", "availability(home_page)", "< 99%", Severity::kMajor);
  t.early.enabled = true;
  Detector d(t, 0.99);
  d.step({.total = 100, .counted = 90, .rate = 1}, 1);  // 90 probes succeeded
  const BernoulliCusum* c = d.d.cusum(0);
  ASSERT_NE(c, nullptr);
  EXPECT_NEAR(c->p0(), 0.01, 1e-12);
  EXPECT_EQ(c->run_bad(), 10u);
  EXPECT_EQ(c->run_total(), 100u);
}

TEST(EarlyDetectorTest, AQuantileWatchesTheShareOfObservationsAboveTheThreshold) {
  Trigger t = testing::trigger("p95", "p95(api.duration)", "> 700ms", Severity::kMajor);
  t.early.enabled = true;
  Detector d(t, 0.7);
  Histogram h;
  h.observe(2.0, 10);
  h.observe(0.1, 40);
  EarlyDetector::Batch b{.histogram = &h, .rate = kRate};
  EXPECT_FALSE(d.step(b, 1));
  ASSERT_NE(d.d.cusum(0), nullptr);
  EXPECT_NEAR(d.d.cusum(0)->p0(), 0.05, 1e-12);
  EXPECT_EQ(d.d.cusum(0)->run_bad(), 10u);
  d.step(b, 2);
  d.step(b, 3);
  EXPECT_TRUE(d.step(b, 4));
  // A tick without observations changes nothing.
  EXPECT_TRUE(d.step({.rate = kRate}, 5));
  EXPECT_EQ(d.d.cusum(0)->run_total(), 200u);
}

TEST(EarlyDetectorTest, NothingIsWatchedWhenDisabledOrWithoutAShareToTest) {
  Trigger off = login();
  off.early.enabled = false;
  Detector disabled(off, 0.05);
  EXPECT_FALSE(disabled.step(ratio(50), 1));
  EXPECT_EQ(disabled.d.cusum(0), nullptr);

  Detector any(login("> 0%"), 0.0);  // one bad outcome already decides
  EXPECT_FALSE(any.step(ratio(50), 1));
  EXPECT_EQ(any.d.cusum(0), nullptr);

  Trigger rate = testing::trigger("rps", "rate(portal.req_total)", "> 100", Severity::kMajor);
  rate.early.enabled = true;
  Detector not_a_share(rate, 100);
  EXPECT_FALSE(not_a_share.step(ratio(50), 1));
  EXPECT_EQ(not_a_share.d.cusum(0), nullptr);

  Detector no_threshold(login(), std::nullopt);  // e.g. a relative level before its baseline
  EXPECT_FALSE(no_threshold.step(ratio(50), 1));
  EXPECT_EQ(no_threshold.d.cusum(0), nullptr);
}

TEST(EarlyDetectorTest, AThresholdThatMovesRestartsTheLevel) {
  Detector d(login(), 0.05);
  for (int i = 1; i <= 4; ++i) {
    d.step(ratio(10), i);
  }
  ASSERT_TRUE(d.early_met[0]);
  d.thresholds[0] = 0.10;
  EXPECT_FALSE(d.step(ratio(10), 5)) << "the latch is dropped with the old threshold";
  EXPECT_DOUBLE_EQ(d.d.cusum(0)->p0(), 0.10);
  EXPECT_EQ(d.d.cusum(0)->run_start(), at(5));
  EXPECT_EQ(d.d.cusum(0)->run_total(), 50u);
}

TEST(EarlyDetectorTest, EachLevelHasItsOwnDetector) {
  Trigger t = login("> 25%");
  testing::add_level(t, Severity::kMinor, "> 5%");
  EarlyDetector d(t, kWindow);
  std::vector<bool> early_met;
  for (int i = 1; i <= 4; ++i) {
    d.step(ratio(10), {0.25, 0.05}, {false, true}, at(i), early_met);
  }
  EXPECT_EQ(early_met, (std::vector<bool>{false, true}));
  EXPECT_TRUE(d.cusum(0)->at_zero());
  EXPECT_EQ(d.cusum(1)->run_total(), 200u);
}

TEST(EarlyDetectorTest, AClockStepMovesTheRunStart) {
  Detector d(login(), 0.05);
  d.step(ratio(10), 1);
  d.d.shift(seconds{30});
  EXPECT_EQ(d.d.cusum(0)->run_start(), at(31));
}

TEST(EarlyDetectorTest, AKeptTriggerCarriesOnFromThePreviousDetector) {
  Detector before(login(), 0.05);
  for (int i = 1; i <= 3; ++i) {
    before.step(ratio(10), i);
  }
  Detector after(login(), 0.05);
  after.d.continue_from(before.d);
  EXPECT_TRUE(after.step(ratio(10), 4)) << "the fourth tick of the run";
  EXPECT_EQ(after.d.cusum(0)->run_start(), at(1));
}

}  // namespace
}  // namespace backout::rules
