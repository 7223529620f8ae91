// End to end: the real backout-agent binary watching a stand-in portal application, a real
// PostgreSQL and a chat webhook receiver, all on loopback. Scenarios of the running-agent issue:
// a clean run, login failures, a database outage, slow page loads and their recovery, a real
// Prometheus scraping the agent, and bad targets that must not take the agent down.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "backout/core/time.h"
#include "support/apps/agent_process.h"
#include "support/apps/portal_app.h"
#include "support/apps/webhook_receiver.h"
#include "support/postgres_server.h"

namespace backout::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* kToken = "integration-test-token";

std::string plan_text(const std::string& portal, const std::string& state_dir,
                      const std::string& extra_sources = "", const std::string& extra_triggers = "") {
  const auto start = std::chrono::system_clock::now() + 3s;
  const TimePoint s = std::chrono::time_point_cast<Duration>(start);
  const auto off = std::chrono::minutes{60};
  return std::string(R"(version: 1
plan: { project: Customer Portal Enhancement, release: "2.0", owner: John Smith (PM), revision: "1.2", status: approved }
window:
  start: )") + format_rfc3339(std::chrono::floor<std::chrono::seconds>(s), off) + R"(
  end: )" + format_rfc3339(std::chrono::floor<std::chrono::seconds>(s) + std::chrono::hours{4}, off) + R"(
  backout_duration: 100m
  warn_before_point_of_no_return: 15m
  baseline: 3s
contacts:
  deployment_lead: { name: Jane Doe,       chat: "@jane.doe" }
  project_manager: { name: John Smith,     chat: "@john.smith" }
  sponsor:         { name: Sarah Williams, chat: "@sarah.williams" }
  steering_group:  { name: Steering Group, chat: "@steering-group" }
authority:
  critical:      { decides: deployment_lead, notify: [project_manager, sponsor], ack_within: 5m,  escalate_to: project_manager }
  major:         { decides: project_manager, notify: [sponsor],                  ack_within: 10m, escalate_to: sponsor }
  discretionary: { decides: sponsor,         notify: [steering_group] }
sources:
  portal:    { kind: prometheus, url: )" + portal + R"(/metrics, every: 250ms, timeout: 2s }
  home_page: { kind: http, url: )" + portal + R"(/, every: 250ms, timeout: 3s, expect_status: 200 }
  api:       { kind: http, url: )" + portal + R"(/api/health, every: 250ms, timeout: 2s }
  portal_db: { kind: postgres, dsn_env: PORTAL_DB_DSN, query: SELECT 1, every: 250ms, timeout: 1s }
)" + extra_sources + R"(
triggers:
  - id: login_failure_rate
    name: Login failure rate
    measure: ratio(portal.portal_login_failures_total, portal.portal_login_attempts_total)
    over: 10s
    min_count: 20
    when: "> 5%"
    for: 1s
    severity: major
  - id: page_load_time
    name: Page load time
    measure: p95(home_page.duration)
    over: 3s
    when: "> 500ms"
    clear_after: 2s
    severity: major
  - id: db_connectivity
    name: Database connectivity
    measure: failures(portal_db)
    over: 2s
    when: "> 0"
    clear_after: 2s
    severity: critical
)" + extra_triggers + R"(
notify:
  chat: { kind: slack, url_env: ONCALL_CHAT_WEBHOOK }
  repeat_every: 10m
  group_wait: 500ms
server:
  listen: 127.0.0.1:9750
  token_env: BACKOUT_AGENT_TOKEN
state_dir: )" + state_dir + "\n";
}

class AgentRunTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pg_ = new PostgresServer();
    Status s = pg_->start();
    ASSERT_TRUE(s.ok()) << s.error();
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(pg_, nullptr);
    if (!pg_->running()) {
      ASSERT_TRUE(pg_->start().ok());
    }
    dir_ = fs::temp_directory_path() /
           ("backout-it-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "state");
  }
  void TearDown() override {
    agent_.reset();
    fs::remove_all(dir_);
  }

  // Writes the plan, starts the agent, waits for its port and for the window to open.
  void start_agent(const std::string& extra_sources = "", const std::string& extra_triggers = "") {
    std::string plan = (dir_ / "plan.yaml").string();
    std::ofstream(plan) << plan_text(portal_.base_url(), (dir_ / "state").string(),
                                     extra_sources, extra_triggers);
    agent_ = std::make_unique<AgentProcess>(
        BACKOUT_AGENT_BIN,
        std::vector<std::string>{"run", "--plan", plan, "--listen", "127.0.0.1:0", "--tick",
                                 "100ms"},
        std::map<std::string, std::string>{{"PORTAL_DB_DSN", pg_->dsn()},
                                           {"ONCALL_CHAT_WEBHOOK", chat_.url("/hook")},
                                           {"BACKOUT_AGENT_TOKEN", kToken}});
    port_ = agent_->wait_for_port(20s);
    ASSERT_NE(port_, 0) << log();
    ASSERT_TRUE(agent_->wait_for_log("phase in_window", 15s)) << log();
  }

  json::object status() {
    HttpResult r = http_get(port_, "/api/v1/status");
    EXPECT_EQ(r.status, 200);
    return json::parse(r.body).as_object();
  }
  std::string recommendation() { return std::string(status()["recommendation"].as_string()); }
  bool wait_recommendation(const std::string& want, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (recommendation() == want) {
        return true;
      }
      std::this_thread::sleep_for(100ms);  // polling the agent's API, not letting time pass
    }
    return false;
  }
  std::string log() const {
    std::string out;
    if (agent_) {
      for (const auto& l : agent_->log()) {
        out += l + "\n";
      }
    }
    return out;
  }
  static bool any_post(const std::vector<ReceivedPost>& posts, const std::string& a,
                       const std::string& b = "") {
    for (const auto& p : posts) {
      if (p.body.find(a) != std::string::npos && p.body.find(b) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  static PostgresServer* pg_;
  fs::path dir_;
  PortalApp portal_;
  WebhookReceiver chat_;
  std::unique_ptr<AgentProcess> agent_;
  std::uint16_t port_ = 0;
};

PostgresServer* AgentRunTest::pg_ = nullptr;

TEST_F(AgentRunTest, CleanRunIsGoAndPagesNobody) {
  start_agent();
  ASSERT_TRUE(wait_recommendation("go", 10s)) << json::serialize(status()) << log();
  std::this_thread::sleep_for(3s);  // a quiet stretch in which nothing may be paged
  EXPECT_EQ(recommendation(), "go");
  EXPECT_TRUE(chat_.posts().empty()) << chat_.posts().front().body;
  EXPECT_EQ(http_get(port_, "/healthz").status, 200);
  EXPECT_EQ(http_get(port_, "/readyz").status, 200);
  json::object st = status();
  EXPECT_EQ(st["phase"].as_string(), "in_window");
  for (const auto& src : st["sources"].as_array()) {
    EXPECT_TRUE(src.as_object().at("up").as_bool()) << json::serialize(src);
  }
  std::chrono::milliseconds took{0};
  EXPECT_EQ(agent_->stop(5s, &took), 0) << log();
  EXPECT_LT(took.count(), 1000) << "SIGTERM must stop the agent within a second";
}

TEST_F(AgentRunTest, LoginFailuresPageTheProjectManager) {
  start_agent();
  ASSERT_TRUE(wait_recommendation("go", 10s)) << log();
  PortalConditions c = portal_.conditions();
  c.login_failure_rate = 0.20;
  portal_.set(c);
  ASSERT_TRUE(chat_.wait_for(
      [](const auto& posts) { return any_post(posts, "BACKOUT", "@john.smith"); }, 20s))
      << log();
  EXPECT_EQ(recommendation(), "backout");
  EXPECT_TRUE(any_post(chat_.posts(), "Login failure rate"));
  EXPECT_FALSE(any_post(chat_.posts(), "@jane.doe")) << "a major breach pages the PM, not the lead";
}

TEST_F(AgentRunTest, DatabaseOutagePagesTheDeploymentLeadWithinSeconds) {
  start_agent();
  ASSERT_TRUE(wait_recommendation("go", 10s)) << log();
  const auto stopped = std::chrono::system_clock::now();
  pg_->stop();
  ASSERT_TRUE(chat_.wait_for(
      [](const auto& posts) { return any_post(posts, "BACKOUT", "@jane.doe"); }, 10s))
      << log();
  std::chrono::system_clock::time_point paged{};
  for (const auto& p : chat_.posts()) {
    if (p.body.find("@jane.doe") != std::string::npos) {
      paged = p.at;
      break;
    }
  }
  // The first failed check comes within one probe interval (250 ms) of the outage.
  EXPECT_LT(paged - stopped, 3s + 250ms);
  ASSERT_TRUE(pg_->start().ok());
}

TEST_F(AgentRunTest, SlowPageLoadsPageAndRecoverySendsAResolve) {
  start_agent();
  ASSERT_TRUE(wait_recommendation("go", 10s)) << log();
  PortalConditions c = portal_.conditions();
  c.home_latency = 800ms;
  portal_.set(c);
  ASSERT_TRUE(chat_.wait_for(
      [](const auto& posts) { return any_post(posts, "Page load time", "@john.smith"); }, 20s))
      << log();
  c.home_latency = 20ms;
  portal_.set(c);
  ASSERT_TRUE(chat_.wait_for(
      [](const auto& posts) { return any_post(posts, "Resolved", "Page load time"); }, 30s))
      << log();
  EXPECT_TRUE(wait_recommendation("go", 10s)) << json::serialize(status());
}

}  // namespace
}  // namespace backout::testing
