// End to end, the metrics contract of the running-agent issue (DESIGN §6): a real Prometheus
// (the Debian package's /usr/bin/prometheus, its own config, TSDB and port in the test's temp
// dir) scrapes the real agent's /metrics on loopback every second; the target is up with no
// scrape error and the pinned backout_* series are queryable through Prometheus's HTTP API. And
// `promtool check metrics` accepts the agent's exposition as it is on a night with a page sent.
// Without Prometheus or promtool the tests fail and say to run scripts/setup-debian.sh: a
// missing server must not pass as a skipped test.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "integration/agent_fixture.h"
#include "support/apps/child_process.h"
#include "support/apps/prometheus_server.h"

namespace backout::testing {
namespace {

class PrometheusScrapeTest : public AgentFixture {
 protected:
  // No PostgreSQL: these plans have no database source.
  static void SetUpTestSuite() {}
  static void TearDownTestSuite() {}

  void TearDown() override {
    if (prometheus_) {
      if (HasFailure()) {
        std::cerr << "prometheus log:\n" << prometheus_->log_tail() << "\n";
      }
      prometheus_.reset();  // stopped by its PID before its directory goes
    }
    AgentFixture::TearDown();
  }

  void start(const PortalConditions& conditions = {}) {
    portal_.set(conditions);
    TestPlanOptions o;
    o.with_postgres = false;
    o.start_in = 1s;
    write_plan(o);
    start_agent();
  }

  /// Whether the status lists the plan's three portal sources, all up.
  bool portal_sources_up() {
    json::object st = status();
    auto it = st.find("sources");
    if (it == st.end() || !it->value().is_array() || it->value().as_array().size() != 3) {
      return false;
    }
    for (const auto& s : it->value().as_array()) {
      const json::value* up = s.as_object().if_contains("up");
      if (up == nullptr || !up->is_bool() || !up->as_bool()) {
        return false;
      }
    }
    return true;
  }

  /// The value (as Prometheus writes it, e.g. "1") of the query's series that has every label
  /// of `labels`; nullopt when the query failed or has no such series.
  std::optional<std::string> query_value(const std::string& promql,
                                         const std::map<std::string, std::string>& labels = {}) {
    auto result = prometheus_->query(promql);
    if (!result) {
      return std::nullopt;
    }
    for (const auto& sample : *result) {
      const json::object& metric = sample.as_object().at("metric").as_object();
      bool all = true;
      for (const auto& [k, v] : labels) {
        all = all && field(metric, k.c_str()) == v;
      }
      const json::array& value = sample.as_object().at("value").as_array();
      if (all && value.size() == 2 && value[1].is_string()) {
        return std::string(value[1].as_string());
      }
    }
    return std::nullopt;
  }
  std::string last_query(const std::string& promql) {
    auto result = prometheus_->query(promql);
    return result ? json::serialize(*result) : std::string("(query failed)");
  }

  std::unique_ptr<PrometheusServer> prometheus_;
};

TEST_F(PrometheusScrapeTest, PrometheusScrapesTheAgentAndItsMetricsAreQueryable) {
  start();
  ASSERT_TRUE(eventually([&] { return portal_sources_up(); }, 15s)) << json::serialize(status());

  const fs::path prom_dir = dir_ / "prometheus";
  fs::create_directories(prom_dir);
  prometheus_ = std::make_unique<PrometheusServer>(prom_dir.string());
  PrometheusScrapeJob job;
  job.targets = {"127.0.0.1:" + std::to_string(port_)};
  Status started = prometheus_->start(job);
  ASSERT_TRUE(started.ok()) << started.error();

  // The agent is an active target, scraped with health "up" and no error.
  json::object target;
  std::string targets_seen = "(none)";
  ASSERT_TRUE(eventually(
      [&] {
        auto targets = prometheus_->active_targets();
        if (!targets) {
          return false;
        }
        targets_seen = json::serialize(*targets);
        for (const auto& t : *targets) {
          const json::object& o = t.as_object();
          const json::value* labels = o.if_contains("labels");
          if (labels != nullptr && labels->is_object() &&
              field(labels->as_object(), "job") == "backout-agent" && field(o, "health") == "up") {
            target = o;
            return true;
          }
        }
        return false;
      },
      20s))
      << "the agent never became an up target of Prometheus; /api/v1/targets: " << targets_seen;
  EXPECT_EQ(field(target, "lastError"), "") << json::serialize(target);
  EXPECT_EQ(field(target, "scrapeUrl"), "http://127.0.0.1:" + std::to_string(port_) + "/metrics");

  // Prometheus's own `up` for the job, and the agent's pinned series, as stored samples.
  EXPECT_TRUE(eventually([&] { return query_value("up{job=\"backout-agent\"}") == "1"; }, 10s))
      << last_query("up");
  for (const char* source : {"portal", "home_page", "api"}) {
    EXPECT_TRUE(eventually(
        [&] {
          return query_value("backout_source_up", {{"source", source}, {"job", "backout-agent"}}) ==
                 "1";
        },
        10s))
        << source << ": " << last_query("backout_source_up");
  }
  EXPECT_TRUE(eventually(
      [&] {
        return query_value("backout_plan_info",
                           {{"project", "Customer Portal Enhancement"}, {"release", "2.0"}}) == "1";
      },
      10s))
      << last_query("backout_plan_info");
  EXPECT_TRUE(eventually(
      [&] {
        return query_value("backout_trigger_state",
                           {{"trigger", "login_failure_rate"}, {"state", "ok"}}) == "1";
      },
      10s))
      << last_query("backout_trigger_state");
  EXPECT_TRUE(eventually(
      [&] {
        return query_value("backout_recommendation", {{"recommendation", "go"}}) == "1";
      },
      10s))
      << last_query("backout_recommendation");
  // A histogram comes through with its series (the _count grows with every tick).
  EXPECT_TRUE(eventually(
      [&] {
        auto v = query_value("backout_evaluation_duration_seconds_count");
        return v && std::stod(*v) > 0;
      },
      10s))
      << last_query("backout_evaluation_duration_seconds_count");
  // The point of no return as a timestamp Prometheus can do arithmetic with.
  auto pnr = query_value("backout_point_of_no_return_timestamp_seconds - time()");
  ASSERT_TRUE(pnr) << last_query("backout_point_of_no_return_timestamp_seconds");
  // Window 4h, backout 100m: the PNR is 2h20m after a start a second or two ago.
  EXPECT_NEAR(std::stod(*pnr), 140 * 60, 30) << *pnr;

  EXPECT_TRUE(prometheus_->running()) << prometheus_->log_tail();
}

TEST_F(PrometheusScrapeTest, PromtoolAcceptsTheAgentsMetrics) {
  ASSERT_EQ(::access(kPromtoolBinary, X_OK), 0)
      << kPromtoolBinary
      << " is missing: run scripts/setup-debian.sh (it installs the Debian package prometheus, "
         "which has promtool)";
  // Login failures from the start: a breach, a page delivered, so that the exposition has the
  // notification and outbox families with samples, not only the ones made at start.
  PortalConditions failing;
  failing.login_failure_rate = 0.3;
  start(failing);
  ASSERT_TRUE(eventually(
      [&] {
        return metric_or_zero("backout_notifications_total",
                              {{"channel", "chat"}, {"outcome", "delivered"}}) >= 1;
      },
      20s))
      << "no page delivered; status: " << json::serialize(status());

  HttpResult r = http_get(port_, "/metrics");
  ASSERT_EQ(r.status, 200);
  // The HTTP server's own counters are set (issue 14, item 13: they were registered, never set):
  // Prometheus' scrapes are requests.
  EXPECT_GE(metric_or_zero("backout_http_server", {{"stat", "requests"}}), 1.0) << r.body;
  EXPECT_NE(r.body.find("backout_http_server{stat=\"trailers_too_large\"} 0"), std::string::npos)
      << r.body;
  const std::string body_file = (dir_ / "metrics.txt").string();
  std::ofstream(body_file) << r.body;

  ChildProcess promtool;
  const std::string promtool_log = (dir_ / "promtool.log").string();
  Status s =
      promtool.start({kPromtoolBinary, "check", "metrics"},
                     {"PATH=/usr/bin:/bin", "HOME=" + dir_.string()}, promtool_log, body_file);
  ASSERT_TRUE(s.ok()) << s.error();
  std::optional<int> code = promtool.wait_exit(30s);
  ASSERT_TRUE(code) << "promtool did not finish within 30 s";
  EXPECT_EQ(*code, 0) << "promtool check metrics:\n"
                      << promtool.log_tail() << "\n/metrics was:\n"
                      << r.body;
}

}  // namespace
}  // namespace backout::testing
