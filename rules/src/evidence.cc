#include "backout/rules/evidence.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "backout/core/text.h"

namespace backout::rules {
namespace {

/// "7.1% over 5m", "p95 709ms over 5m", "3 failed checks over 1m", "latest value 124500".
/// `window` is " over " and the window length.
std::string describe_reading(const Measure& m, std::optional<double> v, const std::string& window) {
  if (!v) {
    return m.kind == MeasureKind::kValue ? "no recent value" : "no data" + window;
  }
  switch (m.kind) {
    case MeasureKind::kFailures:
      return format_number(*v) + (*v == 1 ? " failed check" : " failed checks") + window;
    case MeasureKind::kAvailability:
      return "availability " + format_measure_value(m, *v) + window;
    case MeasureKind::kIncrease:
      return "+" + format_measure_value(m, *v) + window;
    case MeasureKind::kQuantile:
    case MeasureKind::kMean:
    case MeasureKind::kMax:
      return m.function + " " + format_measure_value(m, *v) + window;
    case MeasureKind::kValue:
      return "latest value " + format_measure_value(m, *v);
    case MeasureKind::kRatio:
    case MeasureKind::kRate:
      break;
  }
  return format_measure_value(m, *v) + window;
}

std::string share_text(double bad, double total) {
  return format_number(bad, 6) + " of " + format_number(total, 6);
}

}  // namespace

Evidence::Evidence(const Trigger& trigger)
    : trigger_(&trigger),
      over_name_(format_duration(trigger.over)),
      over_text_(" over " + over_name_) {}

std::string Evidence::source_down(const std::string& source) {
  return "source '" + source + "' is down";
}

std::string Evidence::no_baseline(bool settled, Duration baseline) {
  return settled ? "no baseline: too little data in the " + format_duration(baseline) +
                       " before the window start"
                 : "baseline not captured yet (it is taken at the window start)";
}

std::string Evidence::too_few_observations(std::uint64_t count) const {
  return std::to_string(count) + " observations in the last " + over_name_ +
         ", fewer than min_count " + std::to_string(trigger_->min_count);
}

std::string Evidence::no_data() const {
  return trigger_->measure.kind == MeasureKind::kValue ? "no value in the last " + over_name_
                                                       : "no data in the last " + over_name_;
}

void Evidence::write(std::size_t shown, bool average_met, bool early_met,
                     const BernoulliCusum* cusum, TimePoint now, TriggerStatus& st) {
  // The early sentence while early detection is what holds the trigger: it breached on the early
  // path, or the average alone would not have it pending or breached.
  const bool early_now =
      (st.state == TriggerState::kBreached || st.state == TriggerState::kPending) &&
      (st.path == DetectionPath::kEarly || (!average_met && early_met));
  if (early_now && cusum != nullptr && cusum->run_total() > 0) {
    st.evidence = early_text(*cusum, st, now);
  } else if (!st.reason.empty() && st.state == TriggerState::kInconclusive) {
    st.evidence = st.reason;
  } else {
    const std::string& thr = threshold_text(shown, st);
    // Built in place: the string keeps its capacity from tick to tick.
    st.evidence = describe_reading(trigger_->measure, st.value, over_text_);
    st.evidence += " (threshold ";
    st.evidence += thr;
    st.evidence += ')';
  }
}

std::string Evidence::early_text(const BernoulliCusum& cusum, const TriggerStatus& st,
                                 TimePoint now) const {
  const Measure& m = trigger_->measure;
  const double share =
      static_cast<double>(cusum.run_bad()) / static_cast<double>(cusum.run_total());
  const Duration run = cusum.run_start() ? now - *cusum.run_start() : Duration{0};
  const std::string what = m.kind == MeasureKind::kQuantile
                               ? " of observations above " + format_measure_value(m, *st.threshold)
                           : m.kind == MeasureKind::kAvailability ? " of probes failing"
                                                                  : "";
  return "~" + format_percent(share) + what + " over the last " +
         format_span(std::max<Duration>(run, std::chrono::milliseconds{100})) + " (" +
         share_text(static_cast<double>(cusum.run_bad()), static_cast<double>(cusum.run_total())) +
         "), above " + format_percent(cusum.p0()) + " with " +
         format_percent(1 - BernoulliCusum::kDefaultAlpha) + " confidence; " + over_name_ + " " +
         (m.kind == MeasureKind::kQuantile ? m.function : std::string("average")) + " " +
         (st.value ? format_measure_value(m, *st.value) : std::string("n/a"));
}

const std::string& Evidence::threshold_text(std::size_t shown, const TriggerStatus& st) {
  if (thr_level_ && *thr_level_ == shown && thr_threshold_ == st.threshold &&
      thr_baseline_ == st.baseline) {
    return thr_text_;
  }
  const Measure& m = trigger_->measure;
  const Condition& c = trigger_->levels[shown].condition;
  std::string thr =
      st.threshold ? std::string(to_string(c.op)) + " " + format_measure_value(m, *st.threshold)
                   : st.condition;
  if (c.relative && st.baseline) {
    if (c.factor == 1) {
      thr += ", the baseline";
    } else {
      std::string change = c.factor > 1 ? "+" : "-";
      thr += ", " + change + format_percent(std::fabs(c.factor - 1)) + " on the baseline " +
             format_measure_value(m, *st.baseline);
    }
  }
  thr_text_ = std::move(thr);
  thr_level_ = shown;
  thr_threshold_ = st.threshold;
  thr_baseline_ = st.baseline;
  return thr_text_;
}

}  // namespace backout::rules
