// Asynchronous HTTP/1.1 client over TCP or TLS, for scrapes, probes and webhooks. Beast and
// OpenSSL stay behind this header.
//
// Thread-safety: an HttpClient may be used from any thread; each fetch runs on its own strand of
// the client's executor and calls its callback there exactly once (never inside fetch()), so a
// caller with its own strand dispatches back onto it. Time: the request's `timeout` covers the
// whole exchange (resolve, connect, TLS, write, read, redirects) and the reported duration runs
// from the start of the fetch to the complete response (steady clock).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace backout::net {

struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const;
};

struct HttpClientRequest {
  std::string method = "GET";
  std::string url;  // http:// or https://; credentials in it (user:pass@) are refused
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{5000};
  std::size_t max_body_bytes = 16u << 20;  // larger responses fail with kTooLarge
  /// 301/302/303/307/308 are followed within the same timeout; Authorization and Cookie
  /// headers are not sent to another origin (scheme, host or port).
  bool follow_redirects = false;
  int max_redirects = 5;
  std::string ca_file;      // PEM CAs to verify the server with; empty: the system's CAs
  bool accept_gzip = true;  // send Accept-Encoding: gzip, deflate (responses are decoded anyway)
  /// Messages show the URL as scheme://host:port only: for webhook URLs whose path is the
  /// secret (Slack, Teams). Query strings and credentials are never shown either way.
  bool redact_path = false;
};

struct HttpClientResponse {
  int status = 0;
  std::map<std::string, std::string, CaseInsensitiveLess> headers;
  std::string body;  // decompressed (Content-Encoding and Content-Length then removed)
  /// To the complete response; with an error, to the failure (the response is otherwise empty).
  std::chrono::nanoseconds duration{0};
};

struct FetchError {
  enum class Kind {
    kNone,
    kBadUrl,
    kResolve,
    kConnect,    // connect, and the connection failing while sending or receiving
    kTls,        // handshake, including certificate and host name verification
    kTimeout,    // the request's `timeout` passed
    kProtocol,   // not a valid HTTP response, a bad redirect, too many redirects
    kTooLarge,   // the (decoded) body exceeds max_body_bytes
    kCancelled,  // cancel() or cancel_all()
  };
  Kind kind = Kind::kNone;
  /// For the operator, without secrets (no query string, no credentials): e.g.
  /// "GET http://127.0.0.1:8080/metrics: connect 127.0.0.1:8080: Connection refused".
  std::string message;
  /// The message without the request in front, for callers that already say which source or
  /// channel failed: "connect 127.0.0.1:8080: Connection refused", "timeout after 2s",
  /// "TLS: certificate verify failed (self-signed certificate)", "response body over 1 MiB".
  std::string reason;
  explicit operator bool() const { return kind != Kind::kNone; }
};

using FetchCallback = std::function<void(const FetchError& error, HttpClientResponse response)>;

class HttpClient {
 public:
  explicit HttpClient(boost::asio::any_io_executor executor);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  using RequestId = std::uint64_t;

  /// Starts a request; `done` is called once, on the client's executor, with an error or the
  /// response (any status: judging it is the caller's business). Never throws. The id is for
  /// cancel(); ids are never reused.
  RequestId fetch(HttpClientRequest request, FetchCallback done);

  /// Cancels one request if it is still in flight: its callback runs soon with kCancelled
  /// (or with its result, if that was already on its way). Unknown or finished ids are ignored.
  void cancel(RequestId id);

  /// Cancels every request in flight (their callbacks run with kCancelled); used at shutdown
  /// and by the destructor.
  void cancel_all();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace backout::net
