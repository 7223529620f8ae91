#include "support/apps/portal_app.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cmath>
#include <cstdio>
#include <thread>
#include <vector>

#include "app/http/http_server.h"

namespace backout::testing {

struct PortalApp::Impl {
  boost::asio::io_context io;
  std::unique_ptr<agent::http::HttpServer> server;
  std::vector<std::thread> threads;
  mutable std::mutex mu;
  PortalConditions cond;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  double attempts = 0, failures = 0, tx = 0, tx_failed = 0, req_ok = 0, req_500 = 0;

  // Advances the counters to now at the current rates (under mu).
  void advance() {
    auto now = std::chrono::steady_clock::now();
    double dt = std::chrono::duration<double>(now - last).count();
    last = now;
    attempts += cond.logins_per_second * dt;
    failures += cond.logins_per_second * dt * cond.login_failure_rate;
    tx += cond.transactions_per_second * dt;
    tx_failed += cond.transactions_per_second * dt * cond.transaction_failure_rate;
    req_ok += cond.requests_per_second * dt * (1 - cond.error_rate);
    req_500 += cond.requests_per_second * dt * cond.error_rate;
  }

  agent::http::HttpResponse metrics() {
    std::lock_guard lock(mu);
    advance();
    agent::http::HttpResponse r;
    if (!cond.metrics_up) {
      r.status = 503;
      r.body = "unavailable\n";
      return r;
    }
    r.content_type = "text/plain; version=0.0.4";
    if (!cond.metrics_body_override.empty()) {
      r.body = cond.metrics_body_override;
      return r;
    }
    char buf[2048];
    std::snprintf(
        buf, sizeof buf,
        "# HELP portal_login_attempts_total Login attempts.\n"
        "# TYPE portal_login_attempts_total counter\n"
        "portal_login_attempts_total %.0f\n"
        "# HELP portal_login_failures_total Failed logins.\n"
        "# TYPE portal_login_failures_total counter\n"
        "portal_login_failures_total %.0f\n"
        "# TYPE portal_transactions_total counter\n"
        "portal_transactions_total %.0f\n"
        "# TYPE portal_transactions_failed_total counter\n"
        "portal_transactions_failed_total %.0f\n"
        "# TYPE http_requests_total counter\n"
        "http_requests_total{code=\"200\",method=\"GET\"} %.0f\n"
        "http_requests_total{code=\"500\",method=\"GET\"} %.0f\n",
        std::floor(attempts), std::floor(failures), std::floor(tx), std::floor(tx_failed),
        std::floor(req_ok), std::floor(req_500));
    r.body = buf;
    return r;
  }
};

PortalApp::PortalApp(std::uint16_t port) : impl_(std::make_unique<Impl>()) {
  Impl* m = impl_.get();
  m->server = std::make_unique<agent::http::HttpServer>(
      m->io, [m](const agent::http::HttpRequest& req) {
        agent::http::HttpResponse r;
        std::chrono::milliseconds delay{0};
        if (req.path == "/metrics") {
          return m->metrics();
        }
        {
          std::lock_guard lock(m->mu);
          if (req.path == "/") {
            delay = m->cond.home_latency;
            r.status = m->cond.home_status;
            r.content_type = "text/html";
            r.body = "<html><body>Customer Portal</body></html>\n";
          } else if (req.path == "/api/health") {
            delay = m->cond.api_latency;
            r.status = m->cond.api_status;
            r.content_type = "application/json";
            r.body = "{\"status\": \"ok\"}\n";
          } else {
            r.status = 404;
            r.body = "not found\n";
            return r;
          }
        }
        // Latency as the probe sees it. The handler runs on an io thread of this app only.
        std::this_thread::sleep_for(delay);
        return r;
      });
  m->server->listen("127.0.0.1", port);
  // Several threads: a slow home page (a latency test) must not hold up /metrics.
  auto work = std::make_shared<boost::asio::executor_work_guard<
      boost::asio::io_context::executor_type>>(m->io.get_executor());
  for (int i = 0; i < 4; ++i) {
    m->threads.emplace_back([m, work] { m->io.run(); });
  }
}

PortalApp::~PortalApp() {
  impl_->server->stop();
  impl_->io.stop();
  for (auto& t : impl_->threads) {
    t.join();
  }
}

std::uint16_t PortalApp::port() const { return impl_->server->port(); }

std::string PortalApp::base_url() const { return "http://127.0.0.1:" + std::to_string(port()); }

void PortalApp::set(const PortalConditions& c) {
  std::lock_guard lock(impl_->mu);
  impl_->advance();
  impl_->cond = c;
}

PortalConditions PortalApp::conditions() const {
  std::lock_guard lock(impl_->mu);
  return impl_->cond;
}

}  // namespace backout::testing
