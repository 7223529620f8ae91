// rules::lint over plans built in code: each semantic warning fires on its doubtful choice and
// names the key, and the reference-like plan has none.
#include "backout/rules/lint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_plan.h"

namespace backout::rules {
namespace {

using testing::base_plan;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::trigger;
using namespace std::chrono_literals;

std::vector<std::string> keys(const std::vector<LintFinding>& fs) {
  std::vector<std::string> out;
  for (const LintFinding& f : fs) {
    out.push_back(f.key);
  }
  return out;
}

TEST(LintTest, ASoundPlanHasNoFinding) {
  Plan p = base_plan();
  p.triggers.push_back(trigger("errors", "ratio(portal.failed, portal.all)", "> 5%",
                               Severity::kCritical, 5min, 1min, 50));
  EXPECT_THAT(lint(p), IsEmpty());
}

TEST(LintTest, ARatioWithoutMinCountIsNamedAtItsMeasure) {
  Plan p = base_plan();
  p.triggers.push_back(
      trigger("errors", "ratio(portal.failed, portal.all)", "> 5%", Severity::kCritical));
  auto fs = lint(p);
  ASSERT_THAT(keys(fs), ElementsAre("triggers.errors.measure"));
  EXPECT_THAT(fs[0].message, HasSubstr("triggers.errors: ratio() without min_count"));
}

TEST(LintTest, AForLongerThanItsWindowAndAShadowedLevel) {
  Plan p = base_plan();
  Trigger t = trigger("errors", "ratio(portal.failed, portal.all)", "> 1%", Severity::kMajor, 5min,
                      10min, 50);
  testing::add_level(t, Severity::kCritical, "> 0.5%");
  p.triggers.push_back(t);
  auto fs = lint(p);
  EXPECT_THAT(keys(fs), ElementsAre("triggers.errors.when", "triggers.errors.for"));
  EXPECT_THAT(fs[0].message, HasSubstr("major (> 1%) can never apply"));
  EXPECT_THAT(fs[1].message, HasSubstr("10m is longer than over (5m)"));
}

TEST(LintTest, ATriggerThatCannotConfirmBeforeThePointOfNoReturn) {
  Plan p = base_plan();  // 4 h window, 100 m backout: 140 m to the point of no return
  p.triggers.push_back(trigger("slow", "p95(portal.latency)", "> 2s", Severity::kMajor, 2h, 30min));
  EXPECT_THAT(keys(lint(p)), ElementsAre("triggers.slow"));
  // Without a known window (a plan whose window has errors) nothing depends on it.
  EXPECT_THAT(lint(p, /*window_known=*/false), IsEmpty());
}

TEST(LintTest, AuthorityWindowNotifyAndServer) {
  Plan p = base_plan();
  Authority& a = p.authority.at(Severity::kCritical);
  a.ack_within = 5min;
  a.escalate_to.reset();
  p.window.end.offset = p.window.start.offset + 60min;
  p.notify.group_wait = 5min;
  p.server.host = "::";
  auto fs = lint(p);
  EXPECT_THAT(keys(fs), ElementsAre("window.end", "authority.critical.ack_within",
                                    "notify.group_wait", "server.listen"));
  EXPECT_THAT(fs[3].message, HasSubstr("server.listen: [::]:9750 is reachable"));
  a.escalate_to = a.decides;
  EXPECT_THAT(lint(p),
              ::testing::Contains(Field(&LintFinding::key, "authority.critical.escalate_to")));
}

TEST(LintTest, BackoutStepsThatDoNotAddUpToTheBackoutDuration) {
  Plan p = base_plan();  // backout_duration 100m
  Backout b;
  for (const auto& [id, minutes] : {std::pair{"stop_app", 2}, std::pair{"restore_db", 100}}) {
    BackoutStep s;
    s.id = id;
    s.action = id;
    s.owner = "it_operations";
    s.duration = std::chrono::minutes{minutes};
    b.steps.push_back(s);
  }
  p.backout = b;
  auto fs = lint(p);
  ASSERT_THAT(keys(fs), ElementsAre("backout.steps"));
  EXPECT_EQ(fs[0].message,
            "backout.steps: the steps add up to 1h42m but window.backout_duration is 1h40m (the "
            "point of no return is computed from backout_duration)");
  // Steps that add up exactly, a backout without steps, or an unknown window: nothing.
  p.backout->steps[1].duration = 98min;
  EXPECT_THAT(lint(p), IsEmpty());
  p.backout->steps[1].duration = 90min;
  EXPECT_THAT(keys(lint(p)), ElementsAre("backout.steps"));
  EXPECT_THAT(lint(p, /*window_known=*/false), IsEmpty());
  p.backout->steps.clear();
  EXPECT_THAT(lint(p), IsEmpty());
}

}  // namespace
}  // namespace backout::rules
