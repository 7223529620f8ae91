// A tiny HTTP/1.1 receiver on 127.0.0.1, port 0, for delivery tests: it records every request and
// answers with scripted responses (then 200 "ok"), one request per connection (Connection:
// close). Header-only (the test folder compiles *_test.cc only).
// Thread-safety: the server runs on its own thread; every public member is thread-safe.
// Time: wait_for() waits on a condition variable with a bounded steady-clock deadline.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace backout::testing {

class LoopbackReceiver {
 public:
  struct Request {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;
  };
  struct Response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body = "ok";
  };

  LoopbackReceiver() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      throw std::runtime_error("socket failed");
    }
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 16) != 0) {
      ::close(fd_);
      throw std::runtime_error("bind/listen on 127.0.0.1:0 failed");
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }

  ~LoopbackReceiver() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  LoopbackReceiver(const LoopbackReceiver&) = delete;
  LoopbackReceiver& operator=(const LoopbackReceiver&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  /// The next responses, in order; after them every request gets 200 "ok".
  void script(std::vector<Response> responses) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.assign(responses.begin(), responses.end());
  }

  /// Waits until at least `n` requests arrived (or `timeout` passed); returns all so far.
  std::vector<Request> wait_for(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
    return requests_;
  }

  std::vector<Request> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) {
        continue;
      }
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        continue;
      }
      handle(c);
      ::close(c);
    }
  }

  // Reads until `pred` is satisfied by `buf`, the peer closes, or 5 s pass.
  template <typename Pred>
  static bool read_until(int c, std::string& buf, Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{5};
    char chunk[4096];
    while (!pred(buf)) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return false;
      }
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        return false;
      }
      ssize_t n = ::recv(c, chunk, sizeof chunk, 0);
      if (n <= 0) {
        return false;
      }
      buf.append(chunk, static_cast<std::size_t>(n));
    }
    return true;
  }

  void handle(int c) {
    std::string buf;
    if (!read_until(c, buf, [](const std::string& b) { return b.find("\r\n\r\n") != b.npos; })) {
      return;
    }
    const std::size_t head_end = buf.find("\r\n\r\n");
    Request req;
    std::size_t line_end = buf.find("\r\n");
    std::string first = buf.substr(0, line_end);
    std::size_t sp1 = first.find(' ');
    std::size_t sp2 = first.find(' ', sp1 + 1);
    req.method = first.substr(0, sp1);
    req.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    for (std::size_t pos = line_end + 2; pos < head_end;) {
      std::size_t end = buf.find("\r\n", pos);
      std::string line = buf.substr(pos, end - pos);
      std::size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        req.headers[name] = value;
      }
      pos = end + 2;
    }
    std::size_t length = 0;
    if (auto it = req.headers.find("content-length"); it != req.headers.end()) {
      length = std::stoul(it->second);
    }
    const std::size_t body_start = head_end + 4;
    read_until(c, buf, [&](const std::string& b) { return b.size() >= body_start + length; });
    req.body = buf.substr(body_start, length);

    Response resp;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!script_.empty()) {
        resp = script_.front();
        script_.pop_front();
      }
    }
    std::string out = "HTTP/1.1 " + std::to_string(resp.status) +
                      " X\r\nContent-Length: " + std::to_string(resp.body.size()) +
                      "\r\nConnection: close\r\n";
    for (const auto& [k, v] : resp.headers) {
      out += k + ": " + v + "\r\n";
    }
    out += "\r\n" + resp.body;
    ::send(c, out.data(), out.size(), MSG_NOSIGNAL);
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(std::move(req));
    }
    cv_.notify_all();
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Response> script_;
  std::vector<Request> requests_;
};

}  // namespace backout::testing
