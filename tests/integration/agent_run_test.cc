// End to end: the real backout-agent binary watching a stand-in portal application, a real
// PostgreSQL and a chat webhook receiver, all on loopback. Scenarios of the running-agent issue:
// a clean run, login failures, a database outage, slow page loads and their recovery. A real
// Prometheus scraping the agent is prometheus_scrape_test.cc; bad targets that must not take the
// agent down, hostile_sources_test.cc.
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
#include "support/apps/test_plans.h"
#include "support/apps/webhook_receiver.h"
#include "support/postgres_server.h"

namespace backout::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* kToken = "integration-test-token";

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
  void start_agent(const std::string& extra_sources = "", const std::string& extra_triggers = "",
                   const std::string& tick = "100ms", const std::string& db_every = "250ms") {
    std::string plan = (dir_ / "plan.yaml").string();
    TestPlanOptions o;
    o.db_every = db_every;
    o.portal = portal_.base_url();
    o.state_dir = (dir_ / "state").string();
    o.extra_sources = extra_sources;
    o.extra_triggers = extra_triggers;
    std::ofstream(plan) << agent_plan_text(o);
    agent_ = std::make_unique<AgentProcess>(
        BACKOUT_AGENT_BIN,
        std::vector<std::string>{"run", "--plan", plan, "--listen", "127.0.0.1:0", "--tick",
                                 tick},
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

// Neither the next check nor the next tick is waited for: portal_db is checked every 30 s and
// the agent evaluates every 5 s, yet a stopped database is paged within 1.5 s. The check connection
// the postgres collector holds open sees the server close it, the collector checks again at once,
// and the source going down is evaluated out of turn.
TEST_F(AgentRunTest, DatabaseStopIsPagedWithoutWaitingForTheNextCheckOrTick) {
  start_agent("", "", "5s", "30s");
  ASSERT_TRUE(wait_recommendation("go", 15s)) << log();
  const std::size_t log_before = agent_->log().size();
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
  EXPECT_LT(paged - stopped, 1500ms) << log();
  const std::vector<std::string> lines = agent_->log();
  auto down = log_time_of(lines, "source portal_db is down", log_before);
  auto decided = log_time_of(lines, "page breach:db_connectivity", log_before);
  ASSERT_TRUE(down && decided) << log();
  // Out of turn: a regular tick would come up to 5 s later.
  EXPECT_LT(*decided - *down, 250ms) << log();
  EXPECT_TRUE(agent_->wait_for_log("checked at once", 1s)) << log();
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
