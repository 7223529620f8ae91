// End to end: the real backout-agent binary watching a stand-in portal application, a real
// PostgreSQL and a chat webhook receiver, all on loopback. Scenarios of the running-agent issue:
// a clean run, login failures, a database outage, slow page loads and their recovery. A real
// Prometheus scraping the agent is prometheus_scrape_test.cc; bad targets that must not take the
// agent down, hostile_sources_test.cc.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "integration/agent_fixture.h"

namespace backout::testing {
namespace {

class AgentRunTest : public AgentFixture {
 protected:
  // Writes the plan (portal_db checked every `db_every`) and starts the agent at `tick`.
  void start_agent(const std::string& tick = "100ms", const std::string& db_every = "250ms") {
    TestPlanOptions o;
    o.db_every = db_every;
    write_plan(o);
    tick_ = tick;
    AgentFixture::start_agent();
  }
  // Stops PostgreSQL and waits (10 s at most) for the BACKOUT page naming the deployment lead:
  // when the stop began and when the page arrived (the epoch when it did not).
  std::pair<std::chrono::system_clock::time_point, std::chrono::system_clock::time_point>
  stop_database_until_paged() {
    const auto stopped = std::chrono::system_clock::now();
    pg_->stop();
    chat_.wait_for([](const auto& posts) { return any_post(posts, "BACKOUT", "@jane.doe"); },
                   10s);
    return {stopped, first_post_at("@jane.doe")};
  }
  // When the first chat post mentioning `text` arrived (the epoch when none did).
  std::chrono::system_clock::time_point first_post_at(const std::string& text) const {
    for (const auto& p : chat_.posts()) {
      if (p.body.find(text) != std::string::npos) {
        return p.at;
      }
    }
    return {};
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
};

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
  const auto [stopped, paged] = stop_database_until_paged();
  ASSERT_NE(paged, std::chrono::system_clock::time_point{}) << log();
  // The first failed check comes within one probe interval (250 ms) of the outage.
  EXPECT_LT(paged - stopped, 3s + 250ms);
  ASSERT_TRUE(pg_->start().ok());
}

// Neither the next check nor the next tick is waited for: portal_db is checked every 30 s and
// the agent evaluates every 5 s, yet a stopped database is paged within 1.5 s. The check connection
// the postgres collector holds open sees the server close it, the collector checks again at once,
// and the source going down is evaluated out of turn.
TEST_F(AgentRunTest, DatabaseStopIsPagedWithoutWaitingForTheNextCheckOrTick) {
  start_agent("5s", "30s");
  ASSERT_TRUE(wait_recommendation("go", 15s)) << log();
  const std::size_t log_before = agent_->log().size();
  const auto [stopped, paged] = stop_database_until_paged();
  ASSERT_NE(paged, std::chrono::system_clock::time_point{}) << log();
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
