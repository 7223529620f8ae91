// Runs the real backout-agent binary as a child process for end-to-end tests: environment,
// arguments, its log captured line by line, the HTTP port it reports, and a stop that always
// ends it (SIGTERM, then SIGKILL after a bound) by PID. Thread-safety: one test thread, plus the
// internal log reader.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace backout::testing {

class AgentProcess {
 public:
  /// Starts `binary args...` with `env` added to this process's environment.
  AgentProcess(const std::string& binary, std::vector<std::string> args,
               std::map<std::string, std::string> env);
  ~AgentProcess();  // stop()
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  int pid() const;
  /// Waits for the log line announcing the HTTP server and returns its port (0 on timeout or
  /// if the process exited).
  std::uint16_t wait_for_port(std::chrono::milliseconds timeout);
  /// Waits for a log line containing `text`.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout);
  std::vector<std::string> log() const;
  /// Sends a signal.
  void signal(int sig);
  /// SIGTERM and wait up to `grace`, then SIGKILL. Returns the exit status (as from waitpid:
  /// exit code, or 128 + signal), and how long it took.
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds{5000},
           std::chrono::milliseconds* took = nullptr);
  /// Waits for the process to exit by itself; nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  /// SIGKILL at once (crash test).
  void kill9();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// GET/POST over loopback with a short timeout, for tests: status code and body, or status 0 on
/// a connection error.
struct HttpResult {
  int status = 0;
  std::string body;
};
HttpResult http_get(std::uint16_t port, const std::string& target);
HttpResult http_post(std::uint16_t port, const std::string& target, const std::string& body,
                     const std::string& bearer = "");

/// A log line without terminal colour codes.
std::string strip_ansi(const std::string& line);
/// An RFC 3339 time ("2026-06-07T01:02:03.456789Z", "...+01:00") as a system_clock time, by
/// the core's parser; nullopt when `text` is not one.
std::optional<std::chrono::system_clock::time_point> rfc3339_time(const std::string& text);
/// The time at the start of one of the agent's log lines (RFC 3339 with milliseconds and an
/// offset, as spdlog writes it); nullopt for a line without one.
std::optional<std::chrono::system_clock::time_point> log_time(const std::string& line);
/// The time of the first log line at or after index `from` that contains `text`.
std::optional<std::chrono::system_clock::time_point> log_time_of(
    const std::vector<std::string>& lines, const std::string& text, std::size_t from = 0);

}  // namespace backout::testing
