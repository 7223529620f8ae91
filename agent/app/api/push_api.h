// The push endpoint of the agent's HTTP API: POST /api/v1/push/{source} hands the samples an
// application posts to the PushHub, which passes them to that source's `push` collector.
//
// Requires `Authorization: Bearer <token>` like every POST (401 without or with a wrong token,
// 403 when the plan sets no token). The body is one of, by Content-Type:
// - application/json: {"samples": [{"metric": "logins", "labels": {"region": "eu"},
//   "value": 1, "type": "counter" | "gauge" | "observation"}]}. `labels` is optional; metric
//   and label names are identifiers ([A-Za-z_][A-Za-z0-9_]*); a counter value is an increment,
//   an observation is in seconds; counters and observations are >= 0.
// - text/plain (or application/openmetrics-text): the Prometheus text format, as the
//   application's client library exposes it. Samples of a family typed `counter` (except
//   `_created`), and the cumulative `_bucket`, `_sum` and `_count` of a `histogram` or
//   `summary`, are cumulative counters pushed as absolute values (PushedSample::kCounterTotal:
//   the collector turns them into increases, resets included). Every other sample, untyped ones
//   and summary quantiles included, is a gauge value. Timestamps are ignored.
// - text/x-statsd: StatsD / DogStatsD lines (collectors/statsd.h).
// Answers 202 {"accepted": N, "dropped": M} (M: samples of metrics the source does not declare
// in `series`), 400 {"error": ...} naming the first problem of a malformed body (nothing of it is
// delivered), 404 for a source that is not a running push source, 415 for another Content-Type.
// The server answers 413 for a body over its limit.
//
// Thread-safety: the handler runs on any io thread; the PushHub is thread-safe and must outlive
// the router. Time: none; the samples count when the collector records them.
#pragma once

#include <optional>
#include <string>

#include "app/http/router.h"
#include "backout/collectors/push_hub.h"

namespace backout::agent {

/// Adds POST /api/v1/push/{source}. `token`: the API's bearer token (nullopt: POSTs disabled).
void register_push_api(http::Router& router, collectors::PushHub& hub,
                       std::optional<std::string> token);

}  // namespace backout::agent
