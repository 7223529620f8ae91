// A real Prometheus server (/usr/bin/prometheus, Debian package `prometheus`) for end-to-end
// tests: its configuration, TSDB and log in a directory the test owns, listening on 127.0.0.1 at
// a free port, with one scrape job, optionally a rule file and Alertmanagers to send alerts to;
// and the HTTP API calls a test asserts with.
//
// Thread-safety: not thread-safe; drive it from the test thread (start() blocks). Time: start()
// waits for /-/ready with a bounded deadline (30 s); stop() sends SIGTERM to its PID and
// SIGKILL after 10 s.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backout/core/result.h"
#include "support/apps/child_process.h"

namespace backout::testing {

inline constexpr const char* kPrometheusBinary = "/usr/bin/prometheus";
inline constexpr const char* kPromtoolBinary = "/usr/bin/promtool";

/// The scrape job Prometheus is started with.
struct PrometheusScrapeJob {
  std::string job_name = "backout-agent";
  std::vector<std::string> targets;  // "127.0.0.1:PORT"
  std::string metrics_path = "/metrics";
  std::string scrape_interval = "1s";
  std::string scrape_timeout = "1s";
};

/// Rule evaluation and alerting, for a Prometheus that alerts (the default: none).
struct PrometheusAlerting {
  std::string evaluation_interval;         // "": the scrape job's interval
  std::string rules_yaml;                  // a rule file's text ("": no rule file)
  std::vector<std::string> alertmanagers;  // "127.0.0.1:PORT"
};

class PrometheusServer {
 public:
  /// Keeps its files (prometheus.yml, data/, prometheus.log) in `dir`, which must exist.
  explicit PrometheusServer(std::string dir);
  ~PrometheusServer();  // stop()
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  /// Writes the configuration, starts Prometheus on a free loopback port and returns once
  /// /-/ready answers 200. The error says what to install when the binary is missing, and
  /// carries the tail of the server's log otherwise.
  Status start(const PrometheusScrapeJob& job);
  /// The same, with a rule file (rules.yml) and the Alertmanagers it sends alerts to; the
  /// lifecycle API is enabled so that reload_rules() can change the rules while it runs.
  Status start(const PrometheusScrapeJob& job, const PrometheusAlerting& alerting);
  /// Rewrites rules.yml and asks the server to reload (POST /-/reload); an error with the
  /// server's answer when it refuses (an invalid rule file keeps the running rules).
  Status reload_rules(const std::string& rules_yaml);
  /// prometheus.yml as written by start().
  const std::string& config() const { return config_; }
  void stop();
  bool running() { return process_.running(); }

  std::uint16_t port() const { return port_; }
  std::string log_tail() const { return process_.log_tail(); }

  /// GET `target` on the server's HTTP API, parsed as JSON (nullopt on a connection error, a
  /// non-200 status or a body that is not JSON).
  std::optional<boost::json::value> get_json(const std::string& target) const;
  /// /api/v1/query?query=`promql` (URL-encoded here): the `data.result` array of an instant
  /// query, nullopt when the query failed.
  std::optional<boost::json::array> query(const std::string& promql) const;
  /// /api/v1/targets?state=active: the active targets (nullopt when the call failed).
  std::optional<boost::json::array> active_targets() const;

 private:
  std::string dir_;
  std::string config_;
  std::uint16_t port_ = 0;
  ChildProcess process_;
};

/// `text` percent-encoded for a URL query value (RFC 3986 unreserved characters kept).
std::string url_encode(const std::string& text);

}  // namespace backout::testing
