// HttpClient against real servers on loopback (TestHttpServer, port 0), plain and TLS, with the
// misbehaviours it must survive. The client and the servers share one io_context that the test
// runs on its own thread with bounded waits; the only waits that last are the short timeouts
// under test.
#include "backout/net/http_client.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "support/test_http_server.h"

namespace backout::net {
namespace {

using namespace std::chrono_literals;
using testing::TestHttpServer;
using testing::TestRequest;
using testing::TestResponse;
using Kind = FetchError::Kind;

struct Result {
  int calls = 0;
  FetchError error;
  HttpClientResponse response;
};

class HttpClientTest : public ::testing::Test {
 protected:
  // Starts a fetch; the returned result fills in when the callback runs.
  std::shared_ptr<Result> start(HttpClientRequest request, HttpClient* client = nullptr) {
    auto out = std::make_shared<Result>();
    (client != nullptr ? client : &client_)
        ->fetch(std::move(request), [out](const FetchError& e, HttpClientResponse r) {
          ++out->calls;
          out->error = e;
          out->response = std::move(r);
        });
    return out;
  }

  Result fetch(HttpClientRequest request) {
    auto out = start(std::move(request));
    EXPECT_TRUE(testing::run_until(ioc_, [&] { return out->calls > 0; }));
    return *out;
  }

  Result get(const std::string& url, std::size_t max_body = 16u << 20) {
    HttpClientRequest r;
    r.url = url;
    r.max_body_bytes = max_body;
    return fetch(std::move(r));
  }

  boost::asio::io_context ioc_;
  HttpClient client_{ioc_.get_executor()};
};

TestResponse text(std::string body, int status = 200) {
  TestResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

TestResponse redirect_to(const std::string& location, int status = 302) {
  TestResponse r;
  r.status = status;
  r.headers = {{"Location", location}};
  return r;
}

TEST_F(HttpClientTest, GetReturnsStatusHeadersAndBody) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    TestResponse r = text("hello", 203);
    r.headers = {{"X-Test", "yes"}};
    return r;
  });
  HttpClientRequest req;
  req.url = server.url("/metrics?x=1");
  req.headers = {{"X-Custom", "1"}};
  const Result res = fetch(req);

  ASSERT_FALSE(res.error) << res.error.message;
  EXPECT_EQ(res.response.status, 203);
  EXPECT_EQ(res.response.body, "hello");
  EXPECT_EQ(res.response.headers.at("x-test"), "yes");  // names are case-insensitive
  EXPECT_GT(res.response.duration.count(), 0);
  ASSERT_EQ(server.requests().size(), 1u);
  const TestRequest& seen = server.requests()[0];
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/metrics?x=1");
  EXPECT_EQ(seen.header("Host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(seen.header("User-Agent"), "backout-agent");
  EXPECT_EQ(seen.header("Connection"), "close");
  EXPECT_EQ(seen.header("Accept-Encoding"), "gzip, deflate");
  EXPECT_EQ(seen.header("X-Custom"), "1");
}

TEST_F(HttpClientTest, PostSendsBodyAndHeadReadsNoBody) {
  TestHttpServer server(ioc_, [](const TestRequest& r) { return text("echo:" + r.body); });
  HttpClientRequest post;
  post.method = "POST";
  post.url = server.url("/hook");
  post.body = R"({"text":"hi"})";
  post.accept_gzip = false;
  const Result posted = fetch(post);
  ASSERT_FALSE(posted.error) << posted.error.message;
  EXPECT_EQ(posted.response.body, R"(echo:{"text":"hi"})");
  EXPECT_EQ(server.requests()[0].header("Content-Length"), "13");
  EXPECT_EQ(server.requests()[0].header("Accept-Encoding"), "");

  HttpClientRequest head;
  head.method = "HEAD";
  head.url = server.url("/");
  const Result headed = fetch(head);
  ASSERT_FALSE(headed.error) << headed.error.message;
  EXPECT_EQ(headed.response.status, 200);
  EXPECT_EQ(headed.response.body, "");
  EXPECT_EQ(server.requests()[1].method, "HEAD");
}

TEST_F(HttpClientTest, DecodesGzipAndDeflate) {
  const std::string body(100000, 'x');
  TestHttpServer server(ioc_, [&](const TestRequest& r) {
    TestResponse res = text(body);
    res.encoding =
        r.target == "/gzip" ? TestResponse::Encoding::kGzip : TestResponse::Encoding::kDeflate;
    return res;
  });
  for (const char* path : {"/gzip", "/deflate"}) {
    const Result res = get(server.url(path));
    ASSERT_FALSE(res.error) << path << ": " << res.error.message;
    EXPECT_EQ(res.response.body, body) << path;
    EXPECT_EQ(res.response.headers.count("Content-Encoding"), 0u) << path;
  }
}

TEST_F(HttpClientTest, GzipBombStopsAtTheDecodedLimit) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    TestResponse r = text(std::string(32u << 20, '\0'));  // 32 MiB of zeros: ~32 KiB on the wire
    r.encoding = TestResponse::Encoding::kGzip;
    return r;
  });
  const Result res = get(server.url("/metrics"), 1u << 20);
  EXPECT_EQ(res.error.kind, Kind::kTooLarge) << res.error.message;
  EXPECT_EQ(res.error.reason, "response body over 1 MiB decoded");
  EXPECT_TRUE(res.response.body.empty());
}

TEST_F(HttpClientTest, OversizedBodyFailsWithAndWithoutContentLength) {
  TestHttpServer server(ioc_, [](const TestRequest& r) {
    const std::string big(2u << 20, 'x');
    if (r.target == "/length") {
      return text(big);
    }
    TestResponse res;  // no length: the body runs to the end of the connection
    res.raw = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + big;
    return res;
  });
  for (const char* path : {"/length", "/eof"}) {
    const Result res = get(server.url(path), 1u << 20);
    EXPECT_EQ(res.error.kind, Kind::kTooLarge) << path << ": " << res.error.message;
    // With a length it is refused at the header, and says so; without, when the limit is hit.
    EXPECT_EQ(res.error.reason, std::string(path) == "/length"
                                    ? "response body over 1 MiB (Content-Length 2097152)"
                                    : "response body over 1 MiB")
        << path;
  }
}

// A plain body announced over the limit is refused at the header: the 10 bytes sent of it and
// the connection closed early make no difference, the announced length is enough.
TEST_F(HttpClientTest, AnnouncedOversizedBodyIsRefusedAtTheHeader) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    TestResponse res;
    res.raw = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string((1u << 20) + 100) +
              "\r\nConnection: close\r\n\r\n0123456789";
    return res;
  });
  const Result res = get(server.url("/metrics"), 1u << 20);
  EXPECT_EQ(res.error.kind, Kind::kTooLarge) << res.error.message;
  EXPECT_EQ(res.error.reason, "response body over 1 MiB (Content-Length 1048676)");
}

// A 304 announces the length of the resource it does not send: no body, nothing too large.
TEST_F(HttpClientTest, NotModifiedWithTheResourcesLengthIsNoOversizedBody) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    TestResponse res;
    res.raw = "HTTP/1.1 304 Not Modified\r\nContent-Length: 99999999\r\n\r\n";
    return res;
  });
  const Result res = get(server.url("/asset"), 1u << 20);
  ASSERT_FALSE(res.error) << res.error.message;
  EXPECT_EQ(res.response.status, 304);
  EXPECT_TRUE(res.response.body.empty());
}

TEST_F(HttpClientTest, ServerThatNeverAnswersTimesOut) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    TestResponse r;
    r.mode = TestResponse::Mode::kNeverAnswer;
    return r;
  });
  HttpClientRequest req;
  req.url = server.url("/metrics");
  req.timeout = 200ms;
  const Result res = fetch(req);
  EXPECT_EQ(res.error.kind, Kind::kTimeout);
  EXPECT_EQ(res.error.reason, "timeout after 200ms");
  EXPECT_EQ(res.error.message, "GET " + server.url("/metrics") + ": timeout after 200ms");
  EXPECT_GE(res.response.duration, 200ms);
  EXPECT_LT(res.response.duration, 2s);
  // The client let go of the connection.
  EXPECT_TRUE(testing::run_until(ioc_, [&] { return server.connections_closed() == 1; }));
}

TEST_F(HttpClientTest, TricklingServerHitsTheOverallTimeout) {
  // Every byte arrives within 20 ms, so only a deadline for the whole exchange stops it.
  TestHttpServer server(ioc_, [](const TestRequest&) {
    TestResponse r = text(std::string(1000, 'x'));
    r.mode = TestResponse::Mode::kTrickle;
    return r;
  });
  HttpClientRequest req;
  req.url = server.url("/");
  req.timeout = 300ms;
  const Result res = fetch(req);
  EXPECT_EQ(res.error.kind, Kind::kTimeout) << res.error.message;
  EXPECT_LT(res.response.duration, 2s);
}

TEST_F(HttpClientTest, ConnectionRefusedSaysWhereWithoutTheQuery) {
  const std::uint16_t port = testing::unused_loopback_port();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  const Result res = get(base + "/metrics?token=s3cret");
  EXPECT_EQ(res.error.kind, Kind::kConnect);
  EXPECT_EQ(res.error.reason, "connect 127.0.0.1:" + std::to_string(port) + ": Connection refused");
  EXPECT_EQ(res.error.message, "GET " + base + "/metrics: " + res.error.reason);
  EXPECT_EQ(res.error.message.find("s3cret"), std::string::npos);
}

TEST_F(HttpClientTest, RedactedPathStaysOutOfMessages) {
  const std::uint16_t port = testing::unused_loopback_port();
  HttpClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/services/T0/B0/s3cret";
  req.redact_path = true;
  const Result res = fetch(req);
  EXPECT_EQ(res.error.kind, Kind::kConnect);
  EXPECT_EQ(res.error.message.find("s3cret"), std::string::npos) << res.error.message;
  EXPECT_NE(res.error.message.find("http://127.0.0.1:" + std::to_string(port) + ":"),
            std::string::npos)
      << res.error.message;
}

TEST_F(HttpClientTest, BadUrlsFailAfterFetchReturns) {
  for (const char* url : {"ftp://127.0.0.1/x", "not a url", "http://user:s3cret@127.0.0.1/",
                          "http://127.0.0.1:99999/"}) {
    auto res = start(HttpClientRequest{.url = url});
    EXPECT_EQ(res->calls, 0) << "the callback ran inside fetch() for " << url;
    ASSERT_TRUE(testing::run_until(ioc_, [&] { return res->calls > 0; }));
    EXPECT_EQ(res->error.kind, Kind::kBadUrl) << url;
    EXPECT_EQ(res->error.message.find("s3cret"), std::string::npos) << res->error.message;
  }
}

TEST_F(HttpClientTest, TruncatedAndMalformedResponsesAreErrors) {
  TestHttpServer server(ioc_, [](const TestRequest& r) {
    TestResponse res;
    res.raw = r.target == "/short" ? "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"
                                   : "this is not HTTP\r\n\r\n";
    return res;
  });
  const Result truncated = get(server.url("/short"));
  EXPECT_EQ(truncated.error.kind, Kind::kConnect) << truncated.error.message;
  EXPECT_EQ(truncated.error.reason, "connection closed in the middle of the response");
  const Result garbage = get(server.url("/garbage"));
  EXPECT_EQ(garbage.error.kind, Kind::kProtocol) << garbage.error.message;
}

TEST_F(HttpClientTest, TlsWithTrustedCaFile) {
  TestHttpServer server(ioc_, [](const TestRequest&) { return text("secure"); }, {.tls = true});
  HttpClientRequest req;
  req.ca_file = testing::localhost_certificate().cert_file;
  // By address (verified against the IP SAN) and by name (SNI, DNS SAN).
  for (const std::string& url :
       {server.url("/"), "https://localhost:" + std::to_string(server.port()) + "/"}) {
    req.url = url;
    const Result res = fetch(req);
    ASSERT_FALSE(res.error) << url << ": " << res.error.message;
    EXPECT_EQ(res.response.body, "secure");
  }
}

TEST_F(HttpClientTest, TlsWithUntrustedCertificateFails) {
  TestHttpServer server(ioc_, [](const TestRequest&) { return text("secure"); }, {.tls = true});
  const Result res = get(server.url("/"));  // the system's CAs do not know our certificate
  EXPECT_EQ(res.error.kind, Kind::kTls);
  EXPECT_EQ(res.error.reason.rfind("TLS: certificate verify failed", 0), 0u) << res.error.reason;
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(HttpClientTest, TlsWithTrustedCertificateForAnotherHostFails) {
  TestHttpServer server(ioc_, [](const TestRequest&) { return text("secure"); },
                        {.tls = true, .certificate = testing::other_host_certificate()});
  HttpClientRequest req;
  req.url = server.url("/");
  req.ca_file = testing::other_host_certificate().cert_file;
  const Result res = fetch(req);
  EXPECT_EQ(res.error.kind, Kind::kTls);
  EXPECT_NE(res.error.reason.find("mismatch"), std::string::npos) << res.error.reason;
}

TEST_F(HttpClientTest, TlsBodyEndingAtConnectionCloseIsAccepted) {
  // The server closes without a TLS close_notify, as many do.
  TestHttpServer server(ioc_,
                        [](const TestRequest&) {
                          TestResponse r;
                          r.raw = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end";
                          return r;
                        },
                        {.tls = true});
  HttpClientRequest req;
  req.url = server.url("/");
  req.ca_file = testing::localhost_certificate().cert_file;
  const Result res = fetch(req);
  ASSERT_FALSE(res.error) << res.error.message;
  EXPECT_EQ(res.response.body, "until the end");
}

TEST_F(HttpClientTest, RedirectsAreFollowedOnlyWhenAsked) {
  TestHttpServer server(ioc_, [](const TestRequest& r) {
    if (r.target == "/old") {
      return redirect_to("/new");
    }
    if (r.target == "/loop") {
      return redirect_to("/loop");
    }
    return text("moved here");
  });
  HttpClientRequest req;
  req.url = server.url("/old");
  const Result plain = fetch(req);
  ASSERT_FALSE(plain.error) << plain.error.message;
  EXPECT_EQ(plain.response.status, 302);
  EXPECT_EQ(plain.response.headers.at("location"), "/new");

  req.follow_redirects = true;
  const Result followed = fetch(req);
  ASSERT_FALSE(followed.error) << followed.error.message;
  EXPECT_EQ(followed.response.status, 200);
  EXPECT_EQ(followed.response.body, "moved here");

  req.url = server.url("/loop");
  req.max_redirects = 3;
  const std::size_t before = server.requests().size();
  const Result looped = fetch(req);
  EXPECT_EQ(looped.error.kind, Kind::kProtocol);
  EXPECT_EQ(looped.error.reason, "more than 3 redirects");
  EXPECT_EQ(server.requests().size() - before, 4u);
}

TEST_F(HttpClientTest, SeeOtherTurnsPostIntoGet) {
  TestHttpServer server(ioc_, [](const TestRequest& r) {
    return r.target == "/submit" ? redirect_to("/result", 303) : text(r.method + ":" + r.body);
  });
  HttpClientRequest req;
  req.method = "POST";
  req.body = "payload";
  req.url = server.url("/submit");
  req.follow_redirects = true;
  const Result res = fetch(req);
  ASSERT_FALSE(res.error) << res.error.message;
  EXPECT_EQ(res.response.body, "GET:");
}

TEST_F(HttpClientTest, CredentialsDoNotFollowARedirectToAnotherOrigin) {
  TestHttpServer other(ioc_, [](const TestRequest&) { return text("elsewhere"); });
  // 127.0.0.1 and localhost are different origins even when they are the same machine.
  const std::string elsewhere = "http://localhost:" + std::to_string(other.port()) + "/x";
  TestHttpServer server(ioc_, [&](const TestRequest& r) {
    return r.target == "/same" ? redirect_to("/cross") : redirect_to(elsewhere);
  });
  HttpClientRequest req;
  req.url = server.url("/same");
  req.follow_redirects = true;
  req.headers = {{"Authorization", "Bearer s3cret"}};
  const Result res = fetch(req);
  ASSERT_FALSE(res.error) << res.error.message;
  EXPECT_EQ(res.response.body, "elsewhere");
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[0].header("Authorization"), "Bearer s3cret");
  EXPECT_EQ(server.requests()[1].header("Authorization"), "Bearer s3cret");  // same origin
  ASSERT_EQ(other.requests().size(), 1u);
  EXPECT_EQ(other.requests()[0].header("Authorization"), "");
}

TEST_F(HttpClientTest, CancelEndsRequestsExactlyOnce) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    TestResponse r;
    r.mode = TestResponse::Mode::kNeverAnswer;
    return r;
  });
  HttpClientRequest req;
  req.url = server.url("/");
  req.timeout = 10s;
  auto first = std::make_shared<Result>();
  const auto first_id = client_.fetch(req, [first](const FetchError& e, HttpClientResponse) {
    ++first->calls;
    first->error = e;
  });
  auto second = start(req);
  ASSERT_TRUE(testing::run_until(ioc_, [&] { return server.requests().size() == 2; }));

  client_.cancel(first_id);
  ASSERT_TRUE(testing::run_until(ioc_, [&] { return first->calls > 0; }));
  EXPECT_EQ(first->error.kind, Kind::kCancelled);
  EXPECT_EQ(second->calls, 0);

  client_.cancel_all();
  ASSERT_TRUE(testing::run_until(ioc_, [&] { return second->calls > 0; }));
  EXPECT_EQ(second->error.kind, Kind::kCancelled);
  client_.cancel(first_id);  // finished: ignored

  // Nothing is left to run once the server is gone, and no callback ran twice.
  server.stop();
  EXPECT_TRUE(testing::run_until_idle(ioc_));
  EXPECT_EQ(first->calls, 1);
  EXPECT_EQ(second->calls, 1);
}

TEST_F(HttpClientTest, DestroyingTheClientCancelsItsRequests) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    TestResponse r;
    r.mode = TestResponse::Mode::kNeverAnswer;
    return r;
  });
  std::shared_ptr<Result> res;
  {
    HttpClient client(ioc_.get_executor());
    res = start(HttpClientRequest{.url = server.url("/"), .timeout = 10s}, &client);
    ASSERT_TRUE(testing::run_until(ioc_, [&] { return server.requests().size() == 1; }));
  }
  ASSERT_TRUE(testing::run_until(ioc_, [&] { return res->calls > 0; }));
  EXPECT_EQ(res->error.kind, Kind::kCancelled);
  server.stop();
  EXPECT_TRUE(testing::run_until_idle(ioc_));
  EXPECT_EQ(res->calls, 1);
}

}  // namespace
}  // namespace backout::net
