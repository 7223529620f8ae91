#include "support/apps/webhook_receiver.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "app/http/http_server.h"

namespace backout::testing {

struct WebhookReceiver::Impl {
  std::uint16_t port = 0;
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::vector<ReceivedPost> posts;
  Mode mode = Mode::kOk;
  std::function<void(const ReceivedPost&)> callback;
  boost::asio::io_context io;
  std::unique_ptr<agent::http::HttpServer> server;
  std::thread thread;

  agent::http::HttpResponse handle(const agent::http::HttpRequest& req) {
    agent::http::HttpResponse r;
    Mode m;
    {
      std::lock_guard lock(mu);
      m = mode;
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
      r.headers["Retry-After"] = "1";
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
    }
    io.stop();
    if (thread.joinable()) {
      thread.join();
    }
    server.reset();
  }
};

WebhookReceiver::WebhookReceiver(std::uint16_t port) : impl_(std::make_unique<Impl>()) {
  impl_->start(port);
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

void WebhookReceiver::go_down() { impl_->stop(); }

void WebhookReceiver::come_back() { impl_->start(impl_->port); }

std::vector<ReceivedPost> WebhookReceiver::posts() const {
  std::lock_guard lock(impl_->mu);
  return impl_->posts;
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
