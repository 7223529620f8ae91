// Source kind `prometheus`: scrape an application's /metrics in the Prometheus text format.
#include "common_options.h"
#include "prometheus/prometheus_kind.h"

namespace backout::collectors {

KindSpec prometheus_spec() {
  KindSpec s;
  s.kind = "prometheus";
  s.summary = "scrape a /metrics URL in the Prometheus text format";
  s.options = {
      url_option("the /metrics URL to scrape"),
      every_option(std::chrono::seconds{1}),
      timeout_option(std::chrono::seconds{2}),
      ca_file_option(),
      {.name = "max_body_bytes",
       .type = OptionType::kInteger,
       .default_value = std::int64_t{16 << 20},
       .help = "largest scrape body accepted; a larger one fails the scrape",
       .min_int = 1024},
      {.name = "max_series",
       .type = OptionType::kInteger,
       .default_value = std::int64_t{200000},
       .help = "most series read from one scrape; the rest are dropped and counted",
       .min_int = 1},
  };
  s.secrets = {bearer_token_secret()};
  s.has_up = true;
  s.series = [](const KindOptions&) { return std::nullopt; };
  return s;
}

}  // namespace backout::collectors
