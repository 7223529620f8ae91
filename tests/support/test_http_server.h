// A small HTTP/1.1 server for tests, on loopback, port 0, plain or TLS, with a configurable
// handler and the misbehaviours a client must survive: never answering, trickling bytes, huge or
// gzip-bombed bodies, raw bytes. Beast and OpenSSL stay in the .cc.
//
// Thread-safety: none. The server runs on the io_context the test drives from its own thread
// (see run_until), usually the same one as the code under test, so no test needs a thread.
// Time: trickle intervals run on the io_context's steady timers; nothing sleeps.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace backout::testing {

struct TestRequest {
  std::string method;
  std::string target;                          // "/metrics?x=1"
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  /// The header's value, or "" (name in any case).
  std::string header(const std::string& name) const;
};

struct TestResponse {
  enum class Mode {
    kNormal,       // the response, then close
    kNeverAnswer,  // read the request and hold the connection open without answering
    kTrickle,      // send the response one byte per `trickle_interval`
  };
  enum class Encoding { kIdentity, kGzip, kDeflate };

  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  Encoding encoding = Encoding::kIdentity;  // compresses `body`, sets Content-Encoding
  Mode mode = Mode::kNormal;
  /// Sent as is instead of a response built from the fields above (bad HTTP, a body delimited
  /// by the end of the connection, ...).
  std::string raw;
};

using TestHandler = std::function<TestResponse(const TestRequest&)>;

/// A self-signed certificate with its key, as PEM files in a temporary directory.
struct TestCertificate {
  std::string cert_file;
  std::string key_file;
};

/// A certificate for CN=localhost with subjectAltName IP:127.0.0.1 and DNS:localhost, made once
/// per process with the `openssl` command. Fails the test (ADD_FAILURE) and returns empty paths
/// if that is impossible.
const TestCertificate& localhost_certificate();

/// A certificate valid only for DNS:other.example (to test host name verification).
const TestCertificate& other_host_certificate();

class TestHttpServer {
 public:
  struct Options {
    bool tls = false;
    TestCertificate certificate;  // with tls; default: localhost_certificate()
    std::chrono::milliseconds trickle_interval{20};
  };

  /// Listens on 127.0.0.1, port 0. Throws std::runtime_error if it cannot.
  TestHttpServer(boost::asio::io_context& ioc, TestHandler handler);
  TestHttpServer(boost::asio::io_context& ioc, TestHandler handler, Options options);
  ~TestHttpServer();  // stop()s
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  std::uint16_t port() const;
  /// "http://127.0.0.1:PORT" + path (https with TLS).
  std::string url(const std::string& path = "/") const;

  void set_handler(TestHandler handler);

  /// Requests read whole, in arrival order.
  const std::vector<TestRequest>& requests() const;
  std::size_t connections_accepted() const;
  /// Connections that ended (by either side).
  std::size_t connections_closed() const;
  /// The most connections open at the same time.
  std::size_t max_concurrent_connections() const;

  /// Stops accepting and closes every connection. Idempotent.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// A loopback port nothing listens on (bound, then released): connecting to it is refused.
std::uint16_t unused_loopback_port();

/// A loopback listener that never accepts, with its accept queue filled at construction, so
/// that a new connection attempt stays unanswered until the client gives up (Linux drops the SYN
/// for a full queue): a target whose connect times out.
class StalledListener {
 public:
  StalledListener();
  ~StalledListener();
  StalledListener(const StalledListener&) = delete;
  StalledListener& operator=(const StalledListener&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int listen_fd_ = -1;
  std::vector<int> filler_fds_;
  std::uint16_t port_ = 0;
};

/// Runs `ioc` on the calling thread until `done()` is true or `limit` passes; returns done().
/// The bounded wait every networked test uses instead of sleeping.
bool run_until(boost::asio::io_context& ioc, const std::function<bool()>& done,
               std::chrono::milliseconds limit = std::chrono::seconds{5});

/// Runs `ioc` until it has no work left or `limit` passes; returns true if it ran out of work
/// (a way to show nothing is scheduled any more, without waiting for time to pass).
bool run_until_idle(boost::asio::io_context& ioc,
                    std::chrono::milliseconds limit = std::chrono::seconds{5});

/// `body` compressed with gzip (for tests that build raw responses).
std::string gzip(const std::string& body);

}  // namespace backout::testing
