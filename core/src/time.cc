#include "backout/core/time.h"

#include <array>
#include <cstdio>
#include <limits>
#include <utility>

namespace backout {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

void set(std::string* why, std::string text) {
  if (why != nullptr) {
    *why = std::move(text);
  }
}

// Reads exactly `n` digits at `pos`, advancing it.
bool read_digits(std::string_view s, std::size_t& pos, int n, int& out) {
  if (pos + static_cast<std::size_t>(n) > s.size()) {
    return false;
  }
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[pos + static_cast<std::size_t>(i)];
    if (!is_digit(c)) {
      return false;
    }
    v = v * 10 + (c - '0');
  }
  pos += static_cast<std::size_t>(n);
  out = v;
  return true;
}

struct Unit {
  std::string_view name;
  Duration size;
};

// Longest names first so that `ms` is not read as `m` followed by `s`.
constexpr std::array<Unit, 6> kUnits{{
    {"ms", std::chrono::milliseconds{1}},
    {"us", std::chrono::microseconds{1}},
    {"d", days{1}},
    {"h", hours{1}},
    {"m", minutes{1}},
    {"s", seconds{1}},
}};

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// The plan's unit for a unit written out in words (`min`, `seconds`), or nullptr.
const char* unit_for_word(std::string_view w) {
  static constexpr std::array<std::pair<std::string_view, const char*>, 18> kWords{{
      {"day", "d"},
      {"days", "d"},
      {"hr", "h"},
      {"hrs", "h"},
      {"hour", "h"},
      {"hours", "h"},
      {"min", "m"},
      {"mins", "m"},
      {"minute", "m"},
      {"minutes", "m"},
      {"sec", "s"},
      {"secs", "s"},
      {"second", "s"},
      {"seconds", "s"},
      {"msec", "ms"},
      {"msecs", "ms"},
      {"millisecond", "ms"},
      {"milliseconds", "ms"},
  }};
  for (const auto& [word, unit] : kWords) {
    if (word == w) {
      return unit;
    }
  }
  return nullptr;
}

const Unit* find_unit(std::string_view rest) {
  for (const Unit& u : kUnits) {
    if (rest.substr(0, u.name.size()) == u.name) {
      return &u;
    }
  }
  return nullptr;
}

// `1.5h` is refused (the notation has whole numbers only); the message shows the same duration
// written the accepted way, `1h30m`, when it can be written exactly.
std::string fraction_hint(std::string_view text, std::size_t dot, std::int64_t whole,
                          bool first_part) {
  const std::string generic = "fractions are not accepted; write e.g. 1500ms rather than 1.5s";
  if (!first_part) {
    return generic;  // `1h1.5m`: rewriting one part alone would read as the whole
  }
  std::size_t pos = dot + 1;
  std::int64_t frac = 0;
  std::int64_t scale = 1;
  while (pos < text.size() && is_digit(text[pos])) {
    if (scale >= 1000) {
      return generic;  // more digits than any plan needs; keep the arithmetic far from overflow
    }
    frac = frac * 10 + (text[pos] - '0');
    scale *= 10;
    ++pos;
  }
  const Unit* unit = find_unit(text.substr(pos));
  if (scale == 1 || unit == nullptr || pos + unit->name.size() != text.size()) {
    return generic;
  }
  const std::int64_t size = unit->size.count();
  if (whole > std::numeric_limits<std::int64_t>::max() / 4 / size || (frac * size) % scale != 0) {
    return generic;
  }
  Duration exact{whole * size + frac * size / scale};
  return "fractions are not accepted; write " + format_duration(exact) + " rather than " +
         std::string(text);
}

int unit_rank(std::string_view name) {
  // Larger units rank lower; parts must come in increasing rank.
  static constexpr std::array<std::string_view, 6> order{"d", "h", "m", "s", "ms", "us"};
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (order[i] == name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text, std::string* why) {
  if (text.empty()) {
    set(why, "empty duration; write it as e.g. 30s, 5m or 1h30m");
    return std::nullopt;
  }
  if (text == "0") {
    return Duration{0};
  }
  Duration total{0};
  std::size_t pos = 0;
  int last_rank = -1;
  while (pos < text.size()) {
    if (!is_digit(text[pos])) {
      set(why, (pos == 0 ? "expected a number at '" + std::string(text) + "'"
                         : "unexpected '" + std::string(text.substr(pos)) + "' after '" +
                               std::string(text.substr(0, pos)) + "'") +
                   "; write durations as e.g. 30s, 5m or 1h30m");
      return std::nullopt;
    }
    std::int64_t n = 0;
    while (pos < text.size() && is_digit(text[pos])) {
      if (n > std::numeric_limits<std::int64_t>::max() / 10 - 10) {
        set(why, "duration is too large");
        return std::nullopt;
      }
      n = n * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos < text.size() && text[pos] == '.') {
      set(why, fraction_hint(text, pos, n, last_rank < 0));
      return std::nullopt;
    }
    const Unit* unit = find_unit(text.substr(pos));
    // `5min` must not read as 5m followed by garbage: a unit is a whole run of letters.
    std::size_t letters = 0;
    while (pos + letters < text.size() && is_letter(text[pos + letters])) {
      ++letters;
    }
    if (unit != nullptr && letters != unit->name.size()) {
      unit = nullptr;
    }
    if (unit == nullptr && pos < text.size() && text[pos] == ' ') {
      // `15 minutes`, `5 s`: the unit is there, only apart from the number.
      std::size_t w = pos;
      while (w < text.size() && text[w] == ' ') {
        ++w;
      }
      std::size_t e = w;
      while (e < text.size() && is_letter(text[e])) {
        ++e;
      }
      std::string_view word = text.substr(w, e - w);
      const Unit* apart = find_unit(word);
      const char* u =
          apart != nullptr && apart->name == word ? apart->name.data() : unit_for_word(word);
      if (u != nullptr) {
        set(why,
            "write the unit right after the number, without a space: " + std::to_string(n) + u);
        return std::nullopt;
      }
    }
    if (unit == nullptr) {
      if (pos == text.size()) {
        // The number alone is ambiguous (100 could be seconds or minutes): show both.
        set(why, "missing unit after " + std::to_string(n) + "; add one of d, h, m, s, ms (e.g. " +
                     std::to_string(n) + "s or " + std::to_string(n) + "m)");
      } else {
        std::string word(text.substr(pos, letters == 0 ? std::string_view::npos : letters));
        std::string hint;
        if (const char* u = unit_for_word(word)) {
          hint = " (write " + std::to_string(n) + u + ")";
        }
        set(why, "unknown unit '" + word + "'; units are d, h, m, s, ms and us" + hint);
      }
      return std::nullopt;
    }
    int rank = unit_rank(unit->name);
    if (rank <= last_rank) {
      set(why, "units must go from largest to smallest, each once (e.g. 1h30m)");
      return std::nullopt;
    }
    last_rank = rank;
    // Guard against overflow: the largest plan duration is far below 290 years.
    const auto limit = std::numeric_limits<Duration::rep>::max() / 4;
    if (n > limit / unit->size.count() || total.count() > limit - n * unit->size.count()) {
      set(why, "duration is too large");
      return std::nullopt;
    }
    total += unit->size * n;
    pos += unit->name.size();
  }
  return total;
}

std::string format_duration(Duration d) {
  if (d == Duration{0}) {
    return "0s";
  }
  std::string out;
  if (d < Duration{0}) {
    out = "-";
    d = -d;
  }
  struct Part {
    Duration size;
    const char* name;
  };
  static constexpr std::array<Part, 6> parts{{
      {days{1}, "d"},
      {hours{1}, "h"},
      {minutes{1}, "m"},
      {seconds{1}, "s"},
      {std::chrono::milliseconds{1}, "ms"},
      {std::chrono::microseconds{1}, "us"},
  }};
  for (const Part& p : parts) {
    if (d >= p.size) {
      auto n = d / p.size;
      out += std::to_string(n) + p.name;
      d -= p.size * n;
    }
  }
  if (d > Duration{0}) {
    out += std::to_string(d.count()) + "ns";
  }
  return out;
}

std::string format_span(Duration d) {
  std::string sign;
  if (d < Duration{0}) {
    sign = "-";
    d = -d;
  }
  char buf[64];
  auto total_s = std::chrono::duration_cast<seconds>(d).count();
  if (d < seconds{10} && d % seconds{1} != Duration{0}) {
    std::snprintf(buf, sizeof buf, "%.1fs", to_seconds(d));
  } else if (total_s < 60) {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(total_s));
  } else if (total_s < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(total_s / 60),
                  static_cast<long long>(total_s % 60));
    if (total_s % 60 == 0) {
      std::snprintf(buf, sizeof buf, "%lldm", static_cast<long long>(total_s / 60));
    }
  } else {
    auto total_m = total_s / 60;
    if (total_m % 60 == 0) {
      std::snprintf(buf, sizeof buf, "%lldh", static_cast<long long>(total_m / 60));
    } else {
      std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(total_m / 60),
                    static_cast<long long>(total_m % 60));
    }
  }
  return sign + buf;
}

std::string format_latency(Duration d) {
  if (d < Duration{0}) {
    return "-" + format_latency(-d);
  }
  if (d >= seconds{10}) {
    return format_span(d);
  }
  const auto ms = std::chrono::duration_cast<milliseconds>(d).count();
  char buf[32];
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(ms));
  } else {
    std::snprintf(buf, sizeof buf, "%lld.%03llds", static_cast<long long>(ms / 1000),
                  static_cast<long long>(ms % 1000));
  }
  return buf;
}

std::optional<ZonedTime> parse_rfc3339(std::string_view s, std::string* why) {
  const char* form = "write it as RFC 3339 with an offset, e.g. 2026-06-07T02:00:00+01:00";
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  auto fail = [&](const std::string& what) {
    set(why, what + "; " + form);
    return std::nullopt;
  };
  if (!read_digits(s, pos, 4, year) || pos >= s.size() || s[pos++] != '-' ||
      !read_digits(s, pos, 2, month) || pos >= s.size() || s[pos++] != '-' ||
      !read_digits(s, pos, 2, day)) {
    return fail("'" + std::string(s) + "' is not a date-time");
  }
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')) {
    return fail("'" + std::string(s) + "' has no time of day");
  }
  ++pos;
  if (!read_digits(s, pos, 2, hour) || pos >= s.size() || s[pos++] != ':' ||
      !read_digits(s, pos, 2, minute) || pos >= s.size() || s[pos++] != ':' ||
      !read_digits(s, pos, 2, second)) {
    return fail("'" + std::string(s) + "' has no valid time of day (hh:mm:ss)");
  }
  Duration frac{0};
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::int64_t scale = 100'000'000;
    std::size_t digits = 0;
    while (pos < s.size() && is_digit(s[pos])) {
      frac += Duration{(s[pos] - '0') * scale};
      scale /= 10;
      ++pos;
      ++digits;
    }
    if (digits == 0) {
      return fail("'" + std::string(s) + "' has a '.' without fractional seconds");
    }
  }
  if (pos >= s.size()) {
    return fail("'" + std::string(s) + "' has no UTC offset (add Z or e.g. +01:00)");
  }
  minutes offset{0};
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!read_digits(s, pos, 2, oh) || pos >= s.size() || s[pos++] != ':' ||
        !read_digits(s, pos, 2, om) || oh > 23 || om > 59) {
      return fail("'" + std::string(s) + "' has an invalid UTC offset");
    }
    offset = minutes{sign * (oh * 60 + om)};
  } else {
    return fail("'" + std::string(s) + "' has no UTC offset (add Z or e.g. +01:00)");
  }
  if (pos != s.size()) {
    return fail("'" + std::string(s) + "' has trailing text '" + std::string(s.substr(pos)) + "'");
  }
  std::chrono::year_month_day ymd{std::chrono::year{year},
                                  std::chrono::month{static_cast<unsigned>(month)},
                                  std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) {
    return fail("'" + std::string(s) + "' is not a calendar date");
  }
  // TimePoint counts nanoseconds in 64 bits (years 1677 to 2262); plans add and subtract
  // durations of up to decades to window times, so keep times well inside that range.
  if (year < 1970 || year > 2200) {
    set(why, "'" + std::string(s) + "' has the year " + std::to_string(year) +
                 ", outside the years this agent handles (1970 to 2200)");
    return std::nullopt;
  }
  if (hour > 23 || minute > 59 || second > 60) {
    return fail("'" + std::string(s) + "' is not a valid time of day");
  }
  if (second == 60) {
    second = 59;  // A leap second is held at :59 (POSIX time has no :60).
  }
  TimePoint local = std::chrono::sys_days{ymd} + hours{hour} + minutes{minute} + seconds{second} +
                    frac;
  return ZonedTime{local - offset, offset};
}

std::string format_offset(minutes offset) {
  char buf[48];
  auto m = offset.count();
  char sign = m < 0 ? '-' : '+';
  if (m < 0) {
    m = -m;
  }
  std::snprintf(buf, sizeof buf, "%c%02lld:%02lld", sign, static_cast<long long>(m / 60),
                static_cast<long long>(m % 60));
  return buf;
}

std::string format_rfc3339(TimePoint t, minutes offset) {
  TimePoint local = t + offset;
  auto day = std::chrono::floor<days>(local);
  std::chrono::year_month_day ymd{day};
  std::chrono::hh_mm_ss<Duration> hms{local - day};
  char buf[64];
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(hms.subseconds()).count();
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld",
                        static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                        static_cast<unsigned>(ymd.day()),
                        static_cast<long long>(hms.hours().count()),
                        static_cast<long long>(hms.minutes().count()),
                        static_cast<long long>(hms.seconds().count()));
  std::string out(buf, static_cast<std::size_t>(n));
  if (ms != 0) {
    std::snprintf(buf, sizeof buf, ".%03lld", static_cast<long long>(ms));
    out += buf;
  }
  out += offset == minutes{0} ? std::string("Z") : format_offset(offset);
  return out;
}

std::string format_clock(TimePoint t, minutes offset) {
  TimePoint local = t + offset;
  auto day = std::chrono::floor<days>(local);
  std::chrono::hh_mm_ss<Duration> hms{local - day};
  char buf[32];
  if (hms.seconds().count() != 0) {
    std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld",
                  static_cast<long long>(hms.hours().count()),
                  static_cast<long long>(hms.minutes().count()),
                  static_cast<long long>(hms.seconds().count()));
  } else {
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", static_cast<long long>(hms.hours().count()),
                  static_cast<long long>(hms.minutes().count()));
  }
  return buf;
}

}  // namespace backout
