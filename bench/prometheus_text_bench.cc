// Parse speed of the Prometheus text parser on a large scrape: a generated 10 MB body with
// 100k series in 1,000 families (histograms, counters, gauges), about one label value in a
// hundred escaped, as a big application's /metrics looks.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "backout/core/prometheus_text.h"

namespace {

constexpr std::size_t kSeries = 100000;
constexpr std::size_t kTargetBytes = 10u << 20;

std::string make_body() {
  constexpr std::size_t kPerFamily = 100;
  const std::size_t target_line = kTargetBytes / kSeries;
  std::string body;
  body.reserve(kTargetBytes + (1u << 20));
  for (std::size_t i = 0; i < kSeries; ++i) {
    std::size_t family = i / kPerFamily;
    std::size_t kind = family % 3;
    std::string name = (kind == 0   ? "http_request_duration_seconds_f"
                        : kind == 1 ? "jobs_processed_f"
                                    : "queue_depth_f") +
                       std::to_string(family);
    if (i % kPerFamily == 0) {
      body += "# HELP " + name + " Generated family for the benchmark.\n";
      body += "# TYPE " + name +
              (kind == 0   ? " histogram\n"
               : kind == 1 ? " counter\n"
                           : " gauge\n");
    }
    std::size_t line_start = body.size();
    body += name;
    body += kind == 0 ? "_bucket" : kind == 1 ? "_total" : "";
    body += "{method=\"POST\",code=\"" + std::to_string(200 + i % 5) + "\",";
    body += i % 100 == 7 ? "path=\"/a\\\"quoted\\\"/" : "path=\"/api/v1/orders/";
    // Pad the path so that the body comes out at about 10 MB.
    std::size_t so_far = body.size() - line_start;
    std::size_t tail = kind == 0 ? 40 : 30;
    body.append(so_far + tail < target_line ? target_line - so_far - tail : 1, 'x');
    body += '"';
    if (kind == 0) {
      body += ",le=\"" + std::to_string(i % 10) + ".5\"";
    }
    body += "} " + std::to_string(i * 37 % 100003) + ".25e3 1712345678901\n";
  }
  body += "# EOF\n";
  return body;
}

void BM_PrometheusText_Parse(benchmark::State& state) {
  const std::string body = make_body();
  const backout::PrometheusParseLimits limits;
  std::size_t samples = 0;
  for (auto _ : state) {
    double sum = 0;
    backout::PrometheusParseStats stats = backout::parse_prometheus_text(
        body, limits, [&](const backout::PrometheusSample& s) { sum += s.value; });
    if (stats.samples != kSeries || stats.malformed != 0) {
      state.SkipWithError(stats.first_error.empty() ? "wrong sample count"
                                                    : stats.first_error.c_str());
      break;
    }
    samples = stats.samples;
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * samples));
  state.counters["body_MB"] = static_cast<double>(body.size()) / (1 << 20);
}
BENCHMARK(BM_PrometheusText_Parse)->Unit(benchmark::kMillisecond);

// The same through the std::function overload, to show what the type erasure costs.
void BM_PrometheusText_ParseStdFunction(benchmark::State& state) {
  const std::string body = make_body();
  const backout::PrometheusParseLimits limits;
  double sum = 0;
  const std::function<void(const backout::PrometheusSample&)> on_sample =
      [&](const backout::PrometheusSample& s) { sum += s.value; };
  for (auto _ : state) {
    backout::PrometheusParseStats stats = backout::parse_prometheus_text(body, limits, on_sample);
    benchmark::DoNotOptimize(stats.samples);
  }
  benchmark::DoNotOptimize(sum);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_PrometheusText_ParseStdFunction)->Unit(benchmark::kMillisecond);

}  // namespace
