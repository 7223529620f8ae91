// The night's lifecycle (DESIGN section 9) on the night plan's deployment and procedure, on
// manual time: every transition, overrun and projection of the header's worked example, the
// outages each phase expects, the verification's hold and timeout, and the refusals.
#include "backout/rules/lifecycle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_plan.h"

namespace backout::rules {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Kind = LifecycleEvent::Kind;

// 02:00 + minutes (the test window: 02:00-06:00 +01:00).
TimePoint clock_at(double minutes) { return testing::at(minutes * 60); }

constexpr double k0600 = 240;  // 06:00, in minutes after 02:00

// The night plan's deployment (30m, the portal's triggers expected down) and its eleven steps
// (1h42m in all), with a check on restore_db and two verify checks.
Plan night_plan() {
  Plan p = testing::base_plan();
  p.deployment = Deployment{30min, {"system_unavailable", "login_failure_rate"}};
  Backout b;
  b.expect_outage = {"system_unavailable", "login_failure_rate", "db_connectivity"};
  const std::vector<std::pair<std::string, int>> steps = {
      {"announce", 2},       {"stop_traffic", 5},   {"notify_users", 5},       {"stop_app", 5},
      {"restore_db", 30},    {"restore_app", 15},   {"restore_config", 10},    {"start_app", 5},
      {"verify_health", 15}, {"resume_traffic", 5}, {"notify_stakeholders", 5}};
  for (const auto& [id, minutes] : steps) {
    BackoutStep s;
    s.id = id;
    s.action = id;
    s.owner = "deployment_lead";
    s.duration = std::chrono::minutes{minutes};
    b.steps.push_back(s);
  }
  b.steps[4].check = MeasureCheck{"db restored", {}, {}, 1min};
  b.checks = {MeasureCheck{"customers", {}, {}, 1min}, MeasureCheck{"db version", {}, {}, 1min}};
  p.backout = b;
  return p;
}

LifecycleInput input(double minutes) {
  LifecycleInput in;
  in.now = clock_at(minutes);
  in.window_end = clock_at(k0600);
  return in;
}

std::vector<Kind> kinds(const std::vector<LifecycleEvent>& events) {
  std::vector<Kind> out;
  for (const LifecycleEvent& e : events) {
    out.push_back(e.kind);
  }
  return out;
}

// Walks the lifecycle from the window's start through go-live to a backout decided at 03:10.
class LifecycleTest : public ::testing::Test {
 protected:
  LifecycleTest() : plan_(night_plan()), life_(plan_) {}

  void go_live_and_decide(double decided_at = 70) {
    ASSERT_THAT(kinds(life_.tick(input(0))), ElementsAre(Kind::kPhase));
    ASSERT_EQ(life_.phase(), NightPhase::kDeploying);
    ASSERT_TRUE(life_.deployed(clock_at(20)).ok());
    auto decided = life_.backout_decided(clock_at(decided_at), clock_at(k0600));
    ASSERT_TRUE(decided.ok()) << decided.error();
  }

  // `done` for the current step at `minutes`.
  std::vector<LifecycleEvent> done_current(double minutes, bool failed = false) {
    const std::size_t i = *life_.current_step();
    auto r = life_.done(plan_.backout->steps[i].id, clock_at(minutes), clock_at(k0600), "@jane.doe",
                        "", failed);
    EXPECT_TRUE(r.ok()) << r.error();
    return r.ok() ? *r : std::vector<LifecycleEvent>{};
  }

  Plan plan_;
  Lifecycle life_;
};

TEST_F(LifecycleTest, TheDeploymentExpectsItsOutageUntilGoLiveThenThoseTriggersStartAfresh) {
  EXPECT_THAT(life_.tick(input(-30)), IsEmpty());
  EXPECT_EQ(life_.phase(), NightPhase::kPreWindow);
  EXPECT_FALSE(life_.expects_outage("system_unavailable"));
  auto events = life_.tick(input(0));
  ASSERT_THAT(kinds(events), ElementsAre(Kind::kPhase));
  EXPECT_EQ(events[0].phase, NightPhase::kDeploying);
  EXPECT_TRUE(life_.expects_outage("system_unavailable"));
  EXPECT_FALSE(life_.expects_outage("data_integrity"));  // not expected: pages as usual
  auto live = life_.deployed(clock_at(20));
  ASSERT_TRUE(live.ok());
  ASSERT_THAT(kinds(*live), ElementsAre(Kind::kPhase, Kind::kStartAfresh));
  EXPECT_EQ((*live)[0].phase, NightPhase::kInWindow);
  EXPECT_THAT((*live)[1].triggers, ElementsAre("system_unavailable", "login_failure_rate"));
  EXPECT_FALSE(life_.expects_outage("system_unavailable"));
  EXPECT_EQ(life_.deployed_at(), clock_at(20));
  EXPECT_THAT(life_.tick(input(31)), IsEmpty());  // no overrun after a declared go-live
}

TEST_F(LifecycleTest, NoGoLiveByThePlannedDurationIsToldOnceAndTheOutageIsNoLongerExpected) {
  life_.tick(input(0));
  EXPECT_THAT(life_.tick(input(29.9)), IsEmpty());
  auto events = life_.tick(input(30));
  EXPECT_THAT(kinds(events), ElementsAre(Kind::kDeployOverrun, Kind::kPhase, Kind::kStartAfresh));
  EXPECT_EQ(life_.phase(), NightPhase::kInWindow);
  EXPECT_FALSE(life_.expects_outage("system_unavailable"));
  EXPECT_THAT(life_.tick(input(31)), IsEmpty());
  auto late = life_.deployed(clock_at(32));
  ASSERT_FALSE(late.ok());
  EXPECT_THAT(late.error(), HasSubstr("the night is in_window, not deploying"));
}

TEST(LifecycleWithoutNightTest, APlanWithoutTheNightKeysGoesStraightToTheWindow) {
  const Plan plan = testing::base_plan();
  Lifecycle life(plan);
  auto events = life.tick(input(0));
  ASSERT_THAT(kinds(events), ElementsAre(Kind::kPhase));
  EXPECT_EQ(events[0].phase, NightPhase::kInWindow);
  auto decided = life.backout_decided(clock_at(70), clock_at(k0600));
  ASSERT_TRUE(decided.ok());
  EXPECT_THAT(*decided, IsEmpty());  // no procedure: the night stays in_window (section 5)
  EXPECT_EQ(life.phase(), NightPhase::kInWindow);
  EXPECT_FALSE(life.deployed(clock_at(1)).ok());
  EXPECT_FALSE(life.done("announce", clock_at(71), clock_at(k0600), "@x", "", false).ok());
}

// The header's worked example.
TEST_F(LifecycleTest, TheWorkedExampleProjectsTheEndAndTellsTheOverrunAndTheProjectionOnce) {
  life_.tick(input(0));
  ASSERT_TRUE(life_.deployed(clock_at(20)).ok());
  auto decided = life_.backout_decided(clock_at(70), clock_at(k0600));  // 03:10
  ASSERT_TRUE(decided.ok());
  ASSERT_THAT(kinds(*decided), ElementsAre(Kind::kPhase, Kind::kStepStarted));
  EXPECT_EQ((*decided)[0].phase, NightPhase::kBackingOut);
  EXPECT_EQ((*decided)[1].step, 0u);
  EXPECT_EQ((*decided)[1].projected_end, clock_at(70 + 102));  // 04:52
  EXPECT_EQ(life_.backout_started_at(), clock_at(70));
  EXPECT_TRUE(life_.expects_outage("db_connectivity"));  // the backout's own restore
  // Steps 1-4 in their planned 17 minutes.
  done_current(72);
  done_current(77);
  done_current(82);
  auto started = done_current(87);  // 03:27: restore_db starts
  ASSERT_THAT(kinds(started), ElementsAre(Kind::kStepStarted));
  EXPECT_EQ(started[0].step, 4u);
  EXPECT_EQ(started[0].projected_end, clock_at(87 + 30 + 55));
  EXPECT_THAT(life_.tick(input(131.9)), IsEmpty());
  auto overrun = life_.tick(input(132));  // 04:12: 150% of 30m
  ASSERT_THAT(kinds(overrun), ElementsAre(Kind::kStepOverrun));
  EXPECT_EQ(overrun[0].step, 4u);
  EXPECT_EQ(overrun[0].projected_end, clock_at(132 + 55));  // 05:07
  EXPECT_THAT(life_.tick(input(150)), IsEmpty());
  EXPECT_THAT(life_.tick(input(185)), IsEmpty());  // 05:05 + 55m = 06:00: not past it
  auto projection = life_.tick(input(186));        // 05:06 + 55m = 06:01
  ASSERT_THAT(kinds(projection), ElementsAre(Kind::kProjection));
  EXPECT_EQ(projection[0].step, 4u);
  EXPECT_EQ(projection[0].projected_end, clock_at(186 + 55));
  EXPECT_THAT(life_.tick(input(190)), IsEmpty());  // once per step
  // The next step, already projected past the window's end, is told at once.
  auto next = done_current(191);
  ASSERT_THAT(kinds(next), ElementsAre(Kind::kStepStarted, Kind::kProjection));
  EXPECT_EQ(next[1].step, 5u);
}

TEST_F(LifecycleTest, ABackoutDecidedWhileDeployingEndsTheDeploymentsExpectedOutage) {
  life_.tick(input(0));
  auto decided = life_.backout_decided(clock_at(10), clock_at(k0600));
  ASSERT_TRUE(decided.ok());
  ASSERT_THAT(kinds(*decided), ElementsAre(Kind::kPhase, Kind::kStartAfresh, Kind::kStepStarted));
  EXPECT_THAT((*decided)[1].triggers, ElementsAre("system_unavailable", "login_failure_rate"));
  EXPECT_EQ(life_.deployed_at(), std::nullopt);
  EXPECT_TRUE(life_.expects_outage("db_connectivity"));                        // now the backout's
  EXPECT_THAT(kinds(life_.tick(input(31))), ElementsAre(Kind::kStepOverrun));  // not the deploy's
}

TEST_F(LifecycleTest, OnlyTheCurrentStepCanBeDoneAndOnlyWhileBackingOut) {
  life_.tick(input(0));
  auto early = life_.done("announce", clock_at(5), clock_at(k0600), "@x", "", false);
  ASSERT_FALSE(early.ok());
  EXPECT_THAT(early.error(), HasSubstr("the night is deploying, not backing_out"));
  ASSERT_TRUE(life_.deployed(clock_at(20)).ok());
  ASSERT_TRUE(life_.backout_decided(clock_at(70), clock_at(k0600)).ok());
  auto unknown = life_.done("restore_dbb", clock_at(71), clock_at(k0600), "@x", "", false);
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.error(), HasSubstr("'restore_dbb' is not a step of backout.steps"));
  auto skipped = life_.done("restore_db", clock_at(71), clock_at(k0600), "@x", "", false);
  ASSERT_FALSE(skipped.ok());
  EXPECT_EQ(skipped.error(),
            "'restore_db' is not the current step; the current one is 'announce' (1 of 11)");
  auto again = life_.backout_decided(clock_at(72), clock_at(k0600));
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.error(), HasSubstr("the backout already began at 03:10"));
  EXPECT_EQ(life_.current_step(), 0u);
}

TEST_F(LifecycleTest, ADoneStepsCheckVerifiesItOrIsToldOnceThenVerifiesWhenItHolds) {
  go_live_and_decide();
  for (int i = 0; i < 4; ++i) {
    done_current(71 + i);
  }
  done_current(90);  // restore_db done
  LifecycleInput in = input(90);
  in.step_checks.assign(11, std::nullopt);
  EXPECT_THAT(life_.tick(in), IsEmpty());  // not judged yet: nothing
  in.now = clock_at(91);
  in.step_checks[4] = false;
  ASSERT_THAT(kinds(life_.tick(in)), ElementsAre(Kind::kCheckFailed));
  EXPECT_EQ(life_.steps()[4].verified, false);
  in.now = clock_at(92);
  EXPECT_THAT(life_.tick(in), IsEmpty());  // told once
  in.now = clock_at(93);
  in.step_checks[4] = true;
  auto verified = life_.tick(in);
  ASSERT_THAT(kinds(verified), ElementsAre(Kind::kStepVerified));
  EXPECT_EQ(verified[0].step, 4u);
  EXPECT_EQ(life_.steps()[4].verified, true);
  EXPECT_EQ(life_.steps()[4].state, StepState::kDone);
  EXPECT_EQ(life_.steps()[5].state, StepState::kRunning);
}

TEST_F(LifecycleTest, AStepDoneAsFailedIsToldAndTheNextStepStillStarts) {
  go_live_and_decide();
  auto events = done_current(72, /*failed=*/true);
  ASSERT_THAT(kinds(events), ElementsAre(Kind::kCheckFailed, Kind::kStepStarted));
  EXPECT_EQ(life_.steps()[0].state, StepState::kFailed);
  EXPECT_EQ(life_.steps()[0].done_by, "@jane.doe");
  EXPECT_EQ(life_.current_step(), 1u);
}

TEST_F(LifecycleTest, TheLastStepStartsTheVerificationAndTheReversalIsVerifiedAfterTheHold) {
  go_live_and_decide();
  std::vector<LifecycleEvent> last;
  for (int i = 0; i < 11; ++i) {
    last = done_current(71 + i);
  }
  ASSERT_THAT(kinds(last), ElementsAre(Kind::kPhase, Kind::kStartAfresh));
  EXPECT_EQ(last[0].phase, NightPhase::kVerifying);
  EXPECT_THAT(last[1].triggers,
              ElementsAre("system_unavailable", "login_failure_rate", "db_connectivity"));
  EXPECT_FALSE(life_.expects_outage("db_connectivity"));  // every trigger counts again
  EXPECT_EQ(life_.verify_since(), clock_at(81));
  EXPECT_EQ(life_.projected_end(clock_at(82)), std::nullopt);
  LifecycleInput in = input(82);
  in.checks = {true, std::nullopt};  // the version cannot be read yet
  EXPECT_THAT(life_.tick(in), IsEmpty());
  in.checks = {true, true};
  in.now = clock_at(83);
  EXPECT_THAT(life_.tick(in), IsEmpty());  // fine since 03:23
  in.now = clock_at(85);
  in.breached = {"error_rate"};  // a trigger breached: the hold starts again
  EXPECT_THAT(life_.tick(in), IsEmpty());
  in.breached.clear();
  in.now = clock_at(86);
  EXPECT_THAT(life_.tick(in), IsEmpty());
  in.now = clock_at(90.9);
  EXPECT_THAT(life_.tick(in), IsEmpty());
  in.now = clock_at(91);  // 5m of hold
  auto verified = life_.tick(in);
  ASSERT_THAT(kinds(verified), ElementsAre(Kind::kPhase, Kind::kReversalVerified));
  EXPECT_EQ(verified[0].phase, NightPhase::kBackedOut);
  EXPECT_EQ(life_.verified_at(), clock_at(91));
  auto end = life_.tick(input(k0600));
  ASSERT_THAT(kinds(end), ElementsAre(Kind::kPhase));
  EXPECT_EQ(end[0].phase, NightPhase::kPostWindow);
}

TEST_F(LifecycleTest, AReversalNotVerifiedByTheTimeoutNamesWhatFailsOnce) {
  go_live_and_decide();
  for (int i = 0; i < 11; ++i) {
    done_current(71 + i);
  }
  LifecycleInput in = input(110.9);  // verifying since 03:21; timeout 30m
  in.checks = {false, true};
  in.breached = {"data_integrity"};
  EXPECT_THAT(life_.tick(in), IsEmpty());
  in.now = clock_at(111);
  auto incomplete = life_.tick(in);
  ASSERT_THAT(kinds(incomplete), ElementsAre(Kind::kReversalIncomplete));
  EXPECT_THAT(incomplete[0].failing, ElementsAre("customers", "data_integrity"));
  EXPECT_EQ(life_.phase(), NightPhase::kVerifying);
  in.now = clock_at(112);
  EXPECT_THAT(life_.tick(in), IsEmpty());
  // Verified later still.
  in.checks = {true, true};
  in.breached.clear();
  life_.tick(in);
  in.now = clock_at(117);
  EXPECT_THAT(kinds(life_.tick(in)), ElementsAre(Kind::kPhase, Kind::kReversalVerified));
}

TEST_F(LifecycleTest, TheWindowsEndIsPostWindowFromAnyPhase) {
  go_live_and_decide();
  LifecycleInput in = input(k0600);
  auto events = life_.tick(in);
  ASSERT_THAT(kinds(events), ElementsAre(Kind::kPhase));
  EXPECT_EQ(events[0].phase, NightPhase::kPostWindow);
  EXPECT_FALSE(life_.expects_outage("db_connectivity"));
  EXPECT_THAT(life_.tick(input(k0600 + 10)), IsEmpty());
}

TEST_F(LifecycleTest, AnExtendedWindowMovesTheProjectionsLimit) {
  life_.tick(input(0));
  ASSERT_TRUE(life_.deployed(clock_at(20)).ok());
  // Decided at 05:20 with the window extended to 08:00: the steps' 1h42m end at 07:02.
  auto decided = life_.backout_decided(clock_at(200), clock_at(k0600 + 120));
  ASSERT_TRUE(decided.ok());
  EXPECT_THAT(kinds(*decided), ElementsAre(Kind::kPhase, Kind::kStepStarted));
  LifecycleInput in = input(201);
  in.window_end = clock_at(k0600 + 120);
  EXPECT_THAT(life_.tick(in), IsEmpty());
  in.window_end = clock_at(k0600);  // against 06:00 the same projection is past the end
  auto late = life_.tick(in);
  ASSERT_THAT(kinds(late), ElementsAre(Kind::kProjection));
  EXPECT_EQ(late[0].projected_end, clock_at(201 + 1 + 100));
}

TEST_F(LifecycleTest, AClockStepMovesEveryRecordedTimeSoNoOverrunIsFalse) {
  go_live_and_decide();
  life_.shift(60min);  // the clock jumped an hour ahead: the step began an hour later too
  EXPECT_EQ(life_.steps()[0].started_at, clock_at(130));
  EXPECT_EQ(life_.deployed_at(), clock_at(80));
  EXPECT_THAT(life_.tick(input(131)), IsEmpty());  // 1m into a 2m step: no overrun
  EXPECT_THAT(kinds(life_.tick(input(133))), ElementsAre(Kind::kStepOverrun));
}

TEST(NightPhaseTest, NamesAreTheWireNames) {
  EXPECT_EQ(to_string(NightPhase::kBackingOut), "backing_out");
  EXPECT_EQ(to_string(NightPhase::kBackedOut), "backed_out");
  EXPECT_EQ(to_string(StepState::kFailed), "failed");
  EXPECT_EQ(night_plan().backout->planned(), 102min);
}

}  // namespace
}  // namespace backout::rules
