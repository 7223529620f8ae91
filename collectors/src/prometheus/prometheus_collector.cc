// Source kind `prometheus`: scrapes `url` every `every` through the shared HTTP client, parses
// the body with the project's text-format parser and delivers every sample, then `up` and
// `duration`. A failed scrape (connect, TLS, timeout, non-2xx, body over max_body_bytes, a body
// with malformed lines and not one valid sample) delivers
// only `up` = 0 and `duration`, and says why in the outcome.
#include <boost/asio/dispatch.hpp>
#include <exception>
#include <string_view>

#include "backout/core/prometheus_text.h"
#include "backout/net/http_client.h"
#include "prometheus/prometheus_kind.h"
#include "periodic_runner.h"

namespace backout::collectors {
namespace {

class PrometheusScraper final : public PeriodicRunner {
 public:
  PrometheusScraper(const CollectorContext& ctx, Duration every, net::HttpClientRequest request,
                    std::size_t max_series)
      : PeriodicRunner(ctx.executor, ctx.sink, every, ctx.time),
        http_(ctx.http),
        request_(std::move(request)),
        max_series_(max_series) {}

 private:
  void begin_attempt(std::uint64_t id) override {
    auto self = this->self<PrometheusScraper>();
    request_id_ = http_->fetch(
        request_, [self, id](const net::FetchError& error, net::HttpClientResponse response) {
          // The client calls back on its own strand; the sink is only called from ours.
          boost::asio::dispatch(self->strand(),
                                [self, id, error, response = std::move(response)]() mutable {
                                  self->on_response(id, error, std::move(response));
                                });
        });
  }

  void cancel_attempt() override { http_->cancel(request_id_); }

  void on_response(std::uint64_t id, const net::FetchError& error,
                   net::HttpClientResponse response) {
    if (!current(id)) {
      return;
    }
    AttemptOutcome outcome;
    // A timed-out scrape took its whole timeout, whatever the clock says about the callback.
    outcome.duration = error.kind == net::FetchError::Kind::kTimeout ? Duration(request_.timeout)
                                                                     : Duration(response.duration);
    if (error) {
      outcome.error = error.reason;
      return finish(id, std::move(outcome));
    }
    if (response.status < 200 || response.status > 299) {
      outcome.error = "HTTP " + std::to_string(response.status) + ", expected 2xx";
      return finish(id, std::move(outcome));
    }
    try {
      deliver(id, response.body, outcome);
    } catch (const std::exception& e) {
      outcome = {.up = false,
                 .duration = outcome.duration,
                 .error = std::string("internal error: ") + e.what()};
    }
    finish(id, std::move(outcome));
  }

  void deliver(std::uint64_t id, std::string_view body, AttemptOutcome& outcome) {
    PrometheusParseLimits limits;
    limits.max_series = max_series_;
    std::size_t shadowed = 0;
    Labels labels;
    const PrometheusParseStats stats =
        parse_prometheus_text(body, limits, [&](const PrometheusSample& s) {
          // `up` and `duration` are the agent's own series for this source; a target exposing
          // metrics of those names must not overwrite them.
          if (s.name == "up" || s.name == "duration") {
            ++shadowed;
            return;
          }
          labels.resize(s.labels.size());
          for (std::size_t i = 0; i < s.labels.size(); ++i) {
            labels[i].name.assign(s.labels[i].name);
            labels[i].value.assign(s.labels[i].value);
          }
          record(id, std::string(s.name), labels, s.value);
        });
    outcome.samples = stats.samples - shadowed;
    outcome.malformed = stats.malformed;
    outcome.dropped = stats.dropped + shadowed;
    // A body with malformed lines and not one valid sample is not a metrics page (an HTML error
    // page answered 200, a wrong URL): the target is down, as Prometheus would mark it.
    // Otherwise the bad lines are skipped and the first of them is named for the log.
    outcome.up = !(stats.samples == 0 && stats.malformed > 0);
    if (stats.malformed > 0) {
      outcome.error = outcome.up ? stats.first_error
                                 : "no valid sample in the response (not the Prometheus text "
                                   "format?); " + stats.first_error;
    }
  }

  net::HttpClient* http_;
  const net::HttpClientRequest request_;
  const std::size_t max_series_;
  net::HttpClient::RequestId request_id_ = 0;
};

}  // namespace

Result<std::unique_ptr<Collector>> create_prometheus_collector(const Source& source,
                                                               CollectorContext ctx) {
  if (auto problem = check_context(source, ctx, true)) {
    return Error{*problem};
  }
  const KindOptions& o = source.options;
  auto token = resolve_bearer_token(source, ctx);
  if (!token) {
    return Error{token.error()};
  }

  net::HttpClientRequest request;
  request.method = "GET";
  request.url = o.string("url");
  request.timeout = to_millis(o.duration("timeout", std::chrono::seconds{2}));
  request.max_body_bytes = static_cast<std::size_t>(o.integer("max_body_bytes", 16 << 20));
  request.ca_file = o.string("ca_file");
  request.accept_gzip = true;
  // What Prometheus itself asks for; OpenMetrics-only targets still answer in text.
  request.headers.emplace_back("Accept", "text/plain;version=0.0.4;q=0.9,*/*;q=0.1");
  if (token->has_value()) {
    request.headers.emplace_back("Authorization", "Bearer " + **token);
  }
  const auto max_series = static_cast<std::size_t>(o.integer("max_series", 200000));
  auto runner = std::make_shared<PrometheusScraper>(
      ctx, o.duration("every", std::chrono::seconds{1}), std::move(request), max_series);
  return make_periodic_collector(std::move(runner));
}

}  // namespace backout::collectors
