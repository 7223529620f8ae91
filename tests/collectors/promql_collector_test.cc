// The promql collector, built through the builtin registry, querying a fake Prometheus HTTP API
// (TestHttpServer on loopback, port 0) into a RecordingSink. Everything runs on one io_context
// the test drives with bounded waits; `every` is 100 ms so that periodic behaviour shows quickly.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backout/collectors/collector.h"
#include "backout/net/http_client.h"
#include "collector_fixture.h"
#include "promql/promql_kind.h"
#include "support/recording_sink.h"
#include "support/test_http_server.h"

namespace backout::collectors {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::TestHttpServer;
using testing::TestRequest;
using testing::TestResponse;

TestResponse json(std::string body, int status = 200) {
  TestResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = {{"Content-Type", "application/json"}};
  return r;
}

TestResponse vector_of(const std::string& elements) {
  return json(R"({"status":"success","data":{"resultType":"vector","result":[)" + elements + "]}}");
}

// Decodes the `query` parameter of a request target, as the server would.
std::string query_param(const std::string& target) {
  const std::size_t at = target.find("?query=");
  if (at == std::string::npos) {
    return {};
  }
  std::string out;
  const std::string enc = target.substr(at + 7);
  for (std::size_t i = 0; i < enc.size(); ++i) {
    if (enc[i] == '%' && i + 2 < enc.size()) {
      out.push_back(static_cast<char>(std::stoi(enc.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(enc[i]);
    }
  }
  return out;
}

class PromqlCollectorTest : public testing_support::CollectorFixture {
 protected:
  PromqlCollectorTest() { secrets_ = testing_support::only_secret("PROM_TOKEN", "s3cret"); }

  static Source source(const std::string& url,
                              std::map<std::string, std::string> queries = {
                                  {"errors", "sum by (code) (rate(http_requests_total[1m]))"}}) {
    Source s;
    s.id = "prom";
    s.kind = "promql";
    s.options.set("url", url);
    s.options.set("queries", std::move(queries));
    s.options.set("every", Duration(100ms));
    s.options.set("timeout", Duration(1s));
    return s;
  }
};

TEST_F(PromqlCollectorTest, VectorGivesOneSamplePerElementWithItsLabelsThenUpAndDuration) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    return vector_of(
        R"({"metric":{"__name__":"x","code":"503","job":"portal"},"value":[1717722000.5,"3.5"]},)"
        R"({"metric":{"code":"200"},"value":[1717722000.5,"1027"]})");
  });
  auto c = start(source(server.url("/")));
  ASSERT_TRUE(wait_attempts(2));

  const auto& a = sink_.attempts()[0];
  EXPECT_TRUE(a.outcome.up) << a.outcome.error;
  EXPECT_EQ(a.outcome.error, "");
  EXPECT_EQ(a.outcome.samples, 2u);
  EXPECT_EQ(a.outcome.malformed, 0u);
  EXPECT_EQ(a.value("errors", {{"code", "503"}, {"job", "portal"}}), 3.5);  // no __name__
  EXPECT_EQ(a.value("errors", {{"code", "200"}}), 1027.0);
  ASSERT_EQ(a.records.size(), 4u);
  EXPECT_EQ(a.records[2].metric, "up");
  EXPECT_EQ(a.records[2].value, 1.0);
  EXPECT_EQ(a.records[3].metric, "duration");
  EXPECT_GT(a.records[3].value, 0.0);
  EXPECT_TRUE(sink_.attempts()[1].outcome.up);

  const TestRequest& req = server.requests()[0];
  EXPECT_EQ(req.method, "GET");
  EXPECT_TRUE(req.target.starts_with("/api/v1/query?query=")) << req.target;
  EXPECT_EQ(req.header("Authorization"), "");
}

TEST_F(PromqlCollectorTest, ScalarGivesOneSampleWithoutLabels) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    return json(
        R"({"status":"success","data":{"resultType":"scalar","result":[1717722000,"0.25"]}})");
  });
  auto c = start(source(server.url("/"), {{"ratio", "scalar(sum(up))"}}));
  ASSERT_TRUE(wait_attempts(1));
  const auto& a = sink_.last();
  EXPECT_TRUE(a.outcome.up) << a.outcome.error;
  EXPECT_EQ(a.outcome.samples, 1u);
  EXPECT_EQ(a.value("ratio"), 0.25);
}

TEST_F(PromqlCollectorTest, EveryQueryIsAskedAndRecordedInTheOrderOfTheQueries) {
  TestHttpServer server(ioc_, [](const TestRequest& req) {
    const std::string q = query_param(req.target);
    const std::string v = q == "vector(1)" ? "1" : q == "vector(2)" ? "2" : "-1";
    return vector_of(R"({"metric":{},"value":[0,")" + v + "\"]}");
  });
  auto c = start(source(server.url("/"), {{"b_two", "vector(2)"}, {"a_one", "vector(1)"}}));
  ASSERT_TRUE(wait_attempts(1));
  const auto& a = sink_.last();
  EXPECT_TRUE(a.outcome.up) << a.outcome.error;
  ASSERT_EQ(a.records.size(), 4u);
  EXPECT_EQ(a.records[0].metric, "a_one");
  EXPECT_EQ(a.records[0].value, 1.0);
  EXPECT_EQ(a.records[1].metric, "b_two");
  EXPECT_EQ(a.records[1].value, 2.0);
  EXPECT_GE(server.requests().size(), 2u);
}

TEST_F(PromqlCollectorTest, NaNAndInfinitiesAreAccepted) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    return vector_of(R"({"metric":{"k":"nan"},"value":[0,"NaN"]},)"
                     R"({"metric":{"k":"pinf"},"value":[0,"+Inf"]},)"
                     R"({"metric":{"k":"ninf"},"value":[0,"-Inf"]},)"
                     R"({"metric":{"k":"exp"},"value":[0,"1.5e-3"]})");
  });
  auto c = start(source(server.url("/")));
  ASSERT_TRUE(wait_attempts(1));
  const auto& a = sink_.last();
  EXPECT_TRUE(a.outcome.up) << a.outcome.error;
  EXPECT_EQ(a.outcome.samples, 4u);
  EXPECT_TRUE(std::isnan(a.value("errors", {{"k", "nan"}}).value_or(0)));
  EXPECT_EQ(a.value("errors", {{"k", "pinf"}}), INFINITY);
  EXPECT_EQ(a.value("errors", {{"k", "ninf"}}), -INFINITY);
  EXPECT_EQ(a.value("errors", {{"k", "exp"}}), 1.5e-3);
}

TEST_F(PromqlCollectorTest, MalformedElementsAreCountedAndTheOthersRecorded) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    return vector_of(R"({"metric":{"k":"good"},"value":[0,"1"]},)"
                     R"({"metric":{"k":"number"},"value":[0,1]},)"
                     R"({"metric":{"k":"text"},"value":[0,"abc"]},)"
                     R"({"metric":{"k":"hist"},"histogram":[0,{"count":"1"}]},)"
                     R"({"metric":{"k":5},"value":[0,"1"]})");
  });
  auto c = start(source(server.url("/")));
  ASSERT_TRUE(wait_attempts(1));
  const auto& a = sink_.last();
  EXPECT_TRUE(a.outcome.up) << a.outcome.error;
  EXPECT_EQ(a.outcome.samples, 1u);
  EXPECT_EQ(a.outcome.malformed, 4u);
  EXPECT_EQ(a.value("errors", {{"k", "good"}}), 1.0);
}

TEST_F(PromqlCollectorTest, ErrorStatusIsDownWithTheServersErrorText) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    return json(R"({"status":"error","errorType":"bad_data",)"
                R"("error":"1:5: parse error: unexpected <op:+>"})",
                400);
  });
  auto c = start(source(server.url("/")));
  ASSERT_TRUE(wait_attempts(1));
  const auto& a = sink_.last();
  EXPECT_FALSE(a.outcome.up);
  EXPECT_EQ(a.outcome.error,
            "query 'errors': HTTP 400: bad_data: 1:5: parse error: unexpected <op:+>");
  ASSERT_EQ(a.records.size(), 2u);  // up and duration only
  EXPECT_EQ(a.value("up"), 0.0);
}

TEST_F(PromqlCollectorTest, ErrorStatusWithHttp200IsDownToo) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    return json(R"({"status":"error","errorType":"timeout","error":"query timed out"})");
  });
  auto c = start(source(server.url("/")));
  ASSERT_TRUE(wait_attempts(1));
  EXPECT_FALSE(sink_.last().outcome.up);
  EXPECT_EQ(sink_.last().outcome.error, "query 'errors': timeout: query timed out");
}

TEST_F(PromqlCollectorTest, Non2xxIsDownQuotingAPlainBody) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    TestResponse r;
    r.status = 503;
    r.body = "upstream\tunavailable\n";
    return r;
  });
  auto c = start(source(server.url("/")));
  ASSERT_TRUE(wait_attempts(1));
  EXPECT_FALSE(sink_.last().outcome.up);
  EXPECT_EQ(sink_.last().outcome.error, "query 'errors': HTTP 503: upstream unavailable");

  server.set_handler([](const TestRequest&) {
    TestResponse r;
    r.status = 502;
    return r;
  });
  ASSERT_TRUE(wait_attempts(2));
  EXPECT_EQ(sink_.last().outcome.error, "query 'errors': HTTP 502, expected 2xx");
}

TEST_F(PromqlCollectorTest, MatrixAndNonJsonAnswersAreDown) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    return json(R"({"status":"success","data":{"resultType":"matrix","result":[]}})");
  });
  auto c = start(source(server.url("/")));
  ASSERT_TRUE(wait_attempts(1));
  EXPECT_FALSE(sink_.last().outcome.up);
  EXPECT_EQ(sink_.last().outcome.error,
            "query 'errors': the result is a matrix; give an expression that yields an instant "
            "vector or a scalar");

  server.set_handler([](const TestRequest&) { return json("<html>login</html>"); });
  ASSERT_TRUE(wait_attempts(2));
  EXPECT_FALSE(sink_.last().outcome.up);
  EXPECT_TRUE(sink_.last().outcome.error.starts_with("query 'errors': the answer is not a JSON"))
      << sink_.last().outcome.error;
}

TEST_F(PromqlCollectorTest, OneFailedQueryMakesTheAttemptDownButTheOthersAreRecorded) {
  TestHttpServer server(ioc_, [](const TestRequest& req) {
    if (query_param(req.target) == "bad(") {
      return json(R"({"status":"error","errorType":"bad_data","error":"parse error"})", 400);
    }
    return vector_of(R"({"metric":{},"value":[0,"7"]})");
  });
  auto c = start(source(server.url("/"), {{"good", "vector(7)"}, {"broken", "bad("}}));
  ASSERT_TRUE(wait_attempts(1));
  const auto& a = sink_.last();
  EXPECT_FALSE(a.outcome.up);
  EXPECT_EQ(a.outcome.error, "query 'broken': HTTP 400: bad_data: parse error");
  EXPECT_EQ(a.value("good"), 7.0);
  EXPECT_EQ(a.value("up"), 0.0);
}

TEST_F(PromqlCollectorTest, ServerThatNeverAnswersTimesOutAndTheNextAttemptHappens) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    TestResponse r;
    r.mode = TestResponse::Mode::kNeverAnswer;
    return r;
  });
  Source s = source(server.url("/"));
  s.options.set("timeout", Duration(300ms));  // longer than `every`
  auto c = start(s);
  ASSERT_TRUE(wait_attempts(1));
  EXPECT_EQ(server.requests().size(), 1u);  // attempts never overlap
  const auto& a = sink_.last();
  EXPECT_FALSE(a.outcome.up);
  EXPECT_EQ(a.outcome.error, "query 'errors': timeout after 300ms");
  EXPECT_EQ(a.outcome.duration, 300ms);
  EXPECT_DOUBLE_EQ(a.value("duration").value_or(0), 0.3);

  server.set_handler(
      [](const TestRequest&) { return vector_of(R"({"metric":{},"value":[0,"1"]})"); });
  ASSERT_TRUE(wait_attempts(2));
  EXPECT_TRUE(sink_.last().outcome.up) << sink_.last().outcome.error;
}

TEST_F(PromqlCollectorTest, ExpressionIsPercentEncodedUnderTheBasePath) {
  const std::string expr =
      "sum(rate(http_requests_total{code=~\"5..\"}[5m])) / sum(rate(x[5m])) + 1 > 0.05 & a#b";
  TestHttpServer server(
      ioc_, [](const TestRequest&) { return vector_of(R"({"metric":{},"value":[0,"1"]})"); });
  // A path prefix (Mimir's /prometheus) and a trailing slash.
  auto c = start(source(server.url("/prometheus/"), {{"q", expr}}));
  ASSERT_TRUE(wait_attempts(1));
  const std::string& target = server.requests()[0].target;
  EXPECT_EQ(
      target,
      "/prometheus/api/v1/query?query=sum%28rate%28http_requests_total%7Bcode%3D~%225..%22%7D"
      "%5B5m%5D%29%29%20%2F%20sum%28rate%28x%5B5m%5D%29%29%20%2B%201%20%3E%200.05%20%26%20a%23b");
  EXPECT_EQ(query_param(target), expr);
}

TEST_F(PromqlCollectorTest, BearerTokenIsSent) {
  TestHttpServer server(
      ioc_, [](const TestRequest&) { return vector_of(R"({"metric":{},"value":[0,"1"]})"); });
  Source s = source(server.url("/"));
  s.options.set_secret("bearer_token", {SecretRef::From::kEnv, "PROM_TOKEN"});
  auto c = start(s);
  ASSERT_TRUE(wait_attempts(1));
  EXPECT_EQ(server.requests()[0].header("Authorization"), "Bearer s3cret");
  EXPECT_EQ(server.requests()[0].header("Accept"), "application/json");
}

TEST_F(PromqlCollectorTest, UnresolvableTokenFailsCreationNamingTheVariable) {
  Source s = source("http://127.0.0.1:9/");
  s.options.set_secret("bearer_token", {SecretRef::From::kEnv, "MISSING_TOKEN"});
  auto made = create(s);
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().find("bearer_token"), std::string::npos) << made.error();
  EXPECT_NE(made.error().find("MISSING_TOKEN is not set"), std::string::npos) << made.error();
}

TEST_F(PromqlCollectorTest, StopCancelsTheAttemptInFlightAndNothingIsRecordedAfter) {
  TestHttpServer server(ioc_, [](const TestRequest&) {
    TestResponse r;
    r.mode = TestResponse::Mode::kNeverAnswer;
    return r;
  });
  Source s = source(server.url("/"), {{"a", "vector(1)"}, {"b", "vector(2)"}});
  s.options.set("timeout", Duration(10s));  // so that only stop() can end the requests soon
  auto c = start(s);
  ASSERT_TRUE(testing::run_until(ioc_, [&] { return server.requests().size() == 2; }));
  bool stopped = false;
  asio::post(strand_, [&] {
    c->stop();
    stopped = true;
  });
  ASSERT_TRUE(testing::run_until(ioc_, [&] { return stopped; }));
  const std::size_t calls = sink_.calls();
  // Both requests are cancelled at once, long before their timeout...
  ASSERT_TRUE(testing::run_until(
      ioc_, [&] { return server.connections_closed() == 2; }, 2s));
  // ...and nothing is left scheduled.
  server.stop();
  EXPECT_TRUE(testing::run_until_idle(ioc_));
  EXPECT_EQ(sink_.calls(), calls);
  EXPECT_EQ(sink_.attempt_count(), 0u);
}

TEST(PromqlSpecTest, QueryNamesUpAndDurationAreTaken) {
  const KindSpec spec = promql_spec();
  KindOptions o;
  o.set("queries", std::map<std::string, std::string>{{"up", "vector(1)"}, {"ok", "vector(1)"}});
  std::vector<OptionIssue> issues;
  spec.check(o, issues);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].option, "queries");
  EXPECT_NE(issues[0].message.find("'up' is taken"), std::string::npos) << issues[0].message;
}

}  // namespace
}  // namespace backout::collectors
