// Posts one JSON body to a notification endpoint and judges the answer (delivery_verdict.h).
// Thread-safety: as net::HttpClient (any thread); `done` runs once, on the client's executor.
// Time: `timeout` bounds the whole exchange; nothing else waits.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "backout/alerting/channel.h"
#include "backout/net/http_client.h"

namespace backout::alerting::http {

struct JsonPost {
  std::string url;  // a secret for webhooks: it never reaches a detail or a log
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type
  std::chrono::milliseconds timeout{10000};
};

void post_json(net::HttpClient& client, const JsonPost& target, std::string body,
               std::function<void(DeliveryResult)> done);

/// Replaces the URL, and its path alone, wherever it appears in `text`.
std::string scrub(std::string text, const std::string& url);

}  // namespace backout::alerting::http
