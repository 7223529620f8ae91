// Text helpers behind the plan loader's messages: did-you-mean, lists, numbers, percentages.
#include "backout/core/text.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace backout {
namespace {

// Plain full-matrix optimal string alignment distance, the reference for the banded one.
std::size_t reference_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) {
    d[i][0] = i;
  }
  for (std::size_t j = 0; j <= b.size(); ++j) {
    d[0][j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

TEST(EditDistance, CountsInsertDeleteSubstituteAndSwap) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", "abc"), 0u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("sponsr", "sponsor"), 1u);    // insert
  EXPECT_EQ(edit_distance("decidess", "decides"), 1u);  // delete
  EXPECT_EQ(edit_distance("critcal", "critical"), 1u);  // insert
  EXPECT_EQ(edit_distance("majr", "major"), 1u);
  EXPECT_EQ(edit_distance("slak", "slack"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("ratoi", "ratio"), 1u);  // adjacent swap counts once
  EXPECT_EQ(edit_distance("ca", "abc"), 3u);       // OSA, not full Damerau
}

TEST(EditDistance, IsCappedAtCapPlusOne) {
  EXPECT_EQ(edit_distance("abcdef", "uvwxyz", 2), 3u);
  EXPECT_EQ(edit_distance("a", "abcdefgh", 2), 3u);  // length difference alone exceeds the cap
  EXPECT_EQ(edit_distance("abcdef", "abcdxy", 2), 2u);
  EXPECT_EQ(edit_distance("abc", "xyz", 0), 1u);
  EXPECT_EQ(edit_distance("abc", "abc", 0), 0u);
}

TEST(EditDistance, BandedComputationMatchesTheFullMatrix) {
  std::mt19937 rng(20260607);
  std::uniform_int_distribution<int> len(0, 14);
  std::uniform_int_distribution<int> letter(0, 3);  // few letters: many near-matches and swaps
  for (int round = 0; round < 3000; ++round) {
    std::string a, b;
    for (int i = len(rng); i > 0; --i) {
      a += static_cast<char>('a' + letter(rng));
    }
    for (int i = len(rng); i > 0; --i) {
      b += static_cast<char>('a' + letter(rng));
    }
    for (std::size_t cap : {0u, 1u, 2u, 3u, 5u, 64u}) {
      EXPECT_EQ(edit_distance(a, b, cap), std::min(reference_distance(a, b), cap + 1))
          << "'" << a << "' '" << b << "' cap " << cap;
    }
  }
}

TEST(EditDistance, StaysCheapOnHugeStrings) {
  // A plan can hold megabyte-long keys; did-you-mean must not be quadratic in them.
  std::string a(1'000'000, 'x');
  std::string b = a;
  b[500'000] = 'y';
  EXPECT_EQ(edit_distance(a, b, 3), 1u);
  b[10] = 'z';
  b[20] = 'z';
  b[30] = 'z';
  EXPECT_EQ(edit_distance(a, b, 3), 4u);
}

TEST(ClosestMatch, SuggestsLikelyTypos) {
  const std::vector<std::string> roles = {
      "deployment_lead", "project_manager", "sponsor", "it_operations", "dba", "steering_group"};
  EXPECT_EQ(closest_match("sponsr", roles), "sponsor");
  EXPECT_EQ(closest_match("deployment_led", roles), "deployment_lead");
  EXPECT_EQ(closest_match("projectmanager", roles), "project_manager");
  EXPECT_EQ(closest_match("dab", roles), "dba");  // swap in a short word
  EXPECT_EQ(closest_match("sponsor", roles), "sponsor");
  EXPECT_EQ(closest_match("cto", roles), std::nullopt);
  EXPECT_EQ(closest_match("manager", roles), std::nullopt);
}

TEST(ClosestMatch, AllowsMoreEditsForLongerWords) {
  // up to 1 edit below 5 characters, 2 from 5, 3 from 9.
  EXPECT_EQ(closest_match("ab", {"abcd"}), std::nullopt);
  EXPECT_EQ(closest_match("abc", {"abcd"}), "abcd");
  EXPECT_EQ(closest_match("abcde", {"abcdefg"}), "abcdefg");
  EXPECT_EQ(closest_match("abcde", {"abcdefgh"}), std::nullopt);
  EXPECT_EQ(closest_match("abcdefghi", {"abcdefghijkl"}), "abcdefghijkl");
  EXPECT_EQ(closest_match("abcdefghi", {"abcdefghijklm"}), std::nullopt);
}

TEST(ClosestMatch, PrefersTheNearestAndThenTheFirst) {
  EXPECT_EQ(closest_match("rate", {"ratio", "rate", "increase"}), "rate");
  EXPECT_EQ(closest_match("mex", {"mean", "max"}), "max");
  EXPECT_EQ(closest_match("ab", {"ax", "xb"}), "ax");  // a tie goes to the first candidate
  const std::vector<std::string_view> keys = {"start", "end", "backout_duration"};
  EXPECT_EQ(closest_match("strat", std::span<const std::string_view>(keys)), "start");
  EXPECT_EQ(closest_match("x", std::vector<std::string>{}), std::nullopt);
}

TEST(Join, AndQuotedList) {
  const std::vector<std::string> three = {"a", "b", "c"};
  EXPECT_EQ(join(three, ", "), "a, b, c");
  EXPECT_EQ(join(std::vector<std::string>{}, ", "), "");
  EXPECT_EQ(join(std::vector<std::string>{"only"}, ", "), "only");
  EXPECT_EQ(quoted_list(three), "'a', 'b' or 'c'");
  EXPECT_EQ(quoted_list(three, " and "), "'a', 'b' and 'c'");
  EXPECT_EQ(quoted_list(std::vector<std::string>{"x"}), "'x'");
  EXPECT_EQ(quoted_list(std::vector<std::string>{"x", "y"}), "'x' or 'y'");
}

TEST(Identifiers, AndEnvironmentVariableNames) {
  for (const char* ok : {"a", "_", "portal_db", "ONCALL_CHAT_WEBHOOK", "x9", "_9"}) {
    EXPECT_TRUE(is_identifier(ok)) << ok;
    EXPECT_TRUE(is_env_name(ok)) << ok;
  }
  for (const char* bad : {"", "9x", "portal-db", "portal.db", "$TOKEN", "a b", "é"}) {
    EXPECT_FALSE(is_identifier(bad)) << bad;
    EXPECT_FALSE(is_env_name(bad)) << bad;
  }
}

TEST(FormatNumber, WithoutNoise) {
  EXPECT_EQ(format_number(5), "5");
  EXPECT_EQ(format_number(0.5), "0.5");
  EXPECT_EQ(format_number(7.1), "7.1");
  EXPECT_EQ(format_number(1234.56), "1235");  // 4 significant digits by default
  EXPECT_EQ(format_number(1234.56, 6), "1234.56");
  EXPECT_EQ(format_number(1e-6), "1e-06");
  EXPECT_EQ(format_number(-3), "-3");
  EXPECT_EQ(format_number(-0.0), "0");
  EXPECT_EQ(format_number(1e20), "1e+20");
  EXPECT_EQ(format_number(std::nan("")), "NaN");
  EXPECT_EQ(format_number(HUGE_VAL), "+Inf");
  EXPECT_EQ(format_number(-HUGE_VAL), "-Inf");
}

TEST(FormatPercent, KeepsATenthOfAPercent) {
  EXPECT_EQ(format_percent(0.05), "5%");
  EXPECT_EQ(format_percent(0.071), "7.1%");
  EXPECT_EQ(format_percent(0.0035), "0.35%");
  EXPECT_EQ(format_percent(0.123), "12.3%");
  EXPECT_EQ(format_percent(0.255), "25.5%");
  EXPECT_EQ(format_percent(0.5), "50%");
  EXPECT_EQ(format_percent(1.0), "100%");
  EXPECT_EQ(format_percent(0), "0%");
  EXPECT_EQ(format_percent(-0.0), "0%");
  EXPECT_EQ(format_percent(0.0004), "0.04%");
  EXPECT_EQ(format_percent(1.5), "150%");
  EXPECT_EQ(format_percent(-0.1), "-10%");
  EXPECT_EQ(format_percent(std::nan("")), "NaN");
}

TEST(JsonQuote, EscapesWhatJsonNeeds) {
  EXPECT_EQ(json_quote("5.."), "\"5..\"");
  EXPECT_EQ(json_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_quote("l1\nl2\r\t"), "\"l1\\nl2\\r\\t\"");
  EXPECT_EQ(json_quote(std::string_view("\x01", 1)), "\"\\u0001\"");
  EXPECT_EQ(json_quote(""), "\"\"");
  EXPECT_EQ(json_quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // UTF-8 passes through
}

TEST(ParseWholeNumberTest, DigitsOnlyWithinTheMaximum) {
  EXPECT_EQ(parse_whole_number("0", 65535), 0u);
  EXPECT_EQ(parse_whole_number("9750", 65535), 9750u);
  EXPECT_EQ(parse_whole_number("65535", 65535), 65535u);
  EXPECT_EQ(parse_whole_number("18446744073709551615", UINT64_MAX), UINT64_MAX);
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "70000", "65536", "1e3", "0x10", "abc",
                          "18446744073709551616", "99999999999999999999999"}) {
    EXPECT_FALSE(parse_whole_number(bad, 65535).has_value()) << bad;
  }
  EXPECT_FALSE(parse_whole_number("18446744073709551616", UINT64_MAX).has_value());
  EXPECT_FALSE(parse_whole_number("7", 5).has_value());
}

// Issue 14, item 13: a newline in `by` forged a log line, and NUL bytes reached the log.
TEST(PrintableTest, ControlCharactersCannotForgeOrBreakALogLine) {
  EXPECT_EQ(printable("@jane.doe"), "@jane.doe");
  EXPECT_EQ(printable("@mallory\n[2026-06-07 03:00:00] [warn] decision go by @jane.doe"),
            "@mallory\\n[2026-06-07 03:00:00] [warn] decision go by @jane.doe");
  EXPECT_EQ(printable(std::string("a\0b\r\t\x1b[31m\x7f", 11)), "a\\x00b\\r\\t\\x1b[31m\\x7f");
  EXPECT_EQ(printable("back\\slash"), "back\\\\slash") << "so an escape cannot be faked";
  EXPECT_EQ(printable("caf\xc3\xa9"), "caf\xc3\xa9") << "UTF-8 is kept";
}

}  // namespace
}  // namespace backout
