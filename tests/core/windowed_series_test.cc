#include "backout/core/windowed_series.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace backout {
namespace {

using namespace std::chrono_literals;

const TimePoint kT0 = TimePoint(std::chrono::seconds(1'780'790'400));  // 2026-06-07T00:00:00Z

TimePoint hms(int h, int m, double s) {
  return kT0 + std::chrono::hours(h) + std::chrono::minutes(m) + from_seconds(s);
}

TEST(WindowedCounterTest, WorkedExampleFromTheHeader) {
  WindowedCounter c(1min);
  EXPECT_EQ(c.over(), 1min);
  c.recorder().add(1);
  c.recorder().add(1);
  CounterRecorder::Totals batch = c.harvest(hms(10, 0, 1));
  EXPECT_EQ(batch.sum, 2.0);
  EXPECT_EQ(batch.count, 2u);
  EXPECT_EQ(c.totals(hms(10, 0, 1)).count, 2u);
  EXPECT_EQ(c.totals(hms(10, 1, 1)).count, 2u);
  EXPECT_EQ(c.totals(hms(10, 1, 1.1)).count, 0u);
  EXPECT_EQ(c.totals(hms(10, 1, 1.1)).sum, 0.0);
}

TEST(WindowedCounterTest, HarvestReturnsOnlyTheNewBatch) {
  WindowedCounter c(5min);
  EXPECT_EQ(c.harvest(kT0).count, 0u);
  c.recorder().add(3);
  EXPECT_EQ(c.harvest(kT0 + 1s).sum, 3.0);
  EXPECT_EQ(c.harvest(kT0 + 2s).count, 0u);
  c.recorder().add(4);
  c.recorder().add(-1);
  CounterRecorder::Totals b = c.harvest(kT0 + 3s);
  EXPECT_EQ(b.sum, 3.0);
  EXPECT_EQ(b.count, 2u);
  EXPECT_EQ(c.totals(kT0 + 3s).sum, 6.0);
  EXPECT_EQ(c.totals(kT0 + 3s).count, 3u);
  EXPECT_EQ(c.recorder().cumulative().count, 3u);
}

TEST(WindowedCounterTest, AnOverflowedRecorderCannotMakeTheWindowNaN) {
  WindowedCounter c(1min);
  c.recorder().add(1e308);
  c.recorder().add(1e308);  // the recorder's total is now +inf
  c.harvest(kT0 + 1s);
  c.recorder().add(1);
  c.harvest(kT0 + 2s);  // inf - inf
  EXPECT_FALSE(std::isnan(c.totals(kT0 + 2s).sum));
  EXPECT_TRUE(std::isfinite(c.totals(kT0 + 2s).sum));
  EXPECT_EQ(c.totals(kT0 + 2s).count, 3u);
}

TEST(WindowedCounterTest, ClockSteppingBackLosesNothing) {
  WindowedCounter c(1min);
  c.recorder().add(1);
  c.harvest(kT0);
  c.recorder().add(1);
  c.harvest(kT0 - 1h);  // the evaluator's clock stepped back an hour
  EXPECT_EQ(c.totals(kT0 - 1h).count, 2u);
  EXPECT_EQ(c.window().dropped(), 0u);
  EXPECT_EQ(c.totals(kT0 + 1min).count, 2u);  // both in kT0's bucket
  EXPECT_EQ(c.totals(kT0 + 1min + 1ns).count, 0u);
}

TEST(WindowedCounterTest, MatchesAWindowFedAtTheHarvestTimes) {
  std::mt19937_64 rng(77);
  for (Duration over : std::vector<Duration>{5min, 1min, 3s}) {
    WindowedCounter c(over);
    CounterWindow reference(over);
    TimePoint now = kT0;
    TimePoint clock = now;
    for (int i = 0; i < 5000; ++i) {
      double r = std::uniform_real_distribution<double>(0, 1)(rng);
      now += r < 0.9 ? 1s : (r < 0.95 ? -2min : over * 3);
      int n = static_cast<int>(rng() % 4);
      double sum = 0;
      for (int k = 0; k < n; ++k) {
        double v = static_cast<double>(rng() % 10);
        c.recorder().add(v);
        sum += v;
      }
      CounterRecorder::Totals batch = c.harvest(now);
      ASSERT_EQ(batch.count, static_cast<std::uint64_t>(n));
      ASSERT_EQ(batch.sum, sum);
      clock = std::max(clock, now);
      reference.add(clock, sum, static_cast<std::uint64_t>(n));
      ASSERT_EQ(c.totals(now).count, reference.totals(now).count) << i;
      ASSERT_EQ(c.totals(now).sum, reference.totals(now).sum) << i;
    }
    EXPECT_EQ(c.window().dropped(), 0u);
  }
}

TEST(WindowedHistogramTest, HarvestDeltasAndTotals) {
  WindowedHistogram h(1min);
  EXPECT_EQ(h.over(), 1min);
  EXPECT_TRUE(h.harvest(kT0).empty());
  h.recorder().observe(0.25);
  h.recorder().observe(0.5);
  const Histogram& d1 = h.harvest(kT0 + 1s);
  EXPECT_EQ(d1.count(), 2u);
  EXPECT_EQ(d1.sum(), 0.75);
  EXPECT_EQ(d1.bin_count(LogLinearBins::bin_of(0.25)), 1u);
  h.recorder().observe(0.25);
  const Histogram& d2 = h.harvest(kT0 + 2s);
  EXPECT_EQ(d2.count(), 1u);
  EXPECT_EQ(d2.sum(), 0.25);
  EXPECT_EQ(d2.bin_count(LogLinearBins::bin_of(0.25)), 1u);
  EXPECT_EQ(d2.bin_count(LogLinearBins::bin_of(0.5)), 0u);
  const Histogram& t = h.totals(kT0 + 2s);
  EXPECT_EQ(t.count(), 3u);
  EXPECT_EQ(t.sum(), 1.0);
  EXPECT_EQ(t.quantile(0.5), LogLinearBins::representative(LogLinearBins::bin_of(0.25)));
  EXPECT_EQ(t.max(), LogLinearBins::representative(LogLinearBins::bin_of(0.5)));
  // Bucket [1 s, 2 s) counts while its start >= now - 1 m, i.e. up to now = 1 min 1 s inclusive.
  EXPECT_EQ(h.totals(kT0 + 1min + 1s).count(), 3u);
  EXPECT_EQ(h.totals(kT0 + 1min + 1s + 1ns).count(), 1u);
  EXPECT_EQ(h.totals(kT0 + 1min + 2s + 1ns).count(), 0u);
  EXPECT_EQ(h.totals(kT0 + 1min + 2s + 1ns).sum(), 0.0);
}

TEST(WindowedHistogramTest, MatchesAWindowFedAtTheHarvestTimes) {
  std::mt19937_64 rng(78);
  std::uniform_real_distribution<double> exponent(std::log(1e-4), std::log(20.0));
  for (Duration over : std::vector<Duration>{5min, 10s}) {
    WindowedHistogram h(over);
    HistogramWindow reference(over);
    TimePoint now = kT0;
    TimePoint clock = now;
    for (int i = 0; i < 3000; ++i) {
      now += (rng() % 20 == 0) ? -30s : 1s;
      Histogram batch;
      for (int k = static_cast<int>(rng() % 6); k > 0; --k) {
        double v = std::exp(exponent(rng));
        h.recorder().observe(v);
        batch.observe(v);
      }
      const Histogram& delta = h.harvest(now);
      ASSERT_EQ(delta.count(), batch.count());
      ASSERT_NEAR(delta.sum(), batch.sum(), 1e-9);
      if (!batch.empty()) {
        ASSERT_EQ(delta.quantile(0.5), batch.quantile(0.5));
      }
      clock = std::max(clock, now);
      reference.add(clock, batch);
      const Histogram& want = reference.totals(now);
      const Histogram& got = h.totals(now);
      ASSERT_EQ(got.count(), want.count()) << i;
      if (!want.empty()) {
        ASSERT_EQ(got.quantile(0.99), want.quantile(0.99)) << i;
      }
      ASSERT_NEAR(got.sum(), want.sum(), 1e-6) << i;
    }
  }
}

}  // namespace
}  // namespace backout
