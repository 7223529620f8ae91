// The `match` entries of a log source, compiled: each counts the lines it matches (cumulative,
// like a Prometheus counter) and turns its numeric named groups into observations (`x_ms` -> `x`
// in seconds). Pure: no I/O, no clock. Thread-compatible (one caller at a time; match() updates
// the counts).
//
// Boost.Regex rather than std::regex, on purpose: libstdc++'s std::regex recurses once per
// character, so `.*error.*` on a 30 KiB line overflows an 8 MiB stack and kills the process, and
// it backtracks without bound. Boost.Regex keeps its backtracking state on the heap, gives up
// with an exception past a complexity limit (the line then counts as malformed), and reads the
// `(?<name>...)` groups of the plan natively. Its ECMAScript syntax is the Perl one, a superset
// of what the plan loader accepts.
#pragma once

#include <boost/regex.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "backout/core/result.h"

namespace backout::collectors {

class LogMatcher {
 public:
  /// One named group of an entry's regex.
  struct Group {
    std::string name;    // as written: `latency_ms`
    std::string series;  // `latency`
    double scale = 1;    // 0.001 for `_ms` groups
  };
  struct Entry {
    std::string series;  // the key in `match`
    boost::regex regex;
    std::vector<Group> groups;
    std::uint64_t count = 0;  // lines matched so far
  };
  using Observe = std::function<void(const std::string& series, double value)>;

  /// Compiles `match` (series name -> regex); the error names the entry whose regex fails.
  static Result<LogMatcher> compile(const std::map<std::string, std::string>& match);

  /// Runs every entry over one line (without its newline): counts matches and calls `observe`
  /// for each named group that took part in the match and holds a number. Returns how many
  /// findings were malformed (a group that is not a number, a match given up as too complex).
  std::size_t match(std::string_view line, const Observe& observe);

  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;
};

}  // namespace backout::collectors
