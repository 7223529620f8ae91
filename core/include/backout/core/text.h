// Small text helpers shared by the parsers and messages. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace backout {

/// Levenshtein edit distance (insert, delete, substitute, adjacent swap), capped at `cap + 1`.
std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t cap = 64);

/// The candidate closest to `word` if it is close enough to be a likely typo (distance at most
/// 1 for short words, 2 for words of 5+ characters, 3 for 9+), else nullopt.
std::optional<std::string> closest_match(std::string_view word,
                                         std::span<const std::string> candidates);
std::optional<std::string> closest_match(std::string_view word,
                                         std::span<const std::string_view> candidates);
std::optional<std::string> closest_match(std::string_view word,
                                         std::initializer_list<std::string_view> candidates);

/// Joins with a separator: join({"a","b"}, ", ") == "a, b".
std::string join(std::span<const std::string> parts, std::string_view sep);

/// `s` for a line-oriented sink (the log): control characters (newline, CR, NUL, ESC, DEL, ...)
/// become \n, \r, \t or \xNN, and a backslash becomes \\ (unless `escape_backslash` is
/// false: the log's own pass, which must not escape twice), so outside text cannot forge or
/// break a log line. Other bytes (UTF-8 included) are kept.
std::string printable(std::string_view s, bool escape_backslash = true);
/// `s` between double quotes with printable()'s escapes and `"` as \": the label-value form the
/// trigger language reads back byte for byte (Measure::text()).
std::string quoted_printable(std::string_view s);

/// `s` as a whole decimal number in [0, max]: digits only (no sign, space or suffix); nullopt
/// otherwise. "-1" is not read as 2^64 - 1, nor "70000" as a port.
std::optional<std::uint64_t> parse_whole_number(std::string_view s, std::uint64_t max);

/// `'a', 'b' or 'c'` — for messages listing what is expected.
std::string quoted_list(std::span<const std::string> parts, std::string_view last_sep = " or ");

/// True for a valid environment variable name: [A-Za-z_][A-Za-z0-9_]*.
bool is_env_name(std::string_view s);

/// True for an identifier as used for ids in plans: [A-Za-z_][A-Za-z0-9_]*.
bool is_identifier(std::string_view s);

/// Formats a number for messages without noise: 5, 0.5, 7.1, 1234.5, 1e-06.
std::string format_number(double v, int significant = 4);

/// Formats a fraction 0.071 as `7.1%` (up to 3 significant digits, at least 0.1% resolution).
std::string format_percent(double fraction);

/// JSON string literal with escapes ("a\"b").
std::string json_quote(std::string_view s);

}  // namespace backout
