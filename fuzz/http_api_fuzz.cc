// libFuzzer target for the HTTP API (issue 14, item 9): any bytes, read as an HTTP/1.1 request
// with the server's limits (Beast's parser, as the server reads it), go through the request
// target's decoding and the router to every handler: /metrics, /healthz, the status, the
// timeline, every JSON act body (ack, fix-forward, decision, raise, clear) and the push bodies
// (JSON, Prometheus text, StatsD lines). No crash, no sanitizer report, no exception; every
// answer has a valid status, and every JSON answer parses.
//   ./build-fuzz/fuzz/http_api_fuzz -max_total_time=60 fuzz/corpus/http_api
// BACKOUT_FUZZ_VERBOSE=1 prints each request's answer (to check what a new corpus entry reaches).
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "app/api/api.h"
#include "app/api/push_api.h"
#include "app/http/http_message.h"
#include "app/http/router.h"
#include "app/kinds/kinds.h"
#include "app/metrics/agent_metrics.h"
#include "app/record/timeline.h"
#include "backout/collectors/push_hub.h"
#include "backout/core/time.h"
#include "backout/rules/watch.h"
#include "plan/plan_loader.h"

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using namespace backout;

// A small plan with a push source `app`, so that push bodies reach their parsers, and a
// trigger the acts can name. The token of every POST is "t".
constexpr std::string_view kPlan = R"yaml(version: 1
plan: { project: Fuzz, release: "1.0", owner: PM, revision: "1", status: approved }
window:
  start: 2026-06-07T02:00:00+01:00
  end: 2026-06-07T06:00:00+01:00
  backout_duration: 1h40m
contacts:
  deployment_lead: { name: Jane Doe, chat: "@jane.doe" }
  project_manager: { name: John Smith, chat: "@john.smith" }
authority:
  critical: { decides: deployment_lead, ack_within: 5m, escalate_to: project_manager }
  major: { decides: project_manager }
  discretionary: { decides: project_manager }
sources:
  app: { kind: push, series: [logins, errors] }
triggers:
  - { id: login_errors, measure: "ratio(app.errors, app.logins)", over: 5m, when: "> 5%",
      severity: critical, min_count: 20 }
  - { id: slow, measure: "value(app.logins)", when: "< 1", severity: major }
notify:
  chat: { kind: webhook, url_env: FUZZ_WEBHOOK }
server:
  listen: 127.0.0.1:9750
  token_env: FUZZ_TOKEN
)yaml";

class FixedClock final : public Clock {
 public:
  TimePoint now() const override { return at_; }

 private:
  TimePoint at_ = parse_rfc3339("2026-06-07T03:00:00+01:00")->at;
};

const rules::Plan& fuzz_plan() {
  static const rules::Plan p = [] {
    plan::LoadResult r = plan::load_plan_text(kPlan, "fuzz.yaml", agent::builtin_kinds().catalog);
    if (!r.ok()) {
      for (const auto& d : r.diagnostics) {
        std::fprintf(stderr, "%s\n", d.format().c_str());
      }
      std::abort();
    }
    return *r.plan;
  }();
  return p;
}

void fail(const char* what, const agent::http::HttpRequest& req, int status) {
  std::fprintf(stderr, "%s: %s %s -> %d\n", what, req.method.c_str(), req.target.c_str(), status);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Parse as the server does: its header and body limits, one request.
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(1024 * 1024);
  beast::error_code ec;
  std::size_t used = 0;
  const char* p = reinterpret_cast<const char*>(data);
  while (used < size && !ec && !parser.is_done()) {
    const std::size_t n = parser.put(boost::asio::buffer(p + used, size - used), ec);
    if (n == 0 && !ec) {
      break;  // needs more than there is
    }
    used += n;
  }
  if (!ec && !parser.is_done()) {
    parser.put_eof(ec);
  }
  if (ec || !parser.is_done()) {
    return 0;  // the server answers 400 and closes: nothing reaches a handler
  }
  const auto& msg = parser.get();
  agent::http::HttpRequest req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  for (const auto& field : msg) {
    req.headers.emplace(std::string(field.name_string()), std::string(field.value()));
  }
  req.body = msg.body();
  req.remote_address = "127.0.0.1";
  if (!agent::http::parse_request_target(req.target, req)) {
    return 0;  // the server answers 400
  }

  // A fresh API over a fresh watch for every input, so that each one replays alone. The acts'
  // log lines would cost more than the request: off.
  static const bool verbose = [] {
    spdlog::set_level(spdlog::level::off);
    return std::getenv("BACKOUT_FUZZ_VERBOSE") != nullptr;
  }();
  static const FixedClock clock;
  static agent::AgentMetrics metrics(fuzz_plan());
  rules::Watch watch(fuzz_plan());
  agent::MemoryTimeline timeline;
  boost::asio::io_context io;
  collectors::PushHub hub;
  const auto sub =
      hub.subscribe("app", io.get_executor(), std::vector<std::string>{"logins", "errors"},
                    [](collectors::PushBatch) {});
  agent::ApiContext ctx;
  ctx.on_watch = [](const std::function<void()>& job) {
    job();
    return true;
  };
  ctx.watch = &watch;
  ctx.clock = &clock;
  ctx.metrics = &metrics;
  ctx.timeline = &timeline;
  ctx.token = "t";
  ctx.status = [] { return std::string("{}"); };
  ctx.ready = [] { return true; };
  ctx.live = [] { return true; };
  ctx.on_act = [](const agent::record::TimelineEvent&) {};
  agent::http::Router router;
  agent::register_api(router, ctx);
  agent::register_push_api(router, hub, std::string("t"));

  const agent::http::HttpResponse res = router.dispatch(req);
  if (verbose) {
    std::fprintf(stderr, "%s %s -> %d %s\n", req.method.c_str(), req.target.c_str(), res.status,
                 res.body.substr(0, 120).c_str());
  }
  if (res.status < 100 || res.status > 599) {
    fail("an invalid status", req, res.status);
  }
  if (res.content_type.starts_with("application/json")) {
    boost::json::error_code jec;
    (void)boost::json::parse(res.body, jec);
    if (jec) {
      fail("a JSON answer that does not parse", req, res.status);
    }
  }
  // An accepted act is in the timeline, and every line there reads back.
  for (const std::string& line : timeline.read(0, 1000)) {
    if (!agent::record::decode(line).ok()) {
      fail("a timeline line that does not decode", req, res.status);
    }
  }
  io.poll();
  hub.unsubscribe("app", sub);
  return 0;
}
