// The prometheus collector, built through the builtin registry, scraping real servers on
// loopback (TestHttpServer, port 0) into a RecordingSink. Everything runs on one io_context the
// test drives with bounded waits; `every` is 100 ms so that periodic behaviour shows quickly.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
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

constexpr char kBody[] =
    "# HELP http_requests_total Requests served.\n"
    "# TYPE http_requests_total counter\n"
    "http_requests_total{code=\"200\",path=\"/login\"} 1027\n"
    "http_requests_total{code=\"503\",path=\"/login\"} 3\n"
    "process_start_time_seconds 1.7e9\n";

TestResponse metrics(std::string body = kBody) {
  TestResponse r;
  r.body = std::move(body);
  r.headers = {{"Content-Type", "text/plain; version=0.0.4"}};
  return r;
}

TestResponse silent() {
  TestResponse r;
  r.mode = TestResponse::Mode::kNeverAnswer;
  return r;
}

class PrometheusCollectorTest : public testing_support::CollectorFixture {
 protected:
  PrometheusCollectorTest() { secrets_ = testing_support::only_secret("PORTAL_TOKEN", "s3cret"); }

  static Source source(const std::string& url) {
    Source s;
    s.id = "portal";
    s.kind = "prometheus";
    s.options.set("url", url);
    s.options.set("every", Duration(100ms));
    s.options.set("timeout", Duration(1s));
    s.options.set("max_body_bytes", std::int64_t{1 << 20});
    s.options.set("max_series", std::int64_t{1000});
    return s;
  }
};

TEST_F(PrometheusCollectorTest, DeliversEverySampleThenUpAndScrapesAgain) {
  TestHttpServer server(ioc_, [](const TestRequest&) { return metrics(); });
  auto c = start(source(server.url("/metrics")));
  ASSERT_TRUE(wait_attempts(2));

  const auto& first = sink_.attempts()[0];
  EXPECT_TRUE(first.outcome.up) << first.outcome.error;
  EXPECT_EQ(first.outcome.samples, 3u);
  EXPECT_EQ(first.outcome.malformed, 0u);
  EXPECT_EQ(first.outcome.error, "");
  EXPECT_EQ(first.value("http_requests_total", {{"code", "503"}, {"path", "/login"}}), 3.0);
  EXPECT_EQ(first.value("http_requests_total", {{"path", "/login"}, {"code", "200"}}), 1027.0);
  EXPECT_EQ(first.value("process_start_time_seconds"), 1.7e9);
  ASSERT_EQ(first.records.size(), 5u);
  EXPECT_EQ(first.records[3].metric, "up");  // after the samples
  EXPECT_EQ(first.records[3].value, 1.0);
  EXPECT_EQ(first.records[4].metric, "duration");
  EXPECT_GT(first.records[4].value, 0.0);
  EXPECT_TRUE(sink_.attempts()[1].outcome.up);

  const TestRequest& req = server.requests()[0];
  EXPECT_EQ(req.target, "/metrics");
  EXPECT_NE(req.header("Accept").find("text/plain"), std::string::npos);
  EXPECT_EQ(req.header("Authorization"), "");
}

TEST_F(PrometheusCollectorTest, GzipScrape) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    TestResponse r = metrics();
    r.encoding = TestResponse::Encoding::kGzip;
    return r;
  });
  auto c = start(source(server.url("/metrics")));
  ASSERT_TRUE(wait_attempts(1));
  EXPECT_TRUE(sink_.last().outcome.up) << sink_.last().outcome.error;
  EXPECT_EQ(sink_.last().outcome.samples, 3u);
  EXPECT_EQ(sink_.last().value("process_start_time_seconds"), 1.7e9);
  EXPECT_NE(server.requests()[0].header("Accept-Encoding").find("gzip"), std::string::npos);
}

TEST_F(PrometheusCollectorTest, MalformedLinesAreCountedAndGoodOnesDelivered) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    return metrics("good_one 1\nbad{code=\"503\" 2\ngood_two{a=\"b\"} 2\nnot a sample\n");
  });
  auto c = start(source(server.url("/metrics")));
  ASSERT_TRUE(wait_attempts(1));
  const auto& a = sink_.last();
  EXPECT_TRUE(a.outcome.up);
  EXPECT_EQ(a.outcome.samples, 2u);
  EXPECT_EQ(a.outcome.malformed, 2u);
  EXPECT_EQ(a.value("good_one"), 1.0);
  EXPECT_EQ(a.value("good_two", {{"a", "b"}}), 2.0);
}

TEST_F(PrometheusCollectorTest, SeriesBeyondMaxSeriesAreDroppedAndCounted) {
  TestHttpServer server(ioc_, [](const TestRequest&) { return metrics(); });
  Source s = source(server.url("/metrics"));
  s.options.set("max_series", std::int64_t{2});
  auto c = start(s);
  ASSERT_TRUE(wait_attempts(1));
  EXPECT_TRUE(sink_.last().outcome.up);
  EXPECT_EQ(sink_.last().outcome.samples, 2u);
  EXPECT_EQ(sink_.last().outcome.dropped, 1u);
  EXPECT_FALSE(sink_.last().value("process_start_time_seconds").has_value());
}

TEST_F(PrometheusCollectorTest, OversizedBodyIsDown) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    return metrics(std::string(4096, '#') + "\nsome_metric 1\n");
  });
  Source s = source(server.url("/metrics"));
  s.options.set("max_body_bytes", std::int64_t{1024});
  auto c = start(s);
  ASSERT_TRUE(wait_attempts(1));
  const auto& a = sink_.last();
  EXPECT_FALSE(a.outcome.up);
  EXPECT_EQ(a.outcome.error, "response body over 1 KiB (Content-Length 4111)");
  ASSERT_EQ(a.records.size(), 2u);  // up and duration only
  EXPECT_EQ(a.value("up"), 0.0);
  EXPECT_FALSE(a.value("some_metric").has_value());
}

TEST_F(PrometheusCollectorTest, ErrorStatusIsDown) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    TestResponse r = metrics();
    r.status = 503;
    return r;
  });
  auto c = start(source(server.url("/metrics")));
  ASSERT_TRUE(wait_attempts(1));
  EXPECT_FALSE(sink_.last().outcome.up);
  EXPECT_EQ(sink_.last().outcome.error, "HTTP 503, expected 2xx");
  EXPECT_EQ(sink_.last().value("up"), 0.0);
  EXPECT_FALSE(sink_.last().value("http_requests_total", {{"code", "503"}, {"path", "/login"}}));
}

TEST_F(PrometheusCollectorTest, TargetThatNeverAnswersTimesOutAndTheNextScrapeHappens) {
  TestHttpServer server(ioc_, [](const TestRequest&) { return silent(); });
  Source s = source(server.url("/metrics"));
  s.options.set("timeout", Duration(300ms));  // longer than `every`
  auto c = start(s);
  ASSERT_TRUE(wait_attempts(1));
  // Attempts never overlap: while the first waited, no second request went out.
  EXPECT_EQ(server.requests().size(), 1u);
  const auto& a = sink_.last();
  EXPECT_FALSE(a.outcome.up);
  EXPECT_EQ(a.outcome.error, "timeout after 300ms");
  EXPECT_EQ(a.outcome.duration, 300ms);
  EXPECT_DOUBLE_EQ(a.value("duration").value_or(0), 0.3);

  server.set_handler([](const TestRequest&) { return metrics(); });
  ASSERT_TRUE(wait_attempts(2));
  EXPECT_TRUE(sink_.last().outcome.up) << sink_.last().outcome.error;
}

TEST_F(PrometheusCollectorTest, ConnectionRefusedIsDownAndScrapingGoesOn) {
  const std::string port = std::to_string(testing::unused_loopback_port());
  auto c = start(source("http://127.0.0.1:" + port + "/metrics"));
  ASSERT_TRUE(wait_attempts(3));
  for (const auto& a : sink_.attempts()) {
    EXPECT_FALSE(a.outcome.up);
    EXPECT_EQ(a.outcome.error, "connect 127.0.0.1:" + port + ": Connection refused");
    EXPECT_EQ(a.value("up"), 0.0);
  }
}

TEST_F(PrometheusCollectorTest, BearerTokenIsSent) {
  TestHttpServer server(ioc_, [](const TestRequest&) { return metrics(); });
  Source s = source(server.url("/metrics"));
  s.options.set_secret("bearer_token", {SecretRef::From::kEnv, "PORTAL_TOKEN"});
  auto c = start(s);
  ASSERT_TRUE(wait_attempts(1));
  EXPECT_EQ(server.requests()[0].header("Authorization"), "Bearer s3cret");
}

TEST_F(PrometheusCollectorTest, UnresolvableTokenFailsCreationNamingTheVariable) {
  Source s = source("http://127.0.0.1:9/metrics");
  s.options.set_secret("bearer_token", {SecretRef::From::kEnv, "MISSING_TOKEN"});
  auto made = create(s);
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().find("bearer_token"), std::string::npos) << made.error();
  EXPECT_NE(made.error().find("MISSING_TOKEN is not set"), std::string::npos) << made.error();
}

TEST_F(PrometheusCollectorTest, TlsTrustedThroughCaFileIsUpUntrustedIsDown) {
  TestHttpServer server(ioc_, [](const TestRequest&) { return metrics(); }, {.tls = true});
  Source trusted = source(server.url("/metrics"));
  trusted.options.set("ca_file", testing::localhost_certificate().cert_file);
  auto c = start(trusted);
  ASSERT_TRUE(wait_attempts(1));
  stop(*c);
  EXPECT_TRUE(sink_.last().outcome.up) << sink_.last().outcome.error;
  EXPECT_EQ(sink_.last().outcome.samples, 3u);

  auto untrusted = start(source(server.url("/metrics")));
  ASSERT_TRUE(wait_attempts(2));
  EXPECT_FALSE(sink_.last().outcome.up);
  EXPECT_EQ(sink_.last().outcome.error.rfind("TLS: certificate verify failed", 0), 0u)
      << sink_.last().outcome.error;
}

TEST_F(PrometheusCollectorTest, StopDuringAScrapeEndsEverything) {
  TestHttpServer server(ioc_, [](const TestRequest&) { return silent(); });
  Source s = source(server.url("/metrics"));
  s.options.set("timeout", Duration(10s));  // so that only stop() can end the request soon
  auto c = start(s);
  ASSERT_TRUE(testing::run_until(ioc_, [&] { return server.requests().size() == 1; }));
  stop(*c);
  const std::size_t calls = sink_.calls();
  // The request is cancelled at once (the server sees the close long before the timeout)...
  ASSERT_TRUE(testing::run_until(
      ioc_, [&] { return server.connections_closed() == 1; }, 2s));
  // ...and nothing is left scheduled: no timer, no request, no sink call.
  server.stop();
  EXPECT_TRUE(testing::run_until_idle(ioc_));
  EXPECT_EQ(sink_.calls(), calls);
  EXPECT_EQ(sink_.attempt_count(), 0u);
  EXPECT_EQ(server.requests().size(), 1u);
}

}  // namespace
}  // namespace backout::collectors
