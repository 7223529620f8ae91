// The agent's HTTP/1.1 server: a listener and one session per connection (Boost.Beast, hidden
// behind a pimpl), calling one plain handler HttpRequest -> HttpResponse for every request. It
// knows nothing about plans or routes (see Router). Thread-safety: listen() during start-up;
// stop(), port() and stats() from any thread. Time: the limits below are durations on the
// steady clock of the io_context's timers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/http/http_message.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace backout::agent::http {

/// What one connection may cost. Every part of a request is bounded, and each refusal closes the
/// connection (and frees what it held):
///  - the request line and header section: `max_header_bytes`, else 431;
///  - the body (decoded, when chunked): `max_body_bytes`, else 413; a chunk size over what is
///    left of it (`ffffffffffffffff`) is refused before anything is allocated;
///  - a chunk line (size and extensions) and the trailer section: the read buffer, which holds
///    `max_header_bytes` + 4 KiB; a longer chunk line gets 413, a longer trailer section 431.
struct ServerLimits {
  /// At most 56 KiB: Beast stores a header or trailer field in under 64 KiB and throws beyond,
  /// so the read buffer (this plus 4 KiB) must stay below that for no field to reach it.
  std::size_t max_header_bytes = 8 * 1024;
  std::size_t max_body_bytes = 64 * 1024;
  /// From the first byte of a request (from the accept, for the first one) to its last byte:
  /// a client that sends nothing or trickles bytes is cut here.
  std::chrono::milliseconds read_timeout{10000};
  /// How long a keep-alive connection may wait for the first byte of its next request.
  std::chrono::milliseconds idle_timeout{30000};
  /// How long writing one response may take (a client that does not read is cut here).
  std::chrono::milliseconds write_timeout{10000};
  /// Open connections. When they are all taken, a new connection takes the slot of the
  /// connection that has been idle longest (waiting for its next request, or for its first
  /// byte), for at least `evict_idle_after`, preferring the client address that holds the most
  /// connections; with none such, it gets a reserved slot (below) or a 503 and is closed.
  std::size_t max_connections = 128;
  /// How long a connection must have been idle before a newcomer may take its slot.
  std::chrono::milliseconds evict_idle_after{1000};
  /// Requests that keep a share of the server when it is full (the agent: /healthz, /readyz
  /// and /metrics, so that the operator and Prometheus keep sight while clients hold every
  /// slot). Exact paths; empty: no reserved slots.
  std::vector<std::string> reserved_paths;
  /// Connections beyond max_connections that serve only reserved_paths: one request each, then
  /// closed; any other path gets 503. When they are all taken too, the newcomer takes the slot
  /// of the reserved connection idle longest.
  std::size_t reserved_connections = 8;
};

/// Serves HTTP/1.1 (keep-alive, pipelining, HTTP/1.0) on the threads that run the io_context.
/// The handler runs on the connection's strand: calls for one connection are sequential, calls
/// for different connections may be concurrent when several threads run the io_context, so the
/// handler must be thread-safe then. It should be quick (it runs on an io thread); if it throws,
/// the client gets 500 {"error": "internal error"} and the server carries on.
///
/// Per connection, responses go out in request order (up to 8 queued for pipelined requests,
/// then reading pauses). A malformed request gets 400, an oversized header or trailer 431, an
/// oversized body or chunk line 413 (see ServerLimits), each then closes; a Transfer-Encoding other
/// than chunked is a 400; a request with "Expect: 100-continue" gets "100 Continue" before its body
/// is read. Every response carries `Server: backout-agent`, `Content-Length` and, unless the
/// handler set one, `Cache-Control: no-store`. Before closing, the server half-closes and drains
/// what the client still sends for up to min(read_timeout, 2 s), so the client reads the last
/// answer rather than a connection reset.
///
/// Destroy the server before its io_context. Stopping: stop(), then let io_context::run()
/// return (it does once every connection has closed, which stop() makes prompt).
class HttpServer {
 public:
  using RequestHandler = std::function<HttpResponse(const HttpRequest&)>;

  /// Throws std::invalid_argument for an empty handler, a zero timeout, or a header limit of
  /// zero or over 56 KiB.
  HttpServer(boost::asio::io_context& ioc, RequestHandler handler, ServerLimits limits = {});
  ~HttpServer();  // stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds and starts accepting. `host` is an IP address or a resolvable name ("127.0.0.1",
  /// "::1", "localhost", "0.0.0.0"); port 0 picks a free port (see port()). Throws
  /// std::runtime_error with an operator-readable message, e.g. "cannot listen on
  /// 127.0.0.1:9750: Address already in use; is another backout-agent running?". Call once.
  void listen(const std::string& host, std::uint16_t port);

  /// Starts accepting on a socket that is already bound and listening (release_listener() of
  /// the server it takes over from). Takes ownership of `fd`. Throws std::runtime_error. Call
  /// once, instead of listen().
  void listen_on(int fd);

  /// The bound port (0 before listen()).
  std::uint16_t port() const;

  /// Stops accepting and closes every open connection (in-flight responses are abandoned).
  /// Idempotent; returns at once; the closing happens on the io_context's threads.
  void stop();
  /// stop(), but the listening socket stays open (a reload: connections that arrive meanwhile
  /// wait in its queue for the next server, see release_listener()).
  void stop_keeping_listener();
  /// After stop_keeping_listener() and once the io_context has stopped: gives up the listening
  /// socket's descriptor (-1 if there is none) for listen_on() of the next server.
  int release_listener();

  /// Counters since construction. `connections_accepted` counts connections admitted,
  /// `connections_rejected` those refused (503) for max_connections; `requests` counts requests
  /// read whole; `timeouts` counts connections cut by read_timeout or write_timeout (an idle
  /// keep-alive connection closed at idle_timeout is not a timeout); `bad_requests` counts 400,
  /// 413 and 431 answers, which the next five split by kind; `evicted` counts idle connections
  /// closed to make room (ServerLimits::max_connections), `reserved_served` requests served on
  /// a reserved slot; `active` is admitted connections open now, reserved slots not included.
  struct Stats {
    std::uint64_t connections_accepted = 0;
    std::uint64_t connections_rejected = 0;
    std::uint64_t requests = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t bad_requests = 0;
    std::uint64_t malformed_requests = 0;          // 400
    std::uint64_t headers_too_large = 0;           // 431: request line or header section
    std::uint64_t trailers_too_large = 0;          // 431: trailer section
    std::uint64_t chunk_extensions_too_large = 0;  // 413: chunk line
    std::uint64_t bodies_too_large = 0;            // 413: body or a chunk size
    std::uint64_t evicted = 0;          // idle connections closed to make room for a newcomer
    std::uint64_t reserved_served = 0;  // requests served on a reserved slot
    std::uint64_t active = 0;
  };
  Stats stats() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace backout::agent::http
