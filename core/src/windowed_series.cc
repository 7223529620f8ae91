#include "backout/core/windowed_series.h"

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
  window_.add(harvest_time(window_, now), delta.sum, delta.count);
  return delta;
}

WindowedHistogram::WindowedHistogram(Duration over) : window_(over) {}

const Histogram& WindowedHistogram::harvest(TimePoint now) {
  recorder_.cumulative(current_);
  // Every bin of the cumulative histogram only grows (see recorder.h), so the difference is a
  // histogram; it is built from the non-empty bins of current_ only.
  delta_.clear();
  // Equal counts mean equal bins (each bin only grows, and the count is the bins' total), so the
  // walk over the bins is skipped when nothing was observed: most ticks of a probe's series.
  if (current_.count() != harvested_.count()) {
    current_.for_each_bin([this](int bin, std::uint64_t count) {
      std::uint64_t before = harvested_.bin_count(bin);
      if (count > before) {
        delta_.add_bin(bin, count - before, 0.0);
      }
    });
  }
  delta_.add_bin(0, 0, current_.sum() - harvested_.sum());
  std::swap(harvested_, current_);
  window_.add(harvest_time(window_, now), delta_);
  return delta_;
}

}  // namespace backout
