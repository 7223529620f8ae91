#include "backout/rules/expression_parser.h"

#include <array>
#include <cmath>
#include <cstdlib>
#include <optional>

#include "backout/core/text.h"

namespace backout::rules {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t'; }

constexpr std::array<std::string_view, 9> kFunctions{
    "ratio", "rate", "increase", "pNN", "mean", "max", "failures", "availability", "value"};

// A cursor over the text; every error carries the offset where it was found.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}

  void skip_space() {
    while (pos_ < s_.size() && is_space(s_[pos_])) {
      ++pos_;
    }
  }
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }
  /// The character `ahead` places on ('\0' past the end).
  char peek(std::size_t ahead) const {
    return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0';
  }
  std::size_t pos() const { return pos_; }
  void advance(std::size_t n = 1) { pos_ += n; }
  bool consume(char c) {
    if (peek() == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool starts_with(std::string_view p) const { return s_.substr(pos_).starts_with(p); }
  std::string_view rest() const { return s_.substr(pos_); }

  // [A-Za-z_][A-Za-z0-9_]*
  std::string identifier() {
    std::size_t b = pos_;
    if (!at_end() && is_alpha(s_[pos_])) {
      ++pos_;
      while (!at_end() && (is_alpha(s_[pos_]) || is_digit(s_[pos_]))) {
        ++pos_;
      }
    }
    return std::string(s_.substr(b, pos_ - b));
  }

  // Prometheus metric name: [A-Za-z_:][A-Za-z0-9_:]*
  std::string metric_name() {
    std::size_t b = pos_;
    if (!at_end() && (is_alpha(s_[pos_]) || s_[pos_] == ':')) {
      ++pos_;
      while (!at_end() && (is_alpha(s_[pos_]) || is_digit(s_[pos_]) || s_[pos_] == ':')) {
        ++pos_;
      }
    }
    return std::string(s_.substr(b, pos_ - b));
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

std::string describe(Cursor& c) {
  if (c.at_end()) {
    return "the end of the text";
  }
  std::string_view r = c.rest();
  if (r.size() > 12) {
    return "'" + std::string(r.substr(0, 12)) + "...'";
  }
  return "'" + std::string(r) + "'";
}

// Parses a quoted label value with \" \\ \n \t \r \xHH escapes (what Measure::text() writes);
// any other escaped character stands for itself.
std::optional<std::string> quoted(Cursor& c, ParseError& err) {
  char q = c.peek();
  if (q != '"' && q != '\'') {
    err = {c.pos(), "expected a quoted label value (e.g. \"503\") at " + describe(c)};
    return std::nullopt;
  }
  std::size_t open = c.pos();
  c.advance();
  std::string out;
  while (!c.at_end() && c.peek() != q) {
    char ch = c.peek();
    if (ch == '\\') {
      c.advance();
      if (c.at_end()) {
        break;
      }
      char e = c.peek();
      auto hex = [](char h) {
        return h >= '0' && h <= '9' ? h - '0'
               : h >= 'a' && h <= 'f' ? h - 'a' + 10
               : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                      : -1;
      };
      if (e == 'x' && hex(c.peek(1)) >= 0 && hex(c.peek(2)) >= 0) {
        out += static_cast<char>(hex(c.peek(1)) * 16 + hex(c.peek(2)));
        c.advance();
        c.advance();
      } else {
        out += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
      }
    } else {
      out += ch;
    }
    c.advance();
  }
  if (!c.consume(q)) {
    err = {open, "unterminated label value: add the closing " + std::string(1, q)};
    return std::nullopt;
  }
  return out;
}

std::optional<SeriesSelector> selector(Cursor& c, ParseError& err, bool allow_bare_source) {
  SeriesSelector sel;
  c.skip_space();
  sel.pos = c.pos();
  sel.source = c.identifier();
  if (sel.source.empty()) {
    err = {c.pos(), "expected a series 'source.metric' at " + describe(c)};
    return std::nullopt;
  }
  if (!c.consume('.')) {
    if (allow_bare_source) {
      sel.metric_pos = c.pos();
      return sel;  // metric filled by the caller
    }
    err = {c.pos(), "expected '.' and a metric name after source '" + sel.source +
                        "' (a series is written source.metric, e.g. portal.http_requests_total)"};
    return std::nullopt;
  }
  sel.metric_pos = c.pos();
  sel.metric = c.metric_name();
  if (sel.metric.empty()) {
    err = {c.pos(), "expected a metric name after '" + sel.source + ".'"};
    return std::nullopt;
  }
  c.skip_space();
  if (c.consume('{')) {
    c.skip_space();
    while (!c.consume('}')) {
      if (c.at_end()) {
        err = {c.pos(), "unterminated label matchers: add the closing '}'"};
        return std::nullopt;
      }
      LabelMatcher m;
      m.pos = c.pos();
      m.name = c.identifier();
      if (m.name.empty()) {
        err = {c.pos(), "expected a label name at " + describe(c)};
        return std::nullopt;
      }
      c.skip_space();
      if (c.starts_with("=~")) {
        m.op = MatchOp::kRegex;
        c.advance(2);
      } else if (c.starts_with("!~")) {
        m.op = MatchOp::kNotRegex;
        c.advance(2);
      } else if (c.starts_with("!=")) {
        m.op = MatchOp::kNotEqual;
        c.advance(2);
      } else if (c.starts_with("==")) {
        err = {c.pos(), "use '=' (not '==') to match a label value"};
        return std::nullopt;
      } else if (c.consume('=')) {
        m.op = MatchOp::kEqual;
      } else {
        err = {c.pos(), "expected one of =, !=, =~, !~ after label '" + m.name + "'"};
        return std::nullopt;
      }
      c.skip_space();
      auto v = quoted(c, err);
      if (!v) {
        return std::nullopt;
      }
      m.value = std::move(*v);
      sel.matchers.push_back(std::move(m));
      c.skip_space();
      if (c.consume(',')) {
        c.skip_space();
        continue;
      }
      if (c.peek() != '}') {
        err = {c.pos(), "expected ',' or '}' after the label matcher, found " + describe(c)};
        return std::nullopt;
      }
    }
  }
  return sel;
}

// Parses `p95`, `p99.9`, `p50` into a quantile; nullopt if the name is not of that form.
std::optional<double> quantile_of(std::string_view name) {
  if (name.size() < 2 || name[0] != 'p' || !is_digit(name[1])) {
    return std::nullopt;
  }
  std::string digits(name.substr(1));
  for (char ch : digits) {
    if (!is_digit(ch) && ch != '.') {
      return std::nullopt;
    }
  }
  char* end = nullptr;
  double v = std::strtod(digits.c_str(), &end);
  if (end == nullptr || *end != '\0') {
    return std::nullopt;
  }
  return v / 100.0;
}

}  // namespace

std::variant<Measure, ParseError> parse_measure(std::string_view text) {
  Cursor c(text);
  ParseError err;
  Measure m;
  c.skip_space();
  std::size_t fpos = c.pos();
  std::string name = c.identifier();
  // pNN may carry a decimal point: p99.9
  if (name.size() >= 2 && name[0] == 'p' && is_digit(name[1]) && c.peek() == '.') {
    c.advance();
    while (!c.at_end() && is_digit(c.peek())) {
      c.advance();
    }
    name = std::string(text.substr(fpos, c.pos() - fpos));
  }
  if (name.empty()) {
    return ParseError{c.pos(), "expected a function such as ratio(...), p95(...) or "
                               "failures(...) at " + describe(c)};
  }
  m.function = name;
  if (auto q = quantile_of(name)) {
    if (!(*q > 0 && *q < 1)) {
      return ParseError{fpos, "percentile '" + name + "' must be between p0 and p100 exclusive "
                              "(e.g. p95, p99.9)"};
    }
    m.kind = MeasureKind::kQuantile;
    m.quantile = *q;
  } else if (name == "ratio") {
    m.kind = MeasureKind::kRatio;
  } else if (name == "rate") {
    m.kind = MeasureKind::kRate;
  } else if (name == "increase") {
    m.kind = MeasureKind::kIncrease;
  } else if (name == "mean" || name == "avg") {
    m.kind = MeasureKind::kMean;
    m.function = "mean";
  } else if (name == "max") {
    m.kind = MeasureKind::kMax;
  } else if (name == "failures") {
    m.kind = MeasureKind::kFailures;
  } else if (name == "availability") {
    m.kind = MeasureKind::kAvailability;
  } else if (name == "value") {
    m.kind = MeasureKind::kValue;
  } else if (name == "median") {
    return ParseError{fpos,
                      "unknown function 'median'; the median is the 50th percentile: write "
                      "p50(...)"};
  } else {
    std::string msg = "unknown function '" + name + "'";
    if (auto near = closest_match(name, {"ratio", "rate", "increase", "mean", "max", "failures",
                                         "availability", "value"})) {
      msg += "; did you mean '" + *near + "'?";
    } else {
      msg += "; expected one of ";
      for (std::size_t i = 0; i < kFunctions.size(); ++i) {
        msg += (i ? ", " : "") + std::string(kFunctions[i]);
      }
    }
    return ParseError{fpos, msg};
  }
  c.skip_space();
  if (!c.consume('(')) {
    return ParseError{c.pos(), "expected '(' after '" + name + "'"};
  }
  const bool source_only =
      m.kind == MeasureKind::kFailures || m.kind == MeasureKind::kAvailability;
  const int arity = m.kind == MeasureKind::kRatio ? 2 : 1;
  for (int i = 0; i < arity; ++i) {
    if (i > 0) {
      c.skip_space();
      if (!c.consume(',')) {
        if (c.peek() == ')') {
          return ParseError{c.pos(), "ratio() takes two series, failures and total: "
                                     "ratio(src.failed_total, src.all_total)"};
        }
        return ParseError{c.pos(), "expected ',' between the arguments of " + name + "(), found " +
                                       describe(c)};
      }
    }
    c.skip_space();
    if (c.peek() == ')') {
      return ParseError{c.pos(), name + "() needs " +
                                     (source_only ? std::string("a source id, e.g. ") + name +
                                                        "(portal_db)"
                                                  : std::string("a series, e.g. ") + name +
                                                        "(portal.http_requests_total)")};
    }
    auto sel = selector(c, err, source_only || m.kind == MeasureKind::kValue);
    if (!sel) {
      return err;
    }
    if (source_only) {
      if (!sel->metric.empty() || !sel->matchers.empty()) {
        return ParseError{sel->pos, name + "() takes a source id, not a series: write " + name +
                                        "(" + sel->source + ")"};
      }
      sel->metric = "up";
    } else if (sel->metric.empty()) {
      sel->metric = "value";  // value(SRC) means value(SRC.value)
    }
    m.args.push_back(std::move(*sel));
  }
  c.skip_space();
  if (c.peek() == ',') {
    return ParseError{c.pos(), name + "() takes " + (arity == 2 ? "two arguments" : "one argument") +
                                   "; remove the extra one"};
  }
  if (!c.consume(')')) {
    return ParseError{c.pos(), "expected ')' to close " + name + "(, found " + describe(c)};
  }
  c.skip_space();
  if (!c.at_end()) {
    return ParseError{c.pos(), "unexpected text " + describe(c) + " after the measure"};
  }
  return m;
}

std::variant<Condition, ParseError> parse_condition(std::string_view text) {
  Cursor c(text);
  Condition cond;
  c.skip_space();
  std::size_t begin = c.pos();
  if (c.starts_with(">=")) {
    cond.op = Comparator::kGreaterEqual;
    c.advance(2);
  } else if (c.starts_with("<=")) {
    cond.op = Comparator::kLessEqual;
    c.advance(2);
  } else if (c.starts_with("==") || c.starts_with("!=") || c.starts_with("=")) {
    return ParseError{c.pos(), "equality is not a threshold; use >, >=, < or <= (e.g. \"> 0\")"};
  } else if (c.consume('>')) {
    cond.op = Comparator::kGreater;
  } else if (c.consume('<')) {
    cond.op = Comparator::kLess;
  } else {
    return ParseError{c.pos(), "a condition starts with >, >=, < or <= (e.g. \"> 5%\"), found " +
                                   describe(c)};
  }
  c.skip_space();
  if (c.starts_with("baseline")) {
    c.advance(8);
    cond.relative = true;
    cond.factor = 1;
  } else {
    std::size_t npos = c.pos();
    bool has_sign = false;
    double sign = 1;
    if (c.peek() == '+' || c.peek() == '-') {
      has_sign = true;
      sign = c.peek() == '-' ? -1 : 1;
      c.advance();
    }
    std::size_t dpos = c.pos();
    std::string num;
    while (!c.at_end() && (is_digit(c.peek()) || c.peek() == '.')) {
      num += c.peek();
      c.advance();
    }
    if (num.empty() || num == "." || num.front() == '.' || num.back() == '.' ||
        num.find('.') != num.rfind('.')) {
      return ParseError{dpos, "expected a number after the comparison, e.g. \"> 5%\", \">= 10s\" "
                              "or \"> +50% baseline\""};
    }
    double v = std::strtod(num.c_str(), nullptr) * sign;
    // unit
    std::string unit;
    std::size_t upos = c.pos();
    if (c.consume('%')) {
      unit = "%";
    } else {
      while (!c.at_end() && is_alpha(c.peek())) {
        unit += c.peek();
        c.advance();
      }
    }
    if (unit.empty()) {
      // `> 2 %` or `> 10 s`: the unit was meant, but apart from the number it would read as
      // trailing text; say how to write it.
      Cursor look = c;
      look.skip_space();
      std::size_t lpos = look.pos();
      std::string apart;
      if (look.consume('%')) {
        apart = "%";
      } else {
        while (!look.at_end() && is_alpha(look.peek())) {
          apart += look.peek();
          look.advance();
        }
      }
      if (!apart.empty() && apart != "baseline") {
        return ParseError{lpos, "write the unit right after the number, without a space: \"" +
                                    std::string(to_string(cond.op)) + " " +
                                    std::string(text.substr(npos, dpos - npos)) + num + apart +
                                    "\""};
      }
    }
    c.skip_space();
    bool then_baseline = c.starts_with("baseline");
    if (then_baseline) {
      c.advance(8);
      cond.relative = true;
      if (unit == "%") {
        if (!has_sign) {
          return ParseError{npos, "a baseline change needs a sign: \"> +" + num +
                                      "% baseline\" (rise) or \"< -" + num +
                                      "% baseline\" (drop)"};
        }
        cond.factor = 1 + v / 100.0;
      } else if (unit == "x") {
        if (has_sign) {
          return ParseError{npos, "a baseline multiple has no sign: write \"> " + num +
                                      "x baseline\""};
        }
        cond.factor = v;
      } else {
        return ParseError{upos, "compare with the baseline as a change or a multiple: \"> +50% "
                                "baseline\", \"> 2x baseline\" or \"< baseline\""};
      }
      if (cond.factor <= 0) {
        return ParseError{npos, "the baseline change must leave a positive threshold (more than "
                                "-100%)"};
      }
    } else {
      if (has_sign && sign < 0) {
        return ParseError{npos, "a threshold cannot be negative"};
      }
      if (unit == "%") {
        cond.unit = ThresholdUnit::kPercent;
        cond.value = v / 100.0;
      } else if (unit.empty()) {
        cond.unit = ThresholdUnit::kNone;
        cond.value = v;
      } else {
        double scale = 0;
        if (unit == "ms") {
          scale = 1e-3;
        } else if (unit == "us") {
          scale = 1e-6;
        } else if (unit == "s") {
          scale = 1;
        } else if (unit == "m") {
          scale = 60;
        } else if (unit == "h") {
          scale = 3600;
        } else if (unit == "x") {
          return ParseError{c.pos(), "'" + num + "x' must be followed by 'baseline'"};
        } else {
          std::string msg = "unknown unit '" + unit + "'; use %, ms, s, m or h";
          if (auto near = closest_match(unit, {"ms", "s", "m", "h", "us"})) {
            msg += " (did you mean '" + *near + "'?)";
          }
          return ParseError{upos, msg};
        }
        cond.unit = ThresholdUnit::kSeconds;
        cond.value = v * scale;
      }
    }
  }
  c.skip_space();
  if (!c.at_end()) {
    return ParseError{c.pos(), "unexpected text " + describe(c) + " after the condition"};
  }
  cond.text = std::string(text.substr(begin));
  while (!cond.text.empty() && is_space(cond.text.back())) {
    cond.text.pop_back();
  }
  return cond;
}

std::optional<double> Condition::threshold(std::optional<double> baseline) const {
  if (!relative) {
    return value;
  }
  if (!baseline) {
    return std::nullopt;
  }
  return factor * *baseline;
}

bool Condition::holds(double v, double t) const {
  if (std::isnan(v)) {
    return false;
  }
  switch (op) {
    case Comparator::kGreater:
      return v > t;
    case Comparator::kGreaterEqual:
      return v >= t;
    case Comparator::kLess:
      return v < t;
    case Comparator::kLessEqual:
      return v <= t;
  }
  return false;
}

std::string_view to_string(Comparator op) {
  switch (op) {
    case Comparator::kGreater:
      return ">";
    case Comparator::kGreaterEqual:
      return ">=";
    case Comparator::kLess:
      return "<";
    case Comparator::kLessEqual:
      return "<=";
  }
  return "?";
}

}  // namespace backout::rules
