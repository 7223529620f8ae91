#include "backout/core/recorder.h"

#include <array>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <type_traits>

namespace backout {
namespace recorder_detail {
namespace {

static_assert(kShards >= 1 && kShards <= 64, "the free mask is one 64-bit word");
constexpr int kOverflowSlot = kShards + 1;
constexpr std::uint64_t kAllFree =
    kShards == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << kShards) - 1;

// Bit i set = shard index i is free. Only read-modify-writes touch it, so the release of an index
// by an exiting thread heads a release sequence that the next owner's acquiring CAS reads from.
constinit std::atomic<std::uint64_t> free_mask{kAllFree};

// Gives the thread's index back when the thread exits. Its constructor does nothing; touching the
// object registers its destructor with the runtime (once per thread).
struct SlotReleaser {
  int index = -1;
  ~SlotReleaser() {
    if (index >= 0) {
      // Records made later in this thread's exit (other thread_local destructors) must not write
      // into a shard that a new thread may own by then: send them to the overflow shard.
      tls_slot = kOverflowSlot;
      free_mask.fetch_or(std::uint64_t{1} << index, std::memory_order_release);
      index = -1;
    }
  }
};

thread_local SlotReleaser releaser;

}  // namespace

int acquire_slot() noexcept {
  std::uint64_t m = free_mask.load(std::memory_order_relaxed);
  while (m != 0) {
    int i = std::countr_zero(m);
    if (free_mask.compare_exchange_weak(m, m & ~(std::uint64_t{1} << i), std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
      releaser.index = i;
      tls_slot = i + 1;
      return tls_slot;
    }
  }
  tls_slot = kOverflowSlot;
  return tls_slot;
}

int this_thread_shard() noexcept { return tls_slot - 1; }

int free_shards() noexcept { return std::popcount(free_mask.load(std::memory_order_relaxed)); }

}  // namespace recorder_detail

CounterRecorder::Totals CounterRecorder::cumulative() const noexcept {
  Totals t;
  for (const Shard& s : shards_) {
    t.sum += s.sum.load(std::memory_order_relaxed);
    t.count += s.count.load(std::memory_order_relaxed);
  }
  return t;
}

namespace {
constexpr std::size_t kShardCount = recorder_detail::kShards + 1;
}  // namespace

HistogramRecorder::HistogramRecorder() {
  // calloc rather than new + value-initialisation: the zeroes come from fresh pages that are never
  // written unless a thread records into that shard, so unused shards cost no resident memory.
  // The shard type is an implicit-lifetime aggregate of integers and doubles, so calloc's zeroed
  // storage holds valid zero-valued shards (C++20 [intro.object]/10).
  std::size_t bytes = kShardCount * sizeof(Shard) + alignof(Shard);
  storage_ = std::calloc(1, bytes);
  if (storage_ == nullptr) {
    throw std::bad_alloc();
  }
  auto addr = reinterpret_cast<std::uintptr_t>(storage_);
  addr = (addr + alignof(Shard) - 1) & ~(std::uintptr_t{alignof(Shard)} - 1);
  shards_ = std::launder(reinterpret_cast<Shard*>(addr));
}

HistogramRecorder::~HistogramRecorder() { std::free(storage_); }

std::size_t HistogramRecorder::reserved_bytes() {
  return kShardCount * sizeof(Shard) + alignof(Shard);
}

void HistogramRecorder::advance(Histogram& out, Histogram* growth) const {
  // The shards in use: one nobody has recorded into is skipped (and its pages stay untouched).
  // Skipping is safe even if the first record is in flight: it is read at the next call.
  std::array<const Shard*, kShardCount> used{};
  std::size_t n = 0;
  double sum = 0;
  for (std::size_t i = 0; i < kShardCount; ++i) {
    Shard& s = shards_[i];
    if (std::atomic_ref<std::uint64_t>(s.count).load(std::memory_order_relaxed) != 0) {
      sum += std::atomic_ref<double>(s.sum).load(std::memory_order_relaxed);
      used[n++] = &s;
    }
  }
  if (n == 0) {
    out.clear();
    return;
  }
  // Per octave: the shards' totals against what `out` holds (the bins' sum at the latest read).
  // Equal means equal bins (they only grow), so the octave is kept; otherwise its bins are read
  // again over every shard in use. A writer's bin and octave total may become visible in either
  // order: an octave read while a record is half visible stores the bins' sum, which differs
  // from the total once the record is whole, so the record is read at the next call at the
  // latest (the "split across two harvests" of the header). Since `out` is the latest read and
  // every bin only grows (read-read coherence), a bin read again is never below what `out` held:
  // `growth` is never negative. The evaluator harvests every latency series each tick; this loop
  // is most of a tick's cost.
  const auto load = [](const std::uint64_t& v) {
    return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(v))
        .load(std::memory_order_relaxed);
  };
  std::uint64_t total = 0;
  for (int g = 0; g < Histogram::kGroups; ++g) {
    const auto gi = static_cast<std::size_t>(g);
    std::uint64_t moved = 0;
    for (std::size_t i = 0; i < n; ++i) {
      moved += load(used[i]->groups[gi]);
    }
    if (moved == out.group_counts_[gi]) {
      total += moved;
      continue;
    }
    const int first_bin = Histogram::first_bin(g);
    const int size = g == 0 || g == Histogram::kGroups - 1 ? 1 : LogLinearBins::kSubBins;
    std::uint64_t group = 0;
    std::uint64_t mask = 0;
    for (int k = 0; k < size; ++k) {
      const auto b = static_cast<std::size_t>(first_bin + k);
      std::uint64_t v = 0;
      for (std::size_t i = 0; i < n; ++i) {
        v += load(used[i]->bins[b]);
      }
      if (growth != nullptr && v > out.counts_[b]) {
        growth->add_bin(static_cast<int>(b), v - out.counts_[b], 0.0);
      }
      out.counts_[b] = v;
      group += v;
      mask |= static_cast<std::uint64_t>(v != 0) << k;
    }
    out.group_counts_[gi] = group;
    out.masks_[gi] = mask;
    total += group;
  }
  out.count_ = total;
  out.sum_ = sum;
}

}  // namespace backout
