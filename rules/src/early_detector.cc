#include "backout/rules/early_detector.h"

#include <algorithm>

namespace backout::rules {
namespace {

/// The share of bad outcomes early detection watches for a level, given its threshold.
std::optional<double> early_p0(const Measure& m, const Condition& c, double threshold) {
  double p0 = 0;
  if (m.kind == MeasureKind::kQuantile) {
    p0 = 1 - m.quantile;
  } else if (m.kind == MeasureKind::kRatio || m.kind == MeasureKind::kAvailability) {
    p0 = c.upward() ? threshold : 1 - threshold;
  } else {
    return std::nullopt;
  }
  if (!(p0 > 0 && p0 < 1)) {
    return std::nullopt;  // "> 0%" or "< 100%": any single bad outcome is the signal already
  }
  return p0;
}

}  // namespace

double expected_observations(double rate_per_second, Duration window_length) {
  return rate_per_second * to_seconds(window_length);
}

EarlyDetector::EarlyDetector(const Trigger& trigger, Duration window_length)
    : trigger_(&trigger), window_length_(window_length), levels_(trigger.levels.size()) {}

std::pair<std::uint64_t, std::uint64_t> EarlyDetector::outcomes(const Batch& batch,
                                                                const Condition& c,
                                                                double threshold) const {
  if (trigger_->measure.kind == MeasureKind::kQuantile) {
    if (batch.histogram == nullptr) {
      return {0, 0};
    }
    return {batch.histogram->count_above(threshold), batch.histogram->count()};
  }
  // The measure is the counted share: bad when it goes the way the condition watches.
  const std::uint64_t counted = std::min(batch.counted, batch.total);
  return {c.upward() ? counted : batch.total - counted, batch.total};
}

void EarlyDetector::step(const Batch& batch, const std::vector<std::optional<double>>& thresholds,
                         const std::vector<bool>& average_met, TimePoint now,
                         std::vector<bool>& early_met) {
  const Trigger& t = *trigger_;
  early_met.assign(levels_.size(), false);
  if (!t.early.enabled) {
    return;
  }
  for (std::size_t l = 0; l < levels_.size(); ++l) {
    const Condition& c = t.levels[l].condition;
    if (!thresholds[l]) {
      continue;
    }
    const double threshold = *thresholds[l];
    std::optional<double> p0 = early_p0(t.measure, c, threshold);
    if (!p0) {
      continue;
    }
    Level& level = levels_[l];
    if (!level.cusum) {
      level.cusum.emplace(*p0, t.early.shift);
      level.threshold = threshold;
    } else if (level.threshold != threshold) {
      level.cusum->set_p0(*p0);
      level.threshold = threshold;
      level.latched = false;
    }
    BernoulliCusum& cusum = *level.cusum;
    const double expected = expected_observations(batch.rate, window_length_);
    if (!(level.alarm_expected == expected && level.alarm_p0 == cusum.p0())) {
      level.alarm_h = cusum.alarm_level_for(expected);
      level.alarm_expected = expected;
      level.alarm_p0 = cusum.p0();
    }
    cusum.set_alarm_level(level.alarm_h);
    const auto [bad, total] = outcomes(batch, c, threshold);
    cusum.update(bad, total, now);
    if (level.latched) {
      level.latched = !(cusum.at_zero() && !average_met[l]);
    } else {
      level.latched = cusum.alarmed();
    }
    early_met[l] = level.latched;
  }
}

const BernoulliCusum* EarlyDetector::cusum(std::size_t level) const {
  return level < levels_.size() && levels_[level].cusum ? &*levels_[level].cusum : nullptr;
}

void EarlyDetector::shift(Duration d) {
  for (Level& level : levels_) {
    if (level.cusum) {
      level.cusum->shift(d);
    }
  }
}

void EarlyDetector::continue_from(const EarlyDetector& previous) { levels_ = previous.levels_; }

}  // namespace backout::rules
