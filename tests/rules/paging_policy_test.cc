#include "backout/rules/paging_policy.h"

#include <gtest/gtest.h>

#include "support/test_plan.h"

namespace backout::rules {
namespace {

using backout::testing::at;
using std::chrono::minutes;
using std::chrono::seconds;
using Handles = std::vector<std::string>;

class PagingPolicyTest : public ::testing::Test {
 protected:
  PagingPolicyTest() : plan_(testing::base_plan()) {
    plan_.triggers.push_back(testing::trigger("db_connectivity", "failures(portal_db)", "> 0",
                                              Severity::kCritical, minutes{1}));
    plan_.triggers.push_back(testing::trigger("login_failure_rate",
                                              "ratio(portal.f_total, portal.a_total)", "> 5%",
                                              Severity::kMajor));
    plan_.triggers.push_back(testing::trigger("tx_errors", "ratio(portal.tf_total, portal.t_total)",
                                              "> 2%", Severity::kMajor));
    plan_.triggers.push_back(testing::trigger("defect", "increase(portal.defects_total)", "> 0",
                                              Severity::kMinor));
  }

  DecisionOutput decision(double t, Recommendation r = Recommendation::kBackout) {
    DecisionOutput d;
    d.recommendation = r;
    d.phase = phase_at(plan_.window, at(t));
    d.point_of_no_return = plan_.window.point_of_no_return();
    d.window_end = plan_.window.end.at;
    d.reason = "test";
    return d;
  }

  std::vector<Page> tick(PagingPolicy& p, double t, std::vector<BreachChange> changes = {},
                         Recommendation r = Recommendation::kBackout) {
    return p.tick(at(t), changes, decision(t, r));
  }

  static BreachChange opened(const std::string& id, Severity s) { return {id, std::nullopt, s}; }
  static BreachChange resolved(const std::string& id, Severity s) { return {id, s, std::nullopt}; }

  Plan plan_;
};

TEST_F(PagingPolicyTest, MajorBreachesWithinGroupWaitGoOutAsOnePage) {
  PagingPolicy p(plan_);
  EXPECT_TRUE(tick(p, 0, {opened("login_failure_rate", Severity::kMajor)}).empty());
  EXPECT_TRUE(tick(p, 1, {opened("tx_errors", Severity::kMajor)}).empty());
  auto pages = tick(p, 2);
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_EQ(pages[0].kind, PageKind::kBreach);
  EXPECT_EQ(pages[0].triggers, (Handles{"login_failure_rate", "tx_errors"}));
  EXPECT_EQ(pages[0].decides, "project_manager");
  EXPECT_EQ(pages[0].mention, (Handles{"@john.smith", "@sarah.williams"}));
  EXPECT_EQ(pages[0].key, "breach:login_failure_rate#1,tx_errors#1");
}

TEST_F(PagingPolicyTest, CriticalGoesOutAtOnceToTheDeploymentLead) {
  PagingPolicy p(plan_);
  auto pages = tick(p, 0, {opened("db_connectivity", Severity::kCritical)});
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_EQ(pages[0].decides, "deployment_lead");
  EXPECT_EQ(pages[0].mention, (Handles{"@jane.doe", "@john.smith", "@sarah.williams"}));
  EXPECT_EQ(pages[0].severity, Severity::kCritical);
}

TEST_F(PagingPolicyTest, MinorIsPostedWithoutMentions) {
  PagingPolicy p(plan_);
  tick(p, 0, {opened("defect", Severity::kMinor)});
  auto pages = tick(p, 2);
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_TRUE(pages[0].decides.empty());
  EXPECT_TRUE(pages[0].mention.empty());
  // Never repeated nor escalated.
  EXPECT_TRUE(tick(p, 3600).empty());
}

TEST_F(PagingPolicyTest, EscalatesAtAckWithinThenRepeatsUntilAcknowledged) {
  PagingPolicy p(plan_);
  tick(p, 0, {opened("db_connectivity", Severity::kCritical)});
  EXPECT_TRUE(tick(p, 299).empty());
  auto esc = tick(p, 300);  // ack_within 5m
  ASSERT_EQ(esc.size(), 1u);
  EXPECT_EQ(esc[0].kind, PageKind::kEscalation);
  EXPECT_EQ(esc[0].decides, "project_manager");
  EXPECT_EQ(esc[0].escalated_from, "deployment_lead");
  EXPECT_EQ(esc[0].mention.front(), "@john.smith");
  EXPECT_TRUE(tick(p, 899).empty());
  auto rep = tick(p, 900);  // repeat_every 10m after the escalation page
  ASSERT_EQ(rep.size(), 1u);
  EXPECT_EQ(rep[0].kind, PageKind::kRepeat);
  EXPECT_EQ(rep[0].decides, "deployment_lead");
  EXPECT_EQ(p.acknowledge("db_connectivity", "@jane.doe", at(901)),
            Handles{"db_connectivity"});
  EXPECT_TRUE(tick(p, 3000).empty());
  EXPECT_EQ(p.episodes()[0].acked_by, "@jane.doe");
}

TEST_F(PagingPolicyTest, AcknowledgedBeforeAckWithinIsNeverEscalated) {
  PagingPolicy p(plan_);
  tick(p, 0, {opened("login_failure_rate", Severity::kMajor)});
  tick(p, 2);
  EXPECT_EQ(p.acknowledge("", "@john.smith", at(60)), Handles{"login_failure_rate"});
  EXPECT_TRUE(tick(p, 3600).empty());
  EXPECT_TRUE(p.acknowledge("", "@john.smith", at(3601)).empty());
}

TEST_F(PagingPolicyTest, SeverityRiseOfAPagedEpisodePagesAgainAndNeedsANewAck) {
  PagingPolicy p(plan_);
  tick(p, 0, {opened("login_failure_rate", Severity::kMajor)});
  tick(p, 2);
  p.acknowledge("login_failure_rate", "@john.smith", at(10));
  auto up = tick(p, 20, {{"login_failure_rate", Severity::kMajor, Severity::kCritical}});
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].kind, PageKind::kSeverityUp);
  EXPECT_EQ(up[0].decides, "deployment_lead");
  auto esc = tick(p, 320);
  ASSERT_EQ(esc.size(), 1u);
  EXPECT_EQ(esc[0].kind, PageKind::kEscalation);
}

TEST_F(PagingPolicyTest, ResolveOnlyForPagedEpisodes) {
  PagingPolicy p(plan_);
  tick(p, 0, {opened("login_failure_rate", Severity::kMajor)});
  // Resolved inside group_wait: never paged, so no resolve either.
  EXPECT_TRUE(tick(p, 1, {resolved("login_failure_rate", Severity::kMajor)}).empty());
  EXPECT_TRUE(tick(p, 5).empty());
  tick(p, 10, {opened("login_failure_rate", Severity::kMajor)});
  ASSERT_EQ(tick(p, 12).size(), 1u);
  auto res = tick(p, 100, {resolved("login_failure_rate", Severity::kMajor)});
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0].kind, PageKind::kResolve);
  EXPECT_TRUE(res[0].mention.empty());
  EXPECT_EQ(res[0].key, "resolve:login_failure_rate#2");
}

TEST_F(PagingPolicyTest, NothingIsPagedBeforeTheWindowAndOpenBreachesArePagedAtItsStart) {
  PagingPolicy p(plan_);
  EXPECT_TRUE(tick(p, -600, {opened("login_failure_rate", Severity::kMajor)}).empty());
  EXPECT_TRUE(tick(p, -1).empty());
  auto pages = tick(p, 0);
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_EQ(pages[0].phase, Phase::kInWindow);
}

TEST_F(PagingPolicyTest, WarnsOnceBeforeThePointOfNoReturnForOpenMajorBreaches) {
  PagingPolicy p(plan_);
  tick(p, 3600, {opened("login_failure_rate", Severity::kMajor)});
  tick(p, 3602);
  p.acknowledge("", "@john.smith", at(3610));
  // PNR 04:20 = +8400 s; warning from 04:05 = +7500 s.
  EXPECT_TRUE(tick(p, 7499).empty());
  auto warn = tick(p, 7500);
  ASSERT_EQ(warn.size(), 1u);
  EXPECT_EQ(warn[0].kind, PageKind::kPnrWarning);
  EXPECT_EQ(warn[0].decides, "project_manager");
  EXPECT_TRUE(tick(p, 7600).empty());
}

TEST_F(PagingPolicyTest, PagesWhenAFixForwardEtaPassesAndTheRecommendationTurnsToBackout) {
  PagingPolicy p(plan_);
  tick(p, 0, {opened("login_failure_rate", Severity::kMajor)}, Recommendation::kFixForward);
  tick(p, 2, {}, Recommendation::kFixForward);
  p.acknowledge("", "@john.smith", at(3));
  DecisionOutput d = decision(1800);
  d.severity = Severity::kMajor;
  d.triggers = {"login_failure_rate"};
  d.decides = "project_manager";
  (void)p.tick(at(1799), {}, decision(1799, Recommendation::kFixForward));
  auto pages = p.tick(at(1800), {}, d);
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_EQ(pages[0].kind, PageKind::kEtaPassed);
  EXPECT_EQ(pages[0].decides, "project_manager");
}

TEST_F(PagingPolicyTest, FinalMessageOnceAtTheWindowEnd) {
  PagingPolicy p(plan_);
  EXPECT_TRUE(tick(p, 14399, {}, Recommendation::kGo).empty());
  auto fin = tick(p, 14400, {}, Recommendation::kGo);
  ASSERT_EQ(fin.size(), 1u);
  EXPECT_EQ(fin[0].kind, PageKind::kFinal);
  EXPECT_EQ(fin[0].key, "final");
  EXPECT_TRUE(fin[0].mention.empty());
  EXPECT_TRUE(tick(p, 14500, {}, Recommendation::kGo).empty());
  EXPECT_TRUE(p.final_sent());
}

TEST_F(PagingPolicyTest, RestoredEpisodesKeepTheirTimers) {
  PagingPolicy first(plan_);
  tick(first, 0, {opened("db_connectivity", Severity::kCritical)});
  PagingPolicy second(plan_);
  second.restore(first.episodes(), false);
  EXPECT_TRUE(tick(second, 200).empty());
  auto esc = tick(second, 300);
  ASSERT_EQ(esc.size(), 1u);
  EXPECT_EQ(esc[0].kind, PageKind::kEscalation);
  // An acknowledged episode is not paged again after a restart.
  second.acknowledge("", "@jane.doe", at(310));
  PagingPolicy third(plan_);
  third.restore(second.episodes(), false);
  EXPECT_TRUE(tick(third, 5000).empty());
}

TEST_F(PagingPolicyTest, RepeatsAfterARestartNeverReuseAKeyButARepeatDecidedAgainKeepsIt) {
  PagingPolicy first(plan_);
  tick(first, 0, {opened("db_connectivity", Severity::kCritical)});  // paged at once
  ASSERT_EQ(tick(first, 300).size(), 1u);                            // escalation
  const std::vector<Episode> before_repeat = first.episodes();
  auto r1 = tick(first, 900);
  ASSERT_EQ(r1.size(), 1u);
  EXPECT_EQ(r1[0].kind, PageKind::kRepeat);
  // A clean restart: the next repeat has a new key (the outbox would drop a used one).
  PagingPolicy second(plan_);
  second.restore(first.episodes(), false);
  auto r2 = tick(second, 1500);
  ASSERT_EQ(r2.size(), 1u);
  EXPECT_EQ(r2[0].kind, PageKind::kRepeat);
  EXPECT_NE(r2[0].key, r1[0].key);
  // A crash after the repeat was stored but before its episode was: decided again, same key,
  // so the outbox sends it once.
  PagingPolicy crashed(plan_);
  crashed.restore(before_repeat, false);
  auto again = tick(crashed, 900);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].key, r1[0].key);
}

TEST_F(PagingPolicyTest, AnEtaThatPassedWhileTheAgentWasDownStillPages) {
  PagingPolicy first(plan_);
  tick(first, 0, {opened("login_failure_rate", Severity::kMajor)}, Recommendation::kFixForward);
  tick(first, 2, {}, Recommendation::kFixForward);
  PagingPolicy second(plan_);
  second.restore(first.episodes(), false, Recommendation::kFixForward);
  DecisionOutput d = decision(1800);
  d.severity = Severity::kMajor;
  d.triggers = {"login_failure_rate"};
  d.decides = "project_manager";
  auto pages = second.tick(at(1800), {}, d);
  std::string kinds;
  for (const Page& p : pages) {
    kinds += std::string(to_string(p.kind)) + " ";
  }
  // Unacknowledged for 30 minutes, the episode also escalates (its timer carried on).
  EXPECT_EQ(kinds, "escalation eta_passed ");
}

TEST_F(PagingPolicyTest, BreachChangesFromEvaluatorChanges) {
  TriggerChange up;
  up.trigger = 1;
  up.from = TriggerState::kPending;
  up.from_severity = Severity::kMajor;
  up.to.state = TriggerState::kBreached;
  up.to.severity = Severity::kMajor;
  TriggerChange pend;
  pend.trigger = 2;
  pend.from = TriggerState::kOk;
  pend.to.state = TriggerState::kPending;
  pend.to.severity = Severity::kMajor;
  auto out = breach_changes(plan_, {up, pend});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, "login_failure_rate");
  EXPECT_FALSE(out[0].from.has_value());
  EXPECT_EQ(out[0].to, Severity::kMajor);
}

}  // namespace
}  // namespace backout::rules
