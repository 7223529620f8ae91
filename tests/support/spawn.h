// Starting the programs a test runs (the agent, PostgreSQL, Prometheus, promtool): fork + exec
// with stdin from a descriptor (or /dev/null), stdout and stderr into one descriptor, none of
// the test's other descriptors (an inherited listening socket would keep a port open after the
// test closed it), no blocked signals, its own process group (a Ctrl-C reaches the test, which
// stops its children by PID), optionally another user (initdb refuses root), and
// PR_SET_PDEATHSIG so that the child dies with the test even if the test crashes.
//
// Thread-safety: call from the thread that will stop the child (the death signal follows the
// forking thread). Everything the child needs is prepared before fork(): between fork and exec
// only async-signal-safe calls are made.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "backout/core/result.h"

namespace backout::testing {

struct SpawnUser {
  uid_t uid;
  gid_t gid;
};

/// Starts `args[0]` (an absolute path) with `args` and exactly `env` ("K=V"); stdin from
/// `stdin_fd` (-1: /dev/null), stdout and stderr to `out_fd`. The caller keeps (and closes) its
/// descriptors. An exec failure shows as exit code 127, a failed user switch as 126.
Result<pid_t> spawn_process(const std::vector<std::string>& args,
                            const std::vector<std::string>& env, int stdin_fd, int out_fd,
                            std::optional<SpawnUser> as_user = std::nullopt);

}  // namespace backout::testing
