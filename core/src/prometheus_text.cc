#include "backout/core/prometheus_text.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>
#include <utility>
#include <vector>

namespace backout {

std::string_view metric_type_name(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kSummary:
      return "summary";
    case MetricType::kUntyped:
      break;
  }
  return "untyped";
}

namespace {

// Character classes as lookup tables: the hot loops test one byte per step.
enum CharClass : std::uint8_t {
  kMetricStart = 1,  // [a-zA-Z_:]
  kMetricChar = 2,   // [a-zA-Z0-9_:]
  kLabelStart = 4,   // [a-zA-Z_]
  kLabelChar = 8,    // [a-zA-Z0-9_]
};

constexpr std::array<std::uint8_t, 256> make_char_classes() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    std::uint8_t v = 0;
    if (alpha || c == ':') {
      v |= kMetricStart | kMetricChar;
    }
    if (digit) {
      v |= kMetricChar | kLabelChar;
    }
    if (alpha) {
      v |= kLabelStart | kLabelChar;
    }
    t[static_cast<std::size_t>(c)] = v;
  }
  return t;
}

constexpr std::array<std::uint8_t, 256> kCharClasses = make_char_classes();

bool has_class(char c, CharClass cls) {
  return (kCharClasses[static_cast<unsigned char>(c)] & cls) != 0;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool is_metric_name(std::string_view s) {
  if (s.empty() || !has_class(s[0], kMetricStart)) {
    return false;
  }
  return std::all_of(s.begin() + 1, s.end(), [](char c) { return has_class(c, kMetricChar); });
}

// Untrusted text quoted into an error message: short, printable ASCII only.
std::string snippet(std::string_view s) {
  constexpr std::size_t kMax = 32;
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (s.size() > kMax) {
    out += "...";
  }
  out += '\'';
  return out;
}

// For a well-formed decimal that from_chars found out of range: whether it is tiny (it then
// reads as a signed zero, as in Go) rather than huge. Decided by its decimal magnitude:
// significant digits before the point, or minus the zeros after it, plus the exponent.
bool underflows(const char* first, const char* last, double& out) {
  const char* p = first;
  bool negative = *p == '-';
  if (negative) {
    ++p;
  }
  while (p != last && *p == '0') {
    ++p;
  }
  long long magnitude = 0;
  while (p != last && *p >= '0' && *p <= '9') {
    ++magnitude;
    ++p;
  }
  if (magnitude == 0 && p != last && *p == '.') {
    ++p;
    while (p != last && *p == '0') {
      --magnitude;
      ++p;
    }
  }
  while (p != last && *p != 'e' && *p != 'E') {
    ++p;
  }
  if (p != last) {
    const char* e = p + 1;
    if (e != last && *e == '+') {
      ++e;
    }
    long long exponent = 0;
    if (std::from_chars(e, last, exponent).ec == std::errc::result_out_of_range) {
      // The magnitude is bounded by the line length, so these cannot overflow the sum.
      constexpr long long kHuge = std::numeric_limits<long long>::max() / 4;
      exponent = *e == '-' ? -kHuge : kHuge;
    }
    magnitude += exponent;
  }
  if (magnitude > 0) {
    return false;
  }
  out = negative ? -0.0 : 0.0;
  return true;
}

// A float as Go's strconv.ParseFloat reads it, minus hex and underscores (which Prometheus
// never writes): optional sign, digits with optional point and exponent, Inf/Infinity/NaN in
// any case. A magnitude below the smallest subnormal reads as zero, one above DBL_MAX is an
// error, as in Go.
bool parse_double(std::string_view token, double& out) {
  const char* first = token.data();
  const char* last = first + token.size();
  if (first != last && *first == '+') {
    ++first;
    if (first != last && (*first == '-' || *first == '+')) {
      return false;
    }
  }
  if (first == last || last[-1] == ')') {  // from_chars also takes "nan(payload)"
    return false;
  }
  double v = 0;
  auto [ptr, ec] = std::from_chars(first, last, v, std::chars_format::general);
  if (ptr != last) {
    return false;
  }
  if (ec == std::errc::result_out_of_range) {
    return underflows(first, last, out);
  }
  if (ec != std::errc{}) {
    return false;
  }
  out = v;
  return true;
}

// Integer milliseconds (text format 0.0.4), or seconds with a fraction or exponent
// (OpenMetrics), converted to milliseconds.
bool parse_timestamp(std::string_view token, std::int64_t& out) {
  bool is_float = token.find_first_of(".eE") != std::string_view::npos;
  if (!is_float) {
    const char* first = token.data();
    const char* last = first + token.size();
    if (first != last && *first == '+') {
      ++first;
      if (first != last && *first == '-') {
        return false;
      }
    }
    if (first == last) {
      return false;
    }
    auto [ptr, ec] = std::from_chars(first, last, out);
    return ec == std::errc{} && ptr == last;
  }
  double seconds = 0;
  if (!parse_double(token, seconds) || !std::isfinite(seconds)) {
    return false;
  }
  double ms = std::round(seconds * 1000.0);
  // 2^63 is exactly representable; anything at or beyond it does not fit.
  constexpr double kLimit = 9223372036854775808.0;
  if (!(ms > -kLimit && ms < kLimit)) {
    return false;
  }
  out = static_cast<std::int64_t>(ms);
  return true;
}

bool has_suffix(std::string_view name, std::string_view family, std::string_view suffix) {
  return name.size() == family.size() + suffix.size() && name.starts_with(family) &&
         name.ends_with(suffix);
}

// The parse of one body. Scratch buffers live here so that a line costs no allocation once
// they have grown to the body's widest line.
class Parser {
 public:
  Parser(const PrometheusParseLimits& limits, detail::PrometheusSampleThunk thunk, void* context)
      : limits_(limits), thunk_(thunk), context_(context) {}

  PrometheusParseStats run(std::string_view body) {
    if (body.starts_with("\xEF\xBB\xBF")) {
      body.remove_prefix(3);
    }
    std::size_t pos = 0;
    while (pos < body.size()) {
      const char* start = body.data() + pos;
      const void* nl = std::memchr(start, '\n', body.size() - pos);
      std::size_t len = nl != nullptr
                            ? static_cast<std::size_t>(static_cast<const char*>(nl) - start)
                            : body.size() - pos;
      pos += len + 1;
      ++stats_.lines;
      std::string_view line(start, len);
      if (line.ends_with('\r')) {
        line.remove_suffix(1);
      }
      if (line.size() > limits_.max_line_bytes) {
        malformed("line is longer than ", std::to_string(limits_.max_line_bytes) + " bytes");
        continue;
      }
      if (!parse_line(line)) {
        stats_.saw_eof = true;
        break;
      }
    }
    return std::move(stats_);
  }

 private:
  // Returns false at `# EOF`.
  bool parse_line(std::string_view line) {
    std::size_t begin = 0;
    while (begin < line.size() && is_blank(line[begin])) {
      ++begin;
    }
    std::size_t end = line.size();
    while (end > begin && (is_blank(line[end - 1]) || line[end - 1] == '\r')) {
      --end;
    }
    line = line.substr(begin, end - begin);
    if (line.empty()) {
      return true;
    }
    if (line[0] == '#') {
      return parse_comment(line);
    }
    parse_sample(line);
    return true;
  }

  // `line` is trimmed and starts with '#'.
  bool parse_comment(std::string_view line) {
    if (line == "# EOF") {
      return false;
    }
    std::size_t i = 1;
    skip_blanks(line, i);
    std::string_view keyword = next_token(line, i);
    bool is_help = keyword == "HELP";
    if (!is_help && keyword != "TYPE") {
      return true;  // a plain comment, or an OpenMetrics # UNIT
    }
    skip_blanks(line, i);
    std::string_view name = next_token(line, i);
    const char* what = is_help ? "# HELP" : "# TYPE";
    if (name.empty()) {
      malformed(what, " without a metric name");
      return true;
    }
    if (!is_metric_name(name)) {
      malformed_quoting(
          is_help ? "# HELP with an invalid metric name " : "# TYPE with an invalid metric name ",
          name);
      return true;
    }
    if (is_help) {
      // The docstring is not kept. A HELP for another name starts a new (so far untyped)
      // family, as in the Go client's parser.
      if (name != family_) {
        family_ = name;
        family_type_ = MetricType::kUntyped;
      }
      return true;
    }
    family_ = name;
    family_type_ = MetricType::kUntyped;
    skip_blanks(line, i);
    std::string_view type = next_token(line, i);
    skip_blanks(line, i);
    if (type.empty()) {
      malformed_quoting("# TYPE without a type for ", name);
      return true;
    }
    if (i != line.size()) {
      malformed_quoting("unexpected text after the type in # TYPE: ", line.substr(i));
      return true;
    }
    if (type == "counter") {
      family_type_ = MetricType::kCounter;
    } else if (type == "gauge") {
      family_type_ = MetricType::kGauge;
    } else if (type == "histogram") {
      family_type_ = MetricType::kHistogram;
    } else if (type == "summary") {
      family_type_ = MetricType::kSummary;
    } else if (type == "untyped" || type == "unknown" || type == "info" || type == "stateset" ||
               type == "gaugehistogram") {
      family_type_ = MetricType::kUntyped;
    } else {
      malformed_quoting("unknown metric type in # TYPE: ", type);
    }
    return true;
  }

  // `line` is trimmed, non-empty and does not start with '#'.
  void parse_sample(std::string_view line) {
    const std::size_t n = line.size();
    std::size_t i = 0;
    if (!has_class(line[0], kMetricStart)) {
      malformed_quoting("expected a metric name or '#', got ", line.substr(0, 1));
      return;
    }
    ++i;
    while (i < n && has_class(line[i], kMetricChar)) {
      ++i;
    }
    std::string_view name = line.substr(0, i);
    bool blank = skip_blanks(line, i);
    labels_.clear();
    unescaped_used_ = 0;
    bool has_label_set = i < n && line[i] == '{';
    if (has_label_set) {
      ++i;
      if (!parse_labels(line, i)) {
        return;
      }
      skip_blanks(line, i);
    } else if (i < n && !blank) {
      malformed_quoting("invalid character in metric name: ", line.substr(i, 1));
      return;
    }
    if (i == n) {
      malformed("expected a value after ", has_label_set ? "the label set" : "the metric name");
      return;
    }
    std::string_view value_token = next_token(line, i);
    double value = 0;
    if (!parse_double(value_token, value)) {
      malformed_quoting("invalid sample value ", value_token);
      return;
    }
    skip_blanks(line, i);
    std::optional<std::int64_t> timestamp;
    if (i < n && line[i] != '#') {
      std::string_view ts_token = next_token(line, i);
      std::int64_t ts = 0;
      if (!parse_timestamp(ts_token, ts)) {
        malformed_quoting("invalid timestamp ", ts_token);
        return;
      }
      timestamp = ts;
      skip_blanks(line, i);
    }
    // What is left is an OpenMetrics exemplar (" # {...} value [ts]"), which is ignored.
    if (i < n && line[i] != '#') {
      malformed_quoting("unexpected text after the timestamp: ", line.substr(i));
      return;
    }
    if (has_duplicate_label()) {
      return;
    }
    if (stats_.samples >= limits_.max_series) {
      ++stats_.dropped;
      return;
    }
    ++stats_.samples;
    PrometheusSample sample{name, labels_, value, timestamp, type_of(name)};
    thunk_(context_, sample);
  }

  // After '{'; on success `i` is just past '}'.
  bool parse_labels(std::string_view line, std::size_t& i) {
    const std::size_t n = line.size();
    while (true) {
      skip_blanks(line, i);
      if (i == n) {
        malformed("unterminated label set");
        return false;
      }
      if (line[i] == '}') {
        ++i;
        return true;
      }
      if (!has_class(line[i], kLabelStart)) {
        malformed_quoting("expected a label name or '}', got ", line.substr(i, 1));
        return false;
      }
      std::size_t name_begin = i++;
      while (i < n && has_class(line[i], kLabelChar)) {
        ++i;
      }
      std::string_view label_name = line.substr(name_begin, i - name_begin);
      skip_blanks(line, i);
      if (i == n || line[i] != '=') {
        malformed_quoting("expected '=' after label name ", label_name);
        return false;
      }
      ++i;
      skip_blanks(line, i);
      if (i == n || line[i] != '"') {
        malformed_quoting("expected '\"' to open the value of label ", label_name);
        return false;
      }
      ++i;
      std::string_view label_value;
      if (!parse_label_value(line, i, label_value)) {
        malformed_quoting("unterminated value of label ", label_name);
        return false;
      }
      if (labels_.size() >= limits_.max_labels) {
        malformed("too many labels (more than ", std::to_string(limits_.max_labels) + ")");
        return false;
      }
      labels_.push_back({label_name, label_value});
      skip_blanks(line, i);
      if (i < n && line[i] == ',') {
        ++i;
      } else if (i < n && line[i] == '}') {
        ++i;
        return true;
      } else {
        malformed_quoting("expected ',' or '}' after the value of label ", label_name);
        return false;
      }
    }
  }

  // After the opening quote; on success `i` is just past the closing quote. Only \\, \" and
  // \n are escapes; any other backslash is kept as written, as Prometheus does.
  bool parse_label_value(std::string_view line, std::size_t& i, std::string_view& out) {
    const std::size_t n = line.size();
    const std::size_t begin = i;
    while (i < n && line[i] != '"' && line[i] != '\\') {
      ++i;
    }
    if (i == n) {
      return false;
    }
    if (line[i] == '"') {
      out = line.substr(begin, i - begin);
      ++i;
      return true;
    }
    // Escapes: unescape into the buffer. It is sized for the whole line the first time this
    // line needs it, so it never reallocates under views handed out earlier for this line.
    if (unescaped_used_ == 0 && unescaped_.size() < line.size()) {
      unescaped_.resize(std::max(line.size(), 2 * unescaped_.size()));
    }
    char* dst = unescaped_.data() + unescaped_used_;
    char* const dst_begin = dst;
    std::memcpy(dst, line.data() + begin, i - begin);
    dst += i - begin;
    while (i < n) {
      char c = line[i];
      if (c == '"') {
        out = std::string_view(dst_begin, static_cast<std::size_t>(dst - dst_begin));
        unescaped_used_ += out.size();
        ++i;
        return true;
      }
      if (c == '\\') {
        if (i + 1 == n) {
          return false;
        }
        char e = line[i + 1];
        if (e == '\\' || e == '"') {
          *dst++ = e;
        } else if (e == 'n') {
          *dst++ = '\n';
        } else {
          *dst++ = '\\';
          *dst++ = e;
        }
        i += 2;
      } else {
        *dst++ = c;
        ++i;
      }
    }
    return false;
  }

  bool has_duplicate_label() {
    const std::size_t count = labels_.size();
    if (count < 2) {
      return false;
    }
    std::string_view duplicate;
    // Pairwise for the usual handful of labels; sorted beyond that, so a caller raising
    // max_labels cannot make a line quadratic.
    if (count <= 16) {
      for (std::size_t a = 0; a < count && duplicate.empty(); ++a) {
        for (std::size_t b = a + 1; b < count; ++b) {
          if (labels_[a].name == labels_[b].name) {
            duplicate = labels_[a].name;
            break;
          }
        }
      }
    } else {
      names_.clear();
      for (const auto& label : labels_) {
        names_.push_back(label.name);
      }
      std::sort(names_.begin(), names_.end());
      auto it = std::adjacent_find(names_.begin(), names_.end());
      if (it != names_.end()) {
        duplicate = *it;
      }
    }
    if (duplicate.empty()) {
      return false;
    }
    malformed_quoting("duplicate label name ", duplicate);
    return true;
  }

  MetricType type_of(std::string_view name) const {
    if (family_type_ == MetricType::kUntyped || !name.starts_with(family_)) {
      return MetricType::kUntyped;
    }
    if (name.size() == family_.size()) {
      return family_type_;
    }
    bool known = false;
    switch (family_type_) {
      case MetricType::kCounter:
        known = has_suffix(name, family_, "_total") || has_suffix(name, family_, "_created");
        break;
      case MetricType::kHistogram:
        known = has_suffix(name, family_, "_bucket") || has_suffix(name, family_, "_sum") ||
                has_suffix(name, family_, "_count") || has_suffix(name, family_, "_created");
        break;
      case MetricType::kSummary:
        known = has_suffix(name, family_, "_sum") || has_suffix(name, family_, "_count") ||
                has_suffix(name, family_, "_created");
        break;
      case MetricType::kGauge:
      case MetricType::kUntyped:
        break;
    }
    return known ? family_type_ : MetricType::kUntyped;
  }

  // Returns whether any blank was skipped.
  static bool skip_blanks(std::string_view line, std::size_t& i) {
    std::size_t start = i;
    while (i < line.size() && is_blank(line[i])) {
      ++i;
    }
    return i != start;
  }

  static std::string_view next_token(std::string_view line, std::size_t& i) {
    std::size_t start = i;
    while (i < line.size() && !is_blank(line[i])) {
      ++i;
    }
    return line.substr(start, i - start);
  }

  // Only the first error's text is built: a body of garbage costs a counter per line.
  void malformed(std::string_view what, std::string_view detail = {}) {
    if (stats_.malformed++ == 0) {
      stats_.first_error = "line " + std::to_string(stats_.lines) + ": ";
      stats_.first_error.append(what).append(detail);
    }
  }

  // `untrusted` is quoted with snippet() only if this is the message kept.
  void malformed_quoting(std::string_view what, std::string_view untrusted) {
    if (stats_.malformed == 0) {
      malformed(what, snippet(untrusted));
    } else {
      ++stats_.malformed;
    }
  }

  const PrometheusParseLimits& limits_;
  detail::PrometheusSampleThunk thunk_;
  void* context_;
  PrometheusParseStats stats_;
  std::string_view family_;  // of the last # TYPE or # HELP; points into the body
  MetricType family_type_ = MetricType::kUntyped;
  std::vector<PrometheusLabel> labels_;
  std::string unescaped_;
  std::size_t unescaped_used_ = 0;
  std::vector<std::string_view> names_;
};

}  // namespace

namespace detail {

PrometheusParseStats parse_prometheus_text(std::string_view body,
                                           const PrometheusParseLimits& limits,
                                           PrometheusSampleThunk thunk, void* context) {
  return Parser(limits, thunk, context).run(body);
}

}  // namespace detail

PrometheusParseStats parse_prometheus_text(
    std::string_view body, const PrometheusParseLimits& limits,
    const std::function<void(const PrometheusSample&)>& on_sample) {
  auto thunk = [](void* context, const PrometheusSample& sample) {
    const auto& f = *static_cast<const std::function<void(const PrometheusSample&)>*>(context);
    if (f) {
      f(sample);
    }
  };
  return detail::parse_prometheus_text(
      body, limits, thunk, const_cast<void*>(static_cast<const void*>(std::addressof(on_sample))));
}

}  // namespace backout
