// The `when` language: a comparison against a fixed threshold or against the trigger's baseline.
// Pure value types; thread-safe to share.
//
//   "> 5%"    "<= 99.5%"    ">= 10s"   "> 250ms"   "> 0"   "< 50%"
//   "> +50% baseline"   (value > 1.5 x baseline)
//   "< -10% baseline"   (value < 0.9 x baseline)
//   "< baseline"        (value < baseline)
//   "> 2x baseline"     (value > 2 x baseline)
//
// Thresholds are kept in base units: a fraction for percentages (5% -> 0.05), seconds for
// durations (250ms -> 0.25).
#pragma once

#include <optional>
#include <string>

namespace backout::rules {

enum class Comparator { kGreater, kGreaterEqual, kLess, kLessEqual };

enum class ThresholdUnit { kNone, kPercent, kSeconds };

struct Condition {
  Comparator op = Comparator::kGreater;
  bool relative = false;   // against the baseline
  double value = 0;        // absolute threshold in base units
  double factor = 1;       // relative: threshold = factor x baseline
  ThresholdUnit unit = ThresholdUnit::kNone;
  std::string text;        // as written, trimmed

  bool operator==(const Condition&) const = default;

  /// The threshold in effect: `value`, or `factor x baseline` (nullopt without a baseline).
  std::optional<double> threshold(std::optional<double> baseline) const;
  /// Whether `v` satisfies the comparison against `threshold`.
  bool holds(double v, double threshold) const;
  /// True for `>`/`>=`: the condition is about the value going up.
  bool upward() const { return op == Comparator::kGreater || op == Comparator::kGreaterEqual; }
};

std::string_view to_string(Comparator op);

}  // namespace backout::rules
