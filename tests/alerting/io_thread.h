// An io_context running on its own thread for delivery tests, and a bounded wait for one
// delivery. Header-only. Thread-safety: construct and destroy on the test thread.
// Time: deliver_and_wait() waits at most `timeout` (steady clock).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>

#include "backout/alerting/channel.h"

namespace backout::testing {

class IoThread {
 public:
  IoThread() : guard_(ioc_.get_executor()), thread_([this] { ioc_.run(); }) {}
  ~IoThread() {
    guard_.reset();
    ioc_.stop();
    thread_.join();
  }
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  boost::asio::any_io_executor executor() { return ioc_.get_executor(); }

 private:
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
};

/// Delivers `payload` and waits for the outcome; nullopt when `done` was not called in time.
inline std::optional<alerting::DeliveryResult> deliver_and_wait(
    alerting::Channel& channel, const std::string& payload, const std::string& key,
    std::chrono::milliseconds timeout = std::chrono::seconds{15}) {
  auto promise = std::make_shared<std::promise<alerting::DeliveryResult>>();
  std::future<alerting::DeliveryResult> result = promise->get_future();
  channel.deliver(payload, key,
                  [promise](alerting::DeliveryResult r) { promise->set_value(std::move(r)); });
  if (result.wait_for(timeout) != std::future_status::ready) {
    return std::nullopt;
  }
  return result.get();
}

}  // namespace backout::testing
