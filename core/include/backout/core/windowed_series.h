// A recorder and its window: the unit the rules read (DESIGN section 2, "windows", design (b)).
// Writers (collectors, any thread) record into recorder() without locks; the evaluator calls
// harvest(now) once per tick, which moves what was recorded since the previous harvest into the
// bucket of max(now, window clock), and then reads totals(now). recorder() is thread-safe; every
// other member belongs to the evaluator thread. Time is a parameter (sliding_window.h contract);
// a record has no time of its own: it lands in the bucket of the harvest that picks it up, so the
// window lags the writers by at most one tick.
//
// Worked example (over = 1 m, so 1 s buckets; ticks every second):
//   10:00:00.4  writer: recorder().add(1)      (cumulative: sum 1, count 1)
//   10:00:00.7  writer: recorder().add(1)      (cumulative: sum 2, count 2)
//   10:00:01.0  evaluator: harvest(10:00:01)   -> {2, 2} into bucket [10:00:01, 10:00:02)
//               totals(10:00:01)               -> {2, 2}
//   10:01:01.0  totals(10:01:01)               -> {2, 2}  (bucket start 10:00:01 >= now - 1 m)
//   10:01:01.1  totals(10:01:01.1)             -> {0, 0}
#pragma once

#include "backout/core/log_linear_histogram.h"
#include "backout/core/recorder.h"
#include "backout/core/sliding_window.h"
#include "backout/core/time.h"

namespace backout {

/// A counter series: CounterRecorder + CounterWindow. recorder() is thread-safe, the rest is for
/// the evaluator thread only; harvest time semantics above. Not copyable or movable (writers hold
/// a reference to the recorder): keep it in a stable place (std::unique_ptr, std::deque, a map).
class WindowedCounter {
 public:
  explicit WindowedCounter(Duration over);
  WindowedCounter(const WindowedCounter&) = delete;
  WindowedCounter& operator=(const WindowedCounter&) = delete;

  /// For writers, any thread.
  CounterRecorder& recorder() { return recorder_; }
  /// Evaluator: moves what was recorded since the last harvest into the bucket of
  /// max(now, newest) and returns that delta (the batch, e.g. for an early-detection update).
  CounterRecorder::Totals harvest(TimePoint now);
  /// Evaluator: the window's totals at now (what has been harvested).
  CounterRecorder::Totals totals(TimePoint now) const { return window_.totals(now); }
  /// Evaluator: the clock was stepped by d (CounterWindow::shift).
  void shift(Duration d) { window_.shift(d); }
  /// Evaluator: empties the window; what was recorded before the last harvest is not counted
  /// again (the recorder goes on; a trigger starting afresh, DESIGN section 9).
  void restart() { window_ = CounterWindow(window_.over()); }
  Duration over() const { return window_.over(); }

  const CounterWindow& window() const { return window_; }

 private:
  CounterRecorder recorder_;
  CounterRecorder::Totals harvested_;  // the recorder's cumulative totals at the last harvest
  CounterWindow window_;
};

/// A latency series: HistogramRecorder + HistogramWindow. recorder() is thread-safe, the rest is
/// for the evaluator thread only; harvest time semantics above. Not copyable or movable.
/// Memory: the recorder's reserved 145 KiB (resident: ~16.5 KiB per recording thread), three
/// working histograms (3 × 17 KiB) and the window (about 20 KiB for 5 m fed by a probe): about
/// 105 KiB resident with two recording threads.
class WindowedHistogram {
 public:
  explicit WindowedHistogram(Duration over);
  WindowedHistogram(const WindowedHistogram&) = delete;
  WindowedHistogram& operator=(const WindowedHistogram&) = delete;

  /// For writers, any thread.
  HistogramRecorder& recorder() { return recorder_; }
  /// Evaluator: moves what was observed since the last harvest into the bucket of
  /// max(now, newest) and returns that delta. The reference is valid until the next harvest.
  const Histogram& harvest(TimePoint now);
  /// Evaluator: the window's running total at now (see HistogramWindow::totals).
  const Histogram& totals(TimePoint now) { return window_.totals(now); }
  /// Evaluator: the clock was stepped by d (HistogramWindow::shift).
  void shift(Duration d) { window_.shift(d); }
  /// Evaluator: empties the window, like WindowedCounter::restart.
  void restart() { window_ = HistogramWindow(window_.over()); }
  Duration over() const { return window_.over(); }

  const HistogramWindow& window() const { return window_; }

 private:
  HistogramRecorder recorder_;
  Histogram harvested_;  // the recorder's cumulative histogram at the last harvest
  Histogram delta_;
  HistogramWindow window_;
};

}  // namespace backout
