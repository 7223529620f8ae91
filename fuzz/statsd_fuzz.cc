// libFuzzer target for StatsD datagrams (issue 14, item 9): any bytes parse without a crash, a
// sanitizer report or an exception; every sample delivered has a finite value and a
// Prometheus-safe name; the counts add up.
//   ./build-fuzz/fuzz/statsd_fuzz -max_total_time=60 fuzz/corpus/statsd
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "backout/collectors/statsd.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<backout::collectors::PushedSample> out;
  const backout::collectors::StatsdParseStats stats = backout::collectors::parse_statsd(text, out);
  for (const auto& s : out) {
    if (!std::isfinite(s.value) || s.metric.empty() ||
        backout::collectors::statsd_safe_name(s.metric) != s.metric) {
      std::fprintf(stderr, "an unusable sample: '%s' = %g\n", s.metric.c_str(), s.value);
      std::abort();
    }
  }
  if (stats.malformed > 0 && stats.first_error.empty()) {
    std::fprintf(stderr, "malformed lines without an error\n");
    std::abort();
  }
  return 0;
}
