// Matches series against a measure's selector: metric name plus label matchers (`=`, `!=`, `=~`,
// `!~`, regexes anchored as in PromQL). Immutable after construction; thread-safe.
#pragma once

#include <regex>
#include <string>
#include <vector>

#include "backout/rules/measure.h"
#include "backout/core/sample.h"

namespace backout::rules {

class SeriesMatcher {
 public:
  /// `selector` comes from a validated plan: its regexes compile.
  explicit SeriesMatcher(const SeriesSelector& selector);

  const std::string& source() const { return source_; }
  const std::string& metric() const { return metric_; }

  /// Whether a series of this source with this metric name and labels is selected. A matcher on
  /// a label the series does not have compares against the empty string (as PromQL does). A
  /// label value longer than kMaxRegexInput bytes is never selected by a regex matcher.
  bool matches(const std::string& metric, const Labels& labels) const;

  static constexpr std::size_t kMaxRegexInput = 256;

 private:
  struct Compiled {
    std::string name;
    MatchOp op;
    std::string value;
    std::regex re;
  };
  std::string source_;
  std::string metric_;
  std::vector<Compiled> matchers_;
};

}  // namespace backout::rules
