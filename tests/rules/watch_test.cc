// Human acts on the Watch: each names who did it.
#include "backout/rules/watch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_plan.h"

namespace backout::rules {
namespace {

using ::testing::HasSubstr;

// Issue 14, item 13: a raise could be cleared without `by`, leaving the timeline with nobody
// to answer for it.
TEST(WatchActsTest, ClearingARaiseNeedsWhoClearsIt) {
  const Plan plan = backout::testing::base_plan();
  Watch watch(plan);
  const TimePoint now = backout::testing::at(60);
  auto id = watch.raise(Severity::kCritical, "Credentials in a public repository", "@jane.doe",
                        now);
  ASSERT_TRUE(id.ok()) << id.error();
  Status s = watch.clear_raise(*id, "", now);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error(), HasSubstr("say who clears it ('by')"));
  EXPECT_FALSE(watch.acts().raises.front().cleared);
  EXPECT_TRUE(watch.clear_raise(*id, "@jane.doe", now).ok());
}

// Issue 14, defect 4: a wall-clock step was taken as time passing. Stepped an hour forward the
// watch escalated at once ("has not acknowledged within 10m"), emptied its windows ("over the last
// 1h") and completed every `for`. A Watch told about the step (shift) must do exactly what a watch
// whose clock never stepped does: the same trigger changes, the same values and the same pages at
// the same elapsed times. The window here is far from the step, so no wall-clock instant of the
// plan is crossed.
class ClockStepTest : public ::testing::TestWithParam<int> {};

// A gtest assertion inside a function returning a value.
#define ASSERT_TRUE_OR_EMPTY(cond) \
  do {                             \
    if (!(cond)) {                 \
      ADD_FAILURE() << #cond;      \
      return {};                   \
    }                              \
  } while (false)

struct Seen {
  double elapsed = 0;  // seconds since the scenario's start on the clock that really passed
  std::string what;
};

// Runs 40 minutes of a login ratio rising to 10% (major, `for` 2m) from 5 to 25 minutes and
// falling back, with a minor raise at minute 2. The wall clock steps by `step_minutes` during the
// `for` (minute 8), back during the acknowledgement timer (minute 12) and forward again during
// the `clear_after` (minute 27). `shift` tells the watch.
std::vector<Seen> run_scenario(int step_minutes, bool shift) {
  Plan plan = backout::testing::base_plan();
  plan.triggers.push_back(backout::testing::trigger(
      "login", "ratio(portal.f_total, portal.a_total)", "> 5%", Severity::kMajor,
      std::chrono::minutes{5}, std::chrono::minutes{2}, 50));
  backout::testing::add_level(plan.triggers.back(), Severity::kCritical, "> 25%");
  Watch watch(plan);
  SourceRouter* portal = watch.router("portal");
  const TimePoint t0 = backout::testing::at(10 * 60);  // 02:10; the steps stay in 02:00-04:05
  const Duration step = std::chrono::minutes{step_minutes};
  Duration offset{0};
  double failed = 0;
  double all = 0;
  std::vector<Seen> seen;
  for (int s = 0; s <= 40 * 60; ++s) {
    for (auto [minute, by] : {std::pair{8, step}, {12, -step}, {27, step}}) {
      if (s == minute * 60) {
        offset += by;
        if (shift) {
          watch.shift(by);
        }
      }
    }
    const TimePoint now = t0 + std::chrono::seconds{s} + offset;
    if (s == 2 * 60) {
      ASSERT_TRUE_OR_EMPTY(watch.raise(Severity::kMinor, "slow search", "@jane.doe", now).ok());
    }
    if (s % 5 == 0) {
      all += 200;
      failed += (s >= 5 * 60 && s < 25 * 60) ? 20 : 2;
      portal->record("f_total", {}, failed);
      portal->record("a_total", {}, all);
      portal->end_batch();
    }
    TickResult r = watch.tick(now);
    const TriggerStatus& st = watch.evaluator().statuses()[0];
    if (r.recommendation_changed) {
      seen.push_back({static_cast<double>(s),
                      "recommendation " + std::string(headline(r.decision.recommendation))});
    }
    for (const TriggerChange& c : r.changes) {
      seen.push_back({static_cast<double>(s),
                      "change " + std::string(to_string(c.to.state)) + " " +
                          (c.to.severity ? std::string(to_string(*c.to.severity)) : "-") +
                          " value " + std::to_string(st.value.value_or(-1)) + " count " +
                          std::to_string(st.count) + " since " +
                          std::to_string(to_seconds(c.to.since - now))});
    }
    for (const Page& p : r.pages) {
      seen.push_back({static_cast<double>(s), "page " + std::string(to_string(p.kind)) + " " +
                                                  p.key + " to " + p.decides + " at " +
                                                  std::to_string(to_seconds(p.at - now))});
    }
    if (s % 60 == 0) {
      seen.push_back({static_cast<double>(s), "minute value " +
                                                  std::to_string(st.value.value_or(-1)) +
                                                  " count " + std::to_string(st.count) + " " +
                                                  st.evidence.substr(0, st.evidence.find(" ("))});
    }
  }
  return seen;
}

std::string describe(const std::vector<Seen>& v) {
  std::string out;
  for (const Seen& s : v) {
    out += std::to_string(static_cast<int>(s.elapsed)) + " s: " + s.what + "\n";
  }
  return out;
}

TEST_P(ClockStepTest, AShiftedWatchDoesWhatAnUnsteppedWatchDoes) {
  const std::vector<Seen> steady = run_scenario(0, false);
  const std::vector<Seen> stepped = run_scenario(GetParam(), true);
  // The scenario pages: the breach, an escalation 10 minutes later, a resolve.
  EXPECT_THAT(describe(steady), HasSubstr("page breach"));
  EXPECT_THAT(describe(steady), HasSubstr("page escalation"));
  EXPECT_THAT(describe(steady), HasSubstr("page resolve"));
  EXPECT_EQ(describe(stepped), describe(steady));
}

// The test above can fail: without the shift, the same step changes what the watch does.
TEST_P(ClockStepTest, WithoutTheShiftTheStepChangesWhatTheWatchDoes) {
  EXPECT_NE(describe(run_scenario(GetParam(), false)), describe(run_scenario(0, false)));
}

INSTANTIATE_TEST_SUITE_P(Steps, ClockStepTest, ::testing::Values(60, -10, 7),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return i.param < 0 ? "Back" + std::to_string(-i.param) + "min"
                                              : "Forward" + std::to_string(i.param) + "min";
                         });

}  // namespace
}  // namespace backout::rules
