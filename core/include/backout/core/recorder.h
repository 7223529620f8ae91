// Lock-free recorders: the writer side of the windows (DESIGN section 2, "windows", design (b)).
// CounterRecorder and HistogramRecorder are thread-safe: any number of threads record while any
// thread reads. They keep cumulative totals since construction and have no notion of time: the
// evaluator turns them into time buckets by harvesting the difference each tick (see
// windowed_series.h).
//
// Shard scheme. Each recorder has kShards per-thread shards plus one overflow shard, each on its
// own 128-byte-aligned block (two cache lines, so the adjacent-line prefetcher cannot make two
// writers share). The shard *index* is per thread and process-wide, the same in every recorder:
//   - a thread takes an index on its first record, from a 64-bit free mask (one CAS, no lock, no
//     allocation of ours; the C++ runtime registers the thread-exit hook, which allocates once per
//     thread);
//   - while it owns index i, the thread is the only writer of shard i in every recorder, so a
//     record is a relaxed load and a relaxed store per field: no `lock` prefix, no contention;
//   - when the thread exits, the index goes back to the free mask (release; the next owner takes
//     it with acquire, so it continues from the values the previous owner left: nothing is lost);
//   - a thread that finds no free index (more than kShards recording threads alive at once) uses
//     the overflow shard for the rest of its life, with atomic read-modify-writes.
// Shards are cumulative and never reset, so a reader sums them without coordinating with writers.
// A reader may see a record's count before its value (or one field of one shard before another):
// the difference of two reads can split one record across two harvests; once writers are quiet a
// read is exact (integer-valued sums are exact up to 2^53).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "backout/core/log_linear_histogram.h"

namespace backout {

namespace recorder_detail {

/// Shards per recorder besides the overflow shard. The agent records from its few I/O threads.
inline constexpr int kShards = 8;

/// This thread's shard as index + 1: 0 before the first record, 1..kShards for a shard of its own,
/// kShards + 1 for the overflow shard. Constant-initialised, so reading it is one TLS load.
inline constinit thread_local int tls_slot = 0;

/// Takes a free shard index for this thread (or the overflow) and sets tls_slot. Lock-free.
int acquire_slot() noexcept;

inline int slot() noexcept {
  int s = tls_slot;
  if (s == 0) [[unlikely]] {
    s = acquire_slot();
  }
  return s;
}

/// Diagnostics and tests: this thread's shard index (0..kShards-1), kShards for the overflow shard,
/// -1 if the thread has not recorded yet.
int this_thread_shard() noexcept;
/// Diagnostics and tests: how many shard indexes are free right now.
int free_shards() noexcept;

}  // namespace recorder_detail

/// A lock-free sum-and-count recorder (the writer side of a counter window). Thread-safe; no time
/// semantics (cumulative since construction). 9 × 128 bytes.
class CounterRecorder {
 public:
  struct Totals {
    double sum = 0;
    std::uint64_t count = 0;
  };

  CounterRecorder() = default;
  CounterRecorder(const CounterRecorder&) = delete;
  CounterRecorder& operator=(const CounterRecorder&) = delete;

  /// Any thread: sum += amount, count += 1. Wait-free on an owned shard (two relaxed load+store
  /// pairs); two relaxed atomic adds on the overflow shard.
  void add(double amount) noexcept;
  /// Any thread: everything recorded so far (the sum of the shards).
  Totals cumulative() const noexcept;

 private:
  struct alignas(128) Shard {
    std::atomic<double> sum{0.0};
    std::atomic<std::uint64_t> count{0};
  };
  std::array<Shard, recorder_detail::kShards + 1> shards_;
};

/// A lock-free latency recorder (the writer side of a latency window): counts per LogLinearBins
/// bin. Thread-safe; no time semantics (cumulative since construction). Reserves 9 × 16.8 KiB of
/// zeroed memory, of which only the shards of threads that record are ever touched (resident).
class HistogramRecorder {
 public:
  HistogramRecorder();
  ~HistogramRecorder();
  HistogramRecorder(const HistogramRecorder&) = delete;
  HistogramRecorder& operator=(const HistogramRecorder&) = delete;

  /// Any thread: one observation of `seconds`. Wait-free on an owned shard (bin_of, then four
  /// relaxed load+store pairs); relaxed atomic adds on the overflow shard.
  void observe(double seconds) noexcept;
  /// Any thread: brings `cumulative` up to everything observed so far and, unless null, adds to
  /// `growth` what each bin gained since (counts only; the caller adds the sum's difference).
  /// `cumulative` must be empty or the latest result of this recorder's advance(): only the
  /// octaves whose totals moved since then are read again (a shard keeps a total per octave for
  /// this), so a harvest costs O(34 × shards in use + bins of the octaves that moved) instead of
  /// reading all 2,050 bins of every shard (bench/README.md).
  void advance(Histogram& cumulative, Histogram* growth = nullptr) const;
  /// Any thread: out = everything observed so far (a full read into a cleared `out`).
  void cumulative(Histogram& out) const {
    out.clear();
    advance(out);
  }

  /// Bytes reserved for the shards (only those of recording threads become resident).
  static std::size_t reserved_bytes();

 private:
  struct alignas(128) Shard {  // plain memory, accessed through std::atomic_ref
    std::uint64_t count;
    double sum;
    std::uint64_t groups[Histogram::kGroups];  // per-octave totals: what cumulative() re-reads
    std::uint64_t bins[LogLinearBins::kBins];
  };

  void* storage_ = nullptr;  // from calloc: untouched shards stay unmapped zero pages
  Shard* shards_ = nullptr;  // kShards + 1, 128-byte aligned inside storage_
};

inline void CounterRecorder::add(double amount) noexcept {
  auto i = static_cast<unsigned>(recorder_detail::slot() - 1);
  Shard& s = shards_[i];
  if (i < static_cast<unsigned>(recorder_detail::kShards)) [[likely]] {
    s.sum.store(s.sum.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
    s.count.store(s.count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  } else {
    s.sum.fetch_add(amount, std::memory_order_relaxed);
    s.count.fetch_add(1, std::memory_order_relaxed);
  }
}

inline void HistogramRecorder::observe(double seconds) noexcept {
  int bin = LogLinearBins::bin_of(seconds);
  double value = LogLinearBins::sanitize(seconds);
  auto i = static_cast<unsigned>(recorder_detail::slot() - 1);
  Shard& s = shards_[i];
  std::atomic_ref<std::uint64_t> b(s.bins[bin]);
  std::atomic_ref<std::uint64_t> group(s.groups[Histogram::group_of(bin)]);
  std::atomic_ref<double> sum(s.sum);
  std::atomic_ref<std::uint64_t> count(s.count);
  if (i < static_cast<unsigned>(recorder_detail::kShards)) [[likely]] {
    b.store(b.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    group.store(group.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    sum.store(sum.load(std::memory_order_relaxed) + value, std::memory_order_relaxed);
    count.store(count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  } else {
    b.fetch_add(1, std::memory_order_relaxed);
    group.fetch_add(1, std::memory_order_relaxed);
    sum.fetch_add(value, std::memory_order_relaxed);
    count.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace backout
