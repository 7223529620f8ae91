// The measure and condition languages of a trigger (`measure:` and `when:` in a plan): what
// they accept, and for what they refuse, the exact offset and message the loader shows.
#include "backout/rules/expression_parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>

namespace backout::rules {
namespace {

Measure measure(std::string_view text) {
  auto r = parse_measure(text);
  if (auto* e = std::get_if<ParseError>(&r)) {
    ADD_FAILURE() << "'" << text << "' failed at " << e->pos << ": " << e->message;
    return {};
  }
  return std::get<Measure>(std::move(r));
}

// {offset, message} of the error for `text` (fails the test if it parses).
std::pair<std::size_t, std::string> measure_error(std::string_view text) {
  auto r = parse_measure(text);
  if (auto* e = std::get_if<ParseError>(&r)) {
    return {e->pos, e->message};
  }
  ADD_FAILURE() << "'" << text << "' parsed as " << std::get<Measure>(r).text();
  return {};
}

Condition condition(std::string_view text) {
  auto r = parse_condition(text);
  if (auto* e = std::get_if<ParseError>(&r)) {
    ADD_FAILURE() << "'" << text << "' failed at " << e->pos << ": " << e->message;
    return {};
  }
  return std::get<Condition>(std::move(r));
}

std::pair<std::size_t, std::string> condition_error(std::string_view text) {
  auto r = parse_condition(text);
  if (auto* e = std::get_if<ParseError>(&r)) {
    return {e->pos, e->message};
  }
  ADD_FAILURE() << "'" << text << "' parsed as " << std::get<Condition>(r).text;
  return {};
}

using Err = std::pair<std::size_t, std::string>;

// --- measures ---------------------------------------------------------------------------------

// Issue 14, item 13: Measure::text() wrote a control character in a label value as a JSON
// escape the parser does not read (\r came back as 'r', \u0001 as 'u0001'). Every byte now
// round-trips.
TEST(ParseMeasure, TextRoundTripsEveryByteOfALabelValue) {
  for (int b = 0; b < 256; ++b) {
    Measure m = measure("rate(portal.http_requests_total{path=\"x\"})");
    ASSERT_EQ(m.args.size(), 1u);
    ASSERT_EQ(m.args[0].matchers.size(), 1u);
    const std::string value = "a" + std::string(1, static_cast<char>(b)) + "z\"\\\n\t\r\x7f";
    m.args[0].matchers[0].value = value;
    const std::string text = m.text();
    auto back = parse_measure(text);
    ASSERT_TRUE(std::holds_alternative<Measure>(back))
        << "byte " << b << ": " << text << ": " << std::get<ParseError>(back).message;
    EXPECT_EQ(std::get<Measure>(back).args[0].matchers[0].value, value) << "byte " << b;
    EXPECT_EQ(std::get<Measure>(back).text(), text) << "byte " << b;
  }
  EXPECT_EQ(measure("rate(portal.r{path=\"a\\x01b\\rc\"})").args[0].matchers[0].value,
            std::string("a\x01" "b\rc"));
}

TEST(ParseMeasure, Ratio) {
  Measure m =
      measure("ratio(portal.portal_login_failures_total, portal.portal_login_attempts_total)");
  EXPECT_EQ(m.kind, MeasureKind::kRatio);
  EXPECT_EQ(m.function, "ratio");
  ASSERT_EQ(m.args.size(), 2u);
  EXPECT_EQ(m.args[0].source, "portal");
  EXPECT_EQ(m.args[0].metric, "portal_login_failures_total");
  EXPECT_EQ(m.args[0].pos, 6u);
  EXPECT_EQ(m.args[0].metric_pos, 13u);
  EXPECT_EQ(m.args[1].source, "portal");
  EXPECT_EQ(m.args[1].metric, "portal_login_attempts_total");
  EXPECT_EQ(m.args[1].pos, 42u);
  EXPECT_TRUE(m.is_fraction());
  EXPECT_TRUE(m.has_count());
  EXPECT_TRUE(m.early_eligible());
  EXPECT_EQ(m.role(), SeriesRole::kCounter);
  EXPECT_EQ(m.text(),
            "ratio(portal.portal_login_failures_total, portal.portal_login_attempts_total)");
}

TEST(ParseMeasure, CountersRateAndIncrease) {
  Measure rate = measure("rate(portal.http_requests_total)");
  EXPECT_EQ(rate.kind, MeasureKind::kRate);
  EXPECT_EQ(rate.role(), SeriesRole::kCounter);
  EXPECT_EQ(measure_unit(rate.kind), "/s");
  Measure inc = measure("increase(portal.orders_total)");
  EXPECT_EQ(inc.kind, MeasureKind::kIncrease);
  EXPECT_EQ(inc.args[0].metric, "orders_total");
  EXPECT_FALSE(inc.is_fraction());
  EXPECT_FALSE(inc.is_latency());
  EXPECT_FALSE(inc.early_eligible());
}

TEST(ParseMeasure, Percentiles) {
  Measure p95 = measure("p95(api.duration)");
  EXPECT_EQ(p95.kind, MeasureKind::kQuantile);
  EXPECT_DOUBLE_EQ(p95.quantile, 0.95);
  EXPECT_EQ(p95.function, "p95");
  EXPECT_TRUE(p95.is_latency());
  EXPECT_EQ(p95.role(), SeriesRole::kObservation);
  Measure p999 = measure("p99.9(api.duration)");
  EXPECT_EQ(p999.kind, MeasureKind::kQuantile);
  EXPECT_DOUBLE_EQ(p999.quantile, 0.999);
  EXPECT_EQ(p999.function, "p99.9");
  EXPECT_EQ(p999.text(), "p99.9(api.duration)");
  EXPECT_DOUBLE_EQ(measure("p50(api.duration)").quantile, 0.5);
  EXPECT_DOUBLE_EQ(measure("p1(api.duration)").quantile, 0.01);
  EXPECT_DOUBLE_EQ(measure("p99.99(api.duration)").quantile, 0.9999);
}

TEST(ParseMeasure, MeanAndMax) {
  Measure mean = measure("mean(api.duration)");
  EXPECT_EQ(mean.kind, MeasureKind::kMean);
  EXPECT_TRUE(mean.is_latency());
  EXPECT_FALSE(mean.early_eligible());
  Measure avg = measure("avg(api.duration)");  // PromQL habit, read as mean
  EXPECT_EQ(avg.kind, MeasureKind::kMean);
  EXPECT_EQ(avg.function, "mean");
  EXPECT_EQ(avg.text(), "mean(api.duration)");
  Measure max = measure("max(api.duration)");
  EXPECT_EQ(max.kind, MeasureKind::kMax);
  EXPECT_EQ(measure_unit(max.kind), "s");
}

TEST(ParseMeasure, ProbeOutcomesTakeASourceId) {
  Measure f = measure("failures(portal_db)");
  EXPECT_EQ(f.kind, MeasureKind::kFailures);
  ASSERT_EQ(f.args.size(), 1u);
  EXPECT_EQ(f.args[0].source, "portal_db");
  EXPECT_EQ(f.args[0].metric, "up");
  EXPECT_EQ(f.args[0].pos, 9u);
  EXPECT_EQ(f.role(), SeriesRole::kProbeUp);
  EXPECT_EQ(f.text(), "failures(portal_db)");
  EXPECT_FALSE(f.is_fraction());
  Measure a = measure("availability(home_page)");
  EXPECT_EQ(a.kind, MeasureKind::kAvailability);
  EXPECT_EQ(a.args[0].metric, "up");
  EXPECT_TRUE(a.is_fraction());
  EXPECT_TRUE(a.early_eligible());
  EXPECT_EQ(measure_unit(a.kind), "%");
}

TEST(ParseMeasure, ValueOfASourceOrASeries) {
  Measure bare = measure("value(customers)");
  EXPECT_EQ(bare.kind, MeasureKind::kValue);
  EXPECT_EQ(bare.args[0].source, "customers");
  EXPECT_EQ(bare.args[0].metric, "value");
  EXPECT_EQ(bare.text(), "value(customers)");
  EXPECT_FALSE(bare.has_count());
  EXPECT_EQ(bare.role(), SeriesRole::kGauge);
  Measure series = measure("value(portal.queue_depth{queue=\"orders\"})");
  EXPECT_EQ(series.args[0].metric, "queue_depth");
  EXPECT_EQ(series.text(), "value(portal.queue_depth{queue=\"orders\"})");
  // value(SRC.value) prints as value(SRC): the same series.
  EXPECT_EQ(measure("value(customers.value)").text(), "value(customers)");
}

TEST(ParseMeasure, LabelMatchers) {
  Measure m = measure(
      "rate(portal.http_requests_total{code=~\"5..\", method!=\"GET\", path!~'/health.*', "
      "job=\"portal\"})");
  const auto& ms = m.args[0].matchers;
  ASSERT_EQ(ms.size(), 4u);
  EXPECT_EQ(ms[0].name, "code");
  EXPECT_EQ(ms[0].op, MatchOp::kRegex);
  EXPECT_EQ(ms[0].value, "5..");
  EXPECT_EQ(ms[0].pos, 32u);
  EXPECT_EQ(ms[1].name, "method");
  EXPECT_EQ(ms[1].op, MatchOp::kNotEqual);
  EXPECT_EQ(ms[1].value, "GET");
  EXPECT_EQ(ms[2].name, "path");
  EXPECT_EQ(ms[2].op, MatchOp::kNotRegex);
  EXPECT_EQ(ms[2].value, "/health.*");
  EXPECT_EQ(ms[3].op, MatchOp::kEqual);
  EXPECT_EQ(ms[3].value, "portal");
  // Canonical text: no spaces, double quotes.
  EXPECT_EQ(m.args[0].text(),
            "portal.http_requests_total{code=~\"5..\",method!=\"GET\",path!~\"/health.*\","
            "job=\"portal\"}");
}

TEST(ParseMeasure, LabelValueEscapes) {
  Measure m =
      measure(R"(rate(app.events_total{msg="say \"hi\"", p="a\\b", nl="x\ny\tz", q='it\'s'}))");
  const auto& ms = m.args[0].matchers;
  ASSERT_EQ(ms.size(), 4u);
  EXPECT_EQ(ms[0].value, "say \"hi\"");
  EXPECT_EQ(ms[1].value, "a\\b");
  EXPECT_EQ(ms[2].value, "x\ny\tz");
  EXPECT_EQ(ms[3].value, "it's");
  EXPECT_EQ(m.args[0].text(),
            R"(app.events_total{msg="say \"hi\"",p="a\\b",nl="x\ny\tz",q="it's"})");
}

TEST(ParseMeasure, SpacingIsFree) {
  Measure m = measure("  ratio (  a.x_total{ code = \"5\" , } ,b.y_total )  ");
  EXPECT_EQ(m.kind, MeasureKind::kRatio);
  ASSERT_EQ(m.args.size(), 2u);
  EXPECT_EQ(m.args[0].matchers.size(), 1u);  // a trailing comma is allowed, as in PromQL
  EXPECT_EQ(m.args[1].source, "b");
  EXPECT_EQ(m.args[1].pos, 38u);
  EXPECT_EQ(m.text(), "ratio(a.x_total{code=\"5\"}, b.y_total)");
  // Metric names may hold colons, as recording rules do.
  EXPECT_EQ(measure("rate(prom.job:http_requests:rate5m)").args[0].metric,
            "job:http_requests:rate5m");
}

TEST(ParseMeasure, SelectorsCompareWithoutPositions) {
  Measure a = measure("p95(api.duration)");
  Measure b = measure("  p95( api.duration )");
  EXPECT_EQ(a.args[0], b.args[0]);
  EXPECT_NE(a.args[0].pos, b.args[0].pos);
}

TEST(ParseMeasure, FunctionErrors) {
  EXPECT_EQ(measure_error(""),
            Err(0,
                "expected a function such as ratio(...), p95(...) or failures(...) at the end "
                "of the text"));
  EXPECT_EQ(measure_error("  (a.b)"),
            Err(2,
                "expected a function such as ratio(...), p95(...) or failures(...) at "
                "'(a.b)'"));
  EXPECT_EQ(measure_error("failure(portal_db)"),
            Err(0, "unknown function 'failure'; did you mean 'failures'?"));
  EXPECT_EQ(measure_error(" ration(a.b, c.d)"),
            Err(1, "unknown function 'ration'; did you mean 'ratio'?"));
  EXPECT_EQ(measure_error("median(api.duration)"),
            Err(0,
                "unknown function 'median'; the median is the 50th percentile: write "
                "p50(...)"));
  EXPECT_EQ(measure_error("sum(portal.x_total)"),
            Err(0,
                "unknown function 'sum'; expected one of ratio, rate, increase, pNN, mean, "
                "max, failures, availability, value"));
  EXPECT_EQ(measure_error("p95x(api.duration)"),
            Err(0,
                "unknown function 'p95x'; expected one of ratio, rate, increase, pNN, mean, "
                "max, failures, availability, value"));
  EXPECT_EQ(measure_error("p100(api.duration)"),
            Err(0, "percentile 'p100' must be between p0 and p100 exclusive (e.g. p95, p99.9)"));
  EXPECT_EQ(measure_error("p0(api.duration)"),
            Err(0, "percentile 'p0' must be between p0 and p100 exclusive (e.g. p95, p99.9)"));
  EXPECT_EQ(measure_error("p100.5(api.duration)"),
            Err(0,
                "percentile 'p100.5' must be between p0 and p100 exclusive (e.g. p95, "
                "p99.9)"));
  EXPECT_EQ(measure_error("rate portal.x"), Err(5, "expected '(' after 'rate'"));
  EXPECT_EQ(measure_error("rate"), Err(4, "expected '(' after 'rate'"));
}

TEST(ParseMeasure, ArgumentErrors) {
  EXPECT_EQ(measure_error("ratio(a.b)"),
            Err(9,
                "ratio() takes two series, failures and total: ratio(src.failed_total, "
                "src.all_total)"));
  EXPECT_EQ(measure_error("ratio(a.b c.d)"),
            Err(10, "expected ',' between the arguments of ratio(), found 'c.d)'"));
  EXPECT_EQ(measure_error("ratio(portal.failed_total portal.requests_total)"),
            Err(26, "expected ',' between the arguments of ratio(), found 'portal.reque...'"));
  EXPECT_EQ(measure_error("ratio(a.b, c.d, e.f)"),
            Err(14, "ratio() takes two arguments; remove the extra one"));
  EXPECT_EQ(measure_error("rate(a.b, c.d)"),
            Err(8, "rate() takes one argument; remove the extra one"));
  EXPECT_EQ(measure_error("rate()"),
            Err(5, "rate() needs a series, e.g. rate(portal.http_requests_total)"));
  EXPECT_EQ(measure_error("p95( )"),
            Err(5, "p95() needs a series, e.g. p95(portal.http_requests_total)"));
  EXPECT_EQ(measure_error("failures()"),
            Err(9, "failures() needs a source id, e.g. failures(portal_db)"));
  EXPECT_EQ(measure_error("availability(home_page.up)"),
            Err(13,
                "availability() takes a source id, not a series: write "
                "availability(home_page)"));
  EXPECT_EQ(measure_error("failures(portal_db{a=\"b\"})"),
            Err(18, "expected ')' to close failures(, found '{a=\"b\"})'"));
  EXPECT_EQ(measure_error("rate(a.b"),
            Err(8, "expected ')' to close rate(, found the end of the text"));
  EXPECT_EQ(measure_error("rate(a.b]"), Err(8, "expected ')' to close rate(, found ']'"));
  EXPECT_EQ(measure_error("rate(a.b) * 60"), Err(10, "unexpected text '* 60' after the measure"));
}

TEST(ParseMeasure, SeriesErrors) {
  EXPECT_EQ(measure_error("rate(portal)"),
            Err(11,
                "expected '.' and a metric name after source 'portal' (a series is written "
                "source.metric, e.g. portal.http_requests_total)"));
  EXPECT_EQ(measure_error("rate(portal.)"), Err(12, "expected a metric name after 'portal.'"));
  EXPECT_EQ(measure_error("rate(portal.9x)"), Err(12, "expected a metric name after 'portal.'"));
  EXPECT_EQ(measure_error("rate(9x.y)"), Err(5, "expected a series 'source.metric' at '9x.y)'"));
  EXPECT_EQ(measure_error("rate(\"a.b\")"),
            Err(5, "expected a series 'source.metric' at '\"a.b\")'"));
  EXPECT_EQ(measure_error("rate(portal-app.x)"),
            Err(11,
                "expected '.' and a metric name after source 'portal' (a series is written "
                "source.metric, e.g. portal.http_requests_total)"));
}

TEST(ParseMeasure, LabelMatcherErrors) {
  EXPECT_EQ(measure_error("rate(a.b{"), Err(9, "unterminated label matchers: add the closing '}'"));
  EXPECT_EQ(measure_error("rate(a.b{code=\"5\""),
            Err(17, "expected ',' or '}' after the label matcher, found the end of the text"));
  EXPECT_EQ(measure_error("rate(a.b{code=\"5\",)"), Err(18, "expected a label name at ')'"));
  EXPECT_EQ(measure_error("rate(a.b{=\"5\"})"), Err(9, "expected a label name at '=\"5\"})'"));
  EXPECT_EQ(measure_error("rate(a.b{code==\"5\"})"),
            Err(13, "use '=' (not '==') to match a label value"));
  EXPECT_EQ(measure_error("rate(a.b{code~\"5\"})"),
            Err(13, "expected one of =, !=, =~, !~ after label 'code'"));
  EXPECT_EQ(measure_error("rate(a.b{code}"),
            Err(13, "expected one of =, !=, =~, !~ after label 'code'"));
  EXPECT_EQ(measure_error("rate(a.b{code=5})"),
            Err(14, "expected a quoted label value (e.g. \"503\") at '5})'"));
  EXPECT_EQ(measure_error("rate(a.b{code=~5..})"),
            Err(15, "expected a quoted label value (e.g. \"503\") at '5..})'"));
  EXPECT_EQ(measure_error("rate(a.b{code=\"5})"),
            Err(14, "unterminated label value: add the closing \""));
  EXPECT_EQ(measure_error("rate(a.b{code='5})"),
            Err(14, "unterminated label value: add the closing '"));
  EXPECT_EQ(measure_error("rate(a.b{code=\"5\\\"})"),
            Err(14, "unterminated label value: add the closing \""));
  EXPECT_EQ(measure_error("rate(a.b{code=\"5\\"),
            Err(14, "unterminated label value: add the closing \""));
  EXPECT_EQ(measure_error("rate(a.b{code=\"5\" method=\"GET\"})"),
            Err(18, "expected ',' or '}' after the label matcher, found 'method=\"GET\"...'"));
}

// --- conditions -------------------------------------------------------------------------------

TEST(ParseCondition, Percentages) {
  Condition c = condition("> 5%");
  EXPECT_EQ(c.op, Comparator::kGreater);
  EXPECT_EQ(c.unit, ThresholdUnit::kPercent);
  EXPECT_DOUBLE_EQ(c.value, 0.05);
  EXPECT_FALSE(c.relative);
  EXPECT_TRUE(c.upward());
  EXPECT_EQ(c.text, "> 5%");
  Condition lt = condition("< 50%");
  EXPECT_EQ(lt.op, Comparator::kLess);
  EXPECT_DOUBLE_EQ(lt.value, 0.5);
  EXPECT_FALSE(lt.upward());
  Condition le = condition("<= 99.5%");
  EXPECT_EQ(le.op, Comparator::kLessEqual);
  EXPECT_DOUBLE_EQ(le.value, 0.995);
  EXPECT_FALSE(le.upward());
  EXPECT_DOUBLE_EQ(condition(">0.1%").value, 0.001);  // spaces are optional
  EXPECT_DOUBLE_EQ(condition("> +5%").value, 0.05);   // an explicit plus is harmless
}

TEST(ParseCondition, Durations) {
  Condition c = condition(">= 10s");
  EXPECT_EQ(c.op, Comparator::kGreaterEqual);
  EXPECT_EQ(c.unit, ThresholdUnit::kSeconds);
  EXPECT_DOUBLE_EQ(c.value, 10);
  EXPECT_TRUE(c.upward());
  EXPECT_DOUBLE_EQ(condition("> 250ms").value, 0.25);
  EXPECT_DOUBLE_EQ(condition("> 500us").value, 0.0005);
  EXPECT_DOUBLE_EQ(condition("> 1.5m").value, 90);  // thresholds, unlike plan durations, may
  EXPECT_DOUBLE_EQ(condition("> 2h").value, 7200);  // have fractions
  EXPECT_EQ(condition("> 250ms").unit, ThresholdUnit::kSeconds);
}

TEST(ParseCondition, PlainNumbers) {
  Condition c = condition("> 0");
  EXPECT_EQ(c.unit, ThresholdUnit::kNone);
  EXPECT_DOUBLE_EQ(c.value, 0);
  EXPECT_EQ(c.text, "> 0");
  EXPECT_DOUBLE_EQ(condition("< 1000000").value, 1e6);
  EXPECT_DOUBLE_EQ(condition(">= 2.5").value, 2.5);
}

TEST(ParseCondition, AgainstTheBaseline) {
  Condition rise = condition("> +50% baseline");
  EXPECT_TRUE(rise.relative);
  EXPECT_DOUBLE_EQ(rise.factor, 1.5);
  EXPECT_EQ(rise.text, "> +50% baseline");
  Condition drop = condition("< -10% baseline");
  EXPECT_TRUE(drop.relative);
  EXPECT_DOUBLE_EQ(drop.factor, 0.9);
  EXPECT_FALSE(drop.upward());
  Condition same = condition("< baseline");
  EXPECT_TRUE(same.relative);
  EXPECT_DOUBLE_EQ(same.factor, 1);
  Condition twice = condition("> 2x baseline");
  EXPECT_TRUE(twice.relative);
  EXPECT_DOUBLE_EQ(twice.factor, 2);
  EXPECT_DOUBLE_EQ(condition(">= 1.5x baseline").factor, 1.5);
  EXPECT_DOUBLE_EQ(condition("> +50%baseline").factor, 1.5);
}

TEST(ParseCondition, ThresholdAndHolds) {
  Condition abs = condition("> 5%");
  EXPECT_EQ(abs.threshold(std::nullopt), 0.05);
  EXPECT_EQ(abs.threshold(123.0), 0.05);  // a fixed threshold ignores the baseline
  Condition rel = condition("> +50% baseline");
  EXPECT_EQ(rel.threshold(std::nullopt), std::nullopt);  // no baseline yet: no threshold
  EXPECT_DOUBLE_EQ(*rel.threshold(2.0), 3.0);
  EXPECT_TRUE(abs.holds(0.06, 0.05));
  EXPECT_FALSE(abs.holds(0.05, 0.05));
  EXPECT_TRUE(condition(">= 5%").holds(0.05, 0.05));
  EXPECT_TRUE(condition("< 50%").holds(0.4, 0.5));
  EXPECT_FALSE(condition("< 50%").holds(0.5, 0.5));
  EXPECT_TRUE(condition("<= 50%").holds(0.5, 0.5));
  EXPECT_FALSE(abs.holds(std::nan(""), 0.05));  // no value is never a breach
  EXPECT_FALSE(condition("< 50%").holds(std::nan(""), 0.5));
}

TEST(ParseCondition, TextIsTrimmed) {
  EXPECT_EQ(condition("  >   5%  ").text, ">   5%");
  EXPECT_EQ(condition("\t< baseline\t").text, "< baseline");
}

TEST(ParseCondition, ComparisonErrors) {
  EXPECT_EQ(condition_error(""),
            Err(0,
                "a condition starts with >, >=, < or <= (e.g. \"> 5%\"), found the end of the "
                "text"));
  EXPECT_EQ(condition_error("5%"),
            Err(0, "a condition starts with >, >=, < or <= (e.g. \"> 5%\"), found '5%'"));
  EXPECT_EQ(condition_error("  above 5%"),
            Err(2, "a condition starts with >, >=, < or <= (e.g. \"> 5%\"), found 'above 5%'"));
  EXPECT_EQ(condition_error("=> 5%"),
            Err(0, "equality is not a threshold; use >, >=, < or <= (e.g. \"> 0\")"));
  EXPECT_EQ(condition_error("== 0"),
            Err(0, "equality is not a threshold; use >, >=, < or <= (e.g. \"> 0\")"));
  EXPECT_EQ(condition_error(" != 0"),
            Err(1, "equality is not a threshold; use >, >=, < or <= (e.g. \"> 0\")"));
}

TEST(ParseCondition, NumberErrors) {
  const std::string expected =
      "expected a number after the comparison, e.g. \"> 5%\", \">= 10s\" or \"> +50% baseline\"";
  EXPECT_EQ(condition_error(">"), Err(1, expected));
  EXPECT_EQ(condition_error("> "), Err(2, expected));
  EXPECT_EQ(condition_error("> five"), Err(2, expected));
  EXPECT_EQ(condition_error("> .5"), Err(2, expected));
  EXPECT_EQ(condition_error("> 5."), Err(2, expected));
  EXPECT_EQ(condition_error("> 1.2.3"), Err(2, expected));
  EXPECT_EQ(condition_error("> +"), Err(3, expected));
  EXPECT_EQ(condition_error("> -5%"), Err(2, "a threshold cannot be negative"));
  EXPECT_EQ(condition_error(">= -1"), Err(3, "a threshold cannot be negative"));
}

TEST(ParseCondition, UnitErrors) {
  EXPECT_EQ(condition_error("> 10sec"), Err(4, "unknown unit 'sec'; use %, ms, s, m or h"));
  EXPECT_EQ(condition_error("> 5mss"),
            Err(3, "unknown unit 'mss'; use %, ms, s, m or h (did you mean 'ms'?)"));
  EXPECT_EQ(condition_error("> 5 %"),
            Err(4, "write the unit right after the number, without a space: \"> 5%\""));
  EXPECT_EQ(condition_error(">= 10 s"),
            Err(6, "write the unit right after the number, without a space: \">= 10s\""));
  EXPECT_EQ(condition_error("> +50 % baseline"),
            Err(6, "write the unit right after the number, without a space: \"> +50%\""));
  EXPECT_EQ(condition_error("> 2x"), Err(4, "'2x' must be followed by 'baseline'"));
  EXPECT_EQ(condition_error("> 5% of total"),
            Err(5, "unexpected text 'of total' after the condition"));
  EXPECT_EQ(condition_error("> 5%%"), Err(4, "unexpected text '%' after the condition"));
  EXPECT_EQ(condition_error("> baseline + 5"),
            Err(11, "unexpected text '+ 5' after the condition"));
}

TEST(ParseCondition, BaselineErrors) {
  EXPECT_EQ(condition_error("> 50% baseline"),
            Err(2,
                "a baseline change needs a sign: \"> +50% baseline\" (rise) or \"< -50% "
                "baseline\" (drop)"));
  EXPECT_EQ(condition_error("> +2x baseline"),
            Err(2, "a baseline multiple has no sign: write \"> 2x baseline\""));
  EXPECT_EQ(condition_error("> 50 baseline"),
            Err(4,
                "compare with the baseline as a change or a multiple: \"> +50% baseline\", "
                "\"> 2x baseline\" or \"< baseline\""));
  EXPECT_EQ(condition_error("> 5s baseline"),
            Err(3,
                "compare with the baseline as a change or a multiple: \"> +50% baseline\", "
                "\"> 2x baseline\" or \"< baseline\""));
  EXPECT_EQ(condition_error("< -100% baseline"),
            Err(2, "the baseline change must leave a positive threshold (more than -100%)"));
  EXPECT_EQ(condition_error("> 0x baseline"),
            Err(2, "the baseline change must leave a positive threshold (more than -100%)"));
}

TEST(ComparatorText, RoundTrips) {
  EXPECT_EQ(to_string(Comparator::kGreater), ">");
  EXPECT_EQ(to_string(Comparator::kGreaterEqual), ">=");
  EXPECT_EQ(to_string(Comparator::kLess), "<");
  EXPECT_EQ(to_string(Comparator::kLessEqual), "<=");
}

TEST(FormatMeasureValue, InTheMeasuresUnit) {
  EXPECT_EQ(format_measure_value(measure("ratio(a.x, a.y)"), 0.071), "7.1%");
  EXPECT_EQ(format_measure_value(measure("p95(a.d)"), 0.25), "250ms");
  EXPECT_EQ(format_measure_value(measure("p95(a.d)"), 12.5), "12.5s");
  EXPECT_EQ(format_measure_value(measure("rate(a.x)"), 12.5), "12.5/s");
  EXPECT_EQ(format_measure_value(measure("failures(db)"), 3), "3");
  EXPECT_EQ(format_measure_value(measure("value(db)"), 1234567), "1234567");
}

}  // namespace
}  // namespace backout::rules
