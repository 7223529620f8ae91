#include "support/apps/agent_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <regex>
#include <thread>

#include "backout/core/time.h"
#include "support/spawn.h"

extern char** environ;

namespace backout::testing {

struct AgentProcess::Impl {
  pid_t pid = -1;
  int out_fd = -1;
  std::thread reader;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> lines;
  bool eof = false;
  std::optional<int> status;
};

AgentProcess::AgentProcess(const std::string& binary, std::vector<std::string> args,
                           std::map<std::string, std::string> env)
    : impl_(std::make_unique<Impl>()) {
  int fds[2];
  if (pipe(fds) != 0) {
    throw std::runtime_error("pipe failed");
  }
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    std::string key = kv.substr(0, kv.find('='));
    if (env.count(key) == 0) {
      envs.push_back(kv);
    }
  }
  for (const auto& [k, v] : env) {
    envs.push_back(k + "=" + v);
  }
  std::vector<std::string> argv{binary};
  argv.insert(argv.end(), args.begin(), args.end());
  auto pid = spawn_process(argv, envs, -1, fds[1]);
  if (!pid.ok()) {
    close(fds[0]);
    close(fds[1]);
    throw std::runtime_error("cannot start " + binary + ": " + pid.error());
  }
  close(fds[1]);
  impl_->pid = *pid;
  impl_->out_fd = fds[0];
  Impl* m = impl_.get();
  impl_->reader = std::thread([m] {
    std::string buf;
    char chunk[4096];
    for (;;) {
      ssize_t n = read(m->out_fd, chunk, sizeof chunk);
      if (n <= 0) {
        break;
      }
      buf.append(chunk, static_cast<std::size_t>(n));
      std::size_t nl;
      while ((nl = buf.find('\n')) != std::string::npos) {
        std::lock_guard lock(m->mu);
        m->lines.push_back(buf.substr(0, nl));
        buf.erase(0, nl + 1);
        m->cv.notify_all();
      }
    }
    std::lock_guard lock(m->mu);
    if (!buf.empty()) {
      m->lines.push_back(buf);
    }
    m->eof = true;
    m->cv.notify_all();
  });
}

AgentProcess::~AgentProcess() {
  stop(std::chrono::milliseconds{3000});
  if (impl_->reader.joinable()) {
    impl_->reader.join();
  }
  if (impl_->out_fd >= 0) {
    close(impl_->out_fd);
  }
}

int AgentProcess::pid() const { return impl_->pid; }

std::vector<std::string> AgentProcess::log() const {
  std::lock_guard lock(impl_->mu);
  return impl_->lines;
}

bool AgentProcess::wait_for_log(const std::string& text, std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] {
    for (const auto& l : impl_->lines) {
      if (l.find(text) != std::string::npos) {
        return true;
      }
    }
    return impl_->eof;
  }) && !impl_->eof;
}

std::uint16_t AgentProcess::wait_for_port(std::chrono::milliseconds timeout) {
  static const std::regex re("listening on [^ ]*:([0-9]+)");
  std::unique_lock lock(impl_->mu);
  std::uint16_t port = 0;
  impl_->cv.wait_for(lock, timeout, [&] {
    for (const auto& l : impl_->lines) {
      std::smatch m;
      if (std::regex_search(l, m, re)) {
        port = static_cast<std::uint16_t>(std::stoi(m[1]));
        return true;
      }
    }
    return impl_->eof;
  });
  return port;
}

void AgentProcess::signal(int sig) {
  if (impl_->pid > 0 && !impl_->status) {
    ::kill(impl_->pid, sig);
  }
}

std::optional<int> AgentProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (impl_->status) {
    return impl_->status;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    pid_t r = waitpid(impl_->pid, &st, WNOHANG);
    if (r == impl_->pid) {
      impl_->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return impl_->status;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});  // polling a child's exit
  }
}

int AgentProcess::stop(std::chrono::milliseconds grace, std::chrono::milliseconds* took) {
  if (impl_->pid <= 0) {
    return -1;
  }
  auto t0 = std::chrono::steady_clock::now();
  if (!impl_->status) {
    ::kill(impl_->pid, SIGTERM);
  }
  auto st = wait_exit(grace);
  if (!st) {
    ::kill(impl_->pid, SIGKILL);
    st = wait_exit(std::chrono::milliseconds{5000});
  }
  if (took != nullptr) {
    *took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0);
  }
  return st.value_or(-1);
}

void AgentProcess::kill9() {
  if (impl_->pid > 0 && !impl_->status) {
    ::kill(impl_->pid, SIGKILL);
    wait_exit(std::chrono::milliseconds{5000});
  }
}

namespace {
HttpResult request(std::uint16_t port, boost::beast::http::verb verb, const std::string& target,
                   const std::string& body, const std::string& bearer) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  HttpResult out;
  try {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds{5});
    stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                                  port));
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!bearer.empty()) {
      req.set(http::field::authorization, "Bearer " + bearer);
    }
    if (verb == http::verb::post) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
      req.prepare_payload();
    }
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    out.status = static_cast<int>(res.result_int());
    out.body = res.body();
    beast::error_code ec;
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  } catch (const std::exception&) {
    out.status = 0;
  }
  return out;
}
}  // namespace

std::string strip_ansi(const std::string& line) {
  static const std::regex re("\x1b\\[[0-9;]*m");
  return std::regex_replace(line, re, "");
}

std::optional<std::chrono::system_clock::time_point> rfc3339_time(const std::string& text) {
  const std::optional<ZonedTime> z = parse_rfc3339(text);
  if (!z) {
    return std::nullopt;
  }
  return std::chrono::time_point_cast<std::chrono::system_clock::duration>(z->at);
}

std::optional<std::chrono::system_clock::time_point> log_time(const std::string& line) {
  // spdlog's "%Y-%m-%dT%H:%M:%S.%e%z": the first word of the line.
  const std::string plain = strip_ansi(line);
  return rfc3339_time(plain.substr(0, plain.find(' ')));
}

std::optional<std::chrono::system_clock::time_point> log_time_of(
    const std::vector<std::string>& lines, const std::string& text, std::size_t from) {
  for (std::size_t i = from; i < lines.size(); ++i) {
    if (lines[i].find(text) != std::string::npos) {
      if (auto t = log_time(lines[i])) {
        return t;
      }
    }
  }
  return std::nullopt;
}

HttpResult http_get(std::uint16_t port, const std::string& target) {
  return request(port, boost::beast::http::verb::get, target, "", "");
}

HttpResult http_post(std::uint16_t port, const std::string& target, const std::string& body,
                     const std::string& bearer) {
  return request(port, boost::beast::http::verb::post, target, body, bearer);
}

}  // namespace backout::testing
