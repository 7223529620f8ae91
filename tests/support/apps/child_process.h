// A helper program run by a test (a real Prometheus, promtool): fork/exec with stdin from a file
// (or /dev/null), stdout and stderr into its own log file, none of the test's descriptors, its
// own process group, and PR_SET_PDEATHSIG so that it dies with the test even if the test
// crashes. It is always stopped by its PID (SIGTERM, then SIGKILL after a bound), never by name.
//
// Thread-safety: not thread-safe; drive it from the test thread, which must also be the thread
// that started it (the death signal follows the forking thread). Time: waits are bounded by
// steady-clock deadlines and poll the child every 10 ms.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "backout/core/result.h"

namespace backout::testing {

class ChildProcess {
 public:
  ChildProcess() = default;
  /// stop()s a child still running.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  /// Starts `args[0]` (an absolute path) with `args` and exactly `env` ("K=V"), stdin from
  /// `stdin_file` ("" for /dev/null), stdout and stderr appended to `log_file`. An error when
  /// the log cannot be opened or fork fails; an exec failure shows as exit code 127.
  Status start(const std::vector<std::string>& args, const std::vector<std::string>& env,
               const std::string& log_file, const std::string& stdin_file = "");

  pid_t pid() const { return pid_; }
  /// Whether it was started and has not exited yet (reaps it if it has).
  bool running();
  /// Waits up to `timeout` for it to exit: its exit code (128 + signal if killed), or nullopt
  /// while it still runs. The code stays available after it was reaped.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  /// SIGTERM, wait up to `grace`, then SIGKILL; returns the exit code (-1 if never started).
  int stop(std::chrono::milliseconds grace = std::chrono::seconds{10});

  /// The end of the log file (at most `max_bytes`), for failure messages.
  std::string log_tail(std::size_t max_bytes = 4000) const;

  /// For a server with a GET /-/ready endpoint (Prometheus, Alertmanager): picks a free loopback
  /// port, starts `args_for(port)` and waits up to 30 s for /-/ready to answer 200. Another port
  /// is tried (3 in all) when the chosen one was taken between the probe and the bind. Returns
  /// the port, or an error naming `name` with the end of its log.
  Result<std::uint16_t> start_ready_server(
      const std::string& name,
      const std::function<std::vector<std::string>(std::uint16_t port)>& args_for,
      const std::vector<std::string>& env, const std::string& log_file);

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string log_file_;
};

}  // namespace backout::testing
