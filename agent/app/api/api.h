// The agent's HTTP API on a Router: /metrics, /healthz, /readyz, /api/v1/status,
// /api/v1/timeline and the human acts (POST /api/v1/ack, /fix-forward, /decision, /raise, each
// requiring `Authorization: Bearer <token>`, compared in constant time). Handlers are plain
// functions of the request: testable without a socket.
//
// Thread-safety: handlers run on the HTTP server's threads. The watch is touched only inside
// on_watch(): an act (applied, recorded, echoed) and the status are run where the watch lives
// (the runtime's tick strand), one at a time between ticks, so no lock guards it. Time: acts
// are stamped with the injected Clock when they run.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "app/http/router.h"
#include "app/metrics/agent_metrics.h"
#include "app/record/timeline.h"
#include "backout/core/clock.h"
#include "backout/rules/watch.h"

namespace backout::agent {

struct ApiContext {
  /// Runs `job` where the watch lives and returns once it has run; false when it had not
  /// started within the runtime's act timeout (then it never runs: nothing was applied).
  std::function<bool(const std::function<void()>& job)> on_watch;
  rules::Watch* watch = nullptr;
  const Clock* clock = nullptr;
  AgentMetrics* metrics = nullptr;
  Timeline* timeline = nullptr;
  /// The bearer token of POSTs; nullopt disables them (403).
  std::optional<std::string> token;
  /// The status JSON as of the last tick or act (built on request; called inside on_watch).
  std::function<std::string()> status;
  /// Readiness: plan loaded, sources started. Liveness: the scheduler ticked recently.
  std::function<bool()> ready;
  std::function<bool()> live;
  /// Called inside on_watch after an act was accepted and recorded (rebuild the snapshot, echo
  /// to chat); receives the timeline event written for it.
  std::function<void(const record::TimelineEvent& event)> on_act;
  /// The dashboard page (GET /).
  std::string dashboard_html;
};

void register_api(http::Router& router, ApiContext ctx);

/// Compares without leaking where the first difference is, nor the expected length.
bool constant_time_equal(const std::string& a, const std::string& b);

/// The bearer-token check of every POST: nullopt when `req` carries `token`, otherwise the
/// answer to send (403 when the plan sets no token, 401 with WWW-Authenticate for a missing or
/// wrong one), with the refusal logged at the 1st, 2nd, 4th, 8th ... refusal. Compares in
/// constant time.
std::optional<http::HttpResponse> refuse_unauthorized(const std::optional<std::string>& token,
                                                      const http::HttpRequest& req);
/// How many requests refuse_unauthorized refused since the process started
/// (backout_http_server{stat="unauthorized_requests"}).
std::uint64_t unauthorized_refusals();

}  // namespace backout::agent
