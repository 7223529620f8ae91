// Sliding windows over time: the reader side of the windows (DESIGN section 2, "windows"). A ring
// of time buckets with a running total. Not thread-safe: one owner, the evaluator, which feeds them
// from the lock-free recorders (recorder.h, windowed_series.h). Time is always a parameter; nothing
// here reads a clock.
//
// Contract (both windows; `over` is the window length, `w` the bucket width):
//   w = max(over / 60, 100 ms); bucket e covers [e·w, (e+1)·w), e = floor(t / w) (Unix time).
//   At `now`, a bucket is inside the window when its start is in [now - over, now] (closed at now:
//   the bucket holding now, where a harvest at now lands, must count at now):
//     first(now) = the smallest e with e·w >= now - over,   last(now) = floor(now / w).
//   So data at t counts while now - over <= start of t's bucket; the span covered, from the first
//   bucket's start to now, is between over - w (exclusive) and over (inclusive). The ring holds
//   floor(over / w) + 1 buckets (61 for 5 m), enough for first..last at any now.
//
// Worked example, over = 5 m (w = 5 s, 61 buckets):
//   now = 12:00:02.5 -> now - over = 11:55:02.5 -> buckets 11:55:05 .. 12:00:00 (60 of them):
//     data stamped 11:55:05.0 .. 12:00:02.5 counts (297.5 s); data at 11:55:04.9 does not.
//   now = 12:00:05.0 -> now - over = 11:55:05 exactly -> buckets 11:55:05 .. 12:00:05 (61):
//     data at 11:55:05.0 still counts (300 s covered); at now = 12:00:05.000000001 it falls out.
//   A harvest at now goes into now's own bucket, which is always inside the window at now.
//
// Rotation. Each bucket is stamped with its epoch e and lives in slot e mod ring_size. The window
// keeps a clock, `newest`: the latest time passed to a mutating call (add; and totals for
// HistogramWindow, which expires lazily). When the clock moves forward, the buckets that fell out
// (e < first(new clock)) are subtracted from the running total and reset: at most ring_size of
// them, however long the gap, so a gap longer than the whole ring costs the same as one ring and
// leaves the window empty. Counts in the running total are exact (integers, add and subtract); the
// running sum is recomputed from the live buckets' sums whenever buckets expire, so floating-point
// residue never builds up (an emptied window sums to exactly 0, not 1e-17).
//
// Time going backwards:
//   - add(t) with t <= newest (out of order, a late scrape): into t's bucket when that bucket is
//     still inside the window at newest; otherwise dropped, and counted in dropped().
//   - a read at now < newest reads the window at newest: the clock never runs backwards, so a
//     clock step back neither un-counts recent data nor brings back expired buckets.
//   - a first add far in the future sets the clock there: later adds at the real time are then
//     dropped as too old until the real time catches up. Callers feed one clock (the evaluator's
//     `now`); WindowedCounter/WindowedHistogram harvest at max(now, newest) so that nothing
//     recorded is ever dropped.
//
// A wall-clock step (shift). When the caller learns that its clock was stepped by d (the agent's
// clock guard: an NTP step, an operator's `date -s`), shift(d) moves the bucket grid and the clock
// with it: bucket e then covers [origin + e·w, origin + (e+1)·w) with origin += d, and the window
// at now + d holds exactly what it held at now. Nothing expires and nothing comes back because of
// the step: durations run on the time that really passed (issue 14, defect 4). O(1).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "backout/core/log_linear_histogram.h"
#include "backout/core/recorder.h"
#include "backout/core/time.h"

namespace backout {

/// The bucket arithmetic of the contract above, shared by both windows. Pure value type,
/// thread-safe; time enters only as parameters. Epochs are floor divisions, also before 1970.
class WindowBuckets {
 public:
  static constexpr std::int64_t kNoEpoch = std::numeric_limits<std::int64_t>::min();

  /// `over` <= 0 is taken as 0 (a window of at most one bucket, usually empty).
  explicit WindowBuckets(Duration over);

  Duration over() const { return over_; }
  Duration width() const { return width_; }
  /// floor(over / width) + 1, at most 61.
  int ring_size() const { return ring_size_; }

  /// floor((t - origin) / width); the origin is 0 (Unix time) until shift().
  std::int64_t epoch(TimePoint t) const;
  /// The first bucket inside the window at now: the smallest e with e·width >= now - over.
  std::int64_t first_epoch(TimePoint now) const;
  /// The last bucket inside the window at now: epoch(now).
  std::int64_t last_epoch(TimePoint now) const { return epoch(now); }
  /// The ring slot of bucket e: e mod ring_size (non-negative).
  std::size_t slot(std::int64_t epoch) const;
  TimePoint start(std::int64_t epoch) const { return TimePoint(origin_ + width_ * epoch); }
  /// Moves the grid by d (see "A wall-clock step" above).
  void shift(Duration d) { origin_ += d; }
  Duration origin() const { return origin_; }

 private:
  Duration over_;
  Duration origin_{0};
  Duration width_;
  int ring_size_;
};

/// A window's clock (see "Rotation" above), shared by both windows: the newest time seen and the
/// first bucket inside the window at that time.
class WindowClock {
 public:
  /// Moves the clock to `t` when it is later (or on the first call) and calls expire(e) for each
  /// bucket epoch e that left the window, oldest first. At most ring_size epochs however long
  /// the gap: a gap longer than the ring walks one whole ring, which visits every slot once.
  template <typename Expire>
  void advance(const WindowBuckets& buckets, TimePoint t, Expire&& expire) {
    if (!started_) {
      started_ = true;
      newest_ = t;
      first_ = buckets.first_epoch(t);
      return;
    }
    if (t <= newest_) {
      return;
    }
    const std::int64_t first = buckets.first_epoch(t);  // >= first_: t > newest_
    const std::int64_t stop = std::min(first, first_ + buckets.ring_size());
    for (std::int64_t e = first_; e < stop; ++e) {
      expire(e);
    }
    first_ = first;
    newest_ = t;
  }

  /// Moves the clock by d with the grid (WindowBuckets::shift); first() is unchanged.
  void shift(Duration d) {
    if (started_) {
      newest_ += d;
    }
  }

  bool started() const { return started_; }
  /// The clock; meaningful once started().
  TimePoint newest() const { return newest_; }
  /// first_epoch(newest()).
  std::int64_t first() const { return first_; }

 private:
  bool started_ = false;
  TimePoint newest_{};
  std::int64_t first_ = 0;
};

/// A sliding window of sums and counts (the reader side of a counter). Not thread-safe (owned by
/// the evaluator); time semantics: see the contract at the top of this file. 61 buckets × 24 bytes.
class CounterWindow {
 public:
  explicit CounterWindow(Duration over);

  Duration over() const { return buckets_.over(); }
  Duration bucket_width() const { return buckets_.width(); }
  int bucket_count() const { return buckets_.ring_size(); }

  /// Into t's bucket (advancing the clock to t if t is later); dropped (and counted in dropped())
  /// if t's bucket is already outside the window at the newest time seen. O(1), plus O(expired
  /// buckets) when the clock moves into a new bucket.
  void add(TimePoint t, double sum, std::uint64_t count);
  /// The buckets inside the window at max(now, newest). Does not move the clock. O(1) when the
  /// window at now starts where it did at the last add (the evaluator adds and reads at the same
  /// now); else O(buckets).
  CounterRecorder::Totals totals(TimePoint now) const;
  /// The caller's clock was stepped by d: the window at t + d is the window at t (see above).
  void shift(Duration d) {
    buckets_.shift(d);
    clock_.shift(d);
  }

  /// The window's clock: the latest time passed to add(); nullopt before the first add.
  std::optional<TimePoint> newest() const;
  /// Counts dropped because their bucket was already outside the window.
  std::uint64_t dropped() const { return dropped_; }
  /// Heap and object bytes.
  std::size_t memory_bytes() const;

 private:
  struct Slot {
    std::int64_t epoch = WindowBuckets::kNoEpoch;
    double sum = 0;
    std::uint64_t count = 0;
  };

  void advance(TimePoint t);

  WindowBuckets buckets_;
  std::vector<Slot> slots_;
  WindowClock clock_;
  double sum_ = 0;  // running total of the live buckets
  std::uint64_t count_ = 0;
  std::uint64_t dropped_ = 0;
};

/// A sliding window of latency histograms (the reader side of a latency series). Not thread-safe
/// (owned by the evaluator); time semantics: see the contract at the top of this file, and
/// totals() moves the clock (it expires lazily).
///
/// Memory: the buckets are sparse, a sorted list of (bin, count) pairs of 8 bytes each, and only
/// the running total is a dense Histogram (16.4 KiB of counts plus a 0.5 KiB index). A 5-minute
/// window fed by a probe every 2-5 s (1-3 observations per 5 s bucket) costs about 20 KiB (20,520
/// bytes measured by sliding_window_test): the running total ~17 KiB, 61 slots × 40 bytes, and one
/// small entry list per live bucket. A busy series costs about 8 bytes × distinct bins per bucket
/// × 61 more: 143 KiB measured with 250 observations per 5 s bucket, 562 distinct bins in the
/// window (window_bench). memory_bytes() reports it.
///
/// Reads: quantile(), max(), count_above() on the running total skip empty octaves (a p99 of a
/// full window in ~30 ns, see bench/README.md).
class HistogramWindow {
 public:
  explicit HistogramWindow(Duration over);

  Duration over() const { return buckets_.over(); }
  Duration bucket_width() const { return buckets_.width(); }
  int bucket_count() const { return buckets_.ring_size(); }

  /// Into t's bucket, like CounterWindow::add. O(non-empty bins of delta + entries of t's bucket).
  void add(TimePoint t, const Histogram& delta);
  /// Expires the buckets outside the window at max(now, newest) (moving the clock to now if
  /// later), then returns the running total. The reference stays valid until the next call.
  const Histogram& totals(TimePoint now);
  /// The caller's clock was stepped by d, like CounterWindow::shift.
  void shift(Duration d) {
    buckets_.shift(d);
    clock_.shift(d);
  }

  /// The window's clock: the latest time passed to add() or totals(); nullopt before either.
  std::optional<TimePoint> newest() const;
  /// Observations dropped because their bucket was already outside the window.
  std::uint64_t dropped() const { return dropped_; }
  /// Heap and object bytes (capacities, not sizes).
  std::size_t memory_bytes() const;

 private:
  struct Entry {
    std::uint32_t bin;
    std::uint32_t count;
  };
  struct Slot {
    std::int64_t epoch = WindowBuckets::kNoEpoch;
    double sum = 0;
    std::vector<Entry> entries;  // sorted by bin
  };

  void advance(TimePoint t);
  void expire(Slot& slot);
  void merge_into(Slot& slot, const Histogram& delta);

  WindowBuckets buckets_;
  std::vector<Slot> slots_;
  Histogram running_;
  std::vector<Entry> scratch_;
  WindowClock clock_;
  std::uint64_t dropped_ = 0;
};

}  // namespace backout
