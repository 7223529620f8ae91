// A small synchronous HTTP/1.1 client for the command line's human acts (ack, fix-forward,
// decide, raise), which talk to the running agent's API: one request per connection, plain HTTP
// (the agent listens on loopback by default; no TLS), one deadline on the whole exchange.
// Boost.Beast stays in the .cc.
//
// Thread-safety: a stateless function with its own io_context per call; safe from any thread.
// Time: the deadline runs on the steady clock.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace backout::agent {

struct CliHttpRequest {
  std::string method = "GET";  // upper case
  /// "http://127.0.0.1:9750/api/v1/ack"; an IPv6 host in brackets ("http://[::1]:9750/...").
  std::string url;
  std::map<std::string, std::string> headers;
  std::string body;
  std::chrono::milliseconds timeout{10000};
};

struct CliHttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

/// The response, or why there is none. `bad_url`: the URL is not an http:// URL (the caller's
/// mistake); otherwise `error` says why the server could not be reached or did not answer
/// ("cannot connect to 127.0.0.1:9750: Connection refused").
struct CliHttpResult {
  std::optional<CliHttpResponse> response;
  bool bad_url = false;
  std::string error;
};

/// Sends one request and waits for its response (bodies up to 1 MiB). Never throws.
CliHttpResult http_exchange(const CliHttpRequest& request);

}  // namespace backout::agent
