// A real PostgreSQL server for integration tests: a fresh cluster (initdb) in a temp dir, served
// on 127.0.0.1 at a free port with trust authentication, stopped and restarted at will to
// simulate an outage. When the test runs as root (CI), initdb and postgres run as `nobody`,
// because both refuse to run as root.
//
// Thread-safety: not thread-safe; drive it from the test thread (start() and execute() block).
// Time: start() and stop() wait with bounded steady-clock deadlines (start 60 s including
// initdb, stop 10 s before SIGKILL); nothing else waits.
#pragma once

#include <sys/types.h>

#include <string>

#include "backout/core/result.h"

namespace backout::testing {

class PostgresServer {
 public:
  PostgresServer() = default;
  /// Always stops the server by its PID (SIGINT, then SIGKILL) and removes the temp dir.
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  /// First call: finds the binaries (/usr/lib/postgresql/<newest>/bin, or $BACKOUT_PG_BINDIR),
  /// creates the cluster and picks a free port. Every call: starts postgres on the same port
  /// and data dir and returns once it accepts connections. The error includes the tail of the
  /// server's log.
  Status start();
  /// Fast shutdown (SIGINT to the postmaster's PID) and wait; SIGKILL after 10 s.
  void stop();
  bool running() const { return pid_ > 0; }

  /// "host=127.0.0.1 port=N dbname=postgres user=postgres" (valid once start() succeeded).
  std::string dsn() const;
  int port() const { return port_; }
  /// The directory holding the data dir, the socket and postgres.log.
  const std::string& dir() const { return dir_; }

  /// Runs one or more SQL statements over a blocking libpq connection; the server's message on
  /// failure.
  Status execute(const std::string& sql) const;

 private:
  Status create_cluster();
  Status start_postmaster();
  std::string log_tail() const;

  std::string bin_dir_;
  std::string dir_;  // temp dir: data/, the unix socket, postgres.log
  int port_ = 0;
  pid_t pid_ = 0;  // the postmaster, 0 when not running
  bool as_nobody_ = false;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
};

}  // namespace backout::testing
