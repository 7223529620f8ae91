#include "backout/core/windowed_series.h"

#include <cmath>

#include <algorithm>

namespace backout {
namespace {

template <typename Window>
TimePoint harvest_time(const Window& window, TimePoint now) {
  std::optional<TimePoint> newest = window.newest();
  return newest ? std::max(now, *newest) : now;
}

}  // namespace

WindowedCounter::WindowedCounter(Duration over) : window_(over) {}

CounterRecorder::Totals WindowedCounter::harvest(TimePoint now) {
  CounterRecorder::Totals now_total = recorder_.cumulative();
  CounterRecorder::Totals delta{now_total.sum - harvested_.sum, now_total.count - harvested_.count};
  harvested_ = now_total;
  if (!std::isfinite(delta.sum)) {
    // A recorder whose total overflowed (the router refuses what would do it; this is the last
    // guard): inf - inf is NaN, and a NaN in the window's running sum would blind it for the
    // whole window. The counts stay; the sum of this batch is lost.
    delta.sum = 0;
  }
  window_.add(harvest_time(window_, now), delta.sum, delta.count);
  return delta;
}

WindowedHistogram::WindowedHistogram(Duration over) : window_(over) {}

const Histogram& WindowedHistogram::harvest(TimePoint now) {
  // The growth of each bin since the last harvest is the delta (bins only grow, see
  // recorder.h); advance() reads again only the octaves that moved, none on most ticks of a
  // probe's series.
  delta_.clear();
  const double sum_before = harvested_.sum();
  recorder_.advance(harvested_, &delta_);
  delta_.add_bin(0, 0, harvested_.sum() - sum_before);
  window_.add(harvest_time(window_, now), delta_);
  return delta_;
}

}  // namespace backout
