// libFuzzer target for the Prometheus text parser: any body must parse without a crash, a
// sanitizer report or an exception, the stats must keep their documented invariants, and the
// delivered samples, written back as text, must parse into the same samples.
//   ./build-fuzz/fuzz/prometheus_text_fuzz -max_total_time=180 fuzz/corpus/prometheus_text
#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backout/core/prometheus_text.h"

namespace {

using backout::PrometheusParseLimits;
using backout::PrometheusParseStats;
using backout::PrometheusSample;

struct OwnedSample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
  std::optional<std::int64_t> timestamp_ms;
};

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

bool is_name(std::string_view s, bool colon) {
  auto start = [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
  };
  if (s.empty() || !start(s[0])) {
    return false;
  }
  return std::all_of(s.begin() + 1, s.end(),
                     [&](char c) { return start(c) || (c >= '0' && c <= '9'); });
}

void append_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
}

std::string serialize(const std::vector<OwnedSample>& samples) {
  std::string out;
  for (const auto& s : samples) {
    out += s.name;
    out += '{';
    for (const auto& [name, value] : s.labels) {
      out += name + "=\"";
      for (char c : value) {
        if (c == '\\' || c == '"') {
          out += '\\';
          out += c;
        } else if (c == '\n') {
          out += "\\n";
        } else {
          out += c;
        }
      }
      out += "\",";
    }
    out += "} ";
    append_value(out, s.value);
    if (s.timestamp_ms) {
      out += ' ' + std::to_string(*s.timestamp_ms);
    }
    out += '\n';
  }
  return out;
}

std::vector<OwnedSample> parse_checked(std::string_view body, const PrometheusParseLimits& limits,
                                       PrometheusParseStats& stats) {
  std::vector<OwnedSample> samples;
  stats = backout::parse_prometheus_text(body, limits, [&](const PrometheusSample& s) {
    check(is_name(s.name, true), "metric name valid");
    check(s.labels.size() <= limits.max_labels, "labels within max_labels");
    OwnedSample o{std::string(s.name), {}, s.value, s.timestamp_ms};
    for (const auto& l : s.labels) {
      check(is_name(l.name, false), "label name valid");
      for (const auto& [seen, v] : o.labels) {
        check(seen != l.name, "label names unique");
      }
      o.labels.emplace_back(std::string(l.name), std::string(l.value));
    }
    samples.push_back(std::move(o));
  });
  check(stats.samples == samples.size(), "samples == callbacks");
  check(stats.samples <= limits.max_series, "samples <= max_series");
  check(stats.samples + stats.dropped + stats.malformed <= stats.lines, "counts <= lines");
  check(stats.lines <= static_cast<std::size_t>(std::count(body.begin(), body.end(), '\n')) + 1,
        "lines <= newlines + 1");
  check(stats.first_error.empty() == (stats.malformed == 0), "first_error iff malformed");
  check(stats.first_error.empty() || stats.first_error.rfind("line ", 0) == 0,
        "first_error starts with 'line '");
  return samples;
}

bool same(const OwnedSample& a, const OwnedSample& b) {
  bool same_value = (std::isnan(a.value) && std::isnan(b.value)) ||
                    std::bit_cast<std::uint64_t>(a.value) == std::bit_cast<std::uint64_t>(b.value);
  return a.name == b.name && a.labels == b.labels && same_value && a.timestamp_ms == b.timestamp_ms;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A body starting with 0xff has its second byte pick tight limits, so the limit paths are
  // fuzzed as well as the grammar (0xff never starts a useful body; the BOM starts with 0xef).
  PrometheusParseLimits limits;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  if (body.size() >= 2 && body[0] == '\xff') {
    auto b = static_cast<unsigned char>(body[1]);
    limits.max_line_bytes = 16 + (b & 0x1f) * 8u;
    limits.max_series = b & 0x7u;
    limits.max_labels = (b >> 3) & 0x3u;
    body.remove_prefix(2);
  }
  PrometheusParseStats stats;
  std::vector<OwnedSample> samples = parse_checked(body, limits, stats);

  // The std::function overload runs the same parser.
  std::size_t calls = 0;
  const std::function<void(const PrometheusSample&)> count = [&](const PrometheusSample&) {
    ++calls;
  };
  PrometheusParseStats again = backout::parse_prometheus_text(body, limits, count);
  check(again.samples == stats.samples && calls == stats.samples &&
            again.malformed == stats.malformed && again.dropped == stats.dropped &&
            again.lines == stats.lines && again.first_error == stats.first_error &&
            again.saw_eof == stats.saw_eof,
        "both overloads agree");

  PrometheusParseLimits unlimited = limits;
  unlimited.max_line_bytes = std::numeric_limits<std::size_t>::max();
  std::string text = serialize(samples);
  PrometheusParseStats round_stats;
  std::vector<OwnedSample> round = parse_checked(text, unlimited, round_stats);
  check(round_stats.malformed == 0, "round trip parses cleanly");
  check(round.size() == samples.size(), "round trip keeps every sample");
  for (std::size_t i = 0; i < round.size(); ++i) {
    check(same(samples[i], round[i]), "round trip keeps each sample");
  }
  return 0;
}
