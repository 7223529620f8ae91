#include "backout/rules/severity.h"

namespace backout::rules {

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::kMinor:
      return "minor";
    case Severity::kDiscretionary:
      return "discretionary";
    case Severity::kMajor:
      return "major";
    case Severity::kCritical:
      return "critical";
  }
  return "unknown";
}

std::optional<Severity> parse_severity(std::string_view s) {
  if (s == "critical") {
    return Severity::kCritical;
  }
  if (s == "major") {
    return Severity::kMajor;
  }
  if (s == "minor") {
    return Severity::kMinor;
  }
  if (s == "discretionary") {
    return Severity::kDiscretionary;
  }
  return std::nullopt;
}

}  // namespace backout::rules
