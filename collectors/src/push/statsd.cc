#include "backout/collectors/statsd.h"

#include <charconv>
#include <cmath>
#include <optional>
#include <string_view>

namespace backout::collectors {
namespace {

// Bounds that keep one line from costing more than a sample should.
constexpr std::size_t kMaxLabels = 64;
constexpr std::size_t kMaxValuesPerLine = 1024;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// A whole-string decimal number; from_chars takes no leading '+' and no blanks, which keeps
// Etsy's relative gauges ("+3") out.
std::optional<double> parse_number(std::string_view s) {
  if (s.empty()) {
    return std::nullopt;
  }
  double v = 0;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v, std::chars_format::general);
  if (ec != std::errc() || ptr != end || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

// Splits at the first `sep`: head before it, `rest` after it (empty view if none).
std::string_view take_until(std::string_view& rest, char sep) {
  const std::size_t at = rest.find(sep);
  std::string_view head = rest.substr(0, at);
  rest = at == std::string_view::npos ? std::string_view() : rest.substr(at + 1);
  return head;
}

// Parses one non-empty line into `out`; returns the reason when it is malformed (then `out`
// is left as it was).
std::optional<std::string> parse_line(std::string_view line, std::vector<PushedSample>& out) {
  if (line.starts_with("_e{") || line.starts_with("_sc|")) {
    return std::string("DogStatsD events and service checks are not supported");
  }
  std::string_view rest = line;
  std::string_view head = take_until(rest, '|');  // name:value[:value...]
  if (rest.data() == nullptr || head.find(':') == std::string_view::npos) {
    return std::string("expected name:value|type");
  }
  std::string_view values = head;
  const std::string_view raw_name = take_until(values, ':');
  if (raw_name.empty()) {
    return std::string("empty metric name");
  }
  const std::string_view type = take_until(rest, '|');

  PushedSample::Type kind;
  double scale = 1.0;
  if (type == "c") {
    kind = PushedSample::Type::kCounter;
  } else if (type == "g") {
    kind = PushedSample::Type::kGauge;
  } else if (type == "ms") {
    kind = PushedSample::Type::kObservation;
    scale = 1e-3;
  } else if (type == "h" || type == "d") {
    kind = PushedSample::Type::kObservation;
  } else if (type == "s") {
    return std::string("sets (|s) are not supported");
  } else {
    return "unknown type '" + std::string(type.substr(0, 16)) + "' (expected c, g, ms, h or d)";
  }

  double rate = 1.0;
  Labels labels;
  bool seen_rate = false;
  bool seen_tags = false;
  while (rest.data() != nullptr) {
    const std::string_view field = take_until(rest, '|');
    if (field.starts_with('@') && !seen_rate) {
      seen_rate = true;
      auto r = parse_number(field.substr(1));
      if (!r || *r <= 0 || *r > 1) {
        return "sample rate '" + std::string(field.substr(0, 24)) + "' is not in (0, 1]";
      }
      rate = *r;
    } else if (field.starts_with('#') && !seen_tags) {
      seen_tags = true;
      std::string_view tags = field.substr(1);
      while (tags.data() != nullptr && !tags.empty()) {
        std::string_view value = take_until(tags, ',');
        const std::string_view key = take_until(value, ':');
        // A label needs a name and a value: a bare tag ("canary") or an empty one says nothing
        // a selector can match (an empty label value is an absent label in Prometheus).
        if (key.empty() || value.empty()) {
          continue;
        }
        std::string name = statsd_safe_name(key);
        bool repeated = false;
        for (const Label& l : labels) {
          repeated = repeated || l.name == name;
        }
        if (repeated) {
          continue;  // the first occurrence wins, as for query parameters
        }
        if (labels.size() == kMaxLabels) {
          return "more than " + std::to_string(kMaxLabels) + " tags";
        }
        labels.push_back({std::move(name), std::string(value)});
      }
    } else if (field.starts_with("c:") || field.starts_with("e:") || field.starts_with('T')) {
      // DogStatsD container id, external data, timestamp: nothing a window uses.
    } else {
      return "unexpected field '|" + std::string(field.substr(0, 24)) + "'";
    }
  }

  const std::size_t before = out.size();
  const std::string name = statsd_safe_name(raw_name);
  std::size_t count = 0;
  while (values.data() != nullptr) {
    const std::string_view text = take_until(values, ':');
    auto v = parse_number(text);
    std::optional<std::string> why;
    if (!v) {
      why = "value '" + std::string(text.substr(0, 24)) + "' is not a finite number";
    } else if (kind != PushedSample::Type::kGauge && *v < 0) {
      why = "value '" + std::string(text.substr(0, 24)) + "' is negative";
    } else if (++count > kMaxValuesPerLine) {
      why = "more than " + std::to_string(kMaxValuesPerLine) + " values";
    }
    if (why) {
      out.resize(before);
      return why;
    }
    const double value = kind == PushedSample::Type::kCounter ? *v / rate : *v * scale;
    out.push_back({name, labels, value, kind});
  }
  return std::nullopt;
}

}  // namespace

std::string statsd_safe_name(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 1);
  if (!name.empty() && name.front() >= '0' && name.front() <= '9') {
    out.push_back('_');
  }
  for (char c : name) {
    out.push_back(is_name_char(c) ? c : '_');
  }
  return out;
}

StatsdParseStats parse_statsd(std::string_view text, std::vector<PushedSample>& out) {
  StatsdParseStats stats;
  std::size_t number = 0;
  std::string_view rest = text;
  while (rest.data() != nullptr && !rest.empty()) {
    std::string_view line = take_until(rest, '\n');
    ++number;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      line.remove_prefix(1);
    }
    if (line.empty()) {
      continue;
    }
    ++stats.lines;
    const std::size_t before = out.size();
    if (auto why = parse_line(line, out)) {
      ++stats.malformed;
      if (stats.first_error.empty()) {
        stats.first_error = "line " + std::to_string(number) + ": " + *why;
      }
      continue;
    }
    stats.samples += out.size() - before;
  }
  return stats;
}

}  // namespace backout::collectors
