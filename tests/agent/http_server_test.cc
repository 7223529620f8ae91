// HttpServer over real loopback connections (port 0), driven by a raw Beast client. Waits are
// bounded and only for the timeouts under test, configured short.
#include "app/http/http_server.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <deque>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "app/http/router.h"

namespace backout::agent::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using WireResponse = bhttp::response<bhttp::string_body>;

// A blocking-style client on its own io_context: every operation runs with a deadline.
class Client {
 public:
  // `receive_buffer`: a small SO_RCVBUF makes a client that does not read fill up quickly.
  explicit Client(std::uint16_t port, int receive_buffer = 0) : socket_(ioc_) {
    error_code ec;
    if (receive_buffer > 0) {
      socket_.open(tcp::v4());
      socket_.set_option(net::socket_base::receive_buffer_size(receive_buffer));
    }
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    if (ec) {
      throw std::runtime_error("connect: " + ec.message());
    }
  }

  // Sends all of `data`; false if that failed or took over `timeout`.
  bool send(const std::string& data, std::chrono::milliseconds timeout = 2s) {
    error_code result = net::error::timed_out;
    bool done = false;
    net::async_write(socket_, net::buffer(data), [&](error_code ec, std::size_t) {
      result = ec;
      done = true;
    });
    run(done, timeout);
    return done && !result;
  }

  // Reads one response (for a HEAD request: `head`, so no body is expected).
  std::optional<WireResponse> read(bool head = false, std::chrono::milliseconds timeout = 2s) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.skip(head);
    error_code result = net::error::timed_out;
    bool done = false;
    bhttp::async_read(socket_, buffer_, parser, [&](error_code ec, std::size_t) {
      result = ec;
      done = true;
    });
    run(done, timeout);
    if (!done || result) {
      return std::nullopt;
    }
    return parser.release();
  }

  std::optional<WireResponse> get(const std::string& target, const std::string& extra = "") {
    if (!send("GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n")) {
      return std::nullopt;
    }
    return read();
  }

  // True if the server closes the connection within `timeout` (bytes it sends are dropped).
  bool closed_within(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      error_code result;
      bool done = false;
      socket_.async_read_some(net::buffer(scratch_), [&](error_code ec, std::size_t) {
        result = ec;
        done = true;
      });
      run(done, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
      if (!done) {
        return false;
      }
      if (result) {
        return true;  // eof or reset
      }
    }
    return false;
  }

  void close() {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  // Runs the pending operation until it sets `done` or the timeout passes; then cancels it.
  void run(bool& done, std::chrono::milliseconds timeout) {
    ioc_.restart();
    ioc_.run_for(timeout);
    if (!done) {
      error_code ignored;
      socket_.cancel(ignored);
      ioc_.restart();
      ioc_.run();  // the cancelled handler, which must not count as done
      done = false;
    }
  }

  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  std::array<char, 4096> scratch_{};
};

// Echoes what the handler saw: "METHOD path k=v;... body=BODY".
HttpResponse echo(const HttpRequest& req) {
  HttpResponse res;
  res.body = req.method + " " + req.path + " ";
  for (const auto& [k, v] : req.query) {
    res.body += k + "=" + v + ";";
  }
  res.body += " body=" + req.body;
  if (auto it = req.headers.find("x-test"); it != req.headers.end()) {
    res.headers["X-Echo"] = it->second;
  }
  res.headers["X-Remote"] = req.remote_address;
  return res;
}

template <typename Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout = 2s) {
  const auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void start(ServerLimits limits = {}, HttpServer::RequestHandler handler = echo,
             int io_threads = 1) {
    server_ = std::make_unique<HttpServer>(ioc_, std::move(handler), limits);
    server_->listen("127.0.0.1", 0);
    ASSERT_NE(server_->port(), 0);
    for (int i = 0; i < io_threads; ++i) {
      io_done_.push_back(std::async(std::launch::async, [this] { ioc_.run(); }));
    }
  }

  // stop() and wait for the io threads: true if run() returned within `timeout`.
  bool stop_and_join(std::chrono::milliseconds timeout = 1s) {
    if (!server_) {
      return true;
    }
    server_->stop();
    const auto deadline = Clock::now() + timeout;
    bool ok = true;
    for (auto& done : io_done_) {
      ok = ok && done.wait_until(deadline) == std::future_status::ready;
    }
    if (!ok) {
      ioc_.stop();
    }
    for (auto& done : io_done_) {
      done.wait();
    }
    return ok;
  }

  void TearDown() override {
    EXPECT_TRUE(stop_and_join(2s));
    server_.reset();
  }

  std::uint16_t port() const { return server_->port(); }

  net::io_context ioc_;
  std::unique_ptr<HttpServer> server_;
  std::vector<std::future<void>> io_done_;
};

TEST_F(HttpServerTest, ServesGetWithDecodedTargetAndStandardHeaders) {
  start();
  Client c(port());
  auto res = c.get("/hello%20world?a=1&b=x+y", "X-Test: seen\r\n");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_EQ(res->body(), "GET /hello world a=1;b=x y; body=");
  EXPECT_EQ((*res)[bhttp::field::server], "backout-agent");
  EXPECT_EQ((*res)[bhttp::field::content_length], std::to_string(res->body().size()));
  EXPECT_EQ((*res)[bhttp::field::cache_control], "no-store");
  EXPECT_EQ((*res)[bhttp::field::content_type], "text/plain; charset=utf-8");
  EXPECT_EQ((*res)["X-Echo"], "seen");  // the handler found "X-Test" as "x-test"
  EXPECT_EQ((*res)["X-Remote"], "127.0.0.1");
  EXPECT_TRUE(res->keep_alive());
}

TEST_F(HttpServerTest, KeepsConnectionAliveAcrossRequests) {
  start();
  Client c(port());
  for (int i = 0; i < 3; ++i) {
    auto res = c.get("/n/" + std::to_string(i));
    ASSERT_TRUE(res) << i;
    EXPECT_EQ(res->body(), "GET /n/" + std::to_string(i) + "  body=");
  }
  ASSERT_TRUE(c.send("POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"));
  auto res = c.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body(), "POST /p  body=hello");
  const auto stats = server_->stats();
  EXPECT_EQ(stats.connections_accepted, 1u);
  EXPECT_EQ(stats.requests, 4u);
  EXPECT_EQ(stats.active, 1u);
}

TEST_F(HttpServerTest, AnswersPipelinedRequestsInOrder) {
  start();
  Client c(port());
  std::string batch;
  constexpr int kRequests = 20;  // more than the server's pipeline queue
  for (int i = 0; i < kRequests; ++i) {
    batch += "GET /p/" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n" +
             (i == kRequests - 1 ? "Connection: close\r\n" : "") + "\r\n";
  }
  ASSERT_TRUE(c.send(batch));
  for (int i = 0; i < kRequests; ++i) {
    auto res = c.read();
    ASSERT_TRUE(res) << i;
    EXPECT_EQ(res->body(), "GET /p/" + std::to_string(i) + "  body=");
    EXPECT_EQ(res->keep_alive(), i != kRequests - 1);
  }
  EXPECT_TRUE(c.closed_within(2s));
}

TEST_F(HttpServerTest, RouterAnswers404And405AndHead) {
  auto router = std::make_shared<Router>();
  router->add("GET", "/metrics", [](const HttpRequest&, const PathParams&) {
    HttpResponse res;
    res.body = "backout_up 1\n";
    return res;
  });
  router->add("POST", "/api/v1/push/{source}", [](const HttpRequest&, const PathParams& p) {
    HttpResponse res;
    res.body = p.at("source");
    return res;
  });
  start({}, [router](const HttpRequest& req) { return router->dispatch(req); });
  Client c(port());

  auto res = c.get("/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 404);
  EXPECT_EQ((*res)[bhttp::field::content_type], "application/json");
  EXPECT_NE(res->body().find("\"error\""), std::string::npos);

  res = c.get("/api/v1/push/web");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 405);
  EXPECT_EQ((*res)[bhttp::field::allow], "POST");

  ASSERT_TRUE(c.send("HEAD /metrics HTTP/1.1\r\nHost: t\r\n\r\n"));
  res = c.read(/*head=*/true);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_EQ((*res)[bhttp::field::content_length], "13");
  EXPECT_TRUE(res->body().empty());

  // The HEAD response sent no body: the next response on the connection parses cleanly.
  res = c.get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body(), "backout_up 1\n");

  ASSERT_TRUE(c.send("POST /api/v1/push/a%2Db HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"));
  res = c.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body(), "a-b");
}

TEST_F(HttpServerTest, BodyOverLimitGets413ThenClose) {
  ServerLimits limits;
  limits.max_body_bytes = 1024;
  start(limits);
  {
    Client c(port());
    ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" +
                       std::string(100000, 'x')));
    auto res = c.read();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 413);
    EXPECT_FALSE(res->keep_alive());
    EXPECT_TRUE(c.closed_within(2s));
  }
  {
    // Chunked: the limit applies to the decoded body as it arrives.
    Client c(port());
    const std::string chunk = "320\r\n" + std::string(0x320, 'y') + "\r\n";
    ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk +
                       chunk + "0\r\n\r\n"));
    auto res = c.read();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 413);
    EXPECT_TRUE(c.closed_within(2s));
  }
  {
    // Just under the limit is fine.
    Client c(port());
    ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1024\r\n\r\n" +
                       std::string(1024, 'z')));
    auto res = c.read();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 200);
  }
  EXPECT_EQ(server_->stats().bad_requests, 2u);
}

TEST_F(HttpServerTest, HeaderOverLimitGets431ThenClose) {
  ServerLimits limits;
  limits.max_header_bytes = 1024;
  start(limits);
  Client c(port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(4000, 'h') + "\r\n\r\n"));
  auto res = c.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 431);
  EXPECT_EQ((*res)[bhttp::field::connection], "close");
  EXPECT_TRUE(c.closed_within(2s));
}

// Regression (the issue "one unauthenticated request kills the agent"): a trailer field of
// 64 KiB or more used to abort the process. Beast bounds the header section by header_limit but
// not the trailer section, and its fields container throws std::length_error for a field over
// 64 KiB, out of the io thread's run().
TEST_F(HttpServerTest, OversizedChunkedTrailerGets431AndServerCarriesOn) {
  start();
  Client c(port());
  ASSERT_TRUE(
      c.send("POST /api/v1/ack HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
             "0\r\nX-Trailer: " +
             std::string(65535, 't') + "\r\n\r\n"));
  auto res = c.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 431);
  EXPECT_EQ((*res)[bhttp::field::connection], "close");
  EXPECT_TRUE(c.closed_within(2s));
  Client after(port());
  res = after.get("/still-here");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_EQ(server_->stats().bad_requests, 1u);
  EXPECT_EQ(server_->stats().trailers_too_large, 1u);
}

// Every part of a chunked body is bounded by the read buffer (max_header_bytes + 4 KiB): a chunk
// line is answered 413 as soon as the buffer is full, long before the line ends, so a client
// cannot make the server hold more than that.
TEST_F(HttpServerTest, LongChunkExtensionGets413BeforeItEnds) {
  start();
  const std::string head =
      "POST /api/v1/ack HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1;ext=";
  {
    Client c(port());
    ASSERT_TRUE(c.send(head + std::string(64 * 1024, 'e')));  // the line never ends
    auto res = c.read();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 413);
    EXPECT_EQ((*res)[bhttp::field::connection], "close");
    EXPECT_TRUE(c.closed_within(2s));
  }
  {
    // Multi-MiB: the server drains at most 1 MiB after its answer, then closes, so the rest of
    // the send fails; the answer is still there to read.
    Client c(port());
    (void)c.send(head + std::string(4 * 1024 * 1024, 'e') + "\r\nx\r\n0\r\n\r\n", 5s);
    auto res = c.read();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 413);
    EXPECT_TRUE(c.closed_within(2s));
  }
  EXPECT_EQ(server_->stats().chunk_extensions_too_large, 2u);
  EXPECT_EQ(server_->stats().bad_requests, 2u);
}

TEST_F(HttpServerTest, AbsurdChunkSizesGet4xxBeforeAnyData) {
  ServerLimits limits;
  limits.max_body_bytes = 1024;
  start(limits);
  const std::string head = "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  // No chunk data follows: the answer comes from the size alone, nothing is reserved for it.
  for (const auto& [size, status] : std::vector<std::pair<std::string, int>>{
           {"ffffffffffffffff", 413},   // 2^64 - 1, over max_body_bytes
           {"401", 413},                // just over max_body_bytes
           {"1ffffffffffffffff", 400},  // overflows 64 bits
           {"-1", 400}}) {
    Client c(port());
    ASSERT_TRUE(c.send(head + size + "\r\n"));
    auto res = c.read();
    ASSERT_TRUE(res) << size;
    EXPECT_EQ(res->result_int(), status) << size;
    EXPECT_TRUE(c.closed_within(2s)) << size;
  }
  EXPECT_EQ(server_->stats().bodies_too_large, 2u);
  EXPECT_EQ(server_->stats().malformed_requests, 2u);
}

TEST_F(HttpServerTest, LongRequestLineGets431BeforeItEnds) {
  ServerLimits limits;
  limits.max_header_bytes = 1024;
  start(limits);
  Client c(port());
  ASSERT_TRUE(c.send("GET /" + std::string(64 * 1024, 'a')));  // no end of line
  auto res = c.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 431);
  EXPECT_TRUE(c.closed_within(2s));
  EXPECT_EQ(server_->stats().headers_too_large, 1u);
}

TEST_F(HttpServerTest, ChunkedBodyWithExtensionsAndTrailersWithinLimitsIsServed) {
  start();
  Client c(port());
  ASSERT_TRUE(
      c.send("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
             "3;name=value\r\nabc\r\n2\r\nde\r\n0;last\r\nX-Checksum: " +
             std::string(4000, 'k') + "\r\n\r\n"));
  auto res = c.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_EQ(res->body(), "POST /c  body=abcde");
  EXPECT_TRUE(c.get("/next"));  // same connection
  EXPECT_EQ(server_->stats().bad_requests, 0u);
}

TEST(HttpServerLimits, HeaderLimitOver56KiBIsRefusedAtConstruction) {
  net::io_context ioc;
  ServerLimits limits;
  limits.max_header_bytes = 64 * 1024;
  try {
    HttpServer server(ioc, echo, limits);
    FAIL() << "a 64 KiB header limit was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()),
              "HttpServer limits: max_header_bytes is 65536; at most 57344 (Beast cannot hold a "
              "header field of 64 KiB)");
  }
}

TEST_F(HttpServerTest, MalformedRequestsGet400) {
  start();
  for (const std::string& garbage :
       {std::string("\x16\x03\x01\x02 hello\r\n\r\n"), std::string("GET\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nHost: t\r\nBad Field: x\r\n\r\n"),
        // Request smuggling shapes: two lengths, length and chunked, a body length nobody knows.
        std::string(
            "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
        std::string("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        std::string("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n"
                    "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n")}) {
    Client c(port());
    ASSERT_TRUE(c.send(garbage));
    auto res = c.read();
    ASSERT_TRUE(res) << garbage;
    EXPECT_EQ(res->result_int(), 400) << garbage;
    EXPECT_EQ((*res)[bhttp::field::content_type], "application/json");
    EXPECT_TRUE(c.closed_within(2s)) << garbage;
  }
  // Well framed but unusable: 400, and the connection stays usable.
  Client c(port());
  auto res = c.get("/bad%zz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 400);
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\n\r\n"));  // HTTP/1.1 without Host
  res = c.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 400);
  res = c.get("/fine");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_EQ(server_->stats().bad_requests, 9u);
}

TEST_F(HttpServerTest, SlowClientsAreCutAtReadTimeoutWhileOthersAreServed) {
  ServerLimits limits;
  limits.read_timeout = 300ms;
  start(limits);
  const auto t0 = Clock::now();
  Client silent(port());  // sends nothing
  Client half(port());    // sends half a request
  ASSERT_TRUE(half.send("GET / HTTP/1.1\r\nHost: t\r\nX-Slow: "));
  Client trickle(port());  // one byte at a time, never finishing
  Client fast(port());

  // The fast client is served while the slow ones are still pending, not after they are cut.
  auto res = fast.get("/fast");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_EQ(server_->stats().timeouts, 0u);
  EXPECT_EQ(server_->stats().active, 4u);

  // The trickler's bytes keep arriving (every ~40 ms), yet the request deadline cuts it; the
  // fast client is served in between every time.
  const std::string request = "GET / HTTP/1.1\r\nHost: t\r\nX-Slow: yes\r\n";
  bool trickle_cut = false;
  int fast_served = 0;
  for (std::size_t i = 0; i < 100 && !trickle_cut; ++i) {
    trickle_cut =
        !trickle.send(std::string(1, request[i % request.size()])) || trickle.closed_within(40ms);
    res = fast.get("/fast");
    fast_served += (res && res->result_int() == 200) ? 1 : 0;
  }
  EXPECT_TRUE(trickle_cut);
  EXPECT_GE(fast_served, 3);
  EXPECT_TRUE(half.closed_within(2s));
  EXPECT_TRUE(silent.closed_within(2s));
  const auto elapsed = Clock::now() - t0;
  EXPECT_GE(elapsed, 290ms);  // not before the deadline
  EXPECT_LT(elapsed, 2s);
  // The fast client's keep-alive connection is still fine (idle_timeout is 30 s).
  res = fast.get("/again");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
  // The server counts a cut after the client sees it: wait for the counters.
  EXPECT_TRUE(wait_until([&] { return server_->stats().timeouts == 3; }));
  EXPECT_TRUE(wait_until([&] { return server_->stats().active == 1; }));
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosedAtIdleTimeout) {
  ServerLimits limits;
  limits.idle_timeout = 200ms;
  start(limits);
  Client c(port());
  ASSERT_TRUE(c.get("/"));
  const auto t0 = Clock::now();
  EXPECT_TRUE(c.closed_within(2s));
  EXPECT_GE(Clock::now() - t0, 150ms);
  EXPECT_EQ(server_->stats().timeouts, 0u);  // idle is not a timeout
}

TEST_F(HttpServerTest, ClientThatDoesNotReadIsCutAtWriteTimeout) {
  ServerLimits limits;
  limits.write_timeout = 200ms;
  const auto big = std::make_shared<const std::string>(16 * 1024 * 1024, 'b');
  start(limits, [big](const HttpRequest& req) {
    HttpResponse res;
    res.body = req.path == "/big" ? *big : "small";
    return res;
  });
  Client stuck(port(), /*receive_buffer=*/4096);
  ASSERT_TRUE(stuck.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n"));
  Client other(port());
  auto res = other.get("/small");  // served while the big write is stuck
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body(), "small");
  EXPECT_TRUE(wait_until([&] { return server_->stats().timeouts == 1; }));
  EXPECT_TRUE(wait_until([&] { return server_->stats().active == 1; }));
}

TEST_F(HttpServerTest, RefusesConnectionsBeyondMaxConnections) {
  ServerLimits limits;
  limits.max_connections = 2;
  start(limits);
  auto c1 = std::make_unique<Client>(port());
  Client c2(port());
  ASSERT_TRUE(c1->get("/1"));
  ASSERT_TRUE(c2.get("/2"));

  Client c3(port());
  const auto before = Clock::now();
  ASSERT_TRUE(c3.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto res = c3.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 503);
  EXPECT_FALSE(res->keep_alive());
  EXPECT_EQ((*res)[bhttp::field::retry_after], "1");
  EXPECT_TRUE(c3.closed_within(2s));
  EXPECT_LT(Clock::now() - before, 500ms);
  EXPECT_EQ(server_->stats().connections_rejected, 1u);
  EXPECT_EQ(server_->stats().active, 2u);

  // The admitted connections are unaffected; once one closes, a new client gets in.
  ASSERT_TRUE(c2.get("/2 again"));
  c1->close();
  c1.reset();
  ASSERT_TRUE(wait_until([&] { return server_->stats().active == 1; }));
  Client c4(port());
  res = c4.get("/4");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
}

TEST_F(HttpServerTest, HandlerExceptionGives500AndServerCarriesOn) {
  start({}, [](const HttpRequest& req) -> HttpResponse {
    if (req.path == "/throw") {
      throw std::runtime_error("boom");
    }
    if (req.path == "/bad-header") {
      HttpResponse res;
      res.headers["X-Split"] = "a\r\nSet-Cookie: evil=1";
      return res;
    }
    return echo(req);
  });
  Client c(port());
  for (const char* target : {"/throw", "/bad-header"}) {
    auto res = c.get(target);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 500) << target;
    EXPECT_EQ(res->body(), R"({"error": "internal error"})");
    EXPECT_EQ((*res)["Set-Cookie"], "");
  }
  auto res = c.get("/ok");  // same connection
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
}

TEST_F(HttpServerTest, HandlerHeadersAndServerOwnedFields) {
  start({}, [](const HttpRequest&) {
    HttpResponse res;
    res.status = 201;
    res.content_type = "application/json";
    res.body = "{}";
    res.headers["Cache-Control"] = "max-age=5";
    res.headers["Connection"] = "close";    // ignored: the server decides
    res.headers["Content-Length"] = "999";  // ignored outside HEAD
    res.headers["Location"] = "/x";
    return res;
  });
  Client c(port());
  auto res = c.get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 201);
  EXPECT_EQ((*res)[bhttp::field::cache_control], "max-age=5");
  EXPECT_EQ((*res)[bhttp::field::content_length], "2");
  EXPECT_EQ((*res)[bhttp::field::location], "/x");
  EXPECT_TRUE(res->keep_alive());
  EXPECT_TRUE(c.get("/"));
}

TEST_F(HttpServerTest, Expect100ContinueAndHttp10) {
  start();
  {
    Client c(port());
    ASSERT_TRUE(
        c.send("POST /e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
    auto interim = c.read();
    ASSERT_TRUE(interim);
    EXPECT_EQ(interim->result_int(), 100);
    ASSERT_TRUE(c.send("data"));
    auto res = c.read();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body(), "POST /e  body=data");
  }
  {
    Client c(port());
    ASSERT_TRUE(c.send("GET /old HTTP/1.0\r\n\r\n"));
    auto res = c.read();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->version(), 10u);
    EXPECT_FALSE(res->keep_alive());
    EXPECT_TRUE(c.closed_within(2s));
  }
  {
    Client c(port());
    ASSERT_TRUE(c.send("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto res = c.read();
    ASSERT_TRUE(res);
    EXPECT_TRUE(res->keep_alive());
    EXPECT_EQ((*res)[bhttp::field::connection], "keep-alive");
  }
}

TEST_F(HttpServerTest, ServesConcurrentClientsOnTwoIoThreads) {
  std::atomic<int> calls{0};
  start(
      {},
      [&calls](const HttpRequest& req) {
        ++calls;
        return echo(req);
      },
      /*io_threads=*/2);
  constexpr int kClients = 6;
  constexpr int kRequests = 25;
  std::atomic<int> good{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back([this, &good, t] {
      Client c(port());
      for (int i = 0; i < kRequests; ++i) {
        const std::string path = "/c/" + std::to_string(t) + "/" + std::to_string(i);
        auto res = c.get(path);
        if (res && res->body() == "GET " + path + "  body=") {
          ++good;
        }
      }
    });
  }
  for (auto& th : clients) {
    th.join();
  }
  EXPECT_EQ(good.load(), kClients * kRequests);
  EXPECT_EQ(calls.load(), kClients * kRequests);
  EXPECT_EQ(server_->stats().requests, static_cast<std::uint64_t>(kClients * kRequests));
}

TEST_F(HttpServerTest, StopClosesOpenConnectionsAndRunReturns) {
  start();
  Client idle(port());
  ASSERT_TRUE(idle.get("/"));  // keep-alive, now idle
  Client silent(port());
  Client half(port());
  ASSERT_TRUE(half.send("GET / HTTP/1.1\r\n"));
  ASSERT_TRUE(wait_until([&] { return server_->stats().active == 3; }));

  const auto t0 = Clock::now();
  EXPECT_TRUE(stop_and_join(1s));
  EXPECT_LT(Clock::now() - t0, 1s);
  EXPECT_TRUE(idle.closed_within(1s));
  EXPECT_TRUE(silent.closed_within(1s));
  EXPECT_TRUE(half.closed_within(1s));
  EXPECT_EQ(server_->stats().active, 0u);
  server_->stop();  // idempotent
}

TEST_F(HttpServerTest, ListenOnBusyPortSaysSo) {
  start();
  net::io_context other_ioc;
  HttpServer other(other_ioc, echo);
  try {
    other.listen("127.0.0.1", port());
    FAIL() << "listen on a busy port succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot listen on 127.0.0.1:" + std::to_string(port()) +
                                         ": Address already in use; is another backout-agent "
                                         "running?");
  }
  EXPECT_THROW(server_->listen("127.0.0.1", 0), std::runtime_error);  // listening already
}

// ---- starvation (issue 14, defect 3): 200 idle keep-alive connections held the 128 slots for
// 30 s and /healthz and /metrics answered 503 three times out of four ----

ServerLimits crowded_limits() {
  ServerLimits limits;
  limits.max_connections = 8;
  limits.evict_idle_after = 50ms;
  limits.reserved_paths = {"/healthz", "/metrics"};
  limits.reserved_connections = 2;
  return limits;
}

class HttpServerStarvationTest : public HttpServerTest {};

TEST_F(HttpServerStarvationTest, IdleConnectionsYieldTheirSlotsToNewcomers) {
  start(crowded_limits());
  std::vector<std::unique_ptr<Client>> hogs;
  for (int i = 0; i < 20; ++i) {
    hogs.push_back(std::make_unique<Client>(port()));
    ASSERT_TRUE(hogs.back()->get("/hog"));  // then idle, kept alive
  }
  std::this_thread::sleep_for(60ms);  // past evict_idle_after: every hog is evictable
  int ok = 0;
  for (int i = 0; i < 50; ++i) {
    Client c(port());
    auto res = c.get(i % 2 == 0 ? "/healthz" : "/metrics");
    ok += (res && res->result_int() == 200) ? 1 : 0;
    // A regular client too, now that idle connections give way.
    Client other(port());
    res = other.get("/api/v1/status");
    ok += (res && res->result_int() == 200) ? 1 : 0;
  }
  EXPECT_EQ(ok, 100);
  // The eight hogs that got a slot gave it up as newcomers came (the others were refused or
  // served once on a reserved slot while the first eight were not yet idle for 50 ms).
  EXPECT_GE(server_->stats().evicted, 1u);
  EXPECT_LE(server_->stats().active, 9u);
  int hogs_closed = 0;
  for (auto& h : hogs) {
    hogs_closed += h->closed_within(10ms) ? 1 : 0;
  }
  EXPECT_GE(hogs_closed, 12 + static_cast<int>(server_->stats().evicted));
}

TEST_F(HttpServerStarvationTest, SlowClientsHoldingPartialHeadersLeaveTheReservedShare) {
  start(crowded_limits());
  std::vector<std::unique_ptr<Client>> slow;
  for (int i = 0; i < 8; ++i) {
    slow.push_back(std::make_unique<Client>(port()));
    ASSERT_TRUE(slow.back()->send("GET / HTTP/1.1\r\nHost: t\r\nX-Slow: "));
  }
  ASSERT_TRUE(wait_until([&] { return server_->stats().active == 8; }));
  // Busy connections are never evicted; /healthz and /metrics get a reserved slot, once each.
  for (int i = 0; i < 20; ++i) {
    Client c(port());
    auto res = c.get(i % 2 == 0 ? "/healthz" : "/metrics");
    ASSERT_TRUE(res) << i;
    EXPECT_EQ(res->result_int(), 200);
    EXPECT_FALSE(res->keep_alive());
    EXPECT_TRUE(c.closed_within(2s));
  }
  // Other paths on a reserved slot: 503 with Retry-After.
  Client other(port());
  auto res = other.get("/api/v1/ack");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 503);
  EXPECT_EQ((*res)[bhttp::field::retry_after], "1");
  EXPECT_EQ(server_->stats().reserved_served, 20u);
  EXPECT_EQ(server_->stats().evicted, 0u);
}

TEST_F(HttpServerStarvationTest, HealthzAnswersThroughAReconnectFlood) {
  start(crowded_limits(), echo, /*io_threads=*/2);
  std::atomic<bool> stop{false};
  std::atomic<int> flooded{0};
  // A flood of connections that send nothing, each held until 30 later ones are open: more than
  // every regular and reserved slot, renewed all the time. Bounded: 2,000 connections.
  auto flood = std::async(std::launch::async, [&] {
    std::deque<std::unique_ptr<Client>> held;
    for (int i = 0; i < 2000 && !stop; ++i) {
      try {
        held.push_back(std::make_unique<Client>(port()));
        ++flooded;
      } catch (const std::exception&) {
      }
      if (held.size() > 30) {
        held.front()->close();
        held.pop_front();
      }
    }
  });
  int ok = 0;
  int tries = 0;
  for (; tries < 100; ++tries) {
    Client c(port());
    auto res = c.get(tries % 2 == 0 ? "/healthz" : "/metrics");
    ok += (res && res->result_int() == 200) ? 1 : 0;
  }
  stop = true;
  flood.wait();
  EXPECT_GE(flooded.load(), 100) << "the flood ran alongside";
  // Before the reserved share, 1 in 100 answered. 95-100 answer on an idle machine; a probe
  // whose request the server has not read yet can lose its reserved slot to the flood, which
  // under a fully loaded CI machine cost up to 7 of 100 (measured with ctest -j2).
  EXPECT_GE(ok, 85) << ok << " of " << tries;
}

}  // namespace
}  // namespace backout::agent::http
