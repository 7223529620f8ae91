#include "backout/rules/measure.h"

#include "backout/core/text.h"

namespace backout::rules {

std::string SeriesSelector::text() const {
  std::string out = source + "." + metric;
  if (!matchers.empty()) {
    out += "{";
    for (std::size_t i = 0; i < matchers.size(); ++i) {
      const LabelMatcher& m = matchers[i];
      if (i > 0) {
        out += ",";
      }
      out += m.name;
      switch (m.op) {
        case MatchOp::kEqual:
          out += "=";
          break;
        case MatchOp::kNotEqual:
          out += "!=";
          break;
        case MatchOp::kRegex:
          out += "=~";
          break;
        case MatchOp::kNotRegex:
          out += "!~";
          break;
      }
      out += quoted_printable(m.value);  // the parser reads it back byte for byte
    }
    out += "}";
  }
  return out;
}

std::string Measure::text() const {
  std::string out = function + "(";
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i > 0) {
      out += ", ";
    }
    const bool bare_value = kind == MeasureKind::kValue && args[i].metric == "value" &&
                            args[i].matchers.empty();
    if (kind == MeasureKind::kFailures || kind == MeasureKind::kAvailability || bare_value) {
      out += args[i].source;
    } else {
      out += args[i].text();
    }
  }
  return out + ")";
}

SeriesRole Measure::role() const {
  switch (kind) {
    case MeasureKind::kRatio:
    case MeasureKind::kRate:
    case MeasureKind::kIncrease:
      return SeriesRole::kCounter;
    case MeasureKind::kQuantile:
    case MeasureKind::kMean:
    case MeasureKind::kMax:
      return SeriesRole::kObservation;
    case MeasureKind::kFailures:
    case MeasureKind::kAvailability:
      return SeriesRole::kProbeUp;
    case MeasureKind::kValue:
      return SeriesRole::kGauge;
  }
  return SeriesRole::kGauge;
}

std::string_view measure_unit(MeasureKind kind) {
  switch (kind) {
    case MeasureKind::kRatio:
    case MeasureKind::kAvailability:
      return "%";
    case MeasureKind::kQuantile:
    case MeasureKind::kMean:
    case MeasureKind::kMax:
      return "s";
    case MeasureKind::kRate:
      return "/s";
    case MeasureKind::kIncrease:
    case MeasureKind::kFailures:
    case MeasureKind::kValue:
      return "";
  }
  return "";
}

std::string format_measure_value(const Measure& m, double value) {
  if (m.is_fraction()) {
    return format_percent(value);
  }
  if (m.is_latency()) {
    if (value < 1 && value > 0) {
      return format_number(value * 1000, 3) + "ms";
    }
    return format_number(value, 3) + "s";
  }
  if (m.kind == MeasureKind::kRate) {
    return format_number(value, 4) + "/s";
  }
  return format_number(value, 6);
}

}  // namespace backout::rules
