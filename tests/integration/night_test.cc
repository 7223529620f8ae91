// The night's acts against the real agent (DESIGN section 9, issue 11): go-live and the backout
// steps through the API, each refusal a 409 with the reason, the owners paged step by step, the
// metrics, and a `kill -9` in the middle of a step that restarts in that step with its start
// time.
#include "agent_fixture.h"

namespace backout::testing {
namespace {

constexpr const char* kNight = R"(deployment:
  duration: 30m
  expect_outage: [login_failure_rate]
backout:
  expect_outage: [login_failure_rate, db_connectivity]
  steps:
    - { id: stop_traffic, action: Stop incoming traffic, owner: deployment_lead, duration: 5m }
    - { id: restore_db, action: Restore database, owner: deployment_lead, duration: 30m,
        verify: DB restored }
)";

class NightTest : public AgentFixture {
 protected:
  json::object lifecycle() {
    json::object st = status();
    auto it = st.find("lifecycle");
    return it != st.end() && it->value().is_object() ? it->value().as_object() : json::object{};
  }
  std::string night_phase() { return field(lifecycle(), "phase"); }
  json::object backout() {
    json::object l = lifecycle();
    auto it = l.find("backout");
    return it != l.end() && it->value().is_object() ? it->value().as_object() : json::object{};
  }
  json::object step(std::size_t i) {
    json::object b = backout();
    auto it = b.find("steps");
    if (it == b.end() || !it->value().is_array() || it->value().as_array().size() <= i) {
      return {};
    }
    return it->value().as_array()[i].as_object();
  }
};

TEST_F(NightTest, TheBackoutIsWalkedStepByStepAndAKillNineMidStepKeepsTheStep) {
  TestPlanOptions o;
  o.night = kNight;
  write_plan(o);
  start_agent();
  ASSERT_TRUE(eventually([&] { return night_phase() == "deploying"; }, 10s)) << log();

  // A step cannot be done before the backout; go-live once, then no more.
  HttpResult r = post("/api/v1/done", {{"item", "stop_traffic"}, {"by", "@jane.doe"}});
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("not backing_out"), std::string::npos) << r.body;
  r = post("/api/v1/deployed", {{"by", "@jane.doe"}});
  ASSERT_EQ(r.status, 200) << r.body;
  r = post("/api/v1/deployed", {{"by", "@jane.doe"}});
  EXPECT_EQ(r.status, 409) << r.body;
  ASSERT_TRUE(eventually([&] { return night_phase() == "in_window"; }, 10s)) << log();

  r = post("/api/v1/decision", {{"decision", "backout"}, {"by", "@jane.doe"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(eventually([&] { return night_phase() == "backing_out"; }, 10s)) << log();
  EXPECT_EQ(field(backout(), "current"), "stop_traffic");
  ASSERT_TRUE(wait_decided("step:stop_traffic", 10s)) << log();

  r = post("/api/v1/done", {{"item", "restore_db"}, {"by", "@jane.doe"}});
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("the current one is 'stop_traffic' (1 of 2)"), std::string::npos)
      << r.body;
  r = post("/api/v1/done", {{"item", "stop_trafic"}, {"by", "@jane.doe"}});
  EXPECT_EQ(r.status, 409) << r.body;
  r = post("/api/v1/done", {{"item", "stop_traffic"}, {"by", "@jane.doe"}, {"note", "LB drained"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"next\":\"restore_db\""), std::string::npos) << r.body;
  ASSERT_TRUE(eventually([&] { return field(backout(), "current") == "restore_db"; }, 10s));
  ASSERT_TRUE(wait_decided("step:restore_db", 10s)) << log();
  EXPECT_TRUE(eventually(
      [&] {
        return metric("backout_step_state", {{"step", "restore_db"}, {"state", "running"}}) ==
               1.0;
      },
      10s));
  EXPECT_EQ(metric("backout_lifecycle_phase", {{"phase", "backing_out"}}), 1.0);
  const std::string started = field(step(1), "started_at");
  ASSERT_FALSE(started.empty());

  kill_agent();
  start_agent();
  ASSERT_TRUE(eventually([&] { return night_phase() == "backing_out"; }, 10s)) << log();
  EXPECT_EQ(field(backout(), "current"), "restore_db");
  EXPECT_EQ(field(step(1), "started_at"), started) << "the step keeps its start time";
  EXPECT_EQ(field(step(0), "state"), "done");
  EXPECT_EQ(timeline_of("done").size(), 1u);
  EXPECT_EQ(timeline_of("deployed").size(), 1u);
  // The restarted agent does not page the running step again.
  std::size_t step_pages = 0;
  for (const std::string& k : decided_keys()) {
    step_pages += k == "step:restore_db" ? 1 : 0;
  }
  EXPECT_LE(step_pages, 1u) << join_all(decided_keys());
}

// A plan whose window has ended is refused (exit 2, saying how to rehearse it); --start-now
// rehearses it; a restart of the same night after its window's end goes on watching.
TEST_F(NightTest, AStalePlanIsRefusedUnlessRehearsedOrItsNightIsUnderWay) {
  TestPlanOptions o;
  o.start_in = std::chrono::hours{-5};  // a 4h window that ended an hour ago
  write_plan(o);
  std::map<std::string, std::string> env{{"ONCALL_CHAT_WEBHOOK", chat_.url("/hook")},
                                         {"BACKOUT_AGENT_TOKEN", kToken},
                                         {"PORTAL_DB_DSN", pg_->dsn()}};
  AgentProcess stale(BACKOUT_AGENT_BIN, {"run", "--plan", plan_path(), "--listen", "127.0.0.1:0"},
                     env);
  const std::optional<int> code = stale.wait_exit(20s);
  ASSERT_TRUE(code.has_value()) << "a stale plan must not start watching";
  EXPECT_EQ(*code, 2);
  std::string all;
  for (const std::string& l : stale.log()) {
    all += l + "\n";
  }
  EXPECT_NE(all.find("this plan's window ended at "), std::string::npos) << all;
  EXPECT_NE(all.find("use --start-now to rehearse it"), std::string::npos) << all;

  extra_args_ = {"--start-now"};
  start_agent();  // rehearsed: the window starts now
  EXPECT_EQ(phase(), "in_window");
}

TEST_F(NightTest, ARestartOfTheSameNightAfterItsWindowGoesOnWatching) {
  TestPlanOptions o;
  o.start_in = std::chrono::seconds{1};
  o.window_length = "6s";
  o.backout_duration = "2s";
  o.warn_before_pnr = "1s";
  write_plan(o);
  start_agent();
  // The window's end has to pass for real: this is the night the agent watched.
  ASSERT_TRUE(eventually([&] { return phase() == "post_window"; }, 20s)) << log();
  kill_agent();
  std::map<std::string, std::string> env{{"ONCALL_CHAT_WEBHOOK", chat_.url("/hook")},
                                         {"BACKOUT_AGENT_TOKEN", kToken},
                                         {"PORTAL_DB_DSN", pg_->dsn()}};
  AgentProcess again(BACKOUT_AGENT_BIN, {"run", "--plan", plan_path(), "--listen", "127.0.0.1:0"},
                     env);
  EXPECT_NE(again.wait_for_port(20s), 0) << "the night's own restart is not a stale plan";
  EXPECT_FALSE(again.wait_exit(1s).has_value());
  EXPECT_EQ(again.stop(10s), 0);
}

// The deployment's planned downtime pages nobody, while a trigger it does not expect still pages:
// the portal's logins fail while deploying (expected), then the database goes away (not).
TEST_F(NightTest, PlannedDowntimeWhileDeployingPagesNobodyWhileAnUnexpectedTriggerPages) {
  TestPlanOptions o;
  o.night = "deployment:\n  duration: 30m\n  expect_outage: [login_failure_rate]\n";
  write_plan(o);
  start_agent();
  ASSERT_TRUE(eventually([&] { return night_phase() == "deploying"; }, 10s)) << log();
  PortalConditions c;
  c.login_failure_rate = 0.5;
  portal_.set(c);
  ASSERT_TRUE(eventually([&] { return trigger_state("login_failure_rate") == "breached"; }, 20s))
      << log();
  bool expected = false;
  const json::object st = status();
  ASSERT_TRUE(st.contains("triggers") && st.at("triggers").is_array());
  for (const auto& t : st.at("triggers").as_array()) {
    if (field(t.as_object(), "id") == "login_failure_rate") {
      expected = t.as_object().at("expected").as_bool();
    }
  }
  EXPECT_TRUE(expected);
  EXPECT_EQ(recommendation(), "go") << "an expected breach drives no recommendation";
  pg_->stop();
  ASSERT_TRUE(wait_decided("breach:db_connectivity#1", 20s)) << log();
  for (const std::string& k : decided_keys()) {
    EXPECT_EQ(k.find("login_failure_rate"), std::string::npos) << k << " paged: it was expected";
  }
  ASSERT_TRUE(pg_->start().ok());
}

// Verify Reversal against the real database: the reversal is verified only once the database
// reads the old version (19, v1.9) again, for verify.hold.
TEST_F(NightTest, TheReversalIsVerifiedOnceTheDatabaseReadsTheOldVersion) {
  ASSERT_TRUE(pg_->execute("DROP TABLE IF EXISTS release_version; CREATE TABLE release_version "
                           "(v integer); INSERT INTO release_version VALUES (20)")
                  .ok());
  TestPlanOptions o;
  o.extra_sources =
      "  db_version: { kind: postgres, dsn_env: PORTAL_DB_DSN, query: SELECT v FROM "
      "release_version, every: 250ms, timeout: 1s }\n";
  o.night = R"(backout:
  steps:
    - { id: restore_db, action: Restore database, owner: deployment_lead, duration: 5m }
  verify:
    hold: 2s
    timeout: 30m
    checks:
      - { name: Database version is v1.9, measure: value(db_version), when: "<= 19", over: 5s }
)";
  write_plan(o);
  start_agent();
  ASSERT_EQ(post("/api/v1/decision", {{"decision", "backout"}, {"by", "@jane.doe"}}).status, 200);
  ASSERT_EQ(post("/api/v1/done", {{"item", "restore_db"}, {"by", "@jane.doe"}}).status, 200);
  ASSERT_TRUE(eventually([&] { return night_phase() == "verifying"; }, 10s)) << log();
  auto check = [&]() -> json::object {
    json::object l = lifecycle();
    auto v = l.find("verify");
    if (v == l.end() || !v->value().is_object()) {
      return {};
    }
    const json::array& checks = v->value().as_object().at("checks").as_array();
    return checks.empty() ? json::object{} : checks[0].as_object();
  };
  ASSERT_TRUE(eventually(
      [&] {
        json::object c = check();
        return c.contains("value") && c.at("value").is_number() && c.at("ok").is_bool() &&
               !c.at("ok").as_bool();
      },
      10s))
      << json::serialize(lifecycle());
  EXPECT_EQ(night_phase(), "verifying") << "v2.0 is still in the database";
  ASSERT_TRUE(pg_->execute("UPDATE release_version SET v = 19").ok());
  ASSERT_TRUE(eventually([&] { return night_phase() == "backed_out"; }, 15s))
      << json::serialize(lifecycle()) << log();
  EXPECT_TRUE(wait_decided("reversal_verified", 5s)) << log();
  EXPECT_EQ(metric("backout_lifecycle_phase", {{"phase", "backed_out"}}), 1.0);
}

}  // namespace
}  // namespace backout::testing
