// A chat webhook stand-in (Slack, Teams or generic): records every POST with its arrival time,
// and can be made to fail (HTTP 500), to hang, or to stop listening, so that tests can check
// that no page is lost. Thread-safety: all methods from any thread; serves on its own thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace backout::testing {

struct ReceivedPost {
  std::string path;
  std::string body;
  std::string content_type;
  std::chrono::system_clock::time_point at;
};

class WebhookReceiver {
 public:
  enum class Mode { kOk, kFail500, kTooMany, kHang };

  /// Listens on 127.0.0.1:`port` (0: any free port).
  explicit WebhookReceiver(std::uint16_t port = 0);
  ~WebhookReceiver();
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  std::uint16_t port() const;
  std::string url(const std::string& path = "/hook") const;

  void set_mode(Mode mode);
  /// The Retry-After header of kTooMany answers (default "1").
  void set_retry_after(const std::string& value);
  /// Stops listening (connections are refused) / listens again on the same port.
  void go_down();
  void come_back();

  std::vector<ReceivedPost> posts() const;
  /// Requests answered with an error (kFail500, kTooMany), with their arrival times: the
  /// sender's retry schedule as the endpoint saw it.
  std::vector<ReceivedPost> refused() const;
  /// Waits until `pred(posts())` holds or `timeout` passes; returns whether it held.
  bool wait_for(const std::function<bool(const std::vector<ReceivedPost>&)>& pred,
                std::chrono::milliseconds timeout) const;
  /// Called with each accepted post (e.g. to print it in the demo).
  void on_post(std::function<void(const ReceivedPost&)> callback);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace backout::testing
