#include "backout/core/sliding_window.h"

#include <algorithm>
#include <utility>

namespace backout {
namespace {

using namespace std::chrono_literals;

constexpr Duration kMinWidth = 100ms;
constexpr int kTargetBuckets = 60;

struct DivMod {
  std::int64_t q;
  std::int64_t r;  // 0 <= r < d
};

DivMod floor_divmod(std::int64_t n, std::int64_t d) {
  std::int64_t q = n / d;
  std::int64_t r = n % d;
  if (r < 0) {
    --q;
    r += d;
  }
  return {q, r};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// WindowBuckets

WindowBuckets::WindowBuckets(Duration over)
    : over_(std::max(over, Duration::zero())),
      width_(std::max(over_ / kTargetBuckets, kMinWidth)),
      ring_size_(static_cast<int>(over_ / width_) + 1) {}

std::int64_t WindowBuckets::epoch(TimePoint t) const {
  return floor_divmod((t.time_since_epoch() - origin_).count(), width_.count()).q;
}

std::int64_t WindowBuckets::first_epoch(TimePoint now) const {
  // now = q·w + r and over = a·w + b, so now - over = (q - a)·w + (r - b) with r - b in (-w, w):
  // the first start >= now - over is (q - a)·w when r <= b, else (q - a + 1)·w. No overflow even
  // near the ends of the time range.
  DivMod n = floor_divmod((now.time_since_epoch() - origin_).count(), width_.count());
  DivMod o = floor_divmod(over_.count(), width_.count());
  return n.q - o.q + (n.r > o.r ? 1 : 0);
}

std::size_t WindowBuckets::slot(std::int64_t epoch) const {
  return static_cast<std::size_t>(floor_divmod(epoch, ring_size_).r);
}

// ---------------------------------------------------------------------------------------------
// CounterWindow

CounterWindow::CounterWindow(Duration over)
    : buckets_(over), slots_(static_cast<std::size_t>(buckets_.ring_size())) {}

std::optional<TimePoint> CounterWindow::newest() const {
  return clock_.started() ? std::optional<TimePoint>(clock_.newest()) : std::nullopt;
}

void CounterWindow::advance(TimePoint t) {
  bool expired = false;
  clock_.advance(buckets_, t, [&](std::int64_t e) {
    Slot& s = slots_[buckets_.slot(e)];
    if (s.epoch == e) {
      count_ -= s.count;
      s = Slot{};
      expired = true;
    }
  });
  if (expired) {
    sum_ = 0;
    for (const Slot& s : slots_) {
      sum_ += s.sum;  // empty slots hold 0
    }
  }
}

void CounterWindow::add(TimePoint t, double sum, std::uint64_t count) {
  advance(t);
  std::int64_t e = buckets_.epoch(t);
  if (e < clock_.first()) {
    dropped_ += count;
    return;
  }
  Slot& s = slots_[buckets_.slot(e)];
  if (s.epoch != e) {
    // Every live bucket is in [clock_.first(), epoch(clock_.newest())], a span shorter than the
    // ring, so the slot of a live epoch can only hold that epoch or nothing.
    s = Slot{e, 0, 0};
  }
  s.sum += sum;
  s.count += count;
  sum_ += sum;
  count_ += count;
}

CounterRecorder::Totals CounterWindow::totals(TimePoint now) const {
  if (!clock_.started()) {
    return {};
  }
  std::int64_t first = buckets_.first_epoch(std::max(now, clock_.newest()));
  if (first <= clock_.first()) {
    return {sum_, count_};
  }
  CounterRecorder::Totals t;
  for (const Slot& s : slots_) {
    if (s.epoch != WindowBuckets::kNoEpoch && s.epoch >= first) {
      t.sum += s.sum;
      t.count += s.count;
    }
  }
  return t;
}

std::size_t CounterWindow::memory_bytes() const {
  return sizeof(*this) + slots_.capacity() * sizeof(Slot);
}

// ---------------------------------------------------------------------------------------------
// HistogramWindow

HistogramWindow::HistogramWindow(Duration over)
    : buckets_(over), slots_(static_cast<std::size_t>(buckets_.ring_size())) {}

std::optional<TimePoint> HistogramWindow::newest() const {
  return clock_.started() ? std::optional<TimePoint>(clock_.newest()) : std::nullopt;
}

void HistogramWindow::expire(Slot& slot) {
  for (const Entry& e : slot.entries) {
    running_.take_from_bin(static_cast<int>(e.bin), e.count);
  }
  slot.entries.clear();  // keeps the capacity for the slot's next bucket
  slot.epoch = WindowBuckets::kNoEpoch;
  slot.sum = 0;
}

void HistogramWindow::advance(TimePoint t) {
  bool expired = false;
  clock_.advance(buckets_, t, [&](std::int64_t e) {
    Slot& s = slots_[buckets_.slot(e)];
    if (s.epoch == e) {
      expire(s);
      expired = true;
    }
  });
  if (expired) {
    double sum = 0;
    for (const Slot& s : slots_) {
      sum += s.sum;
    }
    running_.sum_ = running_.count_ == 0 ? 0.0 : sum;
  }
}

void HistogramWindow::merge_into(Slot& slot, const Histogram& delta) {
  constexpr std::uint64_t kMaxEntry = std::numeric_limits<std::uint32_t>::max();
  auto push = [](std::vector<Entry>& out, int bin, std::uint64_t count) {
    while (count > kMaxEntry) {  // more than 4e9 in one bin of one bucket: split
      out.push_back({static_cast<std::uint32_t>(bin), static_cast<std::uint32_t>(kMaxEntry)});
      count -= kMaxEntry;
    }
    out.push_back({static_cast<std::uint32_t>(bin), static_cast<std::uint32_t>(count)});
  };
  if (slot.entries.empty()) {
    delta.for_each_bin([&](int b, std::uint64_t c) { push(slot.entries, b, c); });
    return;
  }
  // Merge two sorted lists into scratch_, then swap buffers.
  scratch_.clear();
  auto it = slot.entries.begin();
  auto end = slot.entries.end();
  delta.for_each_bin([&](int b, std::uint64_t c) {
    auto bin = static_cast<std::uint32_t>(b);
    while (it != end && it->bin < bin) {
      scratch_.push_back(*it++);
    }
    std::uint64_t total = c;
    while (it != end && it->bin == bin) {
      total += it->count;
      ++it;
    }
    push(scratch_, b, total);
  });
  scratch_.insert(scratch_.end(), it, end);
  std::swap(slot.entries, scratch_);
}

void HistogramWindow::add(TimePoint t, const Histogram& delta) {
  advance(t);
  if (delta.empty() && delta.sum() == 0) {
    return;
  }
  std::int64_t e = buckets_.epoch(t);
  if (e < clock_.first()) {
    dropped_ += delta.count();
    return;
  }
  Slot& s = slots_[buckets_.slot(e)];
  if (s.epoch != e) {
    s.entries.clear();  // empty already: see CounterWindow::add
    s.epoch = e;
    s.sum = 0;
  }
  merge_into(s, delta);
  s.sum += delta.sum();
  running_.merge(delta);
}

const Histogram& HistogramWindow::totals(TimePoint now) {
  advance(now);
  return running_;
}

std::size_t HistogramWindow::memory_bytes() const {
  std::size_t bytes = sizeof(*this) + slots_.capacity() * sizeof(Slot) +
                      scratch_.capacity() * sizeof(Entry) +
                      static_cast<std::size_t>(LogLinearBins::kBins) * sizeof(std::uint64_t);
  for (const Slot& s : slots_) {
    bytes += s.entries.capacity() * sizeof(Entry);
  }
  return bytes;
}

}  // namespace backout
