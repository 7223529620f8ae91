// POST /api/v1/push/{source} at the router: token, the three body formats, and the answers
// (202, 400, 401, 403, 404, 415), against a real PushHub whose subscriber records the batches it
// receives. No socket; the io_context is polled to run what the hub posted.
#include "app/api/push_api.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json.hpp>
#include <string>
#include <vector>

#include "app/http/http_message.h"
#include "app/http/router.h"
#include "backout/collectors/push_hub.h"

namespace backout::agent {
namespace {

namespace asio = boost::asio;
using collectors::PushBatch;
using collectors::PushedSample;
using Type = PushedSample::Type;

class PushApiTest : public ::testing::Test {
 protected:
  PushApiTest() {
    register_push_api(router_, hub_, std::string("t0ken"));
    hub_.subscribe("events", asio::make_strand(ioc_), std::nullopt,
                   [this](PushBatch b) { batches_.push_back(std::move(b)); });
    hub_.subscribe("declared", asio::make_strand(ioc_), std::vector<std::string>{"logins"},
                   [this](PushBatch b) { batches_.push_back(std::move(b)); });
  }

  static http::HttpRequest post(const std::string& target, const std::string& content_type,
                                std::string body, const std::string& token = "t0ken") {
    http::HttpRequest req;
    req.method = "POST";
    req.target = target;
    EXPECT_TRUE(http::parse_request_target(target, req));
    if (!content_type.empty()) {
      req.headers["Content-Type"] = content_type;
    }
    if (!token.empty()) {
      req.headers["Authorization"] = "Bearer " + token;
    }
    req.body = std::move(body);
    req.remote_address = "127.0.0.1";
    return req;
  }

  http::HttpResponse send(const http::HttpRequest& req) {
    http::HttpResponse r = router_.dispatch(req);
    ioc_.poll();
    ioc_.restart();
    return r;
  }

  static std::string error_of(const http::HttpResponse& r) {
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    if (ec || !v.is_object() || !v.as_object().contains("error")) {
      return "<no error in " + r.body + ">";
    }
    return std::string(v.as_object().at("error").as_string());
  }

  const std::vector<PushedSample>& only_batch() {
    EXPECT_EQ(batches_.size(), 1u);
    static const std::vector<PushedSample> none;
    return batches_.empty() ? none : batches_.back().samples;
  }

  asio::io_context ioc_;
  collectors::PushHub hub_;
  http::Router router_;
  std::vector<PushBatch> batches_;
};

constexpr char kJson[] =
    R"({"samples": [{"metric": "logins", "labels": {"region": "eu"}, "value": 2, "type": "counter"},)"
    R"( {"metric": "queue_depth", "value": -3.5, "type": "gauge"},)"
    R"( {"metric": "login_seconds", "value": 0.25, "type": "observation", "labels": {}}]})";

TEST_F(PushApiTest, JsonSamplesAreDeliveredAndCounted) {
  auto r = send(post("/api/v1/push/events", "application/json; charset=utf-8", kJson));
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"accepted":3,"dropped":0})");
  const auto& s = only_batch();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].metric, "logins");
  EXPECT_EQ(s[0].type, Type::kCounter);
  EXPECT_EQ(s[0].value, 2.0);
  EXPECT_EQ(s[0].labels, (Labels{{"region", "eu"}}));
  EXPECT_EQ(s[1].type, Type::kGauge);
  EXPECT_EQ(s[1].value, -3.5);
  EXPECT_EQ(s[2].type, Type::kObservation);
  EXPECT_EQ(s[2].value, 0.25);
}

TEST_F(PushApiTest, TokenIsRequired) {
  auto r = send(post("/api/v1/push/events", "application/json", kJson, ""));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_of(r), "missing 'Authorization: Bearer <token>'");
  EXPECT_EQ(r.headers["WWW-Authenticate"], "Bearer realm=\"backout-agent\"");
  r = send(post("/api/v1/push/events", "application/json", kJson, "wrong"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_of(r), "wrong token");
  EXPECT_TRUE(batches_.empty());

  http::Router no_token;
  register_push_api(no_token, hub_, std::nullopt);
  r = no_token.dispatch(post("/api/v1/push/events", "application/json", kJson));
  EXPECT_EQ(r.status, 403);
  ioc_.poll();
  EXPECT_TRUE(batches_.empty());
}

TEST_F(PushApiTest, UnknownOrNonPushSourceIs404) {
  auto r = send(post("/api/v1/push/portal", "application/json", kJson));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_of(r), "'portal' is not a push source of this plan (or it has not started)");
  // Authorisation comes first: the answer does not tell strangers which sources exist.
  EXPECT_EQ(send(post("/api/v1/push/portal", "application/json", kJson, "")).status, 401);
  EXPECT_EQ(send(post("/api/v1/push", "application/json", kJson)).status, 404);
  // GET is not a route of its own.
  http::HttpRequest get = post("/api/v1/push/events", "", "");
  get.method = "GET";
  EXPECT_EQ(send(get).status, 405);
  EXPECT_TRUE(batches_.empty());
}

TEST_F(PushApiTest, UndeclaredSeriesAreDroppedAndSaidSo) {
  auto r = send(post("/api/v1/push/declared", "application/json", kJson));
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.body, R"({"accepted":1,"dropped":2})");
  ASSERT_EQ(only_batch().size(), 1u);
  EXPECT_EQ(batches_.back().dropped, 2u);
}

TEST_F(PushApiTest, MalformedJsonIs400WithTheReasonAndNothingDelivered) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{", "the body is not JSON"},
      {"[]", "the body must be an object with a 'samples' array"},
      {R"({"sample": []})", "the body must be an object with a 'samples' array"},
      {R"({"samples": [], "x": 1})", "unknown key 'x' (expected only 'samples')"},
      {R"({"samples": [1]})", "samples[0] is not an object like"},
      {R"({"samples": [{"metric": "a", "value": 1}]})", "samples[0] needs metric, value and type"},
      {R"({"samples": [{"metric": "a.b", "value": 1, "type": "gauge"}]})",
       "samples[0].metric must be a name like login_failures"},
      {R"({"samples": [{"metric": "a", "value": "1", "type": "gauge"}]})",
       "samples[0].value must be a finite number"},
      {R"({"samples": [{"metric": "a", "value": 1e999, "type": "gauge"}]})", ""},
      {R"({"samples": [{"metric": "a", "value": 1, "type": "histogram"}]})",
       "samples[0].type must be \"counter\" (an increment), \"gauge\" or \"observation\""},
      {R"({"samples": [{"metric": "a", "value": 1, "type": "gauge"}, )"
       R"({"metric": "a", "value": -1, "type": "counter"}]})",
       "samples[1].value must be >= 0 for a counter (an increment)"},
      {R"({"samples": [{"metric": "a", "value": -1, "type": "observation"}]})",
       "samples[0].value must be >= 0 for an observation (seconds)"},
      {R"({"samples": [{"metric": "a", "value": 1, "type": "gauge", "labels": {"a-b": "x"}}]})",
       "samples[0].labels: 'a-b' is not a label name"},
      {R"({"samples": [{"metric": "a", "value": 1, "type": "gauge", "labels": {"code": 503}}]})",
       "samples[0].labels.code must be a string"},
      {R"({"samples": [{"metric": "a", "value": 1, "type": "gauge", "valeu": 2}]})",
       "samples[0]: unknown key 'valeu' (expected metric, labels, value, type)"},
  };
  for (const auto& [body, why] : cases) {
    auto r = send(post("/api/v1/push/events", "application/json", body));
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    EXPECT_TRUE(error_of(r).starts_with(why)) << body << " -> " << error_of(r);
  }
  EXPECT_TRUE(batches_.empty());
}

TEST_F(PushApiTest, PrometheusTextCountersAreCumulativeTheRestGauges) {
  const std::string body =
      "# TYPE http_requests_total counter\n"
      "http_requests_total{code=\"200\"} 1027\n"
      "http_requests_total{code=\"503\"} 3 1717722000000\n"
      "http_requests_created{code=\"200\"} 1.7e9\n"
      "# TYPE queue_depth gauge\n"
      "queue_depth 7\n"
      "untyped_thing 1\n"
      "# TYPE latency_seconds histogram\n"
      "latency_seconds_bucket{le=\"0.5\"} 10\n"
      "latency_seconds_sum 2.5\n"
      "latency_seconds_count 12\n"
      "# TYPE rpc_seconds summary\n"
      "rpc_seconds{quantile=\"0.99\"} 0.2\n"
      "rpc_seconds_count 40\n";
  auto r = send(post("/api/v1/push/events", "text/plain; version=0.0.4", body));
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.body, R"({"accepted":10,"dropped":0})");
  const auto& s = only_batch();
  ASSERT_EQ(s.size(), 10u);
  const std::vector<Type> expected = {Type::kCounterTotal, Type::kCounterTotal, Type::kGauge,
                                      Type::kGauge,        Type::kGauge,        Type::kCounterTotal,
                                      Type::kCounterTotal, Type::kCounterTotal, Type::kGauge,
                                      Type::kCounterTotal};
  for (std::size_t i = 0; i < s.size(); ++i) {
    EXPECT_EQ(s[i].type, expected[i]) << s[i].metric << " #" << i;
  }
  EXPECT_EQ(s[0].metric, "http_requests_total");
  EXPECT_EQ(s[0].labels, (Labels{{"code", "200"}}));
  EXPECT_EQ(s[0].value, 1027.0);
  EXPECT_EQ(s[5].metric, "latency_seconds_bucket");
  EXPECT_EQ(s[5].labels, (Labels{{"le", "0.5"}}));
}

TEST_F(PushApiTest, MalformedTextIs400NamingTheLine) {
  auto r = send(post("/api/v1/push/events", "text/plain", "good 1\nbad{code=\"503\" 2\n"));
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(error_of(r).starts_with("Prometheus text format: line 2: ")) << error_of(r);
  r = send(post("/api/v1/push/events", "text/plain", "# TYPE c counter\nc -1\n"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r),
            "Prometheus text format: counter c is -1; a cumulative value is a finite number >= 0");
  EXPECT_TRUE(batches_.empty());
}

TEST_F(PushApiTest, StatsdLines) {
  auto r = send(post("/api/v1/push/events", "text/x-statsd",
                     "logins:1|c|#region:eu\nlogin.latency:250|ms\nqueue:3|g\n"));
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.body, R"({"accepted":3,"dropped":0})");
  const auto& s = only_batch();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].labels, (Labels{{"region", "eu"}}));
  EXPECT_EQ(s[1].metric, "login_latency");
  EXPECT_DOUBLE_EQ(s[1].value, 0.25);

  r = send(post("/api/v1/push/events", "text/x-statsd", "logins:1|c\nlogins:1|s\n"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r), "StatsD: line 2: sets (|s) are not supported");
  EXPECT_EQ(batches_.size(), 1u);
}

TEST_F(PushApiTest, OtherContentTypesAre415) {
  auto r = send(post("/api/v1/push/events", "application/x-www-form-urlencoded", kJson));
  EXPECT_EQ(r.status, 415);
  EXPECT_TRUE(
      error_of(r).starts_with("Content-Type 'application/x-www-form-urlencoded' is not "
                              "supported: send application/json"))
      << error_of(r);
  r = send(post("/api/v1/push/events", "", kJson));
  EXPECT_EQ(r.status, 415);
  EXPECT_TRUE(error_of(r).starts_with("Content-Type missing")) << error_of(r);
  EXPECT_TRUE(batches_.empty());
}

TEST_F(PushApiTest, EmptySampleListIsAccepted) {
  auto r = send(post("/api/v1/push/events", "application/json", R"({"samples": []})"));
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body, R"({"accepted":0,"dropped":0})");
}

}  // namespace
}  // namespace backout::agent
