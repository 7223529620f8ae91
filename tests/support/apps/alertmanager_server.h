// A real Alertmanager (/usr/bin/prometheus-alertmanager, Debian package
// `prometheus-alertmanager`) for end-to-end tests and the side-by-side measurement: its
// configuration, storage and log in a directory the caller owns, listening on 127.0.0.1 at a
// free port, as a single instance (no cluster gossip).
//
// Thread-safety: not thread-safe; drive it from one thread (start() blocks). Time: start() waits
// for /-/ready with a bounded deadline (30 s); stop() sends SIGTERM to its PID and SIGKILL after
// 10 s.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "backout/core/result.h"
#include "support/apps/child_process.h"

namespace backout::testing {

inline constexpr const char* kAlertmanagerBinary = "/usr/bin/prometheus-alertmanager";

class AlertmanagerServer {
 public:
  /// Keeps its files (alertmanager.yml, data/, alertmanager.log) in `dir`, which must exist.
  explicit AlertmanagerServer(std::string dir);
  ~AlertmanagerServer();  // stop()
  AlertmanagerServer(const AlertmanagerServer&) = delete;
  AlertmanagerServer& operator=(const AlertmanagerServer&) = delete;

  /// Whether the binary is installed (a test skips, a tool says what to install, when not).
  static bool installed();

  /// Writes `config_yaml` as alertmanager.yml, starts Alertmanager on a free loopback port and
  /// returns once /-/ready answers 200. The error says what to install when the binary is
  /// missing, and carries the tail of the server's log otherwise (a config it rejects shows
  /// there).
  Status start(const std::string& config_yaml);
  void stop();
  bool running() { return process_.running(); }

  std::uint16_t port() const { return port_; }
  /// "http://127.0.0.1:PORT", the address a client (or Prometheus) posts alerts to.
  std::string url() const;
  /// "127.0.0.1:PORT", as Prometheus' alerting.alertmanagers static_configs want it.
  std::string host_port() const;
  /// The whole log (stdout and stderr).
  std::string log() const;
  std::string log_tail() const { return process_.log_tail(); }

  /// The value of an unlabelled sample of the server's own /metrics (e.g.
  /// alertmanager_dispatcher_aggregation_groups); nullopt when absent or unreachable.
  std::optional<double> metric(const std::string& name) const;

 private:
  std::string dir_;
  std::uint16_t port_ = 0;
  ChildProcess process_;
};

}  // namespace backout::testing
