#include "backout/rules/series_matcher.h"

#include <algorithm>

namespace backout::rules {

SeriesMatcher::SeriesMatcher(const SeriesSelector& selector)
    : source_(selector.source), metric_(selector.metric) {
  for (const LabelMatcher& m : selector.matchers) {
    Compiled c{m.name, m.op, m.value, {}};
    if (m.op == MatchOp::kRegex || m.op == MatchOp::kNotRegex) {
      c.re = std::regex(m.value, std::regex::ECMAScript | std::regex::optimize);
    }
    matchers_.push_back(std::move(c));
  }
}

bool SeriesMatcher::matches(const std::string& metric, const Labels& labels) const {
  if (metric != metric_) {
    return false;
  }
  for (const Compiled& m : matchers_) {
    const std::string* value = nullptr;
    static const std::string kEmpty;
    for (const Label& l : labels) {
      if (l.name == m.name) {
        value = &l.value;
        break;
      }
    }
    const std::string& v = value != nullptr ? *value : kEmpty;
    bool ok = false;
    switch (m.op) {
      case MatchOp::kEqual:
        ok = v == m.value;
        break;
      case MatchOp::kNotEqual:
        ok = v != m.value;
        break;
      case MatchOp::kRegex:
      case MatchOp::kNotRegex:
        // std::regex recurses per character: a huge scraped label value could exhaust the
        // stack. Such a series is not selected by any regex matcher.
        if (v.size() > kMaxRegexInput) {
          return false;
        }
        ok = std::regex_match(v, m.re) == (m.op == MatchOp::kRegex);
        break;
    }
    if (!ok) {
      return false;
    }
  }
  return true;
}

}  // namespace backout::rules
