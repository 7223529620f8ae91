#include "support/apps/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/apps/agent_process.h"
#include "support/spawn.h"
#include "support/test_http_server.h"

namespace backout::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string errno_text(int e) { return std::strerror(e); }

int exit_code_of(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return -1;
}

}  // namespace

ChildProcess::~ChildProcess() { stop(std::chrono::seconds{5}); }

Status ChildProcess::start(const std::vector<std::string>& args,
                           const std::vector<std::string>& env, const std::string& log_file,
                           const std::string& stdin_file) {
  if (pid_ > 0 && !exit_code_) {
    return Error{"already running (pid " + std::to_string(pid_) + ")"};
  }
  if (args.empty()) {
    return Error{"no program to run"};
  }
  log_file_ = log_file;
  const int log_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return Error{"cannot open " + log_file + ": " + errno_text(errno)};
  }
  const std::string in_path = stdin_file.empty() ? std::string("/dev/null") : stdin_file;
  const int in_fd = ::open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in_fd < 0) {
    const int e = errno;
    ::close(log_fd);
    return Error{"cannot open " + in_path + ": " + errno_text(e)};
  }
  auto pid = spawn_process(args, env, in_fd, log_fd);
  if (!pid.ok()) {
    ::close(log_fd);
    ::close(in_fd);
    return Error{pid.error()};
  }
  ::close(log_fd);
  ::close(in_fd);
  pid_ = *pid;
  exit_code_.reset();
  return {};
}

bool ChildProcess::running() { return pid_ > 0 && !wait_exit(std::chrono::milliseconds{0}); }

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0 || exit_code_) {
    return exit_code_;
  }
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = exit_code_of(status);
      return exit_code_;
    }
    if (r < 0 && errno == ECHILD) {
      exit_code_ = -1;
      return exit_code_;
    }
    if (Clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});  // polling the child's exit
  }
}

int ChildProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) {
    return -1;
  }
  if (!exit_code_) {
    ::kill(pid_, SIGTERM);
    if (!wait_exit(grace)) {
      ::kill(pid_, SIGKILL);
      wait_exit(std::chrono::seconds{5});
    }
  }
  return exit_code_.value_or(-1);
}

std::string ChildProcess::log_tail(std::size_t max_bytes) const {
  std::ifstream in(log_file_);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.size() > max_bytes) {
    text = "..." + text.substr(text.size() - max_bytes);
  }
  return text.empty() ? "(empty log)" : text;
}

Result<std::uint16_t> ChildProcess::start_ready_server(
    const std::string& name,
    const std::function<std::vector<std::string>(std::uint16_t port)>& args_for,
    const std::vector<std::string>& env, const std::string& log_file) {
  using namespace std::chrono_literals;
  std::string last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const std::uint16_t port = unused_loopback_port();
    if (Status s = start(args_for(port), env, log_file); !s) {
      return Error{s.error()};
    }
    const auto deadline = Clock::now() + 30s;
    while (Clock::now() < deadline) {
      if (auto code = wait_exit(0ms)) {
        last = name + " exited with code " + std::to_string(*code) + ":\n" + log_tail();
        break;
      }
      if (http_get(port, "/-/ready").status == 200) {
        return port;
      }
      std::this_thread::sleep_for(100ms);  // polling readiness
    }
    if (running()) {
      stop();
      return Error{name + " was not ready within 30 s:\n" + log_tail()};
    }
    if (last.find("address already in use") == std::string::npos) {
      break;
    }
  }
  return Error{last};
}

}  // namespace backout::testing
