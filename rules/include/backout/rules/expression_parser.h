// Parsers for the plan's `measure` and `when` strings, with positions for error messages.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "backout/rules/condition.h"
#include "backout/rules/measure.h"

namespace backout::rules {

/// A parse error at byte offset `pos` of the parsed text, with a message saying what is expected.
struct ParseError {
  std::size_t pos = 0;
  std::string message;
};

/// Parses a measure such as `ratio(portal.a_total, portal.b_total)` or `p95(api.duration)`.
std::variant<Measure, ParseError> parse_measure(std::string_view text);

/// Parses a condition such as `> 5%`, `>= 10s`, `> +50% baseline`, `< baseline`.
std::variant<Condition, ParseError> parse_condition(std::string_view text);

}  // namespace backout::rules
