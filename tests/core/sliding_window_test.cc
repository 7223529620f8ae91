#include "backout/core/sliding_window.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <random>
#include <utility>
#include <vector>

namespace backout {
namespace {

using namespace std::chrono_literals;
using Totals = CounterRecorder::Totals;

// 2026-06-07T00:00:00Z, a plausible deployment night.
const TimePoint kT0 = TimePoint(std::chrono::seconds(1'780'790'400));

TimePoint hms(int h, int m, double s) {
  return kT0 + std::chrono::hours(h) + std::chrono::minutes(m) + from_seconds(s);
}

// ---------------------------------------------------------------------------------------------
// The reference model: every accepted item in a list, filtered at read time with the rule written
// straight from the contract (bucket start in [T - over, T], T = max(now, clock)), independent of
// WindowBuckets' arithmetic.

struct Item {
  TimePoint t;
  double sum = 0;
  std::uint64_t count = 0;
  std::vector<double> values;  // histogram observations
};

class Reference {
 public:
  Reference(Duration over, bool reads_move_clock)
      : over_(std::max(over, Duration::zero())),
        width_(std::max(over_ / 60, Duration(100ms))),
        reads_move_clock_(reads_move_clock) {}

  Duration width() const { return width_; }
  Duration over() const { return over_; }

  TimePoint bucket_start(TimePoint t) const {
    std::int64_t n = t.time_since_epoch().count();
    std::int64_t w = width_.count();
    std::int64_t q = n / w;
    if (n % w != 0 && n < 0) {
      --q;
    }
    return TimePoint(Duration(q * w));
  }
  bool inside(TimePoint t, TimePoint now) const {
    TimePoint s = bucket_start(t);
    return s >= now - over_ && s <= now;
  }

  void add(Item item) {
    move_clock(item.t);
    if (!inside(item.t, clock_)) {
      dropped_ += item.count + item.values.size();
      return;
    }
    items_.push_back(std::move(item));
  }

  // The items counted at `now`.
  std::vector<const Item*> read(TimePoint now) {
    if (reads_move_clock_) {
      move_clock(now);
    }
    std::vector<const Item*> out;
    if (!started_) {
      return out;
    }
    TimePoint at = std::max(now, clock_);
    for (const Item& i : items_) {
      if (inside(i.t, at)) {
        out.push_back(&i);
      }
    }
    return out;
  }

  Totals totals(TimePoint now) {
    Totals t;
    for (const Item* i : read(now)) {
      t.sum += i->sum;
      t.count += i->count;
    }
    return t;
  }

  Histogram histogram(TimePoint now) {
    Histogram h;
    for (const Item* i : read(now)) {
      for (double v : i->values) {
        h.observe(v);
      }
    }
    return h;
  }

  std::uint64_t dropped() const { return dropped_; }
  bool started() const { return started_; }
  TimePoint clock() const { return clock_; }

 private:
  void move_clock(TimePoint t) {
    if (!started_ || t > clock_) {
      started_ = true;
      clock_ = t;
      // Nothing older than this can ever count again (reads are at >= clock_).
      std::erase_if(items_, [&](const Item& i) { return bucket_start(i.t) < clock_ - over_; });
    }
  }

  Duration over_;
  Duration width_;
  bool reads_move_clock_;
  bool started_ = false;
  TimePoint clock_{};
  std::vector<Item> items_;
  std::uint64_t dropped_ = 0;
};

// Random times: forward steps, bucket-aligned instants, gaps longer than the ring, the clock
// stepping back, far jumps; adds out of order and slightly ahead; reads behind and ahead.
class TimeDriver {
 public:
  TimeDriver(std::uint64_t seed, Duration over, Duration width, TimePoint start)
      : rng_(seed), over_(over), width_(width), now_(start) {}

  TimePoint step() {
    double r = unit();
    if (r < 0.40) {
      now_ += upto(2 * width_);
    } else if (r < 0.50) {  // onto a bucket edge (or an edge plus `over`)
      std::int64_t w = width_.count();
      std::int64_t n = now_.time_since_epoch().count();
      now_ = TimePoint(Duration((n / w + 1 + static_cast<std::int64_t>(unit() * 3)) * w));
      if (unit() < 0.3) {
        now_ += over_;
      }
    } else if (r < 0.55) {  // a gap longer than the whole ring
      now_ += over_ + width_ + upto(3 * over_ + 10 * width_);
    } else if (r < 0.60) {  // the caller's clock steps back
      now_ -= upto(2 * over_ + 2 * width_);
    } else if (r < 0.61) {  // far ahead
      now_ += 1000 * (over_ + width_) + upto(width_);
    } else {
      now_ += upto(width_ / 4);
    }
    return now_;
  }

  TimePoint add_time() {
    double r = unit();
    if (r < 0.65) {
      return now_;
    }
    if (r < 0.90) {
      return now_ - upto(over_ + 3 * width_);  // out of order, sometimes too old
    }
    if (r < 0.95) {
      return now_ + upto(width_);
    }
    return now_ - over_;  // exactly the window's edge
  }

  TimePoint read_time() {
    double r = unit();
    if (r < 0.8) {
      return now_;
    }
    if (r < 0.9) {
      return now_ - upto(over_ + width_);
    }
    return now_ + upto(2 * over_ + width_);
  }

  double unit() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  Duration upto(Duration d) {
    return Duration(
        std::uniform_int_distribution<std::int64_t>(0, std::max<std::int64_t>(d.count(), 0))(rng_));
  }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
  Duration over_;
  Duration width_;
  TimePoint now_;
};

const std::vector<Duration> kOvers = {5min, 1min,  61s,   59999999999ns, 7s,
                                      3s,   250ms, 100ms, 0ns,           1h};

// ---------------------------------------------------------------------------------------------
// WindowBuckets

TEST(WindowBucketsTest, WidthAndRingSize) {
  struct Case {
    Duration over;
    Duration width;
    int ring;
  };
  for (const Case& c : std::vector<Case>{{5min, 5s, 61},
                                         {1min, 1s, 61},
                                         {1h, 1min, 61},
                                         {7s, 116666666ns, 61},
                                         {6s, 100ms, 61},
                                         {3s, 100ms, 31},
                                         {250ms, 100ms, 3},
                                         {0ns, 100ms, 1},
                                         {-5s, 100ms, 1}}) {
    WindowBuckets b(c.over);
    EXPECT_EQ(b.width(), c.width) << c.over.count();
    EXPECT_EQ(b.ring_size(), c.ring) << c.over.count();
    EXPECT_LE(b.ring_size(), 61);
  }
}

TEST(WindowBucketsTest, EpochsAreFloorDivisionsAlsoBefore1970) {
  WindowBuckets b(1min);  // 1 s buckets
  EXPECT_EQ(b.epoch(TimePoint(0s)), 0);
  EXPECT_EQ(b.epoch(TimePoint(999ms)), 0);
  EXPECT_EQ(b.epoch(TimePoint(-1ns)), -1);
  EXPECT_EQ(b.epoch(TimePoint(-1s)), -1);
  EXPECT_EQ(b.epoch(TimePoint(-1001ms)), -2);
  EXPECT_EQ(b.slot(-1), 60u);
  EXPECT_EQ(b.slot(61), 0u);
  EXPECT_EQ(b.start(-2), TimePoint(-2s));
  // first_epoch: the first start >= now - over.
  EXPECT_EQ(b.first_epoch(TimePoint(60s)), 0);
  EXPECT_EQ(b.first_epoch(TimePoint(60s + 1ns)), 1);
  EXPECT_EQ(b.first_epoch(TimePoint(61s - 1ns)), 1);
  EXPECT_EQ(b.first_epoch(TimePoint(0s)), -60);
  EXPECT_EQ(b.first_epoch(TimePoint(-500ms)), -60);
}

TEST(WindowBucketsTest, WorkedExampleFromTheHeader) {
  WindowBuckets b(5min);
  EXPECT_EQ(b.start(b.first_epoch(hms(12, 0, 2.5))), hms(11, 55, 5));
  EXPECT_EQ(b.start(b.last_epoch(hms(12, 0, 2.5))), hms(12, 0, 0));
  EXPECT_EQ(b.last_epoch(hms(12, 0, 2.5)) - b.first_epoch(hms(12, 0, 2.5)) + 1, 60);
  EXPECT_EQ(b.start(b.first_epoch(hms(12, 0, 5))), hms(11, 55, 5));
  EXPECT_EQ(b.last_epoch(hms(12, 0, 5)) - b.first_epoch(hms(12, 0, 5)) + 1, 61);
}

// ---------------------------------------------------------------------------------------------
// CounterWindow

TEST(CounterWindowTest, WorkedExampleFromTheHeader) {
  CounterWindow w(5min);
  EXPECT_EQ(w.bucket_width(), 5s);
  EXPECT_EQ(w.bucket_count(), 61);
  EXPECT_EQ(w.over(), 5min);
  w.add(hms(11, 55, 4.9), 10, 1);
  w.add(hms(11, 55, 5.0), 1, 1);
  EXPECT_EQ(w.totals(hms(12, 0, 2.5)).count, 1u);
  EXPECT_EQ(w.totals(hms(12, 0, 2.5)).sum, 1.0);
  EXPECT_EQ(w.totals(hms(12, 0, 5.0)).count, 1u);
  EXPECT_EQ(w.totals(hms(12, 0, 5.0) + 1ns).count, 0u);
  EXPECT_EQ(w.totals(hms(11, 55, 5)).count, 2u);
}

TEST(CounterWindowTest, EmptyAndFirstAdd) {
  CounterWindow w(1min);
  EXPECT_FALSE(w.newest().has_value());
  EXPECT_EQ(w.totals(kT0).count, 0u);
  w.add(kT0, 2.5, 3);
  EXPECT_EQ(w.newest(), kT0);
  Totals t = w.totals(kT0);
  EXPECT_EQ(t.sum, 2.5);
  EXPECT_EQ(t.count, 3u);
}

TEST(CounterWindowTest, OutOfOrderAddsAndDrops) {
  CounterWindow w(1min);
  w.add(kT0 + 100s, 1, 1);
  w.add(kT0 + 41s, 1, 1);      // bucket 41 s >= 100 - 60: kept
  w.add(kT0 + 40s, 1, 1);      // bucket 40 s == 100 - 60: kept (edge inclusive)
  w.add(kT0 + 39900ms, 1, 5);  // bucket 39 s: dropped
  EXPECT_EQ(w.totals(kT0 + 100s).count, 3u);
  EXPECT_EQ(w.dropped(), 5u);
  EXPECT_EQ(w.totals(kT0 + 101s).count, 1u + 1u);  // 40 s fell out
}

TEST(CounterWindowTest, ReadsBeforeTheClockReadAtTheClock) {
  CounterWindow w(1min);
  w.add(kT0, 1, 1);
  w.add(kT0 + 30s, 1, 1);
  // The caller's clock stepped back 10 min: nothing is un-counted.
  EXPECT_EQ(w.totals(kT0 - 10min).count, 2u);
  // An add at the stepped-back time is too old for the window's clock: dropped.
  w.add(kT0 - 10min, 1, 1);
  EXPECT_EQ(w.dropped(), 1u);
  EXPECT_EQ(w.totals(kT0 + 30s).count, 2u);
}

TEST(CounterWindowTest, FirstAddFarInTheFuture) {
  CounterWindow w(5min);
  TimePoint future = kT0 + std::chrono::hours(24 * 365 * 10);
  w.add(future, 1, 1);
  w.add(kT0, 1, 1);  // the real time: too old for the window's clock
  EXPECT_EQ(w.dropped(), 1u);
  EXPECT_EQ(w.totals(kT0).count, 1u);  // read at the clock
  EXPECT_EQ(w.totals(future + 5min + 5s).count, 0u);
}

TEST(CounterWindowTest, LongGapEmptiesTheWindow) {
  CounterWindow w(1min);
  for (int i = 0; i < 60; ++i) {
    w.add(kT0 + std::chrono::seconds(i), 1, 1);
  }
  EXPECT_EQ(w.totals(kT0 + 59s).count, 60u);
  w.add(kT0 + 3h, 0, 0);
  EXPECT_EQ(w.totals(kT0 + 3h).count, 0u);
  EXPECT_EQ(w.totals(kT0 + 3h).sum, 0.0);
  w.add(kT0 + 3h + 1s, 4, 1);
  EXPECT_EQ(w.totals(kT0 + 3h + 1s).sum, 4.0);
}

TEST(CounterWindowTest, NoFloatingPointResidueWhenBucketsExpire) {
  CounterWindow w(1min);
  w.add(kT0, 0.1, 1);
  w.add(kT0 + 1s, 0.2, 1);
  w.add(kT0 + 2s, 0.0, 1);
  EXPECT_EQ(w.totals(kT0 + 2s).sum, 0.1 + 0.2);
  w.add(kT0 + 61500ms, 0.0, 0);  // 0 s and 1 s fall out
  Totals t = w.totals(kT0 + 61500ms);
  EXPECT_EQ(t.count, 1u);
  EXPECT_EQ(t.sum, 0.0);  // 0.1 + 0.2 + 0.0 - 0.1 - 0.2 would be 5.6e-17
}

TEST(CounterWindowTest, WrapsTheRingManyTimes) {
  for (Duration over : std::vector<Duration>{1min, 7s}) {
    CounterWindow w(over);
    Reference ref(over, false);
    TimePoint now = kT0;
    Duration step = w.bucket_width() / 3 + 1ns;
    for (int i = 0; i < 40000; ++i) {  // ~650 turns of the ring
      now += step;
      w.add(now, i % 5, 1);
      ref.add({now, static_cast<double>(i % 5), 1, {}});
      Totals got = w.totals(now);
      Totals want = ref.totals(now);
      ASSERT_EQ(got.count, want.count) << i;
      ASSERT_EQ(got.sum, want.sum) << i;
    }
  }
}

TEST(CounterWindowTest, MatchesReferenceUnderRandomOperations) {
  for (std::uint64_t seed : {1u, 2u, 3u, 4u}) {
    for (Duration over : kOvers) {
      CounterWindow w(over);
      Reference ref(over, false);
      int nonzero_reads = 0;
      TimeDriver driver(seed * 7919 + static_cast<std::uint64_t>(over.count() % 1000003), over,
                        ref.width(), seed % 2 == 0 ? kT0 : TimePoint(-3h - 17ns));
      for (int i = 0; i < 3000; ++i) {
        driver.step();
        int adds = static_cast<int>(driver.unit() * 3);
        for (int a = 0; a < adds; ++a) {
          TimePoint t = driver.add_time();
          auto count = static_cast<std::uint64_t>(driver.unit() * 4);
          double sum = std::floor(driver.unit() * 14) - 3;  // integers: exact in any order
          w.add(t, sum, count);
          ref.add({t, sum, count, {}});
        }
        TimePoint now = driver.read_time();
        Totals got = w.totals(now);
        Totals want = ref.totals(now);
        nonzero_reads += want.count != 0 ? 1 : 0;
        ASSERT_EQ(got.count, want.count)
            << "seed " << seed << " over " << over.count() << " step " << i;
        ASSERT_EQ(got.sum, want.sum)
            << "seed " << seed << " over " << over.count() << " step " << i;
        ASSERT_EQ(w.dropped(), ref.dropped());
      }
      // The run exercised both full windows and drops.
      if (over > 0ns) {  // a zero-length window is empty but at bucket edges
        EXPECT_GT(nonzero_reads, 300) << over.count();
        EXPECT_GT(w.dropped(), 0u) << over.count();
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// HistogramWindow

Histogram histogram_of(const std::vector<double>& values) {
  Histogram h;
  for (double v : values) {
    h.observe(v);
  }
  return h;
}

std::vector<std::pair<int, std::uint64_t>> bins_of(const Histogram& h) {
  std::vector<std::pair<int, std::uint64_t>> out;
  h.for_each_bin([&](int b, std::uint64_t c) { out.emplace_back(b, c); });
  return out;
}

void expect_same(const Histogram& got, const Histogram& want, const std::string& where) {
  ASSERT_EQ(got.count(), want.count()) << where;
  ASSERT_EQ(bins_of(got), bins_of(want)) << where;
  if (want.count() == 0) {
    ASSERT_EQ(got.sum(), 0.0) << where;
  } else {
    ASSERT_NEAR(got.sum(), want.sum(), 1e-9 * std::max(1.0, want.sum())) << where;
  }
  for (double q : {0.5, 0.9, 0.99, 1.0}) {
    ASSERT_EQ(std::isnan(got.quantile(q)), std::isnan(want.quantile(q))) << where;
    if (want.count() != 0) {
      ASSERT_EQ(got.quantile(q), want.quantile(q)) << where;
    }
  }
}

TEST(HistogramWindowTest, WorkedExampleFromTheHeader) {
  HistogramWindow w(5min);
  EXPECT_EQ(w.bucket_width(), 5s);
  EXPECT_EQ(w.bucket_count(), 61);
  w.add(hms(11, 55, 4.9), histogram_of({9.0}));
  w.add(hms(11, 55, 5.0), histogram_of({0.25}));
  EXPECT_EQ(w.totals(hms(11, 55, 5)).count(), 2u);
  EXPECT_EQ(w.totals(hms(12, 0, 2.5)).count(), 1u);
  EXPECT_EQ(w.totals(hms(12, 0, 2.5)).max(), LogLinearBins::representative(1147));
  EXPECT_EQ(w.totals(hms(12, 0, 5.0)).count(), 1u);
  EXPECT_EQ(w.totals(hms(12, 0, 5.0) + 1ns).count(), 0u);
  EXPECT_TRUE(std::isnan(w.totals(hms(12, 0, 6)).quantile(0.99)));
}

TEST(HistogramWindowTest, ReadsMoveTheClock) {
  HistogramWindow w(1min);
  EXPECT_FALSE(w.newest().has_value());
  EXPECT_EQ(w.totals(kT0).count(), 0u);
  EXPECT_EQ(w.newest(), kT0);
  w.add(kT0 + 10s, histogram_of({0.1}));
  EXPECT_EQ(w.totals(kT0 + 200s).count(), 0u);
  w.add(kT0 + 10s, histogram_of({0.1, 0.2}));  // too old for the clock now
  EXPECT_EQ(w.dropped(), 2u);
  EXPECT_EQ(w.totals(kT0).count(), 0u);  // read at the clock (200 s)
}

TEST(HistogramWindowTest, FirstAddFarInTheFutureAndLongGaps) {
  HistogramWindow w(5min);
  TimePoint future = kT0 + std::chrono::hours(24 * 365 * 10);
  w.add(future, histogram_of({1.0}));
  w.add(kT0, histogram_of({2.0}));
  EXPECT_EQ(w.dropped(), 1u);
  EXPECT_EQ(w.totals(kT0).count(), 1u);
  for (int i = 0; i < 100; ++i) {
    w.add(future + std::chrono::seconds(i), histogram_of({0.5, 0.7}));
  }
  EXPECT_EQ(w.totals(future + 99s).count(), 201u);
  EXPECT_EQ(w.totals(future + 1h).count(), 0u);
  EXPECT_EQ(w.totals(future + 1h).sum(), 0.0);
  w.add(future + 1h, histogram_of({0.5}));
  EXPECT_EQ(w.totals(future + 1h).count(), 1u);
  EXPECT_EQ(w.totals(future + 1h).sum(), 0.5);
}

TEST(HistogramWindowTest, NoFloatingPointResidueWhenBucketsExpire) {
  HistogramWindow w(1min);
  w.add(kT0, histogram_of({0.1}));
  w.add(kT0 + 1s, histogram_of({0.2}));
  w.add(kT0 + 2s, histogram_of({0.0}));
  EXPECT_EQ(w.totals(kT0 + 61500ms).count(), 1u);
  EXPECT_EQ(w.totals(kT0 + 61500ms).sum(), 0.0);
  EXPECT_EQ(w.totals(kT0 + 61500ms).mean(), 0.0);
}

TEST(HistogramWindowTest, MergesRepeatedAddsIntoOneSortedBucket) {
  HistogramWindow w(5min);
  Histogram all;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> exponent(std::log(1e-4), std::log(30.0));
  for (int i = 0; i < 50; ++i) {  // 50 harvests into the same 5 s bucket
    Histogram d;
    for (int k = 0; k < 40; ++k) {
      double v = std::exp(exponent(rng));
      d.observe(v);
      all.observe(v);
    }
    w.add(kT0 + std::chrono::milliseconds(i), d);
  }
  expect_same(w.totals(kT0 + 1s), all, "one bucket");
  EXPECT_EQ(w.totals(kT0 + 5min + 5s).count(), 0u);
}

TEST(HistogramWindowTest, MatchesReferenceUnderRandomOperations) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    for (Duration over : kOvers) {
      HistogramWindow w(over);
      Reference ref(over, true);
      int nonzero_reads = 0;
      TimeDriver driver(seed * 104729 + static_cast<std::uint64_t>(over.count() % 1000003), over,
                        ref.width(), seed % 2 == 0 ? kT0 : TimePoint(-3h - 17ns));
      std::uniform_real_distribution<double> exponent(std::log(1e-5), std::log(100.0));
      for (int i = 0; i < 2000; ++i) {
        driver.step();
        int adds = static_cast<int>(driver.unit() * 3);
        for (int a = 0; a < adds; ++a) {
          TimePoint t = driver.add_time();
          std::vector<double> values(static_cast<std::size_t>(driver.unit() * 5));
          for (double& v : values) {
            v = std::exp(exponent(driver.rng()));
          }
          w.add(t, histogram_of(values));
          ref.add({t, 0, 0, values});
        }
        TimePoint now = driver.read_time();
        std::string where = "seed " + std::to_string(seed) + " over " +
                            std::to_string(over.count()) + " step " + std::to_string(i);
        Histogram want = ref.histogram(now);
        nonzero_reads += want.empty() ? 0 : 1;
        ASSERT_NO_FATAL_FAILURE(expect_same(w.totals(now), want, where));
        ASSERT_EQ(w.dropped(), ref.dropped()) << where;
      }
      if (over > 0ns) {
        EXPECT_GT(nonzero_reads, 200) << over.count();
      }
    }
  }
}

TEST(HistogramWindowTest, MemoryOfAFiveMinuteWindowFedByAProbe) {
  HistogramWindow w(5min);
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<double> latency(0.02, 0.4);
  TimePoint now = kT0;
  for (int i = 0; i < 400; ++i) {  // a probe every 3 s for 20 min
    now += 3s;
    w.add(now, histogram_of({latency(rng)}));
    ASSERT_LE(w.totals(now).count(), 101u);
  }
  std::size_t bytes = w.memory_bytes();
  std::cout << "[ memory   ] 5 m HistogramWindow fed by a probe every 3 s: " << bytes << " bytes\n";
  RecordProperty("memory_bytes", static_cast<int>(bytes));
  EXPECT_LT(bytes, 24u * 1024u);
  CounterWindow c(5min);
  std::cout << "[ memory   ] 5 m CounterWindow: " << c.memory_bytes() << " bytes\n";
  EXPECT_LT(c.memory_bytes(), 2048u);
}

// Issue 14, defect 4: a clock stepped by d. A shifted window fed at t + d holds at every moment
// exactly what an unshifted one fed at t holds; nothing expires or comes back because of the step.
TEST(WindowShiftTest, AShiftedWindowFedOnTheSteppedClockMatchesTheUnsteppedOne) {
  for (Duration d : {Duration{1h}, Duration{-10min}, Duration{2300ms}, Duration{-7s}}) {
    CounterWindow plain(5min);
    CounterWindow stepped(5min);
    HistogramWindow plain_h(5min);
    HistogramWindow stepped_h(5min);
    Histogram one;
    one.observe(0.25);
    for (int i = 0; i < 900; ++i) {
      const TimePoint t = hms(3, 0, i * 0.7);
      const Duration off = i >= 300 ? d : Duration{0};
      if (i == 300) {
        stepped.shift(d);
        stepped_h.shift(d);
      }
      plain.add(t, 1.0, 1);
      stepped.add(t + off, 1.0, 1);
      plain_h.add(t, one);
      stepped_h.add(t + off, one);
      const Totals a = plain.totals(t);
      const Totals b = stepped.totals(t + off);
      ASSERT_EQ(a.count, b.count) << "step " << to_seconds(d) << " s, at " << i;
      ASSERT_EQ(a.sum, b.sum);
      ASSERT_EQ(plain_h.totals(t).count(), stepped_h.totals(t + off).count()) << i;
    }
    EXPECT_EQ(stepped.dropped(), 0u);
    EXPECT_EQ(stepped.newest(), *plain.newest() + d);
  }
}

// Without the shift, the same forward step empties the window at once: the defect.
TEST(WindowShiftTest, WithoutTheShiftAStepForwardEmptiesTheWindow) {
  CounterWindow w(5min);
  for (int i = 0; i < 60; ++i) {
    w.add(hms(3, 0, i), 1.0, 1);
  }
  EXPECT_EQ(w.totals(hms(3, 0, 60)).count, 60u);
  EXPECT_EQ(w.totals(hms(4, 0, 60)).count, 0u);
}

}  // namespace
}  // namespace backout
