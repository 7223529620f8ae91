// A sample as collectors deliver it and windows store it: one value of one series of one
// source at one time.
// Plain value types; thread-safe to share.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "backout/core/time.h"

namespace backout {

struct Label {
  std::string name;
  std::string value;
  bool operator==(const Label&) const = default;
};

/// Labels of a series, in the order given (matching does not depend on order).
using Labels = std::vector<Label>;

/// `source.metric{labels}` = value at `at`. For a scraped counter the value is cumulative; for a
/// probe the series are `up` (1/0), `duration` (seconds) and, for postgres, `value`.
struct Sample {
  std::string source;
  std::string metric;
  Labels labels;
  double value = 0;
  TimePoint at;
};

/// The largest increase one counter sample may bring (a scraped or pushed counter, a StatsD
/// `|c`): far above any real rate (a million events a second for 11 days), and low enough that
/// a window's sums stay exact integers in a double. Larger increases are refused and counted:
/// one sample of 1e308 would make a running sum infinite, and inf - inf is NaN for the night.
inline constexpr double kMaxCounterIncrease = 1e12;

/// Canonical key of a series' labels: `a="1",b="2"` sorted by name (for per-series state).
std::string labels_key(const Labels& labels);

}  // namespace backout
