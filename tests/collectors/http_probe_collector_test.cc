// The http probe collector, built through the builtin registry, against real servers on
// loopback (TestHttpServer, port 0) into a RecordingSink. One io_context, driven by the test with
// bounded waits; `every` is 100 ms so that periodic behaviour shows quickly.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "backout/collectors/collector.h"
#include "backout/net/http_client.h"
#include "collector_fixture.h"
#include "support/recording_sink.h"
#include "support/test_http_server.h"

namespace backout::collectors {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::TestHttpServer;
using testing::TestRequest;
using testing::TestResponse;

TestResponse reply(int status, std::string body = "") {
  TestResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

class HttpProbeCollectorTest : public testing_support::CollectorFixture {
 protected:
  HttpProbeCollectorTest() { secrets_ = testing_support::only_secret("PROBE_TOKEN", "s3cret"); }

  static Source source(const std::string& url) {
    Source s;
    s.id = "home_page";
    s.kind = "http";
    s.options.set("url", url);
    s.options.set("method", std::string("GET"));
    s.options.set("every", Duration(100ms));
    s.options.set("timeout", Duration(1s));
    s.options.set("follow_redirects", false);
    return s;
  }

  // Runs one probe of `s` to its first attempt and stops it.
  testing::RecordingSink::Attempt probe_once(const Source& s) {
    const std::size_t before = sink_.attempt_count();
    auto c = start(s);
    EXPECT_TRUE(testing::run_until(ioc_, [&] { return sink_.attempt_count() > before; }));
    stop(*c);
    return sink_.attempts().at(before);
  }
};

TEST_F(HttpProbeCollectorTest, UpWithStatusAndDurationEveryAttempt) {
  TestHttpServer server(ioc_, [](const TestRequest&) { return reply(200, "fine"); });
  auto c = start(source(server.url("/health")));
  ASSERT_TRUE(testing::run_until(ioc_, [&] { return sink_.attempt_count() >= 2; }));
  for (const auto& a : sink_.attempts()) {
    EXPECT_TRUE(a.outcome.up) << a.outcome.error;
    EXPECT_EQ(a.outcome.error, "");
    EXPECT_EQ(a.value("up"), 1.0);
    EXPECT_EQ(a.value("status"), 200.0);
    ASSERT_TRUE(a.value("duration").has_value());
    EXPECT_GT(*a.value("duration"), 0.0);
    EXPECT_DOUBLE_EQ(*a.value("duration"), to_seconds(a.outcome.duration));
  }
  EXPECT_EQ(server.requests()[0].target, "/health");
}

TEST_F(HttpProbeCollectorTest, StatusIsJudgedByExpectStatusOrAny2xx) {
  TestHttpServer server(ioc_, [](const TestRequest& r) {
    return r.target == "/down" ? reply(503) : r.target == "/gone" ? reply(404) : reply(204);
  });
  Source down = source(server.url("/down"));
  down.options.set("expect_status", std::vector<std::int64_t>{200});
  const auto& a = probe_once(down);
  EXPECT_FALSE(a.outcome.up);
  EXPECT_EQ(a.outcome.error, "HTTP 503, expected 200");
  EXPECT_EQ(a.value("status"), 503.0);
  EXPECT_EQ(a.value("up"), 0.0);

  Source gone = source(server.url("/gone"));
  EXPECT_EQ(probe_once(gone).outcome.error, "HTTP 404, expected 2xx");
  gone.options.set("expect_status", std::vector<std::int64_t>{200, 404, 410});
  EXPECT_TRUE(probe_once(gone).outcome.up);

  EXPECT_TRUE(probe_once(source(server.url("/empty"))).outcome.up);  // 204 is 2xx
  Source only200 = source(server.url("/empty"));
  only200.options.set("expect_status", std::vector<std::int64_t>{200, 201});
  EXPECT_EQ(probe_once(only200).outcome.error, "HTTP 204, expected 200 or 201");
}

TEST_F(HttpProbeCollectorTest, BodyIsSearchedWithExpectBody) {
  TestHttpServer server(ioc_, [](const TestRequest& r) {
    if (r.target == "/big") {  // one long line, as a minified JSON document is
      return reply(200, "{\"pad\":\"" + std::string(300000, 'a') + "\",\"status\":\"ok\"}");
    }
    return reply(200, r.target == "/ok" ? R"({"status": "ok"})" : R"({"status": "degraded"})");
  });
  Source ok = source(server.url("/ok"));
  ok.options.set("expect_body", std::string(R"("status":\s*"ok")"));
  EXPECT_TRUE(probe_once(ok).outcome.up);

  Source degraded = source(server.url("/degraded"));
  degraded.options.set("expect_body", std::string(R"("status":\s*"ok")"));
  const auto& a = probe_once(degraded);
  EXPECT_FALSE(a.outcome.up);
  EXPECT_EQ(a.outcome.error, "body does not match expect_body");
  EXPECT_EQ(a.value("status"), 200.0);

  // std::regex would overflow the stack here; the probe must simply answer.
  Source big = source(server.url("/big"));
  big.options.set("expect_body", std::string(R"(.*"status":"ok")"));
  EXPECT_TRUE(probe_once(big).outcome.up);
}

TEST_F(HttpProbeCollectorTest, RedirectsAreJudgedOrFollowed) {
  TestHttpServer server(ioc_, [](const TestRequest& r) {
    if (r.target == "/") {
      TestResponse res = reply(302);
      res.headers = {{"Location", "/home"}};
      return res;
    }
    return reply(200, "home");
  });
  Source s = source(server.url("/"));
  const auto& judged = probe_once(s);
  EXPECT_FALSE(judged.outcome.up);
  EXPECT_EQ(judged.outcome.error, "HTTP 302, expected 2xx");
  EXPECT_EQ(judged.value("status"), 302.0);

  s.options.set("follow_redirects", true);
  const auto& followed = probe_once(s);
  EXPECT_TRUE(followed.outcome.up) << followed.outcome.error;
  EXPECT_EQ(followed.value("status"), 200.0);
}

TEST_F(HttpProbeCollectorTest, TimeoutCountsTheWholeTimeoutAndProbingGoesOn) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    TestResponse r;
    r.mode = TestResponse::Mode::kNeverAnswer;
    return r;
  });
  Source s = source(server.url("/slow"));
  s.options.set("timeout", Duration(200ms));
  auto c = start(s);
  ASSERT_TRUE(testing::run_until(ioc_, [&] { return sink_.attempt_count() >= 2; }));
  for (const auto& a : sink_.attempts()) {
    EXPECT_FALSE(a.outcome.up);
    EXPECT_EQ(a.outcome.error, "timeout after 200ms");
    EXPECT_EQ(a.value("status"), 0.0);
    EXPECT_DOUBLE_EQ(a.value("duration").value_or(0), 0.2);
  }
}

TEST_F(HttpProbeCollectorTest, PostSendsBodyHeadersAndToken) {
  TestHttpServer server(ioc_, [](const TestRequest&) { return reply(201); });
  Source s = source(server.url("/api/login"));
  s.options.set("method", std::string("POST"));
  s.options.set("body", std::string(R"({"user":"probe"})"));
  s.options.set("headers", std::map<std::string, std::string>{{"X-Probe", "backout"}});
  s.options.set_secret("bearer_token", {SecretRef::From::kEnv, "PROBE_TOKEN"});
  EXPECT_TRUE(probe_once(s).outcome.up);
  const TestRequest& req = server.requests().at(0);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.body, R"({"user":"probe"})");
  EXPECT_EQ(req.header("X-Probe"), "backout");
  EXPECT_EQ(req.header("Authorization"), "Bearer s3cret");
}

TEST_F(HttpProbeCollectorTest, TlsVerification) {
  TestHttpServer server(ioc_, [](const TestRequest&) { return reply(200); }, {.tls = true});
  Source trusted = source(server.url("/"));
  trusted.options.set("ca_file", testing::localhost_certificate().cert_file);
  EXPECT_TRUE(probe_once(trusted).outcome.up);

  const auto& a = probe_once(source(server.url("/")));
  EXPECT_FALSE(a.outcome.up);
  EXPECT_EQ(a.outcome.error.rfind("TLS: certificate verify failed", 0), 0u) << a.outcome.error;
  EXPECT_EQ(a.value("status"), 0.0);
}

TEST_F(HttpProbeCollectorTest, ConnectionRefusedIsDownAndProbingGoesOn) {
  const std::string port = std::to_string(testing::unused_loopback_port());
  auto c = start(source("http://127.0.0.1:" + port + "/"));
  ASSERT_TRUE(testing::run_until(ioc_, [&] { return sink_.attempt_count() >= 3; }));
  for (const auto& a : sink_.attempts()) {
    EXPECT_FALSE(a.outcome.up);
    EXPECT_EQ(a.outcome.error, "connect 127.0.0.1:" + port + ": Connection refused");
    EXPECT_EQ(a.value("status"), 0.0);
  }
}

TEST_F(HttpProbeCollectorTest, StopDuringAProbeEndsEverything) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    TestResponse r;
    r.mode = TestResponse::Mode::kNeverAnswer;
    return r;
  });
  Source s = source(server.url("/"));
  s.options.set("timeout", Duration(10s));  // so that only stop() can end the request soon
  auto c = start(s);
  ASSERT_TRUE(testing::run_until(ioc_, [&] { return server.requests().size() == 1; }));
  stop(*c);
  const std::size_t calls = sink_.calls();
  ASSERT_TRUE(testing::run_until(
      ioc_, [&] { return server.connections_closed() == 1; }, 2s));
  server.stop();
  EXPECT_TRUE(testing::run_until_idle(ioc_));
  EXPECT_EQ(sink_.calls(), calls);
  EXPECT_EQ(sink_.attempt_count(), 0u);
}

}  // namespace
}  // namespace backout::collectors
