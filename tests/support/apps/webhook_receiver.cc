#include "support/apps/webhook_receiver.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include "app/http/http_server.h"

namespace backout::testing {
namespace {

// The first port the kernel hands out to outgoing connections (32768 by default).
int ephemeral_floor() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768;
  in >> low;
  return low;
}

}  // namespace

struct WebhookReceiver::Impl {
  std::uint16_t port = 0;
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::vector<ReceivedPost> posts;
  std::vector<ReceivedPost> refused;
  Mode mode = Mode::kOk;
  std::string retry_after = "1";
  std::function<void(const ReceivedPost&)> callback;
  boost::asio::io_context io;
  std::unique_ptr<agent::http::HttpServer> server;
  std::thread thread;

  agent::http::HttpResponse handle(const agent::http::HttpRequest& req) {
    agent::http::HttpResponse r;
    Mode m;
    std::string retry;
    {
      std::lock_guard lock(mu);
      m = mode;
      retry = retry_after;
      if (m == Mode::kFail500 || m == Mode::kTooMany) {
        ReceivedPost p;
        p.path = req.path;
        p.body = req.body;
        p.at = std::chrono::system_clock::now();
        refused.push_back(std::move(p));
      }
    }
    if (m == Mode::kHang) {
      // Hold the request well past any client timeout; the server runs one thread per receiver.
      std::this_thread::sleep_for(std::chrono::seconds{12});
    }
    if (m == Mode::kFail500) {
      r.status = 500;
      r.body = "internal error\n";
      return r;
    }
    if (m == Mode::kTooMany) {
      r.status = 429;
      r.headers["Retry-After"] = retry;
      r.body = "rate limited\n";
      return r;
    }
    if (req.method != "POST") {
      r.status = 405;
      return r;
    }
    ReceivedPost p;
    p.path = req.path;
    p.body = req.body;
    auto ct = req.headers.find("Content-Type");
    p.content_type = ct == req.headers.end() ? "" : ct->second;
    p.at = std::chrono::system_clock::now();
    std::function<void(const ReceivedPost&)> cb;
    {
      std::lock_guard lock(mu);
      posts.push_back(p);
      cb = callback;
    }
    cv.notify_all();
    if (cb) {
      cb(p);
    }
    r.body = "ok";
    return r;
  }

  void start(std::uint16_t want) {
    agent::http::ServerLimits limits;
    limits.max_body_bytes = 1 << 20;
    server = std::make_unique<agent::http::HttpServer>(
        io, [this](const agent::http::HttpRequest& req) { return handle(req); }, limits);
    server->listen("127.0.0.1", want);
    port = server->port();
    io.restart();
    thread = std::thread([this] {
      auto work = boost::asio::make_work_guard(io);
      io.run();
    });
  }

  void stop() {
    if (server) {
      server->stop();
      // stop() closes the listening socket in a handler it posts; io.stop() alone would leave
      // that handler queued and the port listening, and come_back() could not bind it again.
      if (thread.joinable()) {
        std::promise<void> closed;
        std::future<void> done = closed.get_future();
        boost::asio::post(io, [&closed] { closed.set_value(); });
        done.wait_for(std::chrono::seconds{5});
      }
    }
    io.stop();
    if (thread.joinable()) {
      thread.join();
    }
    server.reset();
  }
};

WebhookReceiver::WebhookReceiver(std::uint16_t port) : impl_(std::make_unique<Impl>()) {
  if (port != 0) {
    impl_->start(port);
    return;
  }
  // come_back() listens again on the same port. A port the kernel chose (port 0) lies in the
  // ephemeral range, where during the outage an outgoing connection of the agent or the test
  // may take it as its local port; so the receiver takes a free port just below that range.
  const int floor = ephemeral_floor();
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pick(std::max(1024, floor - 8000), floor - 1);
  for (int attempt = 0; attempt < 64; ++attempt) {
    try {
      impl_->start(static_cast<std::uint16_t>(pick(rng)));
      return;
    } catch (const std::runtime_error&) {
      impl_->server.reset();  // taken by someone else: try another
    }
  }
  impl_->start(0);
}

WebhookReceiver::~WebhookReceiver() { impl_->stop(); }

std::uint16_t WebhookReceiver::port() const { return impl_->port; }

std::string WebhookReceiver::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(impl_->port) + path;
}

void WebhookReceiver::set_mode(Mode mode) {
  std::lock_guard lock(impl_->mu);
  impl_->mode = mode;
}

void WebhookReceiver::set_retry_after(const std::string& value) {
  std::lock_guard lock(impl_->mu);
  impl_->retry_after = value;
}

void WebhookReceiver::go_down() { impl_->stop(); }

void WebhookReceiver::come_back() { impl_->start(impl_->port); }

std::vector<ReceivedPost> WebhookReceiver::posts() const {
  std::lock_guard lock(impl_->mu);
  return impl_->posts;
}

std::vector<ReceivedPost> WebhookReceiver::refused() const {
  std::lock_guard lock(impl_->mu);
  return impl_->refused;
}

bool WebhookReceiver::wait_for(const std::function<bool(const std::vector<ReceivedPost>&)>& pred,
                               std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return pred(impl_->posts); });
}

void WebhookReceiver::on_post(std::function<void(const ReceivedPost&)> callback) {
  std::lock_guard lock(impl_->mu);
  impl_->callback = std::move(callback);
}

}  // namespace backout::testing
