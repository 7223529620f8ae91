// Parser for the Prometheus text exposition format 0.0.4 and the OpenMetrics text subset that
// applications expose on /metrics. A pure function: no I/O, no clock, no global state, so any
// number of threads may parse different bodies at once; a sample handed to the callback is only
// valid during that call.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace backout {

/// The declared type of a sample's metric family. The OpenMetrics types `unknown`, `info`,
/// `stateset` and `gaugehistogram` are reported as kUntyped: the rules only need to know
/// whether a series is monotonic (counter) or cumulative-bucketed (histogram, summary).
enum class MetricType { kUntyped, kCounter, kGauge, kHistogram, kSummary };

/// "untyped", "counter", "gauge", "histogram", "summary".
std::string_view metric_type_name(MetricType type);

/// One label of a sample. `value` is unescaped; it may point into the body or into a buffer of
/// the parser that is valid only during the callback.
struct PrometheusLabel {
  std::string_view name;
  std::string_view value;
};

/// One sample line, as handed to the callback. Every view is valid only during the callback:
/// copy what you keep.
struct PrometheusSample {
  std::string_view name;                     // e.g. http_request_duration_seconds_bucket
  std::span<const PrometheusLabel> labels;   // in exposition order, names unique
  double value;                              // NaN and ±Inf included
  std::optional<std::int64_t> timestamp_ms;  // milliseconds since the epoch, if exposed
  MetricType type;                           // of the family the sample belongs to
};

/// Bounds that keep a hostile or broken target from costing more than a scrape should.
struct PrometheusParseLimits {
  std::size_t max_line_bytes = 64 * 1024;  // a longer line is malformed (line ending not counted)
  std::size_t max_series = 200000;         // samples after this many are dropped, not delivered
  std::size_t max_labels = 64;             // a sample with more labels is malformed
};

/// What a parse saw. Invariants: `samples` is the number of callbacks, at most `max_series`;
/// `samples + dropped + malformed <= lines`; `first_error` is empty exactly when `malformed` is 0.
struct PrometheusParseStats {
  std::size_t lines = 0;      // physical lines read, up to and including `# EOF`
  std::size_t samples = 0;    // valid samples delivered to the callback
  std::size_t malformed = 0;  // lines skipped as malformed (samples and # HELP / # TYPE lines)
  std::size_t dropped = 0;    // valid samples beyond `max_series`
  std::string first_error;    // "line 12: expected '=' after label name"
  bool saw_eof = false;       // an OpenMetrics `# EOF` line ended the body
};

namespace detail {
/// Type-erased callback: the parser's loop is compiled once, in prometheus_text.cc.
using PrometheusSampleThunk = void (*)(void* context, const PrometheusSample& sample);
PrometheusParseStats parse_prometheus_text(std::string_view body,
                                           const PrometheusParseLimits& limits,
                                           PrometheusSampleThunk thunk, void* context);
}  // namespace detail

/// Parses an exposition body and calls `on_sample` for every valid sample, in body order.
///
/// A malformed line is counted (the first error kept, with its 1-based line number) and
/// skipped; the rest of the body still parses. Bad input never throws, crashes or costs more
/// than linear time. Exceptions thrown by `on_sample` propagate. Accepted beyond the strict
/// grammar, as Prometheus itself does: CRLF line endings, blanks and tabs between tokens,
/// a trailing comma in a label set, unknown escapes in label values (kept as written), invalid
/// UTF-8 in label values (kept as bytes), a UTF-8 byte order mark. A timestamp is integer
/// milliseconds (0.0.4); one with a fraction or exponent is OpenMetrics seconds, converted.
/// OpenMetrics exemplars (` # {...} value [ts]`) are ignored; `# EOF` ends the body.
///
/// A sample's type is the type of the most recent `# TYPE` (or `# HELP`, which starts an
/// untyped family) when the sample's name is that family's name or the name plus a suffix of
/// its type (counter: _total, _created; histogram: _bucket, _sum, _count, _created; summary:
/// _sum, _count, _created); otherwise kUntyped. Exposition keeps a family's lines together,
/// so this needs no map of families.
///
/// Example: `# TYPE http_requests counter` then `http_requests_total{code="503"} 7` calls
/// `on_sample` once with name "http_requests_total", labels {code: "503"}, value 7, kCounter.
PrometheusParseStats parse_prometheus_text(
    std::string_view body, const PrometheusParseLimits& limits,
    const std::function<void(const PrometheusSample&)>& on_sample);

/// The same for any callable, without std::function's indirection or allocation.
template <typename F>
requires std::invocable<F&, const PrometheusSample&> &&
    (!std::same_as<std::remove_cvref_t<F>, std::function<void(const PrometheusSample&)>>)
        PrometheusParseStats
    parse_prometheus_text(std::string_view body, const PrometheusParseLimits& limits,
                          F&& on_sample) {
  using Callable = std::remove_reference_t<F>;
  return detail::parse_prometheus_text(
      body, limits,
      [](void* context, const PrometheusSample& sample) {
        (*static_cast<Callable*>(context))(sample);
      },
      const_cast<void*>(static_cast<const void*>(std::addressof(on_sample))));
}

}  // namespace backout
