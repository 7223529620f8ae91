// Issue 14, defect 4 and item 11: the real agent under Debian's libfaketime, its wall clock
// stepped while a breach is open and paged. Before the fix, a step of one hour forward escalated
// at once ("has not acknowledged within 10m"), emptied the windows ("over the last 1h") and,
// stepped back, took the agent back in time. Now a step is detected, logged, counted and put in
// the timeline; it is taken only once it has held (--clock-settle), and then every duration in
// progress moves with the clock; a step and its correction before that change nothing at all.
//
// libfaketime is preloaded into the agent only (LD_PRELOAD), reading its offset from a file the
// test rewrites (FAKETIME_TIMESTAMP_FILE, re-read every second); the monotonic clock is left
// alone (FAKETIME_DONT_FAKE_MONOTONIC), as a real NTP step leaves CLOCK_MONOTONIC.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "backout/core/time.h"
#include "integration/agent_fixture.h"

namespace backout::testing {
namespace {

std::string libfaketime() {
  for (const char* p : {"/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
                        "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
                        "/usr/lib/faketime/libfaketimeMT.so.1"}) {
    if (fs::exists(p)) {
      return p;
    }
  }
  return "";
}

class ClockStepTest : public AgentFixture {
 protected:
  // No PostgreSQL: the plan has no portal_db source.
  static void SetUpTestSuite() {}
  static void TearDownTestSuite() {}

  void SetUp() override {
    AgentFixture::SetUp();
    const std::string lib = libfaketime();
    ASSERT_FALSE(lib.empty()) << "libfaketime is missing: scripts/setup-debian.sh installs the "
                                 "faketime package";
    offset_file_ = dir_ / "faketime";
    set_offset("+0");
    extra_env_ = {{"LD_PRELOAD", lib},
                  {"FAKETIME_TIMESTAMP_FILE", offset_file_.string()},
                  {"FAKETIME_CACHE_DURATION", "1"},
                  {"FAKETIME_DONT_FAKE_MONOTONIC", "1"}};
  }

  // The agent's wall clock from now on: "+0", "+1h", "-10m" (libfaketime's offset syntax).
  void set_offset(const std::string& offset) {
    std::ofstream(offset_file_.string() + ".new") << offset << "\n";
    fs::rename(offset_file_.string() + ".new", offset_file_);
  }

  // Starts the agent and opens a major login breach, paged to the project manager.
  void start_with_a_paged_breach() {
    TestPlanOptions o;
    o.with_postgres = false;
    write_plan(o);
    start_agent();
    ASSERT_TRUE(wait_recommendation("go", 10s)) << log();
    PortalConditions c = portal_.conditions();
    c.login_failure_rate = 0.20;
    portal_.set(c);
    ASSERT_TRUE(wait_decided("breach:login_failure_rate#1", 20s)) << log();
    ASSERT_EQ(trigger_state("login_failure_rate"), "breached");
  }

  double steps(const std::string& outcome) {
    return metric_or_zero("backout_clock_steps_total", {{"outcome", outcome}});
  }

  // Kinds of the pages decided after the breach (none is expected).
  std::vector<std::string> pages_after_the_breach() {
    std::vector<std::string> out;
    for (const DecidedPage& p : decided()) {
      if (p.key != "breach:login_failure_rate#1") {
        out.push_back(p.key + " (" + p.kind + ")");
      }
    }
    return out;
  }

  // The open breach's trigger: breached, measured over its 5m window, not "over the last 1h".
  void expect_breach_kept() {
    json::object st = status();
    ASSERT_EQ(field(st, "phase"), "in_window") << log();
    EXPECT_EQ(trigger_state("login_failure_rate"), "breached") << log();
    for (const auto& t : st["triggers"].as_array()) {
      if (field(t.as_object(), "id") == "login_failure_rate") {
        const std::string evidence = field(t.as_object(), "evidence");
        EXPECT_EQ(evidence.find("1h"), std::string::npos) << evidence;
      }
    }
    EXPECT_FALSE(open_breach("login_failure_rate").empty());
  }

  std::vector<std::string> clock_events() {
    std::vector<std::string> out;
    for (const json::object& e : timeline_of("clock_step")) {
      out.push_back(field(e, "outcome") + " " +
                    std::to_string(std::lround(e.at("by_seconds").to_number<double>())));
    }
    return out;
  }

  fs::path offset_file_;
};

TEST_F(ClockStepTest, AStepAndItsCorrectionBeforeTheSettleChangeNothing) {
  start_with_a_paged_breach();
  set_offset("+1h");
  ASSERT_TRUE(eventually([&] { return steps("detected") == 1; }, 10s)) << log();
  const json::object clock = status()["clock"].as_object();
  EXPECT_NEAR(clock.at("pending_step_seconds").to_number<double>(), 3600, 5);
  // A quiet stretch with the clock an hour ahead: nothing may be paged, the breach stays.
  std::this_thread::sleep_for(3s);
  expect_breach_kept();
  EXPECT_EQ(pages_after_the_breach(), std::vector<std::string>{}) << log();
  set_offset("+0");
  ASSERT_TRUE(eventually([&] { return steps("reverted") == 1; }, 10s)) << log();
  std::this_thread::sleep_for(1s);
  expect_breach_kept();
  EXPECT_EQ(pages_after_the_breach(), std::vector<std::string>{}) << log();
  EXPECT_EQ(steps("applied"), 0);
  EXPECT_TRUE(status()["clock"].as_object().at("pending_step_seconds").is_null());
  const std::vector<std::string> events = clock_events();
  ASSERT_EQ(events.size(), 2u) << log();
  EXPECT_EQ(events[0].substr(0, 13), "detected 3600");
  EXPECT_EQ(events[1].substr(0, 13), "reverted 3600");
  EXPECT_NE(log().find("the wall clock stepped forward 1h"), std::string::npos) << log();
}

TEST_F(ClockStepTest, ATakenStepKeepsWindowsAndTimersAndPagesNobody) {
  extra_args_ = {"--clock-settle", "1s"};
  start_with_a_paged_breach();
  const std::string paged_at = field(open_breach("login_failure_rate"), "paged_at");
  set_offset("+1h");
  ASSERT_TRUE(eventually([&] { return steps("applied") == 1; }, 10s)) << log();
  // The episode's times moved with the clock: it was paged moments ago on the new clock too.
  const std::string moved = field(open_breach("login_failure_rate"), "paged_at");
  auto a = parse_rfc3339(paged_at);
  auto b = parse_rfc3339(moved);
  ASSERT_TRUE(a && b) << paged_at << " / " << moved;
  EXPECT_NEAR(to_seconds(b->at - a->at), 3600, 5);
  std::this_thread::sleep_for(2s);
  expect_breach_kept();
  EXPECT_EQ(pages_after_the_breach(), std::vector<std::string>{})
      << "the step alone must not escalate (ack_within 10m) or repeat\n"
      << log();
  // And back: the same.
  set_offset("+0");
  ASSERT_TRUE(eventually([&] { return steps("applied") == 2; }, 10s)) << log();
  std::this_thread::sleep_for(2s);
  expect_breach_kept();
  EXPECT_EQ(pages_after_the_breach(), std::vector<std::string>{}) << log();
  const std::vector<std::string> events = clock_events();
  ASSERT_EQ(events.size(), 4u) << log();
  EXPECT_EQ(events[0].substr(0, 13), "detected 3600");
  EXPECT_EQ(events[1].substr(0, 12), "applied 3600");
  EXPECT_EQ(events[2].substr(0, 14), "detected -3600");
  EXPECT_EQ(events[3].substr(0, 13), "applied -3600");
  EXPECT_NEAR(metric_or_zero("backout_clock_offset_seconds", {}), 0, 1) << "taken: no offset left";
}

// Issue 14, item 13: a step back across the window's start entered pre_window with the log line
// "the deployment window has closed". The phase is a wall-clock matter: back before the start,
// the agent says so, and pages nobody.
TEST_F(ClockStepTest, AStepBackBeforeTheWindowSaysSoAndPagesNobody) {
  extra_args_ = {"--clock-settle", "1s"};
  start_with_a_paged_breach();
  set_offset("-1h");
  ASSERT_TRUE(eventually([&] { return steps("applied") == 1; }, 10s)) << log();
  ASSERT_TRUE(eventually([&] { return phase() == "pre_window"; }, 5s)) << log();
  EXPECT_NE(log().find("phase pre_window: before the deployment window; paging starts when it "
                       "opens"),
            std::string::npos)
      << log();
  EXPECT_EQ(log().find("has closed"), std::string::npos) << log();
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(pages_after_the_breach(), std::vector<std::string>{}) << log();
}

}  // namespace
}  // namespace backout::testing
