#include "support/spawn.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace backout::testing {

Result<pid_t> spawn_process(const std::vector<std::string>& args,
                            const std::vector<std::string>& env, int stdin_fd, int out_fd,
                            std::optional<SpawnUser> as_user) {
  if (args.empty()) {
    return Error{"no program to run"};
  }
  std::vector<char*> argv;
  for (const std::string& a : args) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : env) {
    envp.push_back(const_cast<char*>(e.c_str()));
  }
  envp.push_back(nullptr);
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) {
    return Error{std::string("fork: ") + std::strerror(errno)};
  }
  if (pid != 0) {
    return pid;
  }
  ::setpgid(0, 0);
  const int in = stdin_fd >= 0 ? stdin_fd : ::open("/dev/null", O_RDONLY);
  if (in >= 0) {
    ::dup2(in, 0);
  }
  ::dup2(out_fd, 1);
  ::dup2(out_fd, 2);
  ::close_range(3, ~0U, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (as_user && (::setgroups(0, nullptr) != 0 || ::setgid(as_user->gid) != 0 ||
                  ::setuid(as_user->uid) != 0)) {
    _exit(126);
  }
  // After setuid (which clears it).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) {
    _exit(125);  // the test died before the death signal was armed
  }
  ::execve(argv[0], argv.data(), envp.data());
  _exit(127);
}

}  // namespace backout::testing
