#include "backout/core/recorder.h"

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

void HistogramRecorder::cumulative(Histogram& out) const {
  // The first shard in use overwrites every bin of `out` and its index, so `out` needs no clearing
  // pass (which would touch each of its non-empty bins once more); later shards add to it. The
  // evaluator harvests every latency series each tick, so this loop is the largest part of a tick.
  auto read_shard = [&out](Shard& s, auto first) {
    // One pass per shard, keeping out's index (group counts, masks, count) as it goes.
    for (int g = 0; g < Histogram::kGroups; ++g) {
      int first_bin = Histogram::first_bin(g);
      int size = g == 0 || g == Histogram::kGroups - 1 ? 1 : LogLinearBins::kSubBins;
      std::uint64_t group = 0;
      std::uint64_t mask = 0;
      for (int k = 0; k < size; ++k) {
        auto b = static_cast<std::size_t>(first_bin + k);
        std::uint64_t v = std::atomic_ref<std::uint64_t>(s.bins[b]).load(std::memory_order_relaxed);
        if constexpr (decltype(first)::value) {
          out.counts_[b] = v;
        } else {
          out.counts_[b] += v;
        }
        group += v;
        mask |= static_cast<std::uint64_t>(v != 0) << k;
      }
      auto gi = static_cast<std::size_t>(g);
      if constexpr (decltype(first)::value) {
        out.group_counts_[gi] = group;
        out.masks_[gi] = mask;
      } else {
        out.group_counts_[gi] += group;
        out.masks_[gi] |= mask;
      }
      out.count_ += group;
    }
  };
  bool any = false;
  double sum = 0;
  for (std::size_t i = 0; i < kShardCount; ++i) {
    Shard& s = shards_[i];
    // A shard nobody has recorded into is skipped (and its pages stay untouched). Skipping is safe
    // even if the first record is in flight: the bins are read again at the next call.
    if (std::atomic_ref<std::uint64_t>(s.count).load(std::memory_order_relaxed) == 0) {
      continue;
    }
    sum += std::atomic_ref<double>(s.sum).load(std::memory_order_relaxed);
    if (!any) {
      out.count_ = 0;
      read_shard(s, std::true_type{});
      any = true;
    } else {
      read_shard(s, std::false_type{});
    }
  }
  if (!any) {
    out.clear();
  }
  out.sum_ = sum;
}

}  // namespace backout
