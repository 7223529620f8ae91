#include "backout/core/text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <system_error>

namespace backout {

std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t cap) {
  const std::size_t inf = cap + 1;
  if (a.size() > b.size() + cap || b.size() > a.size() + cap) {
    return inf;
  }
  // Optimal string alignment distance: Levenshtein plus transposition of neighbours. Only the
  // band |i - j| <= cap can hold a distance within the cap, so only that band is computed: the
  // cost is O(|a| x cap), which keeps did-you-mean cheap even for megabyte-long keys in a plan.
  // Cells just outside the band are set to `inf` so that no stale value is ever read.
  std::vector<std::size_t> prev2(b.size() + 1, inf), prev(b.size() + 1, inf),
      cur(b.size() + 1, inf);
  for (std::size_t j = 0; j <= std::min(b.size(), cap); ++j) {
    prev[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    const std::size_t lo = i > cap ? i - cap : 1;
    const std::size_t hi = std::min(b.size(), i + cap);
    cur[0] = i <= cap ? i : inf;
    if (lo > 1) {
      cur[lo - 1] = inf;
    }
    for (std::size_t j = lo; j <= hi; ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      std::size_t d = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d = std::min(d, prev2[j - 2] + 1);
      }
      cur[j] = std::min(d, inf);
    }
    if (hi < b.size()) {
      cur[hi + 1] = inf;
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return std::min(prev[b.size()], inf);
}

namespace {
template <typename Range>
std::optional<std::string> closest(std::string_view word, const Range& candidates) {
  std::size_t allowed = word.size() >= 9 ? 3 : word.size() >= 5 ? 2 : 1;
  std::optional<std::string> best;
  std::size_t best_d = allowed + 1;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(word, c, allowed);
    if (d < best_d) {
      best_d = d;
      best = std::string(c);
    }
  }
  return best;
}
}  // namespace

std::optional<std::string> closest_match(std::string_view word,
                                         std::span<const std::string> candidates) {
  return closest(word, candidates);
}

std::optional<std::string> closest_match(std::string_view word,
                                         std::span<const std::string_view> candidates) {
  return closest(word, candidates);
}

std::optional<std::string> closest_match(std::string_view word,
                                         std::initializer_list<std::string_view> candidates) {
  return closest(word, candidates);
}

std::string join(std::span<const std::string> parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      out += sep;
    }
    out += parts[i];
  }
  return out;
}

std::string quoted_list(std::span<const std::string> parts, std::string_view last_sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      out += i + 1 == parts.size() ? last_sep : std::string_view(", ");
    }
    out += "'" + parts[i] + "'";
  }
  return out;
}

bool is_env_name(std::string_view s) { return is_identifier(s); }

bool is_identifier(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(s[0])) {
    return false;
  }
  return std::all_of(s.begin() + 1, s.end(),
                     [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

namespace {

// snprintf(buf, 64, "%.*f%s" or "%.*g%s", precision, v, suffix), returned as a string.
// std::to_chars with a precision is defined to print exactly what printf prints in the "C" locale,
// several times faster: the evaluator formats a measured value for every trigger on every tick.
// Output that would not fit the 64 bytes (hundreds of digits) goes through snprintf itself, which
// truncates it the same way as before.
std::string print_double(double v, std::chars_format fmt, int precision, const char* suffix = "") {
  char buf[64];
  const std::size_t room = sizeof buf - 1 - std::strlen(suffix);  // snprintf keeps a byte for NUL
  auto [end, ec] = std::to_chars(buf, buf + room, v, fmt, precision);
  if (ec == std::errc()) {
    std::string out(buf, end);
    out += suffix;
    return out;
  }
  std::snprintf(buf, sizeof buf, fmt == std::chars_format::general ? "%.*g%s" : "%.*f%s",
                precision, v, suffix);
  return buf;
}

}  // namespace

std::string format_number(double v, int significant) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  if (v == 0) {
    v = 0;  // -0.0 would print as "-0"
  }
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return print_double(v, std::chars_format::fixed, 0);
  }
  return print_double(v, std::chars_format::general, std::max(significant, 1));
}

std::string format_percent(double fraction) {
  if (std::isnan(fraction)) {
    return "NaN";
  }
  double pct = fraction == 0 ? 0.0 : fraction * 100.0;  // no "-0%"
  double a = std::fabs(pct);
  if (a == std::floor(a) && a < 1e9) {
    return print_double(pct, std::chars_format::fixed, 0, "%");
  }
  if (a >= 10) {
    return print_double(pct, std::chars_format::fixed, 1, "%");
  }
  // %.2g gives "7.1" and "0.35"; keep the resolution at 0.1% or better.
  return print_double(pct, std::chars_format::general, 2, "%");
}

std::string json_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::optional<std::uint64_t> parse_whole_number(std::string_view s, std::uint64_t max) {
  if (s.empty() || s.size() > 20) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (digit > max || v > (max - digit) / 10) {
      return std::nullopt;
    }
    v = v * 10 + digit;
  }
  return v;
}

namespace {

void append_printable(std::string& out, std::string_view s, bool escape_backslash, char quote) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((c == '\\' && escape_backslash) || (quote != '\0' && c == quote)) {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
}

}  // namespace

std::string printable(std::string_view s, bool escape_backslash) {
  std::string out;
  out.reserve(s.size());
  append_printable(out, s, escape_backslash, '\0');
  return out;
}

std::string quoted_printable(std::string_view s) {
  std::string out = "\"";
  out.reserve(s.size() + 2);
  append_printable(out, s, true, '"');
  return out + "\"";
}

}  // namespace backout
