#include "backout/core/log_linear_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace backout {
namespace {

using B = LogLinearBins;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kOneHour = 3600.0;
constexpr double kMaxRelError = 1.0 / 128;  // what the layout promises (< 1%)

double relative(double a, double exact) { return std::abs(a - exact) / std::abs(exact); }

// Log-uniform between 1 µs and 1 h: every octave gets observations.
std::vector<double> log_uniform(std::uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> exponent(std::log(1e-6), std::log(kOneHour));
  std::vector<double> v(static_cast<std::size_t>(n));
  for (double& x : v) {
    x = std::exp(exponent(rng));
  }
  return v;
}

// Nearest rank, the same rank rule as Histogram::quantile.
double exact_quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  double x = std::ceil(q * static_cast<double>(v.size()) - 1e-9);
  auto rank = static_cast<std::size_t>(std::clamp(x, 1.0, static_cast<double>(v.size())));
  return v[rank - 1];
}

TEST(LogLinearBinsTest, LayoutConstants) {
  EXPECT_EQ(B::kBins, 2050);
  EXPECT_EQ(B::lower_bound(1), 1e-6);
  EXPECT_EQ(B::upper_bound(0), 1e-6);
  EXPECT_EQ(B::lower_bound(0), -kInf);
  EXPECT_EQ(B::upper_bound(B::kOverflow), kInf);
  EXPECT_NEAR(B::lower_bound(B::kOverflow), 4294.967296, 1e-9);
  EXPECT_GT(B::lower_bound(B::kOverflow), kOneHour);
}

TEST(LogLinearBinsTest, EveryRepresentativeWithinOnePercentOfItsBounds) {
  for (int b = 1; b < B::kOverflow; ++b) {
    double lo = B::lower_bound(b);
    double hi = B::upper_bound(b);
    double rep = B::representative(b);
    ASSERT_LT(lo, rep) << b;
    ASSERT_LT(rep, hi) << b;
    ASSERT_LE(relative(rep, lo), kMaxRelError) << b;
    ASSERT_LE(relative(rep, hi), kMaxRelError) << b;
    ASSERT_EQ(B::upper_bound(b), B::lower_bound(b + 1)) << "bins must tile the line at " << b;
  }
}

TEST(LogLinearBinsTest, RoundTripAtEveryEdge) {
  for (int b = 1; b < B::kOverflow; ++b) {
    double lo = B::lower_bound(b);
    double hi = B::upper_bound(b);
    ASSERT_EQ(B::bin_of(lo), b);
    ASSERT_EQ(B::bin_of(std::nextafter(lo, -kInf)), b - 1);
    ASSERT_EQ(B::bin_of(std::nextafter(hi, -kInf)), b);
    ASSERT_EQ(B::bin_of(hi), b + 1);
    ASSERT_EQ(B::bin_of(B::representative(b)), b);
  }
}

TEST(LogLinearBinsTest, BinOfIsMonotonicAndBracketsItsValue) {
  std::vector<double> v = log_uniform(7, 200000);
  // Values right at and around the edges too.
  for (int b = 1; b <= B::kOverflow; b += 3) {
    v.push_back(B::lower_bound(b));
    v.push_back(std::nextafter(B::lower_bound(b), kInf));
    v.push_back(std::nextafter(B::lower_bound(b), -kInf));
  }
  std::sort(v.begin(), v.end());
  int previous = 0;
  for (double x : v) {
    int b = B::bin_of(x);
    ASSERT_GE(b, previous) << x;
    ASSERT_LE(B::lower_bound(b), x);
    ASSERT_LT(x, B::upper_bound(b));
    if (b > 0 && b < B::kOverflow) {
      ASSERT_LE(relative(B::representative(b), x), kMaxRelError) << x;
    }
    previous = b;
  }
}

TEST(LogLinearBinsTest, SpecialValues) {
  EXPECT_EQ(B::bin_of(0.0), 0);
  EXPECT_EQ(B::bin_of(-0.0), 0);
  EXPECT_EQ(B::bin_of(-1.0), 0);
  EXPECT_EQ(B::bin_of(-kInf), 0);
  EXPECT_EQ(B::bin_of(kNaN), 0);
  EXPECT_EQ(B::bin_of(std::nextafter(1e-6, 0.0)), 0);
  EXPECT_EQ(B::bin_of(1e-6), 1);
  EXPECT_EQ(B::bin_of(kInf), B::kOverflow);
  EXPECT_EQ(B::bin_of(1e12), B::kOverflow);
  EXPECT_EQ(B::bin_of(std::numeric_limits<double>::max()), B::kOverflow);
  EXPECT_EQ(B::representative(0), 0.0);
  EXPECT_EQ(B::representative(B::kOverflow), B::lower_bound(B::kOverflow));
  EXPECT_EQ(B::sanitize(kNaN), 0.0);
  EXPECT_EQ(B::sanitize(-3.0), 0.0);
  EXPECT_EQ(B::sanitize(kInf), B::lower_bound(B::kOverflow));
  EXPECT_EQ(B::sanitize(0.25), 0.25);
  // Out-of-range bins are clamped, never read out of bounds.
  EXPECT_EQ(B::lower_bound(-5), -kInf);
  EXPECT_EQ(B::upper_bound(99999), kInf);
}

TEST(LogLinearBinsTest, WorkedExampleFromTheHeader) {
  EXPECT_EQ(B::bin_of(0.25), 1147);
  EXPECT_NEAR(B::lower_bound(1147), 0.249856, 1e-12);
  EXPECT_NEAR(B::upper_bound(1147), 0.251904, 1e-12);
  EXPECT_NEAR(B::representative(1147), 0.25088, 1e-12);
}

TEST(HistogramTest, EmptyReadsAreNaN) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.sum(), 0.0);
  EXPECT_TRUE(h.empty());
  EXPECT_TRUE(std::isnan(h.quantile(0.5)));
  EXPECT_TRUE(std::isnan(h.max()));
  EXPECT_TRUE(std::isnan(h.mean()));
  EXPECT_EQ(h.count_above(0.0), 0u);
}

TEST(HistogramTest, QuantilesMaxMeanAgainstExactOnRandomData) {
  for (std::uint64_t seed : {1u, 2u, 3u, 42u}) {
    for (int n : {1, 2, 7, 20, 101, 10000}) {
      std::vector<double> v = log_uniform(seed * 1000 + static_cast<std::uint64_t>(n), n);
      Histogram h;
      double sum = 0;
      for (double x : v) {
        h.observe(x);
        sum += x;
      }
      ASSERT_EQ(h.count(), v.size());
      EXPECT_DOUBLE_EQ(h.sum(), sum);
      EXPECT_DOUBLE_EQ(h.mean(), sum / static_cast<double>(n));
      for (double q : {0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0}) {
        double exact = exact_quantile(v, q);
        ASSERT_LE(relative(h.quantile(q), exact), kMaxRelError)
            << "seed " << seed << " n " << n << " q " << q;
        // The reported value is exactly the representative of the exact value's bin.
        ASSERT_EQ(h.quantile(q), B::representative(B::bin_of(exact)));
      }
      double max = *std::max_element(v.begin(), v.end());
      EXPECT_LE(relative(h.max(), max), kMaxRelError);
      EXPECT_EQ(h.quantile(1.0), h.max());
    }
  }
}

TEST(HistogramTest, RankRuleIsNearestRankDespiteRounding) {
  Histogram h;
  for (int i = 1; i <= 20; ++i) {
    h.observe(i * 0.01);
  }
  // 0.95 × 20 = 19 exactly: rank 19 (0.19 s), not 20.
  EXPECT_EQ(h.quantile(0.95), B::representative(B::bin_of(0.19)));
  EXPECT_EQ(h.quantile(0.951), B::representative(B::bin_of(0.20)));
  EXPECT_EQ(h.quantile(0.05), B::representative(B::bin_of(0.01)));
  EXPECT_EQ(h.quantile(0.0), h.quantile(0.05));  // q <= 0: the smallest
  EXPECT_EQ(h.quantile(1.5), h.max());           // q > 1: the largest
  EXPECT_TRUE(std::isnan(h.quantile(kNaN)));

  // 0.07 × 100 is 7.000000000000001 in floating point: still rank 7.
  Histogram hundred;
  for (int i = 1; i <= 100; ++i) {
    hundred.observe(i * 0.01);
  }
  EXPECT_EQ(hundred.quantile(0.07), B::representative(B::bin_of(0.07)));
  EXPECT_EQ(hundred.quantile(0.071), B::representative(B::bin_of(0.08)));
}

TEST(HistogramTest, CountAboveAgainstExact) {
  std::vector<double> v = log_uniform(11, 5000);
  Histogram h;
  for (double x : v) {
    h.observe(x);
  }
  std::vector<double> thresholds = log_uniform(13, 300);
  thresholds.insert(thresholds.end(), {-1.0, 0.0, 1e-7, 1e-6, 0.1, 1.0, 3600.0, 1e9, kInf});
  for (int b = 1; b < B::kOverflow; b += 97) {  // thresholds right at edges and representatives
    thresholds.push_back(B::lower_bound(b));
    thresholds.push_back(B::representative(b));
  }
  for (double th : thresholds) {
    std::uint64_t by_representative = 0;
    std::uint64_t by_value = 0;
    std::uint64_t in_threshold_bin = 0;
    for (double x : v) {
      by_representative += B::representative(B::bin_of(x)) > th ? 1 : 0;
      by_value += x > th ? 1 : 0;
      in_threshold_bin += B::bin_of(x) == B::bin_of(th) ? 1 : 0;
    }
    ASSERT_EQ(h.count_above(th), by_representative) << th;
    // Against the exact values, only observations sharing the threshold's bin can differ.
    auto diff = static_cast<std::int64_t>(h.count_above(th)) - static_cast<std::int64_t>(by_value);
    ASSERT_LE(std::abs(diff), static_cast<std::int64_t>(in_threshold_bin)) << th;
  }
  EXPECT_EQ(h.count_above(kNaN), 0u);
}

TEST(HistogramTest, UnderflowAndOverflowObservations) {
  Histogram h;
  h.observe(0.0);
  h.observe(-2.0);
  h.observe(kNaN);
  h.observe(5e-7);
  EXPECT_EQ(h.bin_count(0), 4u);
  EXPECT_EQ(h.sum(), 5e-7);  // NaN and negatives add 0
  EXPECT_EQ(h.quantile(0.5), 0.0);
  EXPECT_EQ(h.max(), 0.0);
  EXPECT_EQ(h.count_above(0.0), 0u);
  EXPECT_EQ(h.count_above(-1.0), 4u);
  h.observe(kInf);
  h.observe(1e5);
  EXPECT_EQ(h.bin_count(B::kOverflow), 2u);
  EXPECT_EQ(h.max(), B::lower_bound(B::kOverflow));
  EXPECT_TRUE(std::isfinite(h.sum()));
  EXPECT_EQ(h.count_above(kOneHour), 2u);
}

TEST(HistogramTest, ObserveManyAndAddBin) {
  Histogram a;
  a.observe(0.5, 3);
  a.observe(0.5, 0);
  Histogram b;
  b.add_bin(B::bin_of(0.5), 3, 1.5);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.sum(), 1.5);
  // add_bin clamps the bin; n = 0 adds only to the sum.
  b.add_bin(-4, 1, 0.0);
  b.add_bin(1 << 20, 1, 0.0);
  b.add_bin(7, 0, 2.0);
  EXPECT_EQ(b.bin_count(0), 1u);
  EXPECT_EQ(b.bin_count(B::kOverflow), 1u);
  EXPECT_EQ(b.bin_count(7), 0u);
  EXPECT_EQ(b.count(), 5u);
  EXPECT_EQ(b.sum(), 3.5);
  EXPECT_EQ(b.bin_count(-1), 0u);
  EXPECT_EQ(b.bin_count(B::kBins), 0u);
}

TEST(HistogramTest, MergeSubtractClear) {
  std::vector<double> x = log_uniform(21, 3000);
  std::vector<double> y = log_uniform(22, 2000);
  Histogram hx;
  Histogram hy;
  Histogram all;
  for (double v : x) {
    hx.observe(std::round(v));  // integer-valued seconds: sums are exact in any order
    all.observe(std::round(v));
  }
  for (double v : y) {
    hy.observe(std::round(v));
    all.observe(std::round(v));
  }
  Histogram merged = hx;
  merged.merge(hy);
  EXPECT_EQ(merged, all);
  for (double q : {0.1, 0.5, 0.99}) {
    EXPECT_EQ(merged.quantile(q), all.quantile(q));
  }
  merged.subtract(hy);
  EXPECT_EQ(merged, hx);
  merged.subtract(hx);
  EXPECT_TRUE(merged.empty());
  EXPECT_EQ(merged.sum(), 0.0);
  EXPECT_EQ(merged, Histogram());
  Histogram self = hx;
  self.merge(self);
  EXPECT_EQ(self.count(), 2 * hx.count());
  self.subtract(self);
  EXPECT_TRUE(self.empty());
  all.clear();
  EXPECT_EQ(all, Histogram());
  EXPECT_TRUE(std::isnan(all.quantile(0.5)));
  all.observe(0.002);
  EXPECT_EQ(all.count(), 1u);
  EXPECT_EQ(all.quantile(0.5), B::representative(B::bin_of(0.002)));
}

TEST(HistogramTest, SubtractNotContainedSaturatesAtZero) {
  Histogram a;
  a.observe(1.0);
  Histogram b;
  b.observe(1.0, 3);
  b.observe(2.0);
  a.subtract(b);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.sum(), 0.0);
  EXPECT_EQ(a.bin_count(B::bin_of(1.0)), 0u);
}

TEST(HistogramTest, ForEachBinVisitsNonEmptyBinsInOrder) {
  Histogram h;
  for (double v : {3.0, 1e-9, 0.001, 0.001, 100.0, 1e7}) {
    h.observe(v);
  }
  std::vector<std::pair<int, std::uint64_t>> seen;
  h.for_each_bin([&](int b, std::uint64_t c) { seen.emplace_back(b, c); });
  std::vector<std::pair<int, std::uint64_t>> expected = {
      {0, 1}, {B::bin_of(0.001), 2}, {B::bin_of(3.0), 1}, {B::bin_of(100.0), 1}, {B::kOverflow, 1}};
  EXPECT_EQ(seen, expected);
}

}  // namespace
}  // namespace backout
