// A stand-in for the reference plan's application (the Customer Portal) for integration tests
// and the demo: it serves the portal's Prometheus metrics, its home page and its API health
// check, with failure rates, latencies and outages set by the test. Counters advance with wall
// time at the configured rates, deterministically (failures are exactly rate x attempts, carried
// over in fractions), so a test can say "20% login failures" and get exactly that.
//
// Thread-safety: set() and the getters from any thread; the server runs on its own thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace backout::testing {

struct PortalConditions {
  double logins_per_second = 50;
  double login_failure_rate = 0.01;
  double transactions_per_second = 20;
  double transaction_failure_rate = 0.002;
  double requests_per_second = 200;
  double error_rate = 0.002;            // share of requests answered 5xx
  std::chrono::milliseconds home_latency{20};
  std::chrono::milliseconds api_latency{10};
  int home_status = 200;
  int api_status = 200;
  bool metrics_up = true;               // false: /metrics answers 503
  std::string metrics_body_override;    // non-empty: served as /metrics instead
};

class PortalApp {
 public:
  /// Listens on 127.0.0.1:`port` (0: any free port) and serves at once.
  explicit PortalApp(std::uint16_t port = 0);
  ~PortalApp();
  PortalApp(const PortalApp&) = delete;
  PortalApp& operator=(const PortalApp&) = delete;

  std::uint16_t port() const;
  std::string base_url() const;

  /// Changes the conditions from now on (counters keep what they counted so far).
  void set(const PortalConditions& c);
  PortalConditions conditions() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace backout::testing
