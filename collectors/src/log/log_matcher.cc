#include "log/log_matcher.h"

#include <charconv>
#include <cmath>
#include <exception>
#include <optional>

#include "log/log_kind.h"

namespace backout::collectors {
namespace {

std::optional<double> parse_number(std::string_view text) {
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
  }
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

Result<LogMatcher> LogMatcher::compile(const std::map<std::string, std::string>& match) {
  LogMatcher m;
  for (const auto& [series, pattern] : match) {
    Entry e;
    e.series = series;
    try {
      e.regex.assign(pattern, boost::regex::ECMAScript);
    } catch (const std::exception& ex) {
      return Error{"regular expression of match entry '" + series +
                   "' does not compile: " + ex.what()};
    }
    for (const std::string& g : log_named_groups(pattern)) {
      const std::string s = log_series_for_group(g);
      e.groups.push_back({g, s, s == g ? 1.0 : 0.001});
    }
    m.entries_.push_back(std::move(e));
  }
  return m;
}

std::size_t LogMatcher::match(std::string_view line, const Observe& observe) {
  std::size_t malformed = 0;
  boost::cmatch found;
  for (Entry& e : entries_) {
    bool matched = false;
    try {
      matched = boost::regex_search(line.data(), line.data() + line.size(), found, e.regex);
    } catch (const std::exception&) {
      // Past Boost.Regex's complexity or memory limit: skip the line for this entry.
      ++malformed;
      continue;
    }
    if (!matched) {
      continue;
    }
    ++e.count;
    for (const Group& g : e.groups) {
      const auto& sub = found[g.name];
      if (!sub.matched) {
        continue;  // an optional group that did not take part
      }
      if (std::optional<double> v = parse_number(std::string_view(sub.first, sub.length()))) {
        observe(g.series, *v * g.scale);
      } else {
        ++malformed;
      }
    }
  }
  return malformed;
}

}  // namespace backout::collectors
