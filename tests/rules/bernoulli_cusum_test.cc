#include "backout/rules/bernoulli_cusum.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "backout/rules/early_detector.h"
#include "backout/rules/evaluator.h"
#include "support/test_plan.h"

namespace backout::rules {
namespace {

using backout::testing::at;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(BernoulliCusumTest, AlternativeIsShiftTimesP0KeptBelowOne) {
  EXPECT_DOUBLE_EQ(BernoulliCusum(0.05, 2).p1(), 0.10);
  EXPECT_DOUBLE_EQ(BernoulliCusum(0.05, 3).p1(), 0.15);
  // 2 x 50% would be 100%: kept below one at 1 - (1 - p0) / shift.
  EXPECT_DOUBLE_EQ(BernoulliCusum(0.5, 2).p1(), 0.75);
  EXPECT_LT(BernoulliCusum(0.9, 10).p1(), 1.0);
}

TEST(BernoulliCusumTest, AlarmLevelFollowsSiegmundsApproximation) {
  // The header's worked example: 50/s over a 4 h window, alpha 1/1000.
  double n = expected_observations(50, hours{4});
  EXPECT_DOUBLE_EQ(n, 720000);
  BernoulliCusum c(0.05, 2);
  EXPECT_NEAR(c.kl_h0(), 0.016707, 1e-6);
  double h = c.alarm_level_for(n);
  EXPECT_NEAR(h, 16.30, 0.01);
  // It solves e^h - h - 1 = N KL / alpha.
  EXPECT_NEAR(std::exp(h) - h - 1, n * c.kl_h0() * 1000, n * c.kl_h0() * 1000 * 1e-9);
  // More observations per window, or a smaller alpha, need more evidence.
  EXPECT_GT(c.alarm_level_for(10 * n), h);
  EXPECT_GT(c.alarm_level_for(n, 1e-4), h);
  EXPECT_GE(c.alarm_level_for(0), 1.0);
}

TEST(BernoulliCusumTest, AccumulatesLogLikelihoodRatiosAndResetsAtZero) {
  BernoulliCusum c(0.05, 2);
  c.set_alarm_level(20);
  const double a = std::log(2.0);
  const double b = std::log(0.90 / 0.95);
  EXPECT_DOUBLE_EQ(c.update(3, 10, at(0)), 3 * a + 7 * b);
  EXPECT_EQ(c.run_bad(), 3u);
  EXPECT_EQ(c.run_total(), 10u);
  EXPECT_EQ(c.run_start(), at(0));
  c.update(0, 1000, at(1));  // a long good stretch: back to zero, the run forgotten
  EXPECT_TRUE(c.at_zero());
  EXPECT_EQ(c.run_total(), 0u);
  EXPECT_FALSE(c.run_start().has_value());
  c.update(0, 0, at(2));  // an empty batch changes nothing
  EXPECT_TRUE(c.at_zero());
}

TEST(BernoulliCusumTest, AlarmsAtTheLevelAndIsCappedThereSoItRecoversQuickly) {
  BernoulliCusum c(0.05, 2);
  c.set_alarm_level(16.33);
  int batches = 0;
  while (!c.alarmed()) {
    c.update(10, 50, at(batches++));  // 20% failures, 50 per second
  }
  EXPECT_EQ(batches, 4);  // ~171 observations at 50/s, as in the header's example
  for (int i = 0; i < 100; ++i) {
    c.update(50, 50, at(batches + i));
  }
  EXPECT_DOUBLE_EQ(c.statistic(), 16.33);
  // Back to 1%: the drift is -0.0466 per observation, ~7 s from the cap to zero.
  int recovery = 0;
  std::mt19937_64 rng(7);
  std::binomial_distribution<int> one_percent(50, 0.01);
  while (!c.at_zero()) {
    c.update(static_cast<std::uint64_t>(one_percent(rng)), 50, at(200 + recovery++));
  }
  EXPECT_GE(recovery, 4);
  EXPECT_LE(recovery, 11);
}

TEST(BernoulliCusumTest, ChangingP0ResetsTheStatistic) {
  BernoulliCusum c(0.05, 2);
  c.set_alarm_level(100);
  c.update(10, 10, at(0));
  EXPECT_GT(c.statistic(), 0);
  c.set_p0(0.10);
  EXPECT_TRUE(c.at_zero());
  EXPECT_DOUBLE_EQ(c.p1(), 0.20);
}

// --- statistical behaviour on generated streams (seeded, deterministic) -----------------------

// Seconds from a step (at +60 s) until the CUSUM alone alarms, at 50 events/s, threshold 5%.
double cusum_delay(double before, double after, std::uint64_t seed, double limit_s = 600) {
  std::mt19937_64 rng(seed);
  BernoulliCusum c(0.05, 2);
  c.set_alarm_level(c.alarm_level_for(expected_observations(50, hours{4})));
  std::binomial_distribution<int> pre(50, before);
  std::binomial_distribution<int> post(50, after);
  for (int s = 0; s < 60; ++s) {
    c.update(static_cast<std::uint64_t>(pre(rng)), 50, at(s));
  }
  for (int s = 1; s <= limit_s; ++s) {
    c.update(static_cast<std::uint64_t>(post(rng)), 50, at(60 + s));
    if (c.alarmed()) {
      return s;
    }
  }
  return limit_s + 1;
}

std::vector<double> delays(double before, double after, int runs) {
  std::vector<double> d;
  for (int i = 0; i < runs; ++i) {
    d.push_back(cusum_delay(before, after, 1000 + static_cast<std::uint64_t>(i)));
  }
  std::sort(d.begin(), d.end());
  return d;
}

TEST(BernoulliCusumStatisticsTest, StepFromOneToTwentyPercentIsDetectedInSeconds) {
  auto d = delays(0.01, 0.20, 500);
  // Scraped once a second; Lorden's bound is 2.9 s, the theory 3.4 s plus the second's rounding.
  EXPECT_LE(d[d.size() / 2], 4);
  EXPECT_LE(d[d.size() * 99 / 100], 7);
}

TEST(BernoulliCusumStatisticsTest, StepFromOneToEightPercentIsDetectedWellBeforeTheAverage) {
  auto d = delays(0.01, 0.08, 300);
  // The 5-minute average crosses 5% after 171 s; the CUSUM's expected delay is ~57 s.
  EXPECT_LE(d[d.size() / 2], 60);
  EXPECT_LE(d[d.size() * 99 / 100], 171);
}

TEST(BernoulliCusumStatisticsTest, CleanNightsAtEightyPercentOfTheThresholdNeverAlarm) {
  // 1,000 four-hour nights at 4% failures (threshold 5%), 50 attempts/s.
  const double h = BernoulliCusum(0.05, 2).alarm_level_for(expected_observations(50, hours{4}));
  int alarms = 0;
  double highest = 0;
  for (int night = 0; night < 1000; ++night) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(night) * 7919 + 1);
    std::binomial_distribution<int> four_percent(50, 0.04);
    BernoulliCusum c(0.05, 2);
    c.set_alarm_level(h);
    for (int s = 0; s < 4 * 3600; ++s) {
      c.update(static_cast<std::uint64_t>(four_percent(rng)), 50, at(s));
      highest = std::max(highest, c.statistic());
      if (c.alarmed()) {
        ++alarms;
        break;
      }
    }
  }
  EXPECT_EQ(alarms, 0);
  EXPECT_LT(highest, 0.75 * h) << "the statistic came close to the alarm level";
}

// The whole path through the evaluator: counters scraped every second, a ratio trigger with
// early detection, `for: 0`, the reference plan's 5 m window and min_count.
class EarlyDetectionEndToEnd : public ::testing::Test {
 protected:
  // Returns seconds from the step to the first tick the trigger is breached (or -1).
  double run(double before, double after, std::uint64_t seed, bool early,
             Duration for_duration = Duration{0}) {
    Plan plan = testing::base_plan();
    Trigger t = testing::trigger("login", "ratio(portal.f_total, portal.a_total)", "> 5%",
                                 Severity::kMajor, minutes{5}, for_duration, 50);
    t.early.enabled = early;
    plan.triggers.push_back(t);
    Evaluator ev(plan);
    SourceRouter* r = ev.router("portal");
    std::mt19937_64 rng(seed);
    std::poisson_distribution<int> attempts(50);
    double failures = 0;
    double total = 0;
    const int step = 600;
    for (int s = 0; s < 1800; ++s) {
      int n = attempts(rng);
      std::binomial_distribution<int> bad(n, s < step ? before : after);
      failures += bad(rng);
      total += n;
      r->record("f_total", {}, failures);
      r->record("a_total", {}, total);
      r->end_batch();
      ev.tick(at(s));
      if (ev.statuses()[0].state == TriggerState::kBreached) {
        return s - step;
      }
    }
    return -1;
  }
};

TEST_F(EarlyDetectionEndToEnd, TwentyPercentStepPagesTenTimesFasterThanTheAverage) {
  double early = run(0.01, 0.20, 42, true);
  double average = run(0.01, 0.20, 42, false);
  EXPECT_GE(early, 0);
  EXPECT_LE(early, 6);
  EXPECT_GE(average, 55);  // 5 m window: 1% -> 20% crosses 5% after ~63 s
  EXPECT_LE(average, 70);
  EXPECT_GE(average / std::max(early, 1.0), 10);
}

TEST_F(EarlyDetectionEndToEnd, NoFalseBreachAtFourPercent) {
  // As in the reference plan (for: 1m): a few seconds of data at start-up are not a breach.
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    EXPECT_EQ(run(0.04, 0.04, seed, true, minutes{1}), -1) << "seed " << seed;
  }
}

}  // namespace
}  // namespace backout::rules
