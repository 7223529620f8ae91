// Time types, durations and RFC 3339 timestamps. Pure functions; thread-safe.
//
// All times in the product are wall-clock instants (the plan's window is written in RFC 3339), kept
// as nanoseconds since the Unix epoch. Nothing in core/ or rules/ reads a clock: `now` is always a
// parameter, and I/O code gets an injected Clock (see clock.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace backout {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::sys_time<std::chrono::nanoseconds>;

/// Seconds as a double, for arithmetic in rules and for display.
inline double to_seconds(Duration d) { return std::chrono::duration<double>(d).count(); }
inline Duration from_seconds(double s) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}
inline double unix_seconds(TimePoint t) { return to_seconds(t.time_since_epoch()); }

/// Parses a duration as written in a plan: one or more `<integer><unit>` parts, largest unit
/// first, units `d`, `h`, `m`, `s`, `ms`, `us`. Examples: `250ms`, `5s`, `100m`, `1h30m`.
/// `0` alone is zero. On failure returns nullopt and sets `*why` to the reason.
std::optional<Duration> parse_duration(std::string_view text, std::string* why = nullptr);

/// Formats a duration compactly in the plan's notation: `1h40m`, `5m`, `250ms`, `0s`.
std::string format_duration(Duration d);

/// Formats a span for people: `1h12m`, `3m05s`, `45s`, `0.8s`. Negative spans get a `-`.
std::string format_span(Duration d);

/// Formats a latency for the log, to the millisecond below 10 s: `0ms`, `245ms`, `1.234s`; from
/// 10 s on as format_span. Negative spans get a `-`.
std::string format_latency(Duration d);

/// An RFC 3339 timestamp: the instant and the UTC offset it was written with, so that it can be
/// shown back in the plan's own time zone.
struct ZonedTime {
  TimePoint at;
  std::chrono::minutes offset{0};
};

/// Parses `2026-06-07T02:00:00+01:00`, `2026-06-07T01:00:00Z`, with optional fractional seconds
/// (`.250`). `t`/`z` in lower case and a space instead of `T` are accepted (RFC 3339 5.6 note).
/// On failure returns nullopt and sets `*why`.
std::optional<ZonedTime> parse_rfc3339(std::string_view text, std::string* why = nullptr);

/// Formats as RFC 3339 in the given offset, with milliseconds when they are not zero:
/// `2026-06-07T04:20:00+01:00`, `2026-06-07T03:00:00.250Z` (offset 0 is written `Z`).
std::string format_rfc3339(TimePoint t, std::chrono::minutes offset = std::chrono::minutes{0});

/// Wall-clock time of day in the given offset: `04:20` (with `:ss` when seconds are not zero).
std::string format_clock(TimePoint t, std::chrono::minutes offset);

/// `+01:00`, `-05:30`, `+00:00`.
std::string format_offset(std::chrono::minutes offset);

}  // namespace backout
