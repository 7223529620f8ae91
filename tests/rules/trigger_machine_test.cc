#include "backout/rules/trigger_machine.h"

#include <gtest/gtest.h>

#include "support/test_plan.h"

namespace backout::rules {
namespace {

using backout::testing::at;
using std::chrono::minutes;
using std::chrono::seconds;

TriggerInput met(double t, bool avg, bool early = false, std::size_t levels = 1) {
  TriggerInput in;
  in.now = at(t);
  in.value = 0.07;
  in.count = 1000;
  in.average_met.assign(levels, false);
  in.early_met.assign(levels, false);
  in.average_met[0] = avg;
  in.early_met[0] = early;
  return in;
}

TEST(TriggerMachineTest, ForMustElapseBeforeBreach) {
  Trigger t = testing::trigger("login", "ratio(portal.f_total, portal.a_total)", "> 5%",
                               Severity::kMajor, minutes{5}, minutes{1});
  TriggerMachine m(t);
  EXPECT_FALSE(m.step(met(0, false)));
  EXPECT_EQ(m.state(), TriggerState::kOk);
  EXPECT_TRUE(m.step(met(10, true)));
  EXPECT_EQ(m.state(), TriggerState::kPending);
  EXPECT_EQ(m.severity(), Severity::kMajor);
  EXPECT_FALSE(m.step(met(69, true)));
  EXPECT_EQ(m.state(), TriggerState::kPending);
  EXPECT_TRUE(m.step(met(70, true)));
  EXPECT_EQ(m.state(), TriggerState::kBreached);
  EXPECT_EQ(m.since(), at(70));
  EXPECT_EQ(m.path(), DetectionPath::kAverage);
}

TEST(TriggerMachineTest, PendingThatStopsHoldingGoesBackToOkWithoutABreach) {
  Trigger t = testing::trigger("login", "ratio(portal.f_total, portal.a_total)", "> 5%",
                               Severity::kMajor, minutes{5}, minutes{1});
  TriggerMachine m(t);
  m.step(met(0, true));
  ASSERT_EQ(m.state(), TriggerState::kPending);
  m.step(met(30, false));
  EXPECT_EQ(m.state(), TriggerState::kOk);
  // The `for` clock restarts: 59 s of holding is not enough.
  m.step(met(40, true));
  m.step(met(99, true));
  EXPECT_EQ(m.state(), TriggerState::kPending);
  m.step(met(100, true));
  EXPECT_EQ(m.state(), TriggerState::kBreached);
}

TEST(TriggerMachineTest, ForZeroBreachesAtOnce) {
  Trigger t = testing::trigger("db", "failures(portal_db)", "> 0", Severity::kCritical,
                               minutes{1});
  TriggerMachine m(t);
  EXPECT_TRUE(m.step(met(0, true)));
  EXPECT_EQ(m.state(), TriggerState::kBreached);
  EXPECT_EQ(m.severity(), Severity::kCritical);
}

// The anti-flap rule: a breach resolves only after its condition has been unmet for clear_after.
TEST(TriggerMachineTest, WobblingAroundTheThresholdKeepsOneBreach) {
  Trigger t = testing::trigger("login", "ratio(portal.f_total, portal.a_total)", "> 5%",
                               Severity::kMajor, minutes{5}, minutes{1});
  t.clear_after = minutes{1};
  TriggerMachine m(t);
  m.step(met(0, true));
  m.step(met(60, true));
  ASSERT_EQ(m.state(), TriggerState::kBreached);
  int changes = 0;
  // Alternate met / unmet every 20 s for ten minutes: never unmet for a whole minute.
  for (int s = 80; s < 680; s += 20) {
    changes += m.step(met(s, (s / 20) % 2 == 0)) ? 1 : 0;
  }
  EXPECT_EQ(changes, 0);
  EXPECT_EQ(m.state(), TriggerState::kBreached);
  // Unmet for a full minute: resolved.
  m.step(met(690, true));
  m.step(met(700, false));
  m.step(met(759, false));
  EXPECT_EQ(m.state(), TriggerState::kBreached);
  EXPECT_TRUE(m.step(met(760, false)));
  EXPECT_EQ(m.state(), TriggerState::kOk);
}

TEST(TriggerMachineTest, InconclusiveNeitherClearsABreachNorAdvancesPending) {
  Trigger t = testing::trigger("login", "ratio(portal.f_total, portal.a_total)", "> 5%",
                               Severity::kMajor, minutes{5}, minutes{1}, 50);
  TriggerMachine m(t);
  m.step(met(0, true));
  TriggerInput quiet = met(30, false);
  quiet.inconclusive_reason = "3 observations in the last 5m, fewer than min_count 50";
  m.step(quiet);
  EXPECT_EQ(m.state(), TriggerState::kInconclusive);
  EXPECT_EQ(m.inconclusive_reason(), quiet.inconclusive_reason);
  // Pending does not carry over the inconclusive gap.
  m.step(met(40, true));
  EXPECT_EQ(m.state(), TriggerState::kPending);
  m.step(met(100, true));
  ASSERT_EQ(m.state(), TriggerState::kBreached);
  TriggerInput down = met(110, false);
  down.inconclusive_reason = "source 'portal' is down";
  for (int s = 110; s < 1000; s += 10) {
    down.now = at(s);
    m.step(down);
    ASSERT_EQ(m.state(), TriggerState::kBreached) << "at +" << s << "s";
  }
}

TEST(TriggerMachineTest, MultiLevelEscalatesAtOnceAndDeescalatesAfterClearAfter) {
  Trigger t = testing::trigger("errors", "ratio(portal.e_total, portal.r_total)", "> 1%",
                               Severity::kMajor, minutes{5}, seconds{30});
  testing::add_level(t, Severity::kCritical, "> 25%");
  ASSERT_EQ(t.levels[0].severity, Severity::kCritical);
  TriggerMachine m(t);
  auto in = [&](double s, bool critical, bool major) {
    TriggerInput x;
    x.now = at(s);
    x.value = 0.1;
    x.count = 1000;
    x.average_met = {critical, major};
    x.early_met = {false, false};
    return x;
  };
  m.step(in(0, false, true));
  EXPECT_EQ(m.state(), TriggerState::kPending);
  m.step(in(30, false, true));
  EXPECT_EQ(m.state(), TriggerState::kBreached);
  EXPECT_EQ(m.severity(), Severity::kMajor);
  // Critical held: pending at critical does not lower the major breach, then escalates.
  m.step(in(40, true, true));
  EXPECT_EQ(m.state(), TriggerState::kBreached);
  EXPECT_EQ(m.severity(), Severity::kMajor);
  EXPECT_TRUE(m.step(in(70, true, true)));
  EXPECT_EQ(m.severity(), Severity::kCritical);
  // Back to major: critical stays until unmet for clear_after (30 s).
  m.step(in(80, false, true));
  EXPECT_EQ(m.severity(), Severity::kCritical);
  EXPECT_TRUE(m.step(in(110, false, true)));
  EXPECT_EQ(m.severity(), Severity::kMajor);
  EXPECT_EQ(m.state(), TriggerState::kBreached);
}

TEST(TriggerMachineTest, PathIsTheOneThatStartedTheHold) {
  Trigger t = testing::trigger("login", "ratio(portal.f_total, portal.a_total)", "> 5%",
                               Severity::kMajor, minutes{5}, minutes{1});
  TriggerMachine m(t);
  m.step(met(0, false, true));  // early alarm alone
  m.step(met(30, true, true));  // the average catches up
  m.step(met(60, true, true));
  ASSERT_EQ(m.state(), TriggerState::kBreached);
  EXPECT_EQ(m.path(), DetectionPath::kEarly);

  TriggerMachine avg(t);
  avg.step(met(0, true, false));
  avg.step(met(60, true, true));
  EXPECT_EQ(avg.path(), DetectionPath::kAverage);
}

TEST(TriggerMachineTest, RestoredBreachResolvesFromNewData) {
  Trigger t = testing::trigger("login", "ratio(portal.f_total, portal.a_total)", "> 5%",
                               Severity::kMajor, minutes{5}, minutes{1});
  TriggerMachine m(t);
  m.restore_breach(0, at(-100), DetectionPath::kEarly);
  EXPECT_EQ(m.state(), TriggerState::kBreached);
  EXPECT_FALSE(m.step(met(0, false)));
  EXPECT_EQ(m.state(), TriggerState::kBreached);
  EXPECT_TRUE(m.step(met(60, false)));
  EXPECT_EQ(m.state(), TriggerState::kOk);
}

TEST(TriggerMachineTest, StateNames) {
  EXPECT_EQ(to_string(TriggerState::kOk), "ok");
  EXPECT_EQ(to_string(TriggerState::kPending), "pending");
  EXPECT_EQ(to_string(TriggerState::kBreached), "breached");
  EXPECT_EQ(to_string(TriggerState::kInconclusive), "inconclusive");
  EXPECT_EQ(to_string(DetectionPath::kEarly), "early");
  EXPECT_EQ(to_string(DetectionPath::kAverage), "average");
}

}  // namespace
}  // namespace backout::rules
