// Durations and RFC 3339 times as written in plans and shown in messages.
#include "backout/core/time.h"

#include <gtest/gtest.h>

#include <string>

namespace backout {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// The reason parse_duration gives for refusing `text` (fails the test if it accepts it).
std::string duration_error(std::string_view text) {
  std::string why;
  auto d = parse_duration(text, &why);
  EXPECT_FALSE(d.has_value()) << text << " parsed as " << format_duration(*d);
  return why;
}

std::string time_error(std::string_view text) {
  std::string why;
  auto t = parse_rfc3339(text, &why);
  EXPECT_FALSE(t.has_value()) << text;
  return why;
}

TEST(ParseDuration, AcceptsThePlanNotation) {
  EXPECT_EQ(parse_duration("250ms"), Duration{milliseconds{250}});
  EXPECT_EQ(parse_duration("5s"), Duration{seconds{5}});
  EXPECT_EQ(parse_duration("100m"), Duration{minutes{100}});
  EXPECT_EQ(parse_duration("1h30m"), Duration{minutes{90}});
  EXPECT_EQ(parse_duration("2d"), Duration{hours{48}});
  EXPECT_EQ(parse_duration("1d2h3m4s5ms6us"),
            Duration{hours{26} + minutes{3} + seconds{4} + milliseconds{5} + microseconds{6}});
  EXPECT_EQ(parse_duration("750us"), Duration{microseconds{750}});
  EXPECT_EQ(parse_duration("0"), Duration{0});
  EXPECT_EQ(parse_duration("0s"), Duration{0});
  EXPECT_EQ(parse_duration("90s"), Duration{seconds{90}});  // no carrying rules: 90s is fine
}

TEST(ParseDuration, ExplainsEveryRefusal) {
  EXPECT_EQ(duration_error(""), "empty duration; write it as e.g. 30s, 5m or 1h30m");
  EXPECT_EQ(duration_error("100"),
            "missing unit after 100; add one of d, h, m, s, ms (e.g. 100s or 100m)");
  EXPECT_EQ(duration_error("5 m"), "write the unit right after the number, without a space: 5m");
  EXPECT_EQ(duration_error("15 minutes"),
            "write the unit right after the number, without a space: 15m");
  EXPECT_EQ(duration_error("5 apples"), "unknown unit ' apples'; units are d, h, m, s, ms and us");
  EXPECT_EQ(duration_error("5min"),
            "unknown unit 'min'; units are d, h, m, s, ms and us (write 5m)");
  EXPECT_EQ(duration_error("10seconds"),
            "unknown unit 'seconds'; units are d, h, m, s, ms and us (write 10s)");
  EXPECT_EQ(duration_error("2hours"),
            "unknown unit 'hours'; units are d, h, m, s, ms and us (write 2h)");
  EXPECT_EQ(duration_error("1w"), "unknown unit 'w'; units are d, h, m, s, ms and us");
  EXPECT_EQ(duration_error("5ns"), "unknown unit 'ns'; units are d, h, m, s, ms and us");
  EXPECT_EQ(duration_error("5s!"),
            "unexpected '!' after '5s'; write durations as e.g. 30s, 5m or 1h30m");
  EXPECT_EQ(duration_error("1h 30m"),
            "unexpected ' 30m' after '1h'; write durations as e.g. 30s, 5m or 1h30m");
  EXPECT_EQ(duration_error("m5"),
            "expected a number at 'm5'; write durations as e.g. 30s, 5m or 1h30m");
  EXPECT_EQ(duration_error("-5s"),
            "expected a number at '-5s'; write durations as e.g. 30s, 5m or 1h30m");
  EXPECT_EQ(duration_error("30m1h"),
            "units must go from largest to smallest, each once (e.g. 1h30m)");
  EXPECT_EQ(duration_error("1m1m"),
            "units must go from largest to smallest, each once (e.g. 1h30m)");
  EXPECT_EQ(duration_error("99999999999999999999s"), "duration is too large");
  EXPECT_EQ(duration_error("999999999d"), "duration is too large");
}

TEST(ParseDuration, FractionsAreRewrittenInTheMessage) {
  EXPECT_EQ(duration_error("1.5h"), "fractions are not accepted; write 1h30m rather than 1.5h");
  EXPECT_EQ(duration_error("1.5s"), "fractions are not accepted; write 1s500ms rather than 1.5s");
  EXPECT_EQ(duration_error("0.25s"), "fractions are not accepted; write 250ms rather than 0.25s");
  EXPECT_EQ(duration_error("2.5m"), "fractions are not accepted; write 2m30s rather than 2.5m");
  // Not exactly expressible, more digits than plans use, or not the first part: a generic hint.
  EXPECT_EQ(duration_error("0.0005ms"),
            "fractions are not accepted; write e.g. 1500ms rather than 1.5s");
  EXPECT_EQ(duration_error("1h1.5m"),
            "fractions are not accepted; write e.g. 1500ms rather than 1.5s");
  EXPECT_EQ(duration_error("1.5"),
            "fractions are not accepted; write e.g. 1500ms rather than 1.5s");
  EXPECT_EQ(duration_error("1.5hx"),
            "fractions are not accepted; write e.g. 1500ms rather than 1.5s");
}

TEST(ParseDuration, NullWhyIsAllowed) {
  EXPECT_FALSE(parse_duration("nope", nullptr).has_value());
  EXPECT_FALSE(parse_rfc3339("nope", nullptr).has_value());
}

TEST(FormatDuration, UsesThePlanNotation) {
  EXPECT_EQ(format_duration(Duration{0}), "0s");
  EXPECT_EQ(format_duration(minutes{100}), "1h40m");
  EXPECT_EQ(format_duration(minutes{5}), "5m");
  EXPECT_EQ(format_duration(milliseconds{250}), "250ms");
  EXPECT_EQ(format_duration(hours{26} + seconds{1}), "1d2h1s");
  EXPECT_EQ(format_duration(microseconds{1500}), "1ms500us");
  EXPECT_EQ(format_duration(Duration{1500}), "1us500ns");
  EXPECT_EQ(format_duration(-seconds{90}), "-1m30s");
}

TEST(FormatDuration, RoundTripsThroughParse) {
  for (const char* text : {"250ms", "5s", "100m", "1h30m", "2d", "1d2h3m4s5ms6us", "750us"}) {
    auto d = parse_duration(text);
    ASSERT_TRUE(d.has_value()) << text;
    EXPECT_EQ(parse_duration(format_duration(*d)), d) << text;
  }
}

TEST(FormatSpan, ReadsLikeAPerson) {
  EXPECT_EQ(format_span(Duration{0}), "0s");
  EXPECT_EQ(format_span(milliseconds{800}), "0.8s");
  EXPECT_EQ(format_span(milliseconds{9400}), "9.4s");
  EXPECT_EQ(format_span(seconds{10}), "10s");
  EXPECT_EQ(format_span(seconds{45}), "45s");
  EXPECT_EQ(format_span(milliseconds{45'700}), "45s");  // whole seconds from 10s on
  EXPECT_EQ(format_span(seconds{185}), "3m05s");
  EXPECT_EQ(format_span(minutes{3}), "3m");
  EXPECT_EQ(format_span(minutes{72}), "1h12m");
  EXPECT_EQ(format_span(minutes{72} + seconds{59}), "1h12m");  // minutes from an hour on
  EXPECT_EQ(format_span(hours{2}), "2h");
  EXPECT_EQ(format_span(hours{30}), "30h");
  EXPECT_EQ(format_span(-minutes{5}), "-5m");
  EXPECT_EQ(format_span(-milliseconds{800}), "-0.8s");
}

TEST(FormatLatency, MillisecondsBelowTenSeconds) {
  EXPECT_EQ(format_latency(Duration{0}), "0ms");
  EXPECT_EQ(format_latency(microseconds{1999}), "1ms");  // truncated, never rounded up
  EXPECT_EQ(format_latency(milliseconds{245}), "245ms");
  EXPECT_EQ(format_latency(milliseconds{1234}), "1.234s");
  EXPECT_EQ(format_latency(milliseconds{9999}), "9.999s");
  EXPECT_EQ(format_latency(milliseconds{10'400}), "10s");
  EXPECT_EQ(format_latency(seconds{185}), "3m05s");
  EXPECT_EQ(format_latency(-milliseconds{20}), "-20ms");
}

TEST(ParseRfc3339, KeepsTheInstantAndTheOffset) {
  auto t = parse_rfc3339("2026-06-07T02:00:00+01:00");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->offset, minutes{60});
  auto utc = parse_rfc3339("2026-06-07T01:00:00Z");
  ASSERT_TRUE(utc.has_value());
  EXPECT_EQ(t->at, utc->at);
  EXPECT_EQ(utc->offset, minutes{0});
  // 2026-06-07T01:00:00Z is 1780794000 seconds after the epoch.
  EXPECT_EQ(unix_seconds(utc->at), 1780794000.0);

  auto west = parse_rfc3339("2026-06-06T20:30:00-04:30");
  ASSERT_TRUE(west.has_value());
  EXPECT_EQ(west->at, utc->at);
  EXPECT_EQ(west->offset, -minutes{270});
}

TEST(ParseRfc3339, AcceptsTheAllowedVariants) {
  auto base = parse_rfc3339("2026-06-07T01:00:00Z");
  ASSERT_TRUE(base.has_value());
  for (const char* text :
       {"2026-06-07t01:00:00z", "2026-06-07 01:00:00Z", "2026-06-07T01:00:00+00:00",
        "2026-06-07T01:00:00-00:00", "2026-06-07T03:00:00+02:00"}) {
    auto t = parse_rfc3339(text);
    ASSERT_TRUE(t.has_value()) << text;
    EXPECT_EQ(t->at, base->at) << text;
  }
  auto frac = parse_rfc3339("2026-06-07T01:00:00.250Z");
  ASSERT_TRUE(frac.has_value());
  EXPECT_EQ(frac->at - base->at, milliseconds{250});
  auto nanos = parse_rfc3339("2026-06-07T01:00:00.000000001Z");
  ASSERT_TRUE(nanos.has_value());
  EXPECT_EQ(nanos->at - base->at, Duration{1});
  // A leap second is held at :59.
  auto leap = parse_rfc3339("2016-12-31T23:59:60Z");
  ASSERT_TRUE(leap.has_value());
  EXPECT_EQ(format_rfc3339(leap->at), "2016-12-31T23:59:59Z");
  // 29 February of a leap year.
  EXPECT_TRUE(parse_rfc3339("2028-02-29T00:00:00Z").has_value());
}

TEST(ParseRfc3339, ExplainsEveryRefusal) {
  const std::string form = "; write it as RFC 3339 with an offset, e.g. 2026-06-07T02:00:00+01:00";
  EXPECT_EQ(time_error(""), "'' is not a date-time" + form);
  EXPECT_EQ(time_error("tomorrow"), "'tomorrow' is not a date-time" + form);
  EXPECT_EQ(time_error("2026/06/07T02:00:00Z"), "'2026/06/07T02:00:00Z' is not a date-time" + form);
  EXPECT_EQ(time_error("2026-6-7T02:00:00Z"), "'2026-6-7T02:00:00Z' is not a date-time" + form);
  EXPECT_EQ(time_error("2026-06-07"), "'2026-06-07' has no time of day" + form);
  EXPECT_EQ(time_error("2026-06-07T2:00:00Z"),
            "'2026-06-07T2:00:00Z' has no valid time of day (hh:mm:ss)" + form);
  EXPECT_EQ(time_error("2026-06-07T02:00Z"),
            "'2026-06-07T02:00Z' has no valid time of day (hh:mm:ss)" + form);
  EXPECT_EQ(time_error("2026-06-07T02:00:00"),
            "'2026-06-07T02:00:00' has no UTC offset (add Z or e.g. +01:00)" + form);
  EXPECT_EQ(time_error("2026-06-07T02:00:00 CET"),
            "'2026-06-07T02:00:00 CET' has no UTC offset (add Z or e.g. +01:00)" + form);
  EXPECT_EQ(time_error("2026-06-07T02:00:00.Z"),
            "'2026-06-07T02:00:00.Z' has a '.' without fractional seconds" + form);
  EXPECT_EQ(time_error("2026-06-07T02:00:00+0100"),
            "'2026-06-07T02:00:00+0100' has an invalid UTC offset" + form);
  EXPECT_EQ(time_error("2026-06-07T02:00:00+24:00"),
            "'2026-06-07T02:00:00+24:00' has an invalid UTC offset" + form);
  EXPECT_EQ(time_error("2026-06-07T02:00:00Zx"),
            "'2026-06-07T02:00:00Zx' has trailing text 'x'" + form);
  EXPECT_EQ(time_error("2026-06-31T02:00:00+01:00"),
            "'2026-06-31T02:00:00+01:00' is not a calendar date" + form);
  EXPECT_EQ(time_error("2026-02-29T02:00:00Z"),
            "'2026-02-29T02:00:00Z' is not a calendar date" + form);
  EXPECT_EQ(time_error("2026-13-01T02:00:00Z"),
            "'2026-13-01T02:00:00Z' is not a calendar date" + form);
  EXPECT_EQ(time_error("2026-06-07T24:00:00Z"),
            "'2026-06-07T24:00:00Z' is not a valid time of day" + form);
  EXPECT_EQ(time_error("2026-06-07T02:60:00Z"),
            "'2026-06-07T02:60:00Z' is not a valid time of day" + form);
}

TEST(ParseRfc3339, RefusesYearsOutsideTheNanosecondRange) {
  // Nanoseconds in 64 bits end in 2262; a year like 9999 used to wrap around silently.
  EXPECT_EQ(time_error("9999-06-07T06:00:00+01:00"),
            "'9999-06-07T06:00:00+01:00' has the year 9999, outside the years this agent handles "
            "(1970 to 2200)");
  EXPECT_EQ(time_error("1969-12-31T23:59:59Z"),
            "'1969-12-31T23:59:59Z' has the year 1969, outside the years this agent handles "
            "(1970 to 2200)");
  EXPECT_TRUE(parse_rfc3339("2200-12-31T23:59:59-23:59").has_value());
  EXPECT_TRUE(parse_rfc3339("1970-01-01T00:00:00Z").has_value());
}

TEST(FormatRfc3339, WritesTheGivenOffset) {
  auto t = parse_rfc3339("2026-06-07T04:20:00+01:00");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(format_rfc3339(t->at, t->offset), "2026-06-07T04:20:00+01:00");
  EXPECT_EQ(format_rfc3339(t->at), "2026-06-07T03:20:00Z");
  EXPECT_EQ(format_rfc3339(t->at, -minutes{330}), "2026-06-06T21:50:00-05:30");
  EXPECT_EQ(format_rfc3339(t->at + milliseconds{250}), "2026-06-07T03:20:00.250Z");
  // Below a millisecond is not shown.
  EXPECT_EQ(format_rfc3339(t->at + microseconds{999}), "2026-06-07T03:20:00Z");
  // Crossing midnight and a year end in the offset.
  auto ny = parse_rfc3339("2026-12-31T23:30:00Z");
  ASSERT_TRUE(ny.has_value());
  EXPECT_EQ(format_rfc3339(ny->at, minutes{60}), "2027-01-01T00:30:00+01:00");
}

TEST(FormatRfc3339, RoundTripsThroughParse) {
  for (const char* text : {"2026-06-07T02:00:00+01:00", "2026-06-07T01:00:00Z",
                           "2026-01-01T00:00:00.125-08:00", "2099-12-31T23:59:59+14:00"}) {
    auto t = parse_rfc3339(text);
    ASSERT_TRUE(t.has_value()) << text;
    EXPECT_EQ(format_rfc3339(t->at, t->offset), text);
  }
}

TEST(FormatClock, ShowsSecondsOnlyWhenThereAreSome) {
  auto t = parse_rfc3339("2026-06-07T04:20:00+01:00");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(format_clock(t->at, t->offset), "04:20");
  EXPECT_EQ(format_clock(t->at, minutes{0}), "03:20");
  EXPECT_EQ(format_clock(t->at + seconds{5}, t->offset), "04:20:05");
  EXPECT_EQ(format_clock(t->at, minutes{60 * 20 + 40}), "00:00");  // next day in +20:40
}

TEST(FormatOffset, AlwaysSignedHoursAndMinutes) {
  EXPECT_EQ(format_offset(minutes{0}), "+00:00");
  EXPECT_EQ(format_offset(minutes{60}), "+01:00");
  EXPECT_EQ(format_offset(-minutes{330}), "-05:30");
  EXPECT_EQ(format_offset(minutes{14 * 60}), "+14:00");
}

TEST(Seconds, ConvertBothWays) {
  EXPECT_EQ(to_seconds(milliseconds{1500}), 1.5);
  EXPECT_EQ(from_seconds(0.25), Duration{milliseconds{250}});
  EXPECT_EQ(unix_seconds(TimePoint{seconds{42}}), 42.0);
}

}  // namespace
}  // namespace backout
