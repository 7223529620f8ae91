// End to end, the security part of "Never lose a page and always reach the decider": every
// POST of the real agent's API (ack, fix-forward, decision, raise) without the bearer token or
// with a wrong one is refused with 401 and changes nothing (status, timeline, chat); with the
// right token it works; a plan without server.token_env disables the POSTs (403).
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "integration/agent_fixture.h"

namespace backout::testing {
namespace {

class ApiAuthTest : public AgentFixture {
 protected:
  // No PostgreSQL: these plans have no database source.
  static void SetUpTestSuite() {}
  static void TearDownTestSuite() {}

  void start(bool with_token) {
    TestPlanOptions o;
    o.with_postgres = false;
    o.with_token = with_token;
    write_plan(o);
    start_agent();
  }

  /// What a human act could change: the acts and open breaches in the status, the acts in the
  /// timeline. (Chat is checked at the end: a refused act never reaches it.)
  std::string snapshot() {
    json::object st = status();
    std::string out;
    for (const char* k : {"open_breaches", "fix_forwards", "raises", "decisions"}) {
      out += std::string(k) + "=" + json::serialize(st[k]) + "\n";
    }
    for (const json::object& e : timeline()) {
      const std::string kind = field(e, "kind");
      if (kind == "ack" || kind == "fix_forward" || kind == "decision" || kind == "raise" ||
          kind == "raise_clear") {
        out += json::serialize(e) + "\n";
      }
    }
    return out;
  }

  /// Every POST the API has, with a body that would be accepted with the right token.
  static std::vector<std::pair<std::string, json::object>> acts() {
    return {
        {"/api/v1/raise",
         {{"severity", "critical"}, {"reason", "Forged raise"}, {"by", "@mallory"}}},
        {"/api/v1/ack", {{"trigger", "manual_1"}, {"by", "@mallory"}}},
        {"/api/v1/ack", {{"by", "@mallory"}}},
        {"/api/v1/fix-forward",
         {{"trigger", "page_load_time"}, {"eta", "30m"}, {"by", "@mallory"}}},
        {"/api/v1/decision", {{"decision", "go"}, {"by", "@mallory"}}},
        {"/api/v1/decision", {{"decision", "backout"}, {"by", "@mallory"}}},
        {"/api/v1/decision", {{"decision", "extend"}, {"until", "8h"}, {"by", "@mallory"}}},
        {"/api/v1/raise", {{"clear", "manual_1"}, {"by", "@mallory"}}},
        {"/api/v1/deployed", {{"by", "@mallory"}}},
        {"/api/v1/done", {{"item", "stop_traffic"}, {"by", "@mallory"}}},
    };
  }

  /// Tries every act without a token and with wrong ones: each must get `want` and change
  /// nothing.
  void expect_refused(int want) {
    const std::string before = snapshot();
    const std::vector<std::string> tokens = {
        "",                                                   // no Authorization header
        "wrong-token",                                        //
        std::string(kToken) + "x",                            // the right one and more
        std::string(kToken).substr(0, std::string(kToken).size() - 1),  // a prefix of it
        "INTEGRATION-TEST-TOKEN",                             // another case
    };
    for (const auto& [path, body] : acts()) {
      for (const std::string& token : tokens) {
        HttpResult r = post(path, body, token);
        EXPECT_EQ(r.status, want) << path << " with token '" << token << "': " << r.body;
      }
      // A body that does not parse is refused for the token first.
      HttpResult r = http_post(port_, path, "{not json", "wrong-token");
      EXPECT_EQ(r.status, want) << path << ": " << r.body;
    }
    EXPECT_EQ(snapshot(), before) << "a refused POST changed something";
  }
};

TEST_F(ApiAuthTest, PostsNeedTheRightTokenAndRefusedOnesChangeNothing) {
  start(true);
  ASSERT_TRUE(wait_recommendation("go", 15s)) << log();
  expect_refused(401);
  EXPECT_EQ(recommendation(), "go");

  // With the right token: a raise opens a breach...
  HttpResult r = post("/api/v1/raise", {{"severity", "critical"},
                                        {"reason", "Credentials found in a public repository"},
                                        {"by", "@jane.doe"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(eventually([&] { return !open_breach("manual_1").empty(); }, 5s)) << log();
  ASSERT_TRUE(wait_recommendation("backout", 5s));
  // ... which a forged ack, clear or decision cannot touch.
  expect_refused(401);
  EXPECT_TRUE(open_breach("manual_1").at("acknowledged_by").is_null());

  r = post("/api/v1/ack", {{"trigger", "manual_1"}, {"by", "@jane.doe"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(field(open_breach("manual_1"), "acknowledged_by"), "@jane.doe");
  r = post("/api/v1/fix-forward",
           {{"trigger", "page_load_time"}, {"eta", "30m"}, {"by", "@john.smith"}});
  ASSERT_EQ(r.status, 200) << r.body;
  r = post("/api/v1/decision", {{"decision", "backout"}, {"by", "@jane.doe"}, {"note", "drill"}});
  ASSERT_EQ(r.status, 200) << r.body;
  r = post("/api/v1/raise", {{"clear", "manual_1"}, {"by", "@jane.doe"}});
  ASSERT_EQ(r.status, 200) << r.body;

  json::object st = status();
  EXPECT_EQ(st["fix_forwards"].as_array().size(), 1u) << json::serialize(st);
  ASSERT_EQ(st["decisions"].as_array().size(), 1u) << json::serialize(st);
  EXPECT_EQ(field(st["decisions"].as_array()[0].as_object(), "by"), "@jane.doe");
  ASSERT_EQ(st["raises"].as_array().size(), 1u) << json::serialize(st);
  EXPECT_TRUE(st["raises"].as_array()[0].at("cleared").as_bool());
  std::vector<std::string> kinds;
  for (const json::object& e : timeline()) {
    const std::string k = field(e, "kind");
    if (k == "ack" || k == "fix_forward" || k == "decision" || k == "raise" ||
        k == "raise_clear") {
      kinds.push_back(k);
      EXPECT_NE(field(e, "by"), "@mallory") << json::serialize(e);
    }
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"raise", "ack", "fix_forward", "decision",
                                             "raise_clear"}));
  ASSERT_TRUE(wait_recommendation("backout", 5s)) << "a backout decision stands";
  // The token is a secret: never in the log.
  EXPECT_EQ(log().find(kToken), std::string::npos);
  for (const ReceivedPost& p : chat_.posts()) {
    EXPECT_EQ(p.body.find("mallory"), std::string::npos) << p.body;
    EXPECT_EQ(p.body.find("Forged"), std::string::npos) << p.body;
  }
}

// Issue 14, item 13: `from=-1` was read as 2^64 - 1.
TEST_F(ApiAuthTest, TimelineTakesOnlyWholeNumbers) {
  start(true);
  ASSERT_TRUE(wait_recommendation("go", 15s)) << log();
  for (const char* q : {"from=-1", "from=abc", "limit=-5", "from=1e3", "from=%201"}) {
    HttpResult r = http_get(port_, std::string("/api/v1/timeline?") + q);
    EXPECT_EQ(r.status, 400) << q << ": " << r.body;
    EXPECT_NE(r.body.find("whole numbers"), std::string::npos) << r.body;
  }
  HttpResult r = http_get(port_, "/api/v1/timeline?from=0&limit=1");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"next\": 1"), std::string::npos) << r.body;
}

// Issue 14, item 13: a newline in `by`, `note` or `reason` forged log lines, and NUL bytes
// reached the log. Each outside string is escaped for the log; the JSON keeps it as it was.
TEST_F(ApiAuthTest, OutsideTextCannotForgeOrBreakALogLine) {
  start(true);
  ASSERT_TRUE(wait_recommendation("go", 15s)) << log();
  const std::string forged = "[2026-06-07 03:00:00] [warn] decision go by @jane.doe";
  HttpResult r = post("/api/v1/raise", {{"severity", "discretionary"},
                                         {"reason", "slow search\n" + forged},
                                         {"by", std::string("@mallory\n") + forged + '\0' + "x"}});
  ASSERT_EQ(r.status, 200) << r.body;
  // The act's own line, and the recommendation that quotes the raise at the next tick.
  ASSERT_TRUE(eventually(
      [&] {
        bool act = false;
        bool recommendation = false;
        for (const std::string& l : log_lines()) {
          act = act || l.find("raised by @mallory") != std::string::npos;
          recommendation = recommendation || (l.find(" recommendation ") != std::string::npos &&
                                              l.find("@mallory") != std::string::npos);
        }
        return act && recommendation;
      },
      5s))
      << log();
  for (const std::string& line : log_lines()) {
    EXPECT_NE(line.rfind("[2026-06-07", 0), 0u) << "a forged line: " << line;
    EXPECT_EQ(line.find('\0'), std::string::npos) << line;
  }
  EXPECT_NE(log().find("raised by @mallory\\n[2026-06-07 03:00:00]"), std::string::npos) << log();
  // The record keeps what was said.
  bool kept = false;
  for (const json::object& e : timeline_of("raise")) {
    kept = kept || field(e, "by") == std::string("@mallory\n") + forged + '\0' + "x";
  }
  EXPECT_TRUE(kept);
}

// Issue 14, item 12: deeply nested JSON and invalid UTF-8 are refused with the reason, cost
// nothing, and the watch goes on.
TEST_F(ApiAuthTest, HostileBodiesAreRefusedWithTheReasonAndTheWatchGoesOn) {
  start(true);
  ASSERT_TRUE(wait_recommendation("go", 15s)) << log();
  const std::string deep = std::string(60000, '[') + std::string(60000, ']');
  HttpResult r = backout::testing::http_post(port_, "/api/v1/ack", deep.substr(0, 60000), kToken);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("not valid JSON"), std::string::npos) << r.body;
  r = backout::testing::http_post(port_, "/api/v1/ack", "{\"by\": \"\xff\xfe\xfd\"}", kToken);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("not valid JSON"), std::string::npos) << r.body;
  r = backout::testing::http_post(port_, "/api/v1/raise",
                                  "{\"severity\": \"major\", \"reason\": \"x\", \"by\": \"@a\", "
                                  "\"nested\": " + std::string(40, '[') + std::string(40, ']') +
                                      "}",
                                  kToken);
  EXPECT_EQ(r.status, 400) << "deeper than 32: " << r.body;
  // The watch goes on: health, status, and a valid act.
  EXPECT_EQ(http_get(port_, "/healthz").status, 200);
  EXPECT_EQ(phase(), "in_window");
  r = post("/api/v1/ack", {{"by", "@john.smith"}});
  EXPECT_EQ(r.status, 409) << "no open breach: the act was read and refused for its content";
}

TEST_F(ApiAuthTest, PostsAreForbiddenWhenThePlanHasNoToken) {
  start(false);
  ASSERT_TRUE(wait_recommendation("go", 15s)) << log();
  expect_refused(403);
  for (const auto& [path, body] : acts()) {
    HttpResult r = post(path, body, kToken);
    EXPECT_EQ(r.status, 403) << path << ": " << r.body;
  }
  EXPECT_EQ(recommendation(), "go");
  EXPECT_TRUE(timeline_of("raise").empty());
  EXPECT_TRUE(chat_.posts().empty());
}

}  // namespace
}  // namespace backout::testing
