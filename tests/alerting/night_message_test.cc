// The messages of the night (DESIGN section 9) as people read them: a phase that expects
// breaches, a step for its owner with the projection and its margin, a step running late, a
// projection past the window, a failed check, the reversal verified and incomplete.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "alerting/scenarios.h"
#include "backout/alerting/chat_message.h"

namespace backout::alerting {
namespace {

using testing::clock_at;
using ::testing::HasSubstr;
using ::testing::Not;

rules::MeasureCheck check(const std::string& name, const std::string& measure,
                          const std::string& when) {
  rules::Trigger t = backout::testing::trigger("c", measure, when, rules::Severity::kCritical,
                                               std::chrono::minutes{1});
  return {name, t.measure, t.levels.front().condition, std::chrono::minutes{1}};
}

rules::Plan night_plan() {
  rules::Plan p = testing::reference_plan();
  p.contacts.push_back({"dba", "Mike Brown", "@mike.brown", "xxx-xxxx", "on-call"});
  p.deployment = rules::Deployment{std::chrono::minutes{30}, {"login_failure_rate"}};
  rules::Backout b;
  b.expect_outage = {"login_failure_rate", "db_connectivity"};
  rules::BackoutStep announce{"announce", "Announce backout to team", "project_manager",
                              std::chrono::minutes{2}, "Team notified", std::nullopt};
  rules::BackoutStep restore{"restore_db", "Restore database", "dba", std::chrono::minutes{30},
                             "DB restored", check("restore_db", "value(customers)", "> 0")};
  b.steps = {announce, restore};
  b.checks = {check("Customer count matches", "value(customers)", ">= 125000")};
  p.backout = b;
  return p;
}

std::string text(const rules::Plan& plan, rules::Page page) {
  MessageContext ctx;
  ctx.plan = &plan;
  ctx.page = std::move(page);
  ctx.now = ctx.page.at;
  return compose_message(ctx).plain_text();
}

rules::Page page(rules::PageKind kind, TimePoint at) {
  rules::Page p;
  p.kind = kind;
  p.at = at;
  p.window_end = clock_at(6, 0);
  p.recommendation = rules::Recommendation::kBackout;
  return p;
}

TEST(NightMessage, DeployingSaysWhichTriggersAreExpectedAndHowToDeclareGoLive) {
  const rules::Plan plan = night_plan();
  rules::Page p = page(rules::PageKind::kPhase, clock_at(2, 0));
  p.night_phase = "deploying";
  p.expected = {"login_failure_rate"};
  const std::string t = text(plan, p);
  EXPECT_THAT(t, HasSubstr("deploying: 1 trigger is expected to breach until go-live "
                           "(Login failure rate); they page nobody"));
  EXPECT_THAT(t, HasSubstr("backout-agent deployed --by @you"));
}

TEST(NightMessage, AStepTellsItsOwnerWhatHowLongHowToVerifyAndTheProjection) {
  const rules::Plan plan = night_plan();
  rules::Page p = page(rules::PageKind::kStep, clock_at(3, 27));
  p.step = 1;
  p.decides = "dba";
  p.mention_roles = {"dba"};
  p.mention = {"@mike.brown"};
  p.projected_end = clock_at(4, 52);
  const std::string t = text(plan, p);
  EXPECT_THAT(t, HasSubstr("Backout step 2 of 2: Restore database"));
  EXPECT_THAT(t, HasSubstr("@mike.brown (DBA), phone xxx-xxxx: Restore database, planned 30m; "
                           "verify: DB restored."));
  EXPECT_THAT(t, HasSubstr("Projected end of the backout 04:52, 1h08m before the window ends "
                           "at 06:00."));
  EXPECT_THAT(t, HasSubstr("backout-agent done restore_db --by @you"));
}

TEST(NightMessage, AProjectionPastTheWindowSaysByHowMuch) {
  const rules::Plan plan = night_plan();
  rules::Page p = page(rules::PageKind::kProjection, clock_at(5, 20));
  p.step = 1;
  p.projected_end = clock_at(6, 12);
  const std::string t = text(plan, p);
  EXPECT_THAT(t, HasSubstr("Projected end of the backout 06:12, 12m after the window ends at "
                           "06:00."));
  EXPECT_THAT(t, HasSubstr("Now at step 2 of 2: Restore database."));
}

TEST(NightMessage, AFailedCheckNamesTheCheck) {
  const rules::Plan plan = night_plan();
  rules::Page p = page(rules::PageKind::kCheckFailed, clock_at(4, 0));
  p.step = 1;
  const std::string t = text(plan, p);
  EXPECT_THAT(t, HasSubstr("Check failed: step 2 of 2: Restore database"));
  EXPECT_THAT(t, HasSubstr("Restore database is done but its check `value(customers) > 0` "
                           "fails. The next step has started; decide what to do."));
}

TEST(NightMessage, TheReversalVerifiedGivesTheValuesAndIncompleteNamesWhatFails) {
  const rules::Plan plan = night_plan();
  rules::Page v = page(rules::PageKind::kReversalVerified, clock_at(4, 58));
  v.check_values = {125000};
  const std::string verified = text(plan, v);
  EXPECT_THAT(verified, HasSubstr("REVERSAL VERIFIED at 04:58"));
  EXPECT_THAT(verified, HasSubstr("Customer count matches 125000 (held 5m)."));
  rules::Page i = page(rules::PageKind::kReversalIncomplete, clock_at(5, 28));
  i.failing = {"Customer count matches"};
  i.check_values = {124000};
  const std::string incomplete = text(plan, i);
  EXPECT_THAT(incomplete, HasSubstr("REVERSAL INCOMPLETE at 05:28"));
  EXPECT_THAT(incomplete, HasSubstr("Not verified 30m after the last step. Failing: Customer "
                                    "count matches."));
  EXPECT_THAT(incomplete, Not(HasSubstr("VERIFIED at")));
}

TEST(NightMessage, ABlindTriggerSaysForHowLongAndWhy) {
  const rules::Plan plan = night_plan();
  rules::Page p = page(rules::PageKind::kBlind, clock_at(3, 2));
  p.triggers = {"login_failure_rate"};
  p.decides = "project_manager";
  MessageContext ctx;
  ctx.plan = &plan;
  ctx.page = p;
  ctx.now = p.at;
  for (const rules::Trigger& t : plan.triggers) {
    rules::TriggerStatus st;
    st.id = t.id;
    if (t.id == "login_failure_rate") {
      st.state = rules::TriggerState::kInconclusive;
      st.since = clock_at(3, 0);
      st.reason = "source portal down";
    }
    ctx.statuses.push_back(st);
  }
  const std::string t = compose_message(ctx).plain_text();
  EXPECT_THAT(t, HasSubstr("Cannot be judged: Login failure rate"));
  EXPECT_THAT(t, HasSubstr("Login failure rate cannot be judged for 2m: source portal down.\n"
                           "A breach of it would not be seen"));
}

}  // namespace
}  // namespace backout::alerting
