// The measure language of a trigger: what is computed over the trigger's window.
// Pure value types; thread-safe to share once built.
//
//   ratio(A, B)          increase of counter A over increase of counter B in the window
//   rate(A)              per-second increase of counter A
//   increase(A)          increase of counter A
//   pNN(S)               NN-th percentile of the observations of S (p95, p99.9)
//   mean(S), max(S)      mean and maximum of the observations of S
//   failures(SRC)        number of failed probes of source SRC
//   availability(SRC)    share of successful probes of SRC
//   value(S)             latest value of gauge S; value(SRC) means value(SRC.value)
//
// A series is `source.metric` with optional label matchers `{code=~"5..", method!="GET"}`;
// `=`, `!=`, `=~`, `!~`, regexes anchored as in PromQL. All series matching a selector are
// summed (counters) or merged (observations).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace backout::rules {

enum class MatchOp { kEqual, kNotEqual, kRegex, kNotRegex };

struct LabelMatcher {
  std::string name;
  MatchOp op = MatchOp::kEqual;
  std::string value;
  std::size_t pos = 0;  // offset of the matcher in the measure text, for messages

  bool operator==(const LabelMatcher& o) const {
    return name == o.name && op == o.op && value == o.value;
  }
};

/// `source.metric{matchers}`; `pos`/`metric_pos` are offsets in the measure text.
struct SeriesSelector {
  std::string source;
  std::string metric;
  std::vector<LabelMatcher> matchers;
  std::size_t pos = 0;
  std::size_t metric_pos = 0;

  /// Canonical text: `portal.http_requests_total{code=~"5.."}`.
  std::string text() const;
  bool operator==(const SeriesSelector& o) const {
    return source == o.source && metric == o.metric && matchers == o.matchers;
  }
};

enum class MeasureKind {
  kRatio,
  kRate,
  kIncrease,
  kQuantile,
  kMean,
  kMax,
  kFailures,
  kAvailability,
  kValue,
};

/// How the series a measure reads must be fed: counters give their increases, observations
/// are individual samples (latencies), probe outcomes are 1 (up) / 0 (down), gauges keep their
/// latest value.
enum class SeriesRole { kCounter, kObservation, kProbeUp, kGauge };

struct Measure {
  MeasureKind kind = MeasureKind::kValue;
  std::vector<SeriesSelector> args;  // ratio: 2; otherwise 1 (failures/availability: SRC.up)
  double quantile = 0;               // for kQuantile: 0.95 for p95
  std::string function;              // as written: "ratio", "p95", ...

  bool operator==(const Measure&) const = default;

  /// Canonical text, e.g. `p95(api.duration)`.
  std::string text() const;
  SeriesRole role() const;
  /// Whether the measure counts observations (so `min_count` means something).
  bool has_count() const { return kind != MeasureKind::kValue; }
  /// Whether the measure is a share in [0, 1] (thresholds are percentages).
  bool is_fraction() const {
    return kind == MeasureKind::kRatio || kind == MeasureKind::kAvailability;
  }
  /// Whether the measure is a duration in seconds (thresholds carry a time unit).
  bool is_latency() const {
    return kind == MeasureKind::kQuantile || kind == MeasureKind::kMean ||
           kind == MeasureKind::kMax;
  }
  /// Whether early detection (the CUSUM of DESIGN section 5) can run on it by default.
  bool early_eligible() const {
    return kind == MeasureKind::kRatio || kind == MeasureKind::kAvailability ||
           kind == MeasureKind::kQuantile;
  }
};

/// Human unit of the measure's value: "%", "s", "/s" or "".
std::string_view measure_unit(MeasureKind kind);

/// Formats a measured value in the measure's unit: `7.1%`, `2.3s`, `12.5/s`, `3`.
std::string format_measure_value(const Measure& m, double value);

}  // namespace backout::rules
