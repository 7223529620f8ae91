// Plans in code for the benchmarks: the reference plan's window (2026-06-07 02:00-06:00 +01:00)
// and parse-or-throw helpers for measures and conditions. tests/support/test_plan.h has the
// same for the tests, but it lives in the gtest-linked support library; bench/ links core and
// rules only. Header-only: each *_bench.cc is its own executable.
#pragma once

#include <stdexcept>
#include <string>
#include <variant>

#include "backout/core/time.h"
#include "backout/rules/expression_parser.h"
#include "backout/rules/plan.h"

namespace backout::bench {

/// The reference plan's window start.
inline const ZonedTime& window_start() {
  static const ZonedTime t = *parse_rfc3339("2026-06-07T02:00:00+01:00");
  return t;
}

/// `seconds` after the window start (negative: before it).
inline TimePoint at(double seconds) { return window_start().at + from_seconds(seconds); }

/// The window 02:00-06:00 +01:00 with a 100 m backout, a 15 m warning and a 30 m baseline.
inline void set_reference_window(rules::Plan& p) {
  p.window.start = window_start();
  p.window.end = *parse_rfc3339("2026-06-07T06:00:00+01:00");
  p.window.backout_duration = std::chrono::minutes{100};
  p.window.warn_before_pnr = std::chrono::minutes{15};
  p.window.baseline = std::chrono::minutes{30};
}

inline rules::Condition condition(const std::string& when) {
  auto c = rules::parse_condition(when);
  if (auto* e = std::get_if<rules::ParseError>(&c)) {
    throw std::invalid_argument("bad condition: " + when + ": " + e->message);
  }
  return std::get<rules::Condition>(c);
}

inline rules::Measure measure(const std::string& text) {
  auto m = rules::parse_measure(text);
  if (auto* e = std::get_if<rules::ParseError>(&m)) {
    throw std::invalid_argument("bad measure: " + text + ": " + e->message);
  }
  return std::get<rules::Measure>(m);
}

}  // namespace backout::bench
