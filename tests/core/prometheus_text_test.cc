#include "backout/core/prometheus_text.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace backout {
namespace {

// A sample copied out of the callback, so tests can look at it after the parse.
struct OwnedSample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
  std::optional<std::int64_t> timestamp_ms;
  MetricType type = MetricType::kUntyped;
};

struct Parsed {
  std::vector<OwnedSample> samples;
  PrometheusParseStats stats;
};

Parsed parse(std::string_view body, const PrometheusParseLimits& limits = {}) {
  Parsed out;
  out.stats = parse_prometheus_text(body, limits, [&](const PrometheusSample& s) {
    OwnedSample o{std::string(s.name), {}, s.value, s.timestamp_ms, s.type};
    for (const auto& l : s.labels) {
      o.labels.emplace_back(std::string(l.name), std::string(l.value));
    }
    out.samples.push_back(std::move(o));
  });
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Exposition text of one sample; also the round-trip serializer of the randomized tests.
std::string serialize(const OwnedSample& s) {
  std::string out = s.name;
  if (!s.labels.empty()) {
    out += '{';
    for (std::size_t i = 0; i < s.labels.size(); ++i) {
      out += i == 0 ? "" : ",";
      out += s.labels[i].first + "=\"" + escape_label_value(s.labels[i].second) + '"';
    }
    out += '}';
  }
  out += ' ' + format_value(s.value);
  if (s.timestamp_ms) {
    out += ' ' + std::to_string(*s.timestamp_ms);
  }
  return out;
}

// `serialize` plus the type, for table expectations: `foo{a="b"} 1 :counter`.
std::string render(const OwnedSample& s) {
  return serialize(s) + " :" + std::string(metric_type_name(s.type));
}

std::vector<std::string> render_all(const Parsed& p) {
  std::vector<std::string> out;
  for (const auto& s : p.samples) {
    out.push_back(render(s));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Valid constructs: each body parses without error into exactly these samples.

struct ValidCase {
  const char* name;
  std::string body;
  std::vector<std::string> expected;
};

void PrintTo(const ValidCase& c, std::ostream* os) { *os << c.name; }

class PrometheusTextValidTest : public ::testing::TestWithParam<ValidCase> {};

TEST_P(PrometheusTextValidTest, ParsesIntoTheExpectedSamples) {
  const ValidCase& c = GetParam();
  Parsed p = parse(c.body);
  EXPECT_EQ(p.stats.malformed, 0u) << p.stats.first_error;
  EXPECT_EQ(p.stats.first_error, "");
  EXPECT_EQ(p.stats.dropped, 0u);
  EXPECT_EQ(p.stats.samples, c.expected.size());
  EXPECT_EQ(render_all(p), c.expected);
}

const ValidCase kValidCases[] = {
    {"Bare", "foo 1\n", {"foo 1 :untyped"}},
    {"NoFinalNewline", "foo 1", {"foo 1 :untyped"}},
    {"Labels", "foo{a=\"b\",c=\"d\"} 2\n", {"foo{a=\"b\",c=\"d\"} 2 :untyped"}},
    {"EmptyLabelSet", "foo{} 3\n", {"foo 3 :untyped"}},
    {"TrailingComma", "foo{a=\"b\",} 4\n", {"foo{a=\"b\"} 4 :untyped"}},
    {"EmptyLabelValue", "foo{a=\"\"} 1\n", {"foo{a=\"\"} 1 :untyped"}},
    {"EscapedBackslashQuoteNewline",
     "foo{a=\"x\\\\y\\\"z\\nw\"} 1\n",
     {"foo{a=\"x\\\\y\\\"z\\nw\"} 1 :untyped"}},
    // Not an escape the format defines: kept as written (Prometheus does the same).
    {"UnknownEscapeKept", "foo{a=\"x\\ty\"} 1\n", {"foo{a=\"x\\\\ty\"} 1 :untyped"}},
    {"SeveralEscapedValues",
     "foo{a=\"1\\\\\",b=\"plain\",c=\"\\\"2\\\"\"} 1\n",
     {"foo{a=\"1\\\\\",b=\"plain\",c=\"\\\"2\\\"\"} 1 :untyped"}},
    {"SyntaxInsideLabelValue",
     "foo{a=\"}, # = {\",b=\"x\"} 1\n",
     {"foo{a=\"}, # = {\",b=\"x\"} 1 :untyped"}},
    {"Utf8LabelValue",
     "foo{city=\"Z\xc3\xbcrich\"} 1\n",
     {"foo{city=\"Z\xc3\xbcrich\"} 1 :untyped"}},
    {"InvalidUtf8LabelValueKeptAsBytes",
     "foo{a=\"\xff\xfe\xc3\"} 1\n",
     {"foo{a=\"\xff\xfe\xc3\"} 1 :untyped"}},
    {"ColonsInMetricName",
     "job:http_requests:rate5m 0.5\n",
     {"job:http_requests:rate5m 0.5 :untyped"}},
    {"UnderscoreNames", "_x{_y=\"1\"} 1\n", {"_x{_y=\"1\"} 1 :untyped"}},
    {"ValueNaN", "foo NaN\n", {"foo NaN :untyped"}},
    {"ValuePlusInf", "foo +Inf\n", {"foo +Inf :untyped"}},
    {"ValueMinusInf", "foo -Inf\n", {"foo -Inf :untyped"}},
    {"ValueInf", "foo Inf\n", {"foo +Inf :untyped"}},
    {"ValueLowerCaseInfNan", "a inf\nb nan\n", {"a +Inf :untyped", "b NaN :untyped"}},
    {"ValueExponents",
     "a 1e3\nb 1E-3\nc -1.5e+10\nd 2.5E+07\n",
     {"a 1000 :untyped", "b 0.001 :untyped", "c -1.5e+10 :untyped", "d 2.5e+07 :untyped"}},
    {"ValueSignsAndPoints",
     "a +1\nb -2\nc .5\nd 5.\ne -0\n",
     {"a 1 :untyped", "b -2 :untyped", "c 0.5 :untyped", "d 5 :untyped", "e -0 :untyped"}},
    {"ValueUnderflowsToZero", "a 1e-400\nb -0.0e-999\n", {"a 0 :untyped", "b -0 :untyped"}},
    {"ValueLargeInteger", "a 18446744073709551616\n", {"a 18446744073709551616 :untyped"}},
    {"Timestamp", "foo 1 1712345678901\n", {"foo 1 1712345678901 :untyped"}},
    {"NegativeTimestamp", "foo 1 -1000\n", {"foo 1 -1000 :untyped"}},
    {"TimestampWithLabels", "foo{a=\"b\"} 1 0\n", {"foo{a=\"b\"} 1 0 :untyped"}},
    // OpenMetrics writes seconds; a fraction or exponent says so.
    {"OpenMetricsSecondsTimestamp", "foo 1 1712345678.9\n", {"foo 1 1712345678900 :untyped"}},
    {"ExemplarIgnored",
     "foo_bucket{le=\"0.1\"} 8 # {trace_id=\"abc\"} 0.05 1712345678.1\n",
     {"foo_bucket{le=\"0.1\"} 8 :untyped"}},
    {"ExemplarAfterTimestamp",
     "foo 8 1712345678000 # {trace_id=\"abc\"} 0.05\n",
     {"foo 8 1712345678000 :untyped"}},
    {"CrLf",
     "# TYPE foo gauge\r\nfoo{a=\"b\"} 1\r\nbar 2 17\r\n",
     {"foo{a=\"b\"} 1 :gauge", "bar 2 17 :untyped"}},
    {"BlankAndWhitespaceLines",
     "\n\nfoo 1\n   \n\t\nbar 2\n\n",
     {"foo 1 :untyped", "bar 2 :untyped"}},
    {"Comments",
     "# just a comment\n#no space\n# UNIT foo seconds\n#\nfoo 1\n# HELPER not help\n",
     {"foo 1 :untyped"}},
    {"BlanksAndTabsBetweenTokens",
     "  foo \t{ a = \"b\" , c=\"d\" , }\t 1 \t 2  \n",
     {"foo{a=\"b\",c=\"d\"} 1 2 :untyped"}},
    {"NoBlankAfterLabelSet", "foo{a=\"b\"}1\n", {"foo{a=\"b\"} 1 :untyped"}},
    {"IndentedComment", "   # TYPE foo counter\nfoo 1\n", {"foo 1 :counter"}},
    {"HelpWithoutText", "# HELP foo\n# TYPE foo gauge\nfoo 1\n", {"foo 1 :gauge"}},
    {"HelpWithAnythingInIt",
     "# HELP foo a \"quoted\" {text} \\n \xff\nfoo 1\n",
     {"foo 1 :untyped"}},
    {"Eof", "foo 1\n# EOF\n", {"foo 1 :untyped"}},
    {"EofWithoutNewline", "foo 1\n# EOF", {"foo 1 :untyped"}},
    {"AfterEofIgnored", "foo 1\n# EOF\nbar 2\nthis is { not valid\n", {"foo 1 :untyped"}},
    {"EofCrLf", "foo 1\r\n# EOF\r\nbar 2\r\n", {"foo 1 :untyped"}},
    {"ByteOrderMark", "\xEF\xBB\xBF# TYPE foo counter\nfoo 1\n", {"foo 1 :counter"}},
    {"NulByteInLabelValue",
     std::string("foo{a=\"x\0y\"} 1\n", 15),
     {std::string("foo{a=\"x\0y\"} 1 :untyped", 23)}},
    {"EmptyBody", "", {}},
};

INSTANTIATE_TEST_SUITE_P(Constructs, PrometheusTextValidTest, ::testing::ValuesIn(kValidCases),
                         [](const auto& row) { return std::string(row.param.name); });

// ---------------------------------------------------------------------------------------------
// Types: the declared family type applies to the family name and its type's suffixes.

struct TypeCase {
  const char* name;
  std::string body;
  std::vector<std::string> expected;
};

void PrintTo(const TypeCase& c, std::ostream* os) { *os << c.name; }

class PrometheusTextTypeTest : public ::testing::TestWithParam<TypeCase> {};

TEST_P(PrometheusTextTypeTest, AssignsTheFamilyType) {
  const TypeCase& c = GetParam();
  Parsed p = parse(c.body);
  EXPECT_EQ(p.stats.malformed, 0u) << p.stats.first_error;
  EXPECT_EQ(render_all(p), c.expected);
}

const TypeCase kTypeCases[] = {
    {"Counter", "# TYPE foo_total counter\nfoo_total 1\n", {"foo_total 1 :counter"}},
    {"OpenMetricsCounterTotal",
     "# TYPE foo counter\nfoo_total 1\nfoo_created 1.7e9\n",
     {"foo_total 1 :counter", "foo_created 1.7e+09 :counter"}},
    {"CounterBareName", "# TYPE foo counter\nfoo 1\n", {"foo 1 :counter"}},
    {"Gauge", "# TYPE g gauge\ng 1\ng_total 2\n", {"g 1 :gauge", "g_total 2 :untyped"}},
    {"Untyped", "# TYPE u untyped\nu 1\n", {"u 1 :untyped"}},
    {"Histogram",
     "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n"
     "h_created 5\nh_total 9\n",
     {"h_bucket{le=\"1\"} 1 :histogram", "h_bucket{le=\"+Inf\"} 2 :histogram", "h_sum 3 :histogram",
      "h_count 2 :histogram", "h_created 5 :histogram", "h_total 9 :untyped"}},
    {"Summary",
     "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 3\ns_count 2\ns_created 5\ns_bucket 1\n",
     {"s{quantile=\"0.5\"} 1 :summary", "s_sum 3 :summary", "s_count 2 :summary",
      "s_created 5 :summary", "s_bucket 1 :untyped"}},
    {"OpenMetricsTypesAreUntyped",
     "# TYPE i info\ni_info{v=\"1\"} 1\n# TYPE st stateset\nst{st=\"a\"} 1\n"
     "# TYPE gh gaugehistogram\ngh_bucket{le=\"1\"} 1\ngh_gcount 1\n# TYPE x unknown\nx 1\n",
     {"i_info{v=\"1\"} 1 :untyped", "st{st=\"a\"} 1 :untyped", "gh_bucket{le=\"1\"} 1 :untyped",
      "gh_gcount 1 :untyped", "x 1 :untyped"}},
    {"OtherNameIsUntyped",
     "# TYPE foo counter\nfoo 1\nbar 2\nfoobar 3\nfoo_totalx 4\n",
     {"foo 1 :counter", "bar 2 :untyped", "foobar 3 :untyped", "foo_totalx 4 :untyped"}},
    {"NextTypeReplacesFamily",
     "# TYPE a counter\na 1\n# TYPE b gauge\nb 2\na 3\n",
     {"a 1 :counter", "b 2 :gauge", "a 3 :untyped"}},
    {"HelpOfSameNameKeepsType", "# TYPE a counter\n# HELP a A.\na 1\n", {"a 1 :counter"}},
    {"HelpOfOtherNameStartsUntypedFamily",
     "# TYPE a counter\n# HELP b B.\na 1\nb 2\n",
     {"a 1 :untyped", "b 2 :untyped"}},
    {"HelpThenType", "# HELP a A.\n# TYPE a gauge\na 1\n", {"a 1 :gauge"}},
    {"TypeWithTrailingBlanks", "# TYPE a gauge  \t\na 1\n", {"a 1 :gauge"}},
};

INSTANTIATE_TEST_SUITE_P(Types, PrometheusTextTypeTest, ::testing::ValuesIn(kTypeCases),
                         [](const auto& row) { return std::string(row.param.name); });

// ---------------------------------------------------------------------------------------------
// Malformed lines: each is counted and skipped; the lines around it still parse.

struct MalformedCase {
  const char* name;
  std::string line;
  std::string error;  // expected first_error, after "line 2: "
};

void PrintTo(const MalformedCase& c, std::ostream* os) { *os << c.name; }

class PrometheusTextMalformedTest : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(PrometheusTextMalformedTest, IsCountedAndSkipped) {
  const MalformedCase& c = GetParam();
  Parsed p = parse("before 1\n" + c.line + "\nafter{x=\"y\"} 2\n");
  EXPECT_EQ(p.stats.lines, 3u);
  EXPECT_EQ(p.stats.malformed, 1u);
  EXPECT_EQ(p.stats.samples, 2u);
  EXPECT_EQ(p.stats.first_error, "line 2: " + c.error);
  EXPECT_EQ(render_all(p),
            (std::vector<std::string>{"before 1 :untyped", "after{x=\"y\"} 2 :untyped"}));
}

const MalformedCase kMalformedCases[] = {
    {"NameStartsWithDigit", "1foo 1", "expected a metric name or '#', got '1'"},
    {"NameStartsWithPunctuation", "{a=\"b\"} 1", "expected a metric name or '#', got '{'"},
    {"InvalidCharInName", "foo-bar 1", "invalid character in metric name: '-'"},
    {"DotInName", "foo.bar 1", "invalid character in metric name: '.'"},
    {"NoValue", "foo", "expected a value after the metric name"},
    {"NoValueAfterLabels", "foo{a=\"b\"}", "expected a value after the label set"},
    {"NoValueAfterEmptyLabels", "foo{} ", "expected a value after the label set"},
    {"InvalidValue", "foo bar", "invalid sample value 'bar'"},
    {"HexValue", "foo 0x1p3", "invalid sample value '0x1p3'"},
    {"UnderscoreValue", "foo 1_000", "invalid sample value '1_000'"},
    {"DoubleSignValue", "foo +-1", "invalid sample value '+-1'"},
    {"NanPayloadValue", "foo nan(1)", "invalid sample value 'nan(1)'"},
    {"ValueOverflow", "foo 1e999", "invalid sample value '1e999'"},
    {"CommaValue", "foo 1,5", "invalid sample value '1,5'"},
    {"InvalidTimestamp", "foo 1 abc", "invalid timestamp 'abc'"},
    {"TimestampOverflow", "foo 1 99999999999999999999", "invalid timestamp '99999999999999999999'"},
    {"TimestampInf", "foo 1 +Inf", "invalid timestamp '+Inf'"},
    {"TimestampSecondsOverflow", "foo 1 1e300", "invalid timestamp '1e300'"},
    {"TextAfterTimestamp", "foo 1 2 3", "unexpected text after the timestamp: '3'"},
    {"LabelNameStartsWithDigit", "foo{1a=\"b\"} 1", "expected a label name or '}', got '1'"},
    {"LabelNameWithColon", "foo{a:b=\"c\"} 1", "expected '=' after label name 'a'"},
    {"LeadingComma", "foo{,a=\"b\"} 1", "expected a label name or '}', got ','"},
    {"OnlyComma", "foo{,} 1", "expected a label name or '}', got ','"},
    {"DoubleComma", "foo{a=\"b\",,c=\"d\"} 1", "expected a label name or '}', got ','"},
    {"MissingEquals", "foo{a\"b\"} 1", "expected '=' after label name 'a'"},
    {"UnquotedValue", "foo{a=b} 1", "expected '\"' to open the value of label 'a'"},
    {"SingleQuotedValue", "foo{a='b'} 1", "expected '\"' to open the value of label 'a'"},
    {"UnterminatedValue", "foo{a=\"b} 1", "unterminated value of label 'a'"},
    {"BackslashAtEnd", "foo{a=\"b\\", "unterminated value of label 'a'"},
    {"EscapedQuoteUnterminated", "foo{a=\"b\\\"} 1", "unterminated value of label 'a'"},
    {"MissingComma", "foo{a=\"b\" c=\"d\"} 1", "expected ',' or '}' after the value of label 'a'"},
    {"UnterminatedLabelSet", "foo{a=\"b\",", "unterminated label set"},
    {"UnterminatedEmptyLabelSet", "foo{", "unterminated label set"},
    {"DuplicateLabel", "foo{a=\"1\",b=\"2\",a=\"3\"} 1", "duplicate label name 'a'"},
    {"TypeWithoutName", "# TYPE", "# TYPE without a metric name"},
    {"TypeWithoutType", "# TYPE foo", "# TYPE without a type for 'foo'"},
    {"TypeUnknown", "# TYPE foo countr", "unknown metric type in # TYPE: 'countr'"},
    {"TypeUpperCase", "# TYPE foo COUNTER", "unknown metric type in # TYPE: 'COUNTER'"},
    {"TypeExtraText", "# TYPE foo counter x", "unexpected text after the type in # TYPE: 'x'"},
    {"TypeInvalidName", "# TYPE 1foo counter", "# TYPE with an invalid metric name '1foo'"},
    {"HelpInvalidName", "# HELP foo-bar text", "# HELP with an invalid metric name 'foo-bar'"},
    {"HelpWithoutName", "# HELP ", "# HELP without a metric name"},
    {"ErrorTextIsSanitized", "foo \x01\xff'", "invalid sample value '\\x01\\xff\\x27'"},
};

INSTANTIATE_TEST_SUITE_P(Lines, PrometheusTextMalformedTest, ::testing::ValuesIn(kMalformedCases),
                         [](const auto& row) { return std::string(row.param.name); });

TEST(PrometheusTextTest, KeepsOnlyTheFirstError) {
  Parsed p = parse("ok 1\nbad\n# TYPE x nope\nok 2\n1bad 3\n");
  EXPECT_EQ(p.stats.lines, 5u);
  EXPECT_EQ(p.stats.samples, 2u);
  EXPECT_EQ(p.stats.malformed, 3u);
  EXPECT_EQ(p.stats.first_error, "line 2: expected a value after the metric name");
}

TEST(PrometheusTextTest, LongErrorSnippetsAreTruncated) {
  Parsed p = parse("foo " + std::string(1000, 'x') + "\n");
  EXPECT_EQ(p.stats.first_error, "line 1: invalid sample value '" + std::string(32, 'x') + "...'");
}

TEST(PrometheusTextTest, LineNumbersCountBlankCommentAndCrLfLines) {
  Parsed p = parse("\r\n# c\r\n\r\nfoo 1\r\nfoo{\r\n");
  EXPECT_EQ(p.stats.lines, 5u);
  EXPECT_EQ(p.stats.first_error, "line 5: unterminated label set");
}

TEST(PrometheusTextTest, MalformedTypeLeavesSamplesUntyped) {
  Parsed p = parse("# TYPE foo countr\nfoo 1\n");
  EXPECT_EQ(p.stats.malformed, 1u);
  EXPECT_EQ(render_all(p), std::vector<std::string>{"foo 1 :untyped"});
}

// ---------------------------------------------------------------------------------------------
// `# EOF` and stats.

TEST(PrometheusTextTest, EofStopsAndIsCounted) {
  Parsed p = parse("a 1\n# EOF\nb 2\nc 3\n");
  EXPECT_TRUE(p.stats.saw_eof);
  EXPECT_EQ(p.stats.lines, 2u);
  EXPECT_EQ(p.stats.samples, 1u);
}

TEST(PrometheusTextTest, EofMustBeExact) {
  Parsed p = parse("a 1\n# EOF now\n#EOF\n# eof\nb 2\n");
  EXPECT_FALSE(p.stats.saw_eof);
  EXPECT_EQ(p.stats.samples, 2u);
  EXPECT_EQ(p.stats.malformed, 0u);
}

TEST(PrometheusTextTest, NoEofInPlainPrometheusText) {
  Parsed p = parse("a 1\n");
  EXPECT_FALSE(p.stats.saw_eof);
  EXPECT_EQ(p.stats.lines, 1u);
}

TEST(PrometheusTextTest, CountsLinesWithAndWithoutFinalNewline) {
  EXPECT_EQ(parse("").stats.lines, 0u);
  EXPECT_EQ(parse("\n").stats.lines, 1u);
  EXPECT_EQ(parse("a 1").stats.lines, 1u);
  EXPECT_EQ(parse("a 1\n").stats.lines, 1u);
  EXPECT_EQ(parse("a 1\n\n").stats.lines, 2u);
}

// ---------------------------------------------------------------------------------------------
// Label values and the unescape buffer.

TEST(PrometheusTextTest, UnescapesIntoExactBytes) {
  Parsed p = parse("foo{a=\"\\\\\",b=\"\\\"\",c=\"\\n\",d=\"x\\\\n\"} 1\n");
  ASSERT_EQ(p.samples.size(), 1u);
  const auto& l = p.samples[0].labels;
  ASSERT_EQ(l.size(), 4u);
  EXPECT_EQ(l[0].second, "\\");
  EXPECT_EQ(l[1].second, "\"");
  EXPECT_EQ(l[2].second, "\n");
  EXPECT_EQ(l[3].second, "x\\n");
}

TEST(PrometheusTextTest, ManyEscapedValuesOnOneLineStayValid) {
  // Every value needs the unescape buffer; earlier views must survive later values.
  std::string body;
  std::vector<std::string> expected;
  for (int line = 0; line < 50; ++line) {
    body += "m" + std::to_string(line) + "{";
    for (int i = 0; i < 60; ++i) {
      std::string v = std::string(static_cast<std::size_t>(i + line), 'v') + std::to_string(i);
      body += "l" + std::to_string(i) + "=\"\\\"" + v + "\\\\\",";
    }
    body += "} 1\n";
  }
  Parsed p = parse(body);
  ASSERT_EQ(p.stats.malformed, 0u) << p.stats.first_error;
  ASSERT_EQ(p.samples.size(), 50u);
  for (int line = 0; line < 50; ++line) {
    const auto& labels = p.samples[static_cast<std::size_t>(line)].labels;
    ASSERT_EQ(labels.size(), 60u);
    for (int i = 0; i < 60; ++i) {
      std::string v = std::string(static_cast<std::size_t>(i + line), 'v') + std::to_string(i);
      EXPECT_EQ(labels[static_cast<std::size_t>(i)].second, "\"" + v + "\\");
    }
  }
}

TEST(PrometheusTextTest, ViewsPointIntoTheBodyWhenNothingIsEscaped) {
  std::string body = "foo{a=\"plain\"} 1\n";
  bool checked = false;
  parse_prometheus_text(body, {}, [&](const PrometheusSample& s) {
    EXPECT_EQ(s.name.data(), body.data());
    EXPECT_EQ(s.labels[0].value.data(), body.data() + 7);
    checked = true;
  });
  EXPECT_TRUE(checked);
}

// ---------------------------------------------------------------------------------------------
// Limits.

TEST(PrometheusTextTest, SamplesBeyondMaxSeriesAreDropped) {
  std::string body;
  for (int i = 0; i < 10; ++i) {
    body += "s" + std::to_string(i) + " 1\n";
  }
  body += "bad\n";
  Parsed p = parse(body, {.max_series = 4});
  EXPECT_EQ(p.stats.samples, 4u);
  EXPECT_EQ(p.stats.dropped, 6u);
  EXPECT_EQ(p.stats.malformed, 1u);
  ASSERT_EQ(p.samples.size(), 4u);
  EXPECT_EQ(p.samples[3].name, "s3");
}

TEST(PrometheusTextTest, MaxSeriesZeroDeliversNothing) {
  Parsed p = parse("a 1\nb 2\n", {.max_series = 0});
  EXPECT_EQ(p.stats.samples, 0u);
  EXPECT_EQ(p.stats.dropped, 2u);
  EXPECT_TRUE(p.samples.empty());
}

TEST(PrometheusTextTest, MoreLabelsThanMaxLabelsIsMalformed) {
  PrometheusParseLimits limits{.max_labels = 3};
  Parsed p = parse("a{x=\"1\",y=\"2\",z=\"3\"} 1\nb{w=\"0\",x=\"1\",y=\"2\",z=\"3\"} 1\n", limits);
  EXPECT_EQ(p.stats.samples, 1u);
  EXPECT_EQ(p.stats.malformed, 1u);
  EXPECT_EQ(p.stats.first_error, "line 2: too many labels (more than 3)");
}

TEST(PrometheusTextTest, LineLongerThanMaxLineBytesIsMalformed) {
  PrometheusParseLimits limits{.max_line_bytes = 10};
  // Exactly 10 bytes (the CR of CRLF not counted) is fine; 11 is not.
  Parsed p = parse("a 12345678\r\nb 123456789\nc 1\n", limits);
  EXPECT_EQ(p.stats.samples, 2u);
  EXPECT_EQ(p.stats.malformed, 1u);
  EXPECT_EQ(p.stats.first_error, "line 2: line is longer than 10 bytes");
  EXPECT_EQ(render_all(p), (std::vector<std::string>{"a 12345678 :untyped", "c 1 :untyped"}));
}

TEST(PrometheusTextTest, HugeLinesCostLinearTime) {
  // 32 MB: one line without a newline, then the same split into over-long lines, then a label
  // value that never closes. Any quadratic step would take minutes.
  std::string one(32u << 20, 'a');
  std::string many;
  for (int i = 0; i < 256; ++i) {
    many += std::string(128u << 10, 'b') + "\n";
  }
  std::string open_value = "foo{a=\"" + std::string(32u << 20, '\\');
  auto start = std::chrono::steady_clock::now();
  Parsed p1 = parse(one);
  Parsed p2 = parse(many);
  Parsed p3 = parse(open_value, {.max_line_bytes = std::numeric_limits<std::size_t>::max()});
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(p1.stats.malformed, 1u);
  EXPECT_EQ(p2.stats.malformed, 256u);
  EXPECT_EQ(p3.stats.malformed, 1u);
  EXPECT_EQ(p3.stats.first_error, "line 1: unterminated value of label 'a'");
  EXPECT_LT(elapsed, std::chrono::seconds(5));  // ~0.1 s in practice, even under sanitizers
}

TEST(PrometheusTextTest, DuplicateCheckScalesWithManyLabels) {
  // With max_labels raised, the duplicate check sorts rather than comparing every pair.
  constexpr int kLabels = 20000;
  std::string body = "foo{";
  for (int i = 0; i < kLabels; ++i) {
    body += "l" + std::to_string(i) + "=\"v\",";
  }
  std::string unique = body + "} 1\n";
  std::string duplicated = body + "l17=\"again\"} 1\n";
  PrometheusParseLimits limits{.max_line_bytes = 1u << 30, .max_labels = kLabels + 1};
  Parsed p = parse(unique + duplicated, limits);
  EXPECT_EQ(p.stats.samples, 1u);
  EXPECT_EQ(p.stats.malformed, 1u);
  EXPECT_EQ(p.stats.first_error, "line 2: duplicate label name 'l17'");
  ASSERT_EQ(p.samples.size(), 1u);
  EXPECT_EQ(p.samples[0].labels.size(), static_cast<std::size_t>(kLabels));
}

TEST(PrometheusTextTest, DuplicateLabelAmongSixteenOrMore) {
  std::string body = "foo{";
  for (int i = 0; i < 40; ++i) {
    body += "l" + std::to_string(i) + "=\"v\",";
  }
  body += "l0=\"w\"} 1\n";
  Parsed p = parse(body);
  EXPECT_EQ(p.stats.first_error, "line 1: duplicate label name 'l0'");
}

// ---------------------------------------------------------------------------------------------
// Callables.

TEST(PrometheusTextTest, StdFunctionOverloadAndEmptyFunction) {
  std::size_t seen = 0;
  std::function<void(const PrometheusSample&)> f = [&](const PrometheusSample&) { ++seen; };
  PrometheusParseStats stats = parse_prometheus_text("a 1\nb 2\n", {}, f);
  EXPECT_EQ(seen, 2u);
  EXPECT_EQ(stats.samples, 2u);
  std::function<void(const PrometheusSample&)> empty;
  stats = parse_prometheus_text("a 1\nb 2\n", {}, empty);
  EXPECT_EQ(stats.samples, 2u);
}

TEST(PrometheusTextTest, ConstAndMutableCallables) {
  struct Counter {
    std::size_t* n;
    void operator()(const PrometheusSample&) const { ++*n; }
  };
  std::size_t n = 0;
  const Counter counter{&n};
  (void)parse_prometheus_text("a 1\n", {}, counter);
  std::size_t m = 0;
  auto mutable_lambda = [m](const PrometheusSample&) mutable { ++m; };
  (void)parse_prometheus_text("a 1\n", {}, mutable_lambda);
  EXPECT_EQ(n, 1u);
}

TEST(PrometheusTextTest, MetricTypeNames) {
  EXPECT_EQ(metric_type_name(MetricType::kUntyped), "untyped");
  EXPECT_EQ(metric_type_name(MetricType::kCounter), "counter");
  EXPECT_EQ(metric_type_name(MetricType::kGauge), "gauge");
  EXPECT_EQ(metric_type_name(MetricType::kHistogram), "histogram");
  EXPECT_EQ(metric_type_name(MetricType::kSummary), "summary");
}

// ---------------------------------------------------------------------------------------------
// Real-world exposition, written as those libraries write it.

// Go client_golang /metrics (text format 0.0.4): summaries, histograms, counters, gauges.
const char kGoClientBody[] =
    R"(# HELP go_gc_duration_seconds A summary of the pause duration of garbage collection cycles.
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0"} 2.9e-05
go_gc_duration_seconds{quantile="0.25"} 4.1e-05
go_gc_duration_seconds{quantile="0.5"} 5.6e-05
go_gc_duration_seconds{quantile="0.75"} 8.3e-05
go_gc_duration_seconds{quantile="1"} 0.000724
go_gc_duration_seconds_sum 0.012345
go_gc_duration_seconds_count 142
# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 42
# HELP go_info Information about the Go environment.
# TYPE go_info gauge
go_info{version="go1.21.5"} 1
# HELP go_memstats_alloc_bytes_total Total number of bytes allocated, even if freed.
# TYPE go_memstats_alloc_bytes_total counter
go_memstats_alloc_bytes_total 1.23456789e+08
# HELP http_request_duration_seconds Duration of HTTP requests in seconds.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{handler="/login",method="POST",le="0.005"} 12
http_request_duration_seconds_bucket{handler="/login",method="POST",le="0.01"} 40
http_request_duration_seconds_bucket{handler="/login",method="POST",le="0.025"} 150
http_request_duration_seconds_bucket{handler="/login",method="POST",le="0.05"} 260
http_request_duration_seconds_bucket{handler="/login",method="POST",le="0.1"} 290
http_request_duration_seconds_bucket{handler="/login",method="POST",le="0.25"} 297
http_request_duration_seconds_bucket{handler="/login",method="POST",le="0.5"} 299
http_request_duration_seconds_bucket{handler="/login",method="POST",le="1"} 300
http_request_duration_seconds_bucket{handler="/login",method="POST",le="+Inf"} 300
http_request_duration_seconds_sum{handler="/login",method="POST"} 8.8131
http_request_duration_seconds_count{handler="/login",method="POST"} 300
# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.47
# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
# TYPE process_start_time_seconds gauge
process_start_time_seconds 1.71234567889e+09
# HELP promhttp_metric_handler_requests_total Total number of scrapes by HTTP status code.
# TYPE promhttp_metric_handler_requests_total counter
promhttp_metric_handler_requests_total{code="200"} 1532
promhttp_metric_handler_requests_total{code="500"} 0
promhttp_metric_handler_requests_total{code="503"} 0
)";

TEST(PrometheusTextRealWorldTest, GoClient) {
  Parsed p = parse(kGoClientBody);
  EXPECT_EQ(p.stats.malformed, 0u) << p.stats.first_error;
  EXPECT_EQ(p.stats.lines, 42u);
  ASSERT_EQ(p.stats.samples, 26u);
  EXPECT_EQ(render(p.samples[0]), "go_gc_duration_seconds{quantile=\"0\"} 2.9e-05 :summary");
  EXPECT_EQ(render(p.samples[5]), "go_gc_duration_seconds_sum 0.012345 :summary");
  EXPECT_EQ(render(p.samples[6]), "go_gc_duration_seconds_count 142 :summary");
  EXPECT_EQ(render(p.samples[7]), "go_goroutines 42 :gauge");
  EXPECT_EQ(render(p.samples[9]), "go_memstats_alloc_bytes_total 123456789 :counter");
  EXPECT_EQ(render(p.samples[18]),
            "http_request_duration_seconds_bucket{handler=\"/login\",method=\"POST\",le=\"+Inf\"} "
            "300 :histogram");
  EXPECT_EQ(render(p.samples[19]),
            "http_request_duration_seconds_sum{handler=\"/login\",method=\"POST\"} 8.8131 "
            ":histogram");
  EXPECT_EQ(render(p.samples[20]),
            "http_request_duration_seconds_count{handler=\"/login\",method=\"POST\"} 300 "
            ":histogram");
  EXPECT_EQ(render(p.samples[22]), "process_start_time_seconds 1712345678.89 :gauge");
  EXPECT_EQ(render(p.samples[25]),
            "promhttp_metric_handler_requests_total{code=\"503\"} 0 :counter");
}

// prometheus-cpp TextSerializer: _count and _sum before the buckets or quantiles, NaN for an
// empty summary quantile, millisecond timestamps when a metric has one.
const char kPrometheusCppBody[] =
    R"(# HELP exposer_transferred_bytes_total Transferred bytes to metrics services
# TYPE exposer_transferred_bytes_total counter
exposer_transferred_bytes_total 1398
# HELP exposer_scrapes_total Number of times metrics were scraped
# TYPE exposer_scrapes_total counter
exposer_scrapes_total 3
# HELP exposer_request_latencies Latencies of serving scrape requests, in microseconds
# TYPE exposer_request_latencies summary
exposer_request_latencies_count 3
exposer_request_latencies_sum 1234
exposer_request_latencies{quantile="0.5"} 368
exposer_request_latencies{quantile="0.9"} 492
exposer_request_latencies{quantile="0.99"} NaN
# HELP request_latency_seconds Request latency
# TYPE request_latency_seconds histogram
request_latency_seconds_count{method="GET",path="/api/v1/orders"} 5
request_latency_seconds_sum{method="GET",path="/api/v1/orders"} 0.74
request_latency_seconds_bucket{method="GET",path="/api/v1/orders",le="0.1"} 2
request_latency_seconds_bucket{method="GET",path="/api/v1/orders",le="0.5"} 4
request_latency_seconds_bucket{method="GET",path="/api/v1/orders",le="+Inf"} 5
# HELP queue_depth Messages waiting
# TYPE queue_depth gauge
queue_depth{queue="orders"} 7 1712345678901
# HELP legacy_metric An untyped metric
# TYPE legacy_metric untyped
legacy_metric{note="say \"hi\"\nbye"} -Inf
)";

TEST(PrometheusTextRealWorldTest, PrometheusCpp) {
  Parsed p = parse(kPrometheusCppBody);
  EXPECT_EQ(p.stats.malformed, 0u) << p.stats.first_error;
  ASSERT_EQ(p.stats.samples, 14u);
  EXPECT_EQ(render(p.samples[0]), "exposer_transferred_bytes_total 1398 :counter");
  EXPECT_EQ(render(p.samples[2]), "exposer_request_latencies_count 3 :summary");
  EXPECT_EQ(render(p.samples[6]), "exposer_request_latencies{quantile=\"0.99\"} NaN :summary");
  EXPECT_EQ(render(p.samples[7]),
            "request_latency_seconds_count{method=\"GET\",path=\"/api/v1/orders\"} 5 :histogram");
  EXPECT_EQ(render(p.samples[12]), "queue_depth{queue=\"orders\"} 7 1712345678901 :gauge");
  ASSERT_EQ(p.samples[13].labels.size(), 1u);
  EXPECT_EQ(p.samples[13].labels[0].second, "say \"hi\"\nbye");
  EXPECT_EQ(render(p.samples[13]), "legacy_metric{note=\"say \\\"hi\\\"\\nbye\"} -Inf :untyped");
}

// Java simpleclient 0.x, text format 0.0.4: trailing commas in label sets, Java's Double
// formatting (1.2345678E7, 23.0), _created as its own gauge family.
const char kJavaSimpleclientBody[] =
    R"(# HELP jvm_memory_bytes_used Used bytes of a given JVM memory area.
# TYPE jvm_memory_bytes_used gauge
jvm_memory_bytes_used{area="heap",} 1.2345678E7
jvm_memory_bytes_used{area="nonheap",} 4.5678912E7
# HELP jvm_threads_current Current thread count of a JVM
# TYPE jvm_threads_current gauge
jvm_threads_current 23.0
# HELP jvm_gc_collection_seconds Time spent in a given JVM garbage collector in seconds.
# TYPE jvm_gc_collection_seconds summary
jvm_gc_collection_seconds_count{gc="G1 Young Generation",} 12.0
jvm_gc_collection_seconds_sum{gc="G1 Young Generation",} 0.123
jvm_gc_collection_seconds_count{gc="G1 Old Generation",} 0.0
jvm_gc_collection_seconds_sum{gc="G1 Old Generation",} 0.0
# HELP requests_total Total requests.
# TYPE requests_total counter
requests_total{path="/api",status="500",} 1027.0
# HELP requests_created Total requests.
# TYPE requests_created gauge
requests_created{path="/api",status="500",} 1.712345678123E9
# HELP request_latency_seconds Request latency.
# TYPE request_latency_seconds histogram
request_latency_seconds_bucket{le="0.005",} 0.0
request_latency_seconds_bucket{le="0.1",} 2.0
request_latency_seconds_bucket{le="+Inf",} 3.0
request_latency_seconds_count 3.0
request_latency_seconds_sum 0.4
request_latency_seconds_created 1.712345678123E9
# HELP process_open_fds Number of open file descriptors.
# TYPE process_open_fds gauge
process_open_fds 118.0
)";

TEST(PrometheusTextRealWorldTest, JavaSimpleclient) {
  Parsed p = parse(kJavaSimpleclientBody);
  EXPECT_EQ(p.stats.malformed, 0u) << p.stats.first_error;
  ASSERT_EQ(p.stats.samples, 16u);
  EXPECT_EQ(render(p.samples[0]), "jvm_memory_bytes_used{area=\"heap\"} 12345678 :gauge");
  EXPECT_EQ(render(p.samples[3]),
            "jvm_gc_collection_seconds_count{gc=\"G1 Young Generation\"} 12 :summary");
  EXPECT_EQ(render(p.samples[7]), "requests_total{path=\"/api\",status=\"500\"} 1027 :counter");
  EXPECT_EQ(render(p.samples[8]),
            "requests_created{path=\"/api\",status=\"500\"} 1712345678.123 :gauge");
  EXPECT_EQ(render(p.samples[11]), "request_latency_seconds_bucket{le=\"+Inf\"} 3 :histogram");
  EXPECT_EQ(render(p.samples[14]), "request_latency_seconds_created 1712345678.123 :histogram");
  EXPECT_EQ(render(p.samples[15]), "process_open_fds 118 :gauge");
}

// OpenMetrics 1.0 as client_python / client_java 1.x write it with the openmetrics-text
// content type: _total counters, _created, info, stateset, exemplars, # UNIT, # EOF.
const char kOpenMetricsBody[] = R"(# TYPE requests counter
# HELP requests Total requests.
requests_total{path="/api"} 1027.0
requests_created{path="/api"} 1.712345678123e+09
# TYPE build info
# HELP build Build information.
build_info{version="1.2.3",revision="abc123"} 1.0
# TYPE latency_seconds histogram
# UNIT latency_seconds seconds
latency_seconds_bucket{le="0.1"} 2.0 # {trace_id="KOO5S4vxi0o"} 0.067 1.712345678e+09
latency_seconds_bucket{le="+Inf"} 3.0 # {trace_id="oHg5SJYRHA0"} 9.8
latency_seconds_count 3.0
latency_seconds_sum 0.4
latency_seconds_created 1.712345678e+09
# TYPE feature stateset
feature{feature="a"} 1.0
feature{feature="b"} 0.0
# TYPE temperature_celsius gauge
temperature_celsius 21.5 1712345678.250
# EOF
)";

TEST(PrometheusTextRealWorldTest, OpenMetrics) {
  Parsed p = parse(kOpenMetricsBody);
  EXPECT_EQ(p.stats.malformed, 0u) << p.stats.first_error;
  EXPECT_TRUE(p.stats.saw_eof);
  ASSERT_EQ(p.stats.samples, 11u);
  EXPECT_EQ(render(p.samples[0]), "requests_total{path=\"/api\"} 1027 :counter");
  EXPECT_EQ(render(p.samples[1]), "requests_created{path=\"/api\"} 1712345678.123 :counter");
  EXPECT_EQ(render(p.samples[2]), "build_info{version=\"1.2.3\",revision=\"abc123\"} 1 :untyped");
  EXPECT_EQ(render(p.samples[3]), "latency_seconds_bucket{le=\"0.1\"} 2 :histogram");
  EXPECT_EQ(render(p.samples[4]), "latency_seconds_bucket{le=\"+Inf\"} 3 :histogram");
  EXPECT_EQ(render(p.samples[7]), "latency_seconds_created 1712345678 :histogram");
  EXPECT_EQ(render(p.samples[8]), "feature{feature=\"a\"} 1 :untyped");
  EXPECT_EQ(render(p.samples[10]), "temperature_celsius 21.5 1712345678250 :gauge");
}

// ---------------------------------------------------------------------------------------------
// Randomized: random bytes and mutations of valid bodies never crash, and the stats and the
// samples are always consistent.

bool is_metric_name(std::string_view s) {
  auto start = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
  };
  if (s.empty() || !start(s[0])) {
    return false;
  }
  for (char c : s.substr(1)) {
    if (!start(c) && !(c >= '0' && c <= '9')) {
      return false;
    }
  }
  return true;
}

bool is_label_name(std::string_view s) {
  return is_metric_name(s) && s.find(':') == std::string_view::npos;
}

bool same_value(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) ||
         std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

// Checks the documented invariants of one parse, then that the delivered samples, written
// back as text, parse into the same samples.
void check_consistent(std::string_view body, const PrometheusParseLimits& limits) {
  Parsed p = parse(body, limits);
  const auto& st = p.stats;
  ASSERT_EQ(st.samples, p.samples.size());
  ASSERT_LE(st.samples, limits.max_series);
  ASSERT_LE(st.samples + st.dropped + st.malformed, st.lines);
  std::size_t newlines = static_cast<std::size_t>(std::count(body.begin(), body.end(), '\n'));
  ASSERT_LE(st.lines, newlines + 1);
  ASSERT_EQ(st.first_error.empty(), st.malformed == 0);
  if (!st.first_error.empty()) {
    ASSERT_EQ(st.first_error.rfind("line ", 0), 0u) << st.first_error;
    std::size_t line_no = std::stoul(st.first_error.substr(5));
    ASSERT_GE(line_no, 1u);
    ASSERT_LE(line_no, st.lines);
  }
  std::string text;
  for (const auto& s : p.samples) {
    ASSERT_TRUE(is_metric_name(s.name)) << s.name;
    ASSERT_LE(s.labels.size(), limits.max_labels);
    std::set<std::string> names;
    for (const auto& [name, value] : s.labels) {
      ASSERT_TRUE(is_label_name(name)) << name;
      ASSERT_TRUE(names.insert(name).second) << "duplicate " << name;
    }
    text += serialize(s) + "\n";
  }
  // Same stats through the std::function overload.
  std::size_t calls = 0;
  std::function<void(const PrometheusSample&)> f = [&](const PrometheusSample&) { ++calls; };
  PrometheusParseStats again = parse_prometheus_text(body, limits, f);
  ASSERT_EQ(again.samples, st.samples);
  ASSERT_EQ(again.malformed, st.malformed);
  ASSERT_EQ(again.first_error, st.first_error);
  ASSERT_EQ(calls, st.samples);

  PrometheusParseLimits unlimited{.max_line_bytes = std::numeric_limits<std::size_t>::max(),
                                  .max_series = limits.max_series,
                                  .max_labels = limits.max_labels};
  Parsed round = parse(text, unlimited);
  ASSERT_EQ(round.stats.malformed, 0u) << round.stats.first_error << "\n" << text;
  ASSERT_EQ(round.samples.size(), p.samples.size());
  for (std::size_t i = 0; i < p.samples.size(); ++i) {
    const auto& a = p.samples[i];
    const auto& b = round.samples[i];
    ASSERT_EQ(a.name, b.name);
    ASSERT_EQ(a.labels, b.labels);
    ASSERT_TRUE(same_value(a.value, b.value)) << a.value << " vs " << b.value;
    ASSERT_EQ(a.timestamp_ms, b.timestamp_ms);
  }
}

std::string valid_corpus() {
  return std::string(kGoClientBody) + kPrometheusCppBody + kJavaSimpleclientBody +
         "foo{a=\"x\\\\y\\\"z\\nw\"} 1 17\r\n" + "bar{} -Inf\n" + "baz{b=\"1\",} 1e-5 -3\n" +
         kOpenMetricsBody;
}

TEST(PrometheusTextRandomizedTest, RandomBytes) {
  std::mt19937_64 rng(20240601);
  // Mostly the format's own characters, so random lines get deep into the grammar.
  static constexpr char kAlphabet[] = "abcxyz_:019{}=\",# \t\n\r\\.+-eEIiNnfa\"le\xff\x00";
  const std::string alphabet(kAlphabet, sizeof kAlphabet - 1);
  for (int iter = 0; iter < 3000; ++iter) {
    std::size_t len = rng() % 300;
    std::string body;
    for (std::size_t i = 0; i < len; ++i) {
      body += rng() % 8 == 0 ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
    }
    PrometheusParseLimits limits{
        .max_line_bytes = 1 + rng() % 200, .max_series = rng() % 20, .max_labels = rng() % 6};
    SCOPED_TRACE(testing::Message() << "iteration " << iter);
    check_consistent(body, limits);
    check_consistent(body, {});
    if (testing::Test::HasFatalFailure()) {
      return;
    }
  }
}

TEST(PrometheusTextRandomizedTest, MutationsOfValidBodies) {
  std::mt19937_64 rng(7);
  const std::string base = valid_corpus();
  const std::string syntax = "{}=\",# \t\n\r\\.+-eE0_aZ";
  {
    Parsed p = parse(base);
    ASSERT_EQ(p.stats.malformed, 0u) << p.stats.first_error;
  }
  for (int iter = 0; iter < 1500; ++iter) {
    std::string body = base;
    int mutations = 1 + static_cast<int>(rng() % 8);
    for (int m = 0; m < mutations && !body.empty(); ++m) {
      std::size_t at = rng() % body.size();
      switch (rng() % 6) {
        case 0:
          body[at] = static_cast<char>(rng() % 256);
          break;
        case 1:
          body.insert(at, 1, syntax[rng() % syntax.size()]);
          break;
        case 2:
          body.erase(at, 1 + rng() % 16);
          break;
        case 3: {
          std::size_t len = std::min<std::size_t>(1 + rng() % 64, body.size() - at);
          body.insert(rng() % body.size(), body.substr(at, len));
          break;
        }
        case 4:
          body.resize(at);
          break;
        default:
          body[at] ^= static_cast<char>(1u << (rng() % 8));
          break;
      }
    }
    SCOPED_TRACE(testing::Message() << "iteration " << iter);
    check_consistent(body, {});
    check_consistent(body, {.max_line_bytes = 80, .max_series = 30, .max_labels = 2});
    if (testing::Test::HasFatalFailure()) {
      return;
    }
  }
}

}  // namespace
}  // namespace backout
