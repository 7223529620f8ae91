// Benchmarks of the windows' hot paths (bench/README.md has the figures and the targets):
//   - recording: CounterRecorder::add against a bare relaxed std::atomic<uint64_t>::fetch_add and a
//     mutex-guarded CounterWindow, on 1 and 2 writer threads; HistogramRecorder::observe;
//   - the evaluator's side: harvest, quantile of a full 5-minute HistogramWindow, CounterWindow
//     totals.
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <random>
#include <vector>

#include "backout/core/log_linear_histogram.h"
#include "backout/core/recorder.h"
#include "backout/core/sliding_window.h"
#include "backout/core/windowed_series.h"

namespace backout {
namespace {

using namespace std::chrono_literals;

const TimePoint kT0 = TimePoint(std::chrono::seconds(1'780'790'400));  // 2026-06-07T00:00:00Z

// Latencies a web service might show: log-normal around 80 ms, a tail into seconds.
std::vector<double> latencies(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> d(std::log(0.08), 1.0);
  std::vector<double> v(n);
  for (double& x : v) {
    x = d(rng);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Recording: 1 and 2 writer threads on one shared series.

CounterRecorder g_recorder;
alignas(128) std::atomic<std::uint64_t> g_atomic{0};
std::mutex g_mutex;
CounterWindow g_mutex_window(5min);
HistogramRecorder g_histogram_recorder;

void BM_CounterRecorder_Add(benchmark::State& state) {
  for (auto _ : state) {
    g_recorder.add(1.0);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterRecorder_Add)->Threads(1)->Threads(2)->UseRealTime();

void BM_RelaxedAtomic_FetchAdd(benchmark::State& state) {
  for (auto _ : state) {
    g_atomic.fetch_add(1, std::memory_order_relaxed);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RelaxedAtomic_FetchAdd)->Threads(1)->Threads(2)->UseRealTime();

// What a record would cost if writers fed the evaluator's window directly: a lock around
// CounterWindow::add. The time is fixed (no clock read), which flatters this variant.
void BM_MutexCounterWindow_Add(benchmark::State& state) {
  const TimePoint t = kT0 + 1h;
  for (auto _ : state) {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_mutex_window.add(t, 1.0, 1);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MutexCounterWindow_Add)->Threads(1)->Threads(2)->UseRealTime();

void BM_HistogramRecorder_Observe(benchmark::State& state) {
  const std::vector<double> values =
      latencies(4096, 1 + static_cast<std::uint64_t>(state.thread_index()));
  std::size_t i = 0;
  for (auto _ : state) {
    g_histogram_recorder.observe(values[i]);
    i = (i + 1) & 4095;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramRecorder_Observe)->Threads(1)->Threads(2)->UseRealTime();

// ---------------------------------------------------------------------------------------------
// The evaluator's side.

// One tick of a counter series: a record, then harvest (sum of 9 shards, one bucket add).
void BM_WindowedCounter_Harvest(benchmark::State& state) {
  WindowedCounter c(5min);
  TimePoint now = kT0;
  for (auto _ : state) {
    c.recorder().add(1.0);
    now += 1s;
    benchmark::DoNotOptimize(c.harvest(now));
  }
}
BENCHMARK(BM_WindowedCounter_Harvest);

// One tick of a busy latency series: 10 new observations over a cumulative histogram with a wide
// spread of bins (200,000 earlier observations), then harvest: read the shard in use, difference,
// merge into the 5 s bucket, expire what fell out.
void BM_WindowedHistogram_Harvest(benchmark::State& state) {
  WindowedHistogram h(5min);
  const std::vector<double> values = latencies(200000, 2);
  for (double v : values) {
    h.recorder().observe(v);
  }
  TimePoint now = kT0;
  h.harvest(now);
  std::size_t i = 0;
  for (auto _ : state) {
    for (int k = 0; k < 10; ++k) {
      h.recorder().observe(values[i]);
      i = (i + 1) % values.size();
    }
    now += 1s;
    benchmark::DoNotOptimize(h.harvest(now).count());
  }
}
BENCHMARK(BM_WindowedHistogram_Harvest);

// The read half of a latency harvest alone: one shard in use, a wide spread of bins.
void BM_HistogramRecorder_Cumulative(benchmark::State& state) {
  HistogramRecorder r;
  for (double v : latencies(200000, 4)) {
    r.observe(v);
  }
  Histogram out;
  for (auto _ : state) {
    r.cumulative(out);
    benchmark::DoNotOptimize(out.count());
  }
}
BENCHMARK(BM_HistogramRecorder_Cumulative);

// A full 5-minute window of a busy series: 1 s ticks, 50 observations each, 5 minutes long.
HistogramWindow& full_histogram_window(TimePoint& now) {
  static HistogramWindow w(5min);
  static TimePoint last = [] {
    const std::vector<double> values = latencies(400 * 50, 3);
    TimePoint t = kT0;
    std::size_t i = 0;
    for (int tick = 0; tick < 400; ++tick) {
      Histogram d;
      for (int k = 0; k < 50; ++k) {
        d.observe(values[i++]);
      }
      t += 1s;
      w.add(t, d);
    }
    return t;
  }();
  now = last;
  return w;
}

void BM_HistogramWindow_Quantile(benchmark::State& state) {
  TimePoint now;
  HistogramWindow& w = full_histogram_window(now);
  double q = 0.99;
  for (auto _ : state) {
    benchmark::DoNotOptimize(w.totals(now).quantile(q));
  }
  state.counters["observations"] = static_cast<double>(w.totals(now).count());
  int bins = 0;
  w.totals(now).for_each_bin([&](int, std::uint64_t) { ++bins; });
  state.counters["non_empty_bins"] = bins;
  state.counters["memory_bytes"] = static_cast<double>(w.memory_bytes());
}
BENCHMARK(BM_HistogramWindow_Quantile);

// The worst case for a read: every one of the 2,050 bins non-empty.
void BM_Histogram_QuantileAllBinsFull(benchmark::State& state) {
  Histogram h;
  for (int b = 0; b < LogLinearBins::kBins; ++b) {
    h.add_bin(b, 1, LogLinearBins::representative(b));
  }
  double q = 0.5;
  for (auto _ : state) {
    benchmark::DoNotOptimize(h.quantile(q));
    q = q == 0.5 ? 0.999 : 0.5;
  }
}
BENCHMARK(BM_Histogram_QuantileAllBinsFull);

void BM_HistogramWindow_CountAbove(benchmark::State& state) {
  TimePoint now;
  HistogramWindow& w = full_histogram_window(now);
  for (auto _ : state) {
    benchmark::DoNotOptimize(w.totals(now).count_above(0.5));
  }
}
BENCHMARK(BM_HistogramWindow_CountAbove);

// A full 5-minute counter window, read at the time of the last add (the evaluator's case: O(1)).
void BM_CounterWindow_Totals(benchmark::State& state) {
  CounterWindow w(5min);
  TimePoint now = kT0;
  for (int i = 0; i < 400; ++i) {
    now += 1s;
    w.add(now, 3.0, 3);
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(w.totals(now));
  }
}
BENCHMARK(BM_CounterWindow_Totals);

// The same read 20 s after the last add: buckets have fallen out, the const read sums the ring.
void BM_CounterWindow_TotalsAhead(benchmark::State& state) {
  CounterWindow w(5min);
  TimePoint now = kT0;
  for (int i = 0; i < 400; ++i) {
    now += 1s;
    w.add(now, 3.0, 3);
  }
  now += 20s;
  for (auto _ : state) {
    benchmark::DoNotOptimize(w.totals(now));
  }
}
BENCHMARK(BM_CounterWindow_TotalsAhead);

}  // namespace
}  // namespace backout
