#include "backout/core/recorder.h"

#include <gtest/gtest.h>

#include <cmath>

#include <random>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <thread>
#include <vector>

#include "backout/core/windowed_series.h"

namespace backout {
namespace {

using namespace std::chrono_literals;

const TimePoint kT0 = TimePoint(std::chrono::seconds(1'780'790'400));  // 2026-06-07T00:00:00Z

#if defined(__SANITIZE_THREAD__)
constexpr int kScale = 10;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr int kScale = 10;
#else
constexpr int kScale = 1;
#endif
#else
constexpr int kScale = 1;
#endif

// The value written by record i of a thread: integers, so that every sum is exact in any order.
double amount(int i) { return static_cast<double>(i % 7); }
double latency(int i) { return static_cast<double>(1 + i % 90); }  // 1 .. 90 s: 90 distinct bins

TEST(CounterRecorderTest, SingleThread) {
  CounterRecorder r;
  EXPECT_EQ(r.cumulative().count, 0u);
  r.add(2.5);
  r.add(-0.5);
  r.add(0);
  CounterRecorder::Totals t = r.cumulative();
  EXPECT_EQ(t.sum, 2.0);
  EXPECT_EQ(t.count, 3u);
  int shard = recorder_detail::this_thread_shard();
  EXPECT_GE(shard, 0);
  EXPECT_LE(shard, recorder_detail::kShards);
}

TEST(HistogramRecorderTest, SingleThread) {
  HistogramRecorder r;
  Histogram h;
  r.cumulative(h);
  EXPECT_TRUE(h.empty());
  Histogram want;
  for (double v : {0.001, 0.002, 0.002, 1.5, 0.0, -1.0, 1e9}) {
    r.observe(v);
    want.observe(v);
  }
  r.cumulative(h);
  EXPECT_EQ(h, want);
  EXPECT_GT(HistogramRecorder::reserved_bytes(), 9u * 16400u);
}

// advance() reads again only the octaves whose totals moved since the latest result: the
// histogram it keeps up to date equals a fresh full read, and the growth it reports is exactly
// the difference between two fresh reads, whichever octaves moved and from however many threads.
TEST(HistogramRecorderTest, AdvanceEqualsAFreshReadAndReportsTheGrowth) {
  HistogramRecorder r;
  Histogram latest;
  Histogram previous_fresh;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> exponent(-7.0, 3.5);
  for (int round = 0; round < 200; ++round) {
    const int n = static_cast<int>(rng() % 20);
    std::vector<double> values;
    for (int i = 0; i < n; ++i) {
      values.push_back(std::pow(10.0, exponent(rng)));
    }
    if (round % 3 == 0) {
      std::thread other([&] {
        for (double v : values) {
          r.observe(v);
        }
      });
      other.join();
    } else {
      for (double v : values) {
        r.observe(v);
      }
    }
    Histogram fresh;
    r.cumulative(fresh);
    Histogram growth;
    r.advance(latest, &growth);
    ASSERT_EQ(latest.count(), fresh.count()) << "round " << round;
    ASSERT_EQ(latest, fresh) << "round " << round;
    Histogram want = fresh;
    want.subtract(previous_fresh);
    ASSERT_EQ(growth.count(), want.count()) << "round " << round;
    growth.for_each_bin([&](int bin, std::uint64_t count) {
      ASSERT_EQ(count, want.bin_count(bin)) << "round " << round << " bin " << bin;
    });
    previous_fresh = fresh;
  }
}

// Four writers record into one counter and one latency series while a reader harvests as fast as
// it can, with its fake clock advancing 1 ms per harvest. Writers keep going until they have made
// their records and the reader has harvested many times, so that harvests interleave with records.
// At the end the windows hold exactly what was recorded, and the harvested batches add up to it.
TEST(RecorderConcurrencyTest, FourWritersAndAHarvesterLoseNothing) {
  constexpr int kWriters = 4;
  constexpr int kMinHarvests = 200;
  const int per_writer = 200000 / kScale;
  WindowedCounter counter(1h);
  WindowedHistogram latencies(1h);
  std::atomic<int> writers_done{0};
  std::atomic<int> harvests{0};
  std::latch start(kWriters + 1);

  std::uint64_t harvested_count = 0;
  double harvested_sum = 0;
  std::uint64_t harvested_observations = 0;
  TimePoint now = kT0;
  std::thread reader([&] {
    start.arrive_and_wait();
    std::uint64_t last_total = 0;
    while (writers_done.load(std::memory_order_acquire) < kWriters) {
      now += 1ms;
      CounterRecorder::Totals batch = counter.harvest(now);
      harvested_count += batch.count;
      harvested_sum += batch.sum;
      harvested_observations += latencies.harvest(now).count();
      std::uint64_t total = counter.totals(now).count;
      EXPECT_GE(total, last_total);  // cumulative reads never go backwards
      last_total = total;
      harvests.fetch_add(1, std::memory_order_relaxed);
    }
  });
  std::vector<int> records(kWriters, 0);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      start.arrive_and_wait();
      int i = 0;
      for (; i < per_writer || harvests.load(std::memory_order_relaxed) < kMinHarvests; ++i) {
        counter.recorder().add(amount(i));
        latencies.recorder().observe(latency(i));
      }
      records[static_cast<std::size_t>(w)] = i;
      writers_done.fetch_add(1, std::memory_order_release);
    });
  }
  for (std::thread& t : writers) {
    t.join();
  }
  reader.join();
  now += 1ms;
  CounterRecorder::Totals last = counter.harvest(now);
  harvested_count += last.count;
  harvested_sum += last.sum;
  harvested_observations += latencies.harvest(now).count();

  double want_sum = 0;
  std::uint64_t want_count = 0;
  Histogram want_latencies;
  for (int n : records) {
    for (int i = 0; i < n; ++i) {
      want_sum += amount(i);
      want_latencies.observe(latency(i));
    }
    want_count += static_cast<std::uint64_t>(n);
  }

  CounterRecorder::Totals t = counter.totals(now);
  EXPECT_EQ(t.count, want_count);
  EXPECT_EQ(t.sum, want_sum);
  EXPECT_EQ(harvested_count, want_count);
  EXPECT_EQ(harvested_sum, want_sum);
  const Histogram& h = latencies.totals(now);
  EXPECT_EQ(h.count(), want_count);
  EXPECT_EQ(h.sum(), want_latencies.sum());
  EXPECT_EQ(h, want_latencies);
  EXPECT_EQ(harvested_observations, want_count);
  EXPECT_GE(harvests.load(), kMinHarvests);
}

// Waves of short-lived threads: each thread takes a shard, records, exits and gives the shard back;
// the next wave reuses the shards and continues from the values the previous owners left.
TEST(RecorderConcurrencyTest, ExitingThreadsReturnTheirShardsAndLoseNothing) {
  WindowedCounter counter(1h);
  WindowedHistogram latencies(1h);
  const int free_before = recorder_detail::free_shards();
  ASSERT_GE(free_before, 3) << "other threads hold shards";
  constexpr int kWaves = 30;
  constexpr int kPerWave = 3;
  const int per_thread = 20000 / kScale;

  std::atomic<bool> stop{false};
  TimePoint now = kT0;
  std::thread reader([&] {
    while (!stop.load(std::memory_order_acquire)) {
      now += 1ms;
      counter.harvest(now);
      latencies.harvest(now);
    }
  });
  std::atomic<int> overflowed{0};
  for (int wave = 0; wave < kWaves; ++wave) {
    std::vector<std::thread> threads;
    for (int k = 0; k < kPerWave; ++k) {
      threads.emplace_back([&] {
        for (int i = 0; i < per_thread; ++i) {
          counter.recorder().add(amount(i));
          latencies.recorder().observe(latency(i));
        }
        if (recorder_detail::this_thread_shard() == recorder_detail::kShards) {
          overflowed.fetch_add(1);
        }
      });
    }
    for (std::thread& t : threads) {
      t.join();
    }
    // Joined threads have run their thread-exit hooks: every shard is back.
    ASSERT_EQ(recorder_detail::free_shards(), free_before) << "wave " << wave;
  }
  stop.store(true, std::memory_order_release);
  reader.join();
  now += 1ms;
  counter.harvest(now);
  latencies.harvest(now);

  const auto threads = static_cast<std::uint64_t>(kWaves * kPerWave);
  double want_sum = 0;
  for (int i = 0; i < per_thread; ++i) {
    want_sum += amount(i);
  }
  EXPECT_EQ(overflowed.load(), 0);  // 3 at a time always find a free shard
  EXPECT_EQ(counter.totals(now).count, threads * static_cast<std::uint64_t>(per_thread));
  EXPECT_EQ(counter.totals(now).sum, want_sum * static_cast<double>(threads));
  EXPECT_EQ(latencies.totals(now).count(), threads * static_cast<std::uint64_t>(per_thread));
}

// More recording threads alive at once than there are shards: the rest share the overflow shard
// with atomic read-modify-writes, and still nothing is lost.
TEST(RecorderConcurrencyTest, MoreThreadsThanShardsShareTheOverflowShard) {
  WindowedCounter counter(1h);
  WindowedHistogram latencies(1h);
  const int free_before = recorder_detail::free_shards();
  const int kThreads = recorder_detail::kShards + 4;
  const int per_thread = 20000 / kScale;
  std::latch all_recording(kThreads);
  std::atomic<int> overflowed{0};
  std::atomic<bool> stop{false};
  TimePoint now = kT0;
  std::thread reader([&] {
    while (!stop.load(std::memory_order_acquire)) {
      now += 1ms;
      counter.harvest(now);
      latencies.harvest(now);
    }
  });
  std::vector<std::thread> threads;
  for (int k = 0; k < kThreads; ++k) {
    threads.emplace_back([&] {
      counter.recorder().add(amount(0));  // takes a shard (or the overflow)
      latencies.recorder().observe(latency(0));
      all_recording.arrive_and_wait();  // all alive at once
      for (int i = 1; i < per_thread; ++i) {
        counter.recorder().add(amount(i));
        latencies.recorder().observe(latency(i));
      }
      if (recorder_detail::this_thread_shard() == recorder_detail::kShards) {
        overflowed.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  stop.store(true, std::memory_order_release);
  reader.join();
  now += 1ms;
  counter.harvest(now);
  latencies.harvest(now);

  EXPECT_EQ(overflowed.load(), kThreads - free_before);
  EXPECT_EQ(recorder_detail::free_shards(), free_before);
  double want_sum = 0;
  for (int i = 0; i < per_thread; ++i) {
    want_sum += amount(i);
  }
  const auto n = static_cast<std::uint64_t>(kThreads) * static_cast<std::uint64_t>(per_thread);
  EXPECT_EQ(counter.totals(now).count, n);
  EXPECT_EQ(counter.totals(now).sum, want_sum * kThreads);
  EXPECT_EQ(latencies.totals(now).count(), n);
}

// A record made during thread exit, after the thread has given its shard back (from a
// thread_local destructor that runs later), goes to the overflow shard: it must neither be lost
// nor race with the shard's next owner.
TEST(RecorderConcurrencyTest, RecordsDuringThreadExitGoToTheOverflowShard) {
  CounterRecorder r;
  static std::atomic<int> late_on_overflow{0};
  late_on_overflow = 0;
  struct LateWriter {
    CounterRecorder* recorder = nullptr;
    ~LateWriter() {
      if (recorder != nullptr) {
        recorder->add(100);
        if (recorder_detail::this_thread_shard() == recorder_detail::kShards) {
          late_on_overflow.fetch_add(1);
        }
      }
    }
  };
  std::vector<std::thread> threads;
  for (int k = 0; k < 8; ++k) {
    threads.emplace_back([&r] {
      // Constructed before the first record, so destroyed after the shard is given back.
      thread_local LateWriter late;
      late.recorder = &r;
      for (int i = 0; i < 1000; ++i) {
        r.add(1);
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  CounterRecorder::Totals t = r.cumulative();
  EXPECT_EQ(late_on_overflow.load(), 8);
  EXPECT_EQ(t.count, 8u * 1001u);
  EXPECT_EQ(t.sum, 8.0 * (1000 + 100));
}

}  // namespace
}  // namespace backout
