// Issue 14, item 11, against the real agent: a corrupt state.db at start used to stop the agent
// (exit 2: no watch at all). Now the damaged file is moved aside, a fresh store is started, and
// the loss is logged, counted and posted to chat; the watch runs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "integration/agent_fixture.h"

namespace backout::testing {
namespace {

class StoreFaultTest : public AgentFixture {
 protected:
  // No PostgreSQL: the plan has no portal_db source.
  static void SetUpTestSuite() {}
  static void TearDownTestSuite() {}
};

TEST_F(StoreFaultTest, ACorruptStateDbIsMovedAsideAndTheWatchRuns) {
  TestPlanOptions o;
  o.with_postgres = false;
  write_plan(o);
  std::ofstream(dir_ / "state" / "state.db", std::ios::binary)
      << std::string(4096, '\x5a') << "a disk that returned garbage";
  start_agent();  // waits for the window to be open: the watch runs
  EXPECT_EQ(metric_or_zero("backout_errors_total", {{"kind", "state_store_damaged"}}), 1);
  ASSERT_TRUE(chat_.wait_for(
      [](const std::vector<ReceivedPost>& posts) {
        for (const auto& p : posts) {
          if (p.body.find("state store was damaged") != std::string::npos) {
            return true;
          }
        }
        return false;
      },
      10s))
      << log();
  int aside = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "state")) {
    aside += e.path().filename().string().rfind("state-damaged-", 0) == 0 ? 1 : 0;
  }
  EXPECT_EQ(aside, 1);
  EXPECT_NE(log().find("started a fresh state store"), std::string::npos) << log();
  bool recorded = false;
  for (const json::object& e : timeline_of("agent")) {
    recorded = recorded || field(e, "event") == "store_recovered";
  }
  EXPECT_TRUE(recorded);
  // And it watches: a login failure spike is still paged.
  ASSERT_TRUE(wait_recommendation("go", 10s)) << log();
  PortalConditions c = portal_.conditions();
  c.login_failure_rate = 0.20;
  portal_.set(c);
  EXPECT_TRUE(wait_decided("breach:login_failure_rate#1", 20s)) << log();
}

}  // namespace
}  // namespace backout::testing
