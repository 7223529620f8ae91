#include "backout/rules/decision_engine.h"

#include <gtest/gtest.h>

#include "support/test_plan.h"

namespace backout::rules {
namespace {

using backout::testing::at;
using std::chrono::minutes;

class DecisionEngineTest : public ::testing::Test {
 protected:
  DecisionEngineTest() : plan_(testing::base_plan()) {
    plan_.triggers.push_back(testing::trigger("db_connectivity", "failures(portal_db)", "> 0",
                                              Severity::kCritical, minutes{1}));
    plan_.triggers.back().name = "Database connectivity";
    plan_.triggers.push_back(testing::trigger("login_failure_rate",
                                              "ratio(portal.f_total, portal.a_total)", "> 5%",
                                              Severity::kMajor));
    plan_.triggers.back().name = "Login failure rate";
    plan_.triggers.push_back(testing::trigger("defect", "increase(portal.defects_total)", "> 0",
                                              Severity::kMinor));
    plan_.triggers.back().name = "Non-critical defect";
    statuses_.resize(plan_.triggers.size());
    for (std::size_t i = 0; i < statuses_.size(); ++i) {
      statuses_[i].id = plan_.triggers[i].id;
    }
  }

  void breach(std::size_t i, Severity s) {
    statuses_[i].state = TriggerState::kBreached;
    statuses_[i].severity = s;
    statuses_[i].evidence = "7.1% over 5m (threshold > 5%)";
  }

  Plan plan_;
  std::vector<TriggerStatus> statuses_;
  HumanActs acts_;
};

// The decision flowchart of the backout plan template:
//   issue detected -> severity? critical: invoke backout; major: fixable in window? yes: fix
//   forward, no: invoke backout; minor: log and continue.
struct FlowCase {
  const char* name;
  std::optional<Severity> critical;  // breach of trigger 0
  std::optional<Severity> major;     // breach of trigger 1
  std::optional<Severity> minor;     // breach of trigger 2
  std::optional<double> fix_eta;     // seconds from the window start, for trigger 1
  Recommendation expected;
  const char* decides;
};

class DecisionFlowchartTest : public DecisionEngineTest,
                              public ::testing::WithParamInterface<FlowCase> {};

TEST_P(DecisionFlowchartTest, FollowsThePlan) {
  const FlowCase& c = GetParam();
  if (c.critical) {
    breach(0, *c.critical);
  }
  if (c.major) {
    breach(1, *c.major);
  }
  if (c.minor) {
    breach(2, *c.minor);
  }
  if (c.fix_eta) {
    acts_.fix_forwards.push_back({"login_failure_rate", at(*c.fix_eta), "@john.smith", at(500)});
  }
  DecisionOutput d = decide(plan_, statuses_, acts_, at(600));
  EXPECT_EQ(d.recommendation, c.expected) << d.reason;
  EXPECT_EQ(d.decides, c.decides);
  EXPECT_EQ(d.phase, Phase::kInWindow);
}

INSTANTIATE_TEST_SUITE_P(
    Template, DecisionFlowchartTest,
    ::testing::Values(
        FlowCase{"nothing", {}, {}, {}, {}, Recommendation::kGo, ""},
        FlowCase{"critical", Severity::kCritical, {}, {}, {}, Recommendation::kBackout,
                 "deployment_lead"},
        FlowCase{"critical_with_fixable_major", Severity::kCritical, Severity::kMajor, {}, 1800,
                 Recommendation::kBackout, "deployment_lead"},
        FlowCase{"major_not_fixable", {}, Severity::kMajor, {}, {}, Recommendation::kBackout,
                 "project_manager"},
        FlowCase{"major_fixable_in_window", {}, Severity::kMajor, {}, 1800,
                 Recommendation::kFixForward, "project_manager"},
        FlowCase{"major_fix_after_pnr", {}, Severity::kMajor, {}, 9000, Recommendation::kBackout,
                 "project_manager"},
        FlowCase{"major_fix_eta_passed", {}, Severity::kMajor, {}, 590, Recommendation::kBackout,
                 "project_manager"},
        FlowCase{"minor_log_and_continue", {}, {}, Severity::kMinor, {}, Recommendation::kWatch,
                 ""},
        FlowCase{"major_and_minor", {}, Severity::kMajor, Severity::kMinor, 1800,
                 Recommendation::kFixForward, "project_manager"},
        FlowCase{"discretionary_asks_the_sponsor", {}, {}, Severity::kDiscretionary, {},
                 Recommendation::kWatch, "sponsor"}),
    [](const ::testing::TestParamInfo<FlowCase>& p) { return std::string(p.param.name); });

TEST_F(DecisionEngineTest, ReasonSaysWhatWhyAndTheTimeLeft) {
  breach(1, Severity::kMajor);
  DecisionOutput d = decide(plan_, statuses_, acts_, at(70 * 60));
  EXPECT_EQ(d.reason,
            "major: Login failure rate: 7.1% over 5m (threshold > 5%); no fix-forward declared; "
            "backout takes 1h40m, point of no return 04:20 (in 1h10m)");
  EXPECT_EQ(d.triggers, std::vector<std::string>{"login_failure_rate"});
  EXPECT_EQ(d.severity, Severity::kMajor);
  EXPECT_EQ(d.to_point_of_no_return, minutes{70});
}

TEST_F(DecisionEngineTest, FixForwardIsHonouredOnlyBeforeItsEtaAndThePointOfNoReturn) {
  breach(1, Severity::kMajor);
  acts_.fix_forwards.push_back({"login_failure_rate", at(100 * 60), "@john.smith", at(60 * 60)});
  EXPECT_EQ(decide(plan_, statuses_, acts_, at(70 * 60)).recommendation,
            Recommendation::kFixForward);
  EXPECT_EQ(decide(plan_, statuses_, acts_, at(99 * 60)).reason,
            "major: Login failure rate: 7.1% over 5m (threshold > 5%); fix-forward by "
            "@john.smith, ETA 03:40 (in 1m); backout takes 1h40m, point of no return 04:20 "
            "(in 41m)");
  DecisionOutput late = decide(plan_, statuses_, acts_, at(100 * 60));
  EXPECT_EQ(late.recommendation, Recommendation::kBackout);
  EXPECT_NE(late.reason.find("the fix-forward ETA 03:40 (@john.smith) has passed"),
            std::string::npos);
  // A later declaration replaces the earlier one; an ETA past the PNR is not honoured.
  acts_.fix_forwards.push_back({"login_failure_rate", at(150 * 60), "@john.smith", at(99 * 60)});
  DecisionOutput after_pnr = decide(plan_, statuses_, acts_, at(100 * 60));
  EXPECT_EQ(after_pnr.recommendation, Recommendation::kBackout);
  EXPECT_NE(after_pnr.reason.find("is after the point of no return"), std::string::npos);
  EXPECT_TRUE(fix_forward_honoured(plan_.window, acts_.fix_forwards[0], at(99 * 60)));
  EXPECT_FALSE(fix_forward_honoured(plan_.window, acts_.fix_forwards[1], at(99 * 60)));
}

TEST_F(DecisionEngineTest, InconclusiveTriggersMeanWatch) {
  statuses_[1].state = TriggerState::kInconclusive;
  statuses_[1].reason = "3 observations in the last 5m, fewer than min_count 50";
  DecisionOutput d = decide(plan_, statuses_, acts_, at(0));
  EXPECT_EQ(d.recommendation, Recommendation::kWatch);
  EXPECT_EQ(d.reason,
            "inconclusive: Login failure rate: 3 observations in the last 5m, fewer than "
            "min_count 50");
}

TEST_F(DecisionEngineTest, ManualRaiseCountsAsABreachOfItsSeverity) {
  acts_.raises.push_back({"manual_1", Severity::kCritical, "security breach: leaked keys",
                          "@dave.jones", at(300), false});
  DecisionOutput d = decide(plan_, statuses_, acts_, at(600));
  EXPECT_EQ(d.recommendation, Recommendation::kBackout);
  EXPECT_EQ(d.triggers, std::vector<std::string>{"manual_1"});
  EXPECT_NE(d.reason.find("raised by @dave.jones: security breach: leaked keys"),
            std::string::npos);
  acts_.raises[0].cleared = true;
  EXPECT_EQ(decide(plan_, statuses_, acts_, at(600)).recommendation, Recommendation::kGo);
}

TEST_F(DecisionEngineTest, HumanBackoutStandsAndGoAcceptsOpenBreaches) {
  breach(1, Severity::kMajor);
  acts_.decisions.push_back({HumanDecision::Kind::kGo, "@john.smith", "known issue",
                             at(300), {"login_failure_rate:major"}});
  DecisionOutput accepted = decide(plan_, statuses_, acts_, at(600));
  EXPECT_EQ(accepted.recommendation, Recommendation::kWatch);
  EXPECT_NE(accepted.reason.find("accepted by a go decision: Login failure rate"),
            std::string::npos);
  // A higher severity of the same trigger is not covered by that acceptance.
  breach(1, Severity::kCritical);
  EXPECT_EQ(decide(plan_, statuses_, acts_, at(600)).recommendation, Recommendation::kBackout);
  statuses_[1] = TriggerStatus{};
  acts_.decisions.push_back({HumanDecision::Kind::kBackout, "@jane.doe", "rolling back",
                             at(700), {}});
  DecisionOutput d = decide(plan_, statuses_, acts_, at(800));
  EXPECT_EQ(d.recommendation, Recommendation::kBackout);
  EXPECT_EQ(d.reason, "backout decided by @jane.doe at 02:11:40: rolling back");
}

TEST_F(DecisionEngineTest, ExtendMovesTheWindowEndAndThePointOfNoReturn) {
  breach(1, Severity::kMajor);
  acts_.fix_forwards.push_back({"login_failure_rate", at(160 * 60), "@john.smith", at(60 * 60)});
  EXPECT_EQ(decide(plan_, statuses_, acts_, at(100 * 60)).recommendation,
            Recommendation::kBackout);  // ETA 04:40 is after the PNR 04:20
  HumanDecision ext{HumanDecision::Kind::kExtend, "@sarah.williams", "CAB approved", at(90 * 60),
                    {}, at(5 * 3600)};
  acts_.decisions.push_back(ext);
  DecisionOutput d = decide(plan_, statuses_, acts_, at(100 * 60));
  EXPECT_EQ(d.recommendation, Recommendation::kFixForward);
  EXPECT_EQ(d.point_of_no_return, at(5 * 3600 - 100 * 60));
  EXPECT_EQ(d.window_end, at(5 * 3600));
  EXPECT_EQ(phase_at(effective_window(plan_, acts_, at(4.5 * 3600)), at(4.5 * 3600)),
            Phase::kInWindow);
}

TEST_F(DecisionEngineTest, PhasesFollowTheWindow) {
  EXPECT_EQ(phase_at(plan_.window, at(-1)), Phase::kPreWindow);
  EXPECT_EQ(phase_at(plan_.window, at(0)), Phase::kInWindow);
  EXPECT_EQ(phase_at(plan_.window, at(4 * 3600 - 1)), Phase::kInWindow);
  EXPECT_EQ(phase_at(plan_.window, at(4 * 3600)), Phase::kPostWindow);
  EXPECT_EQ(to_string(Phase::kPostWindow), "post_window");
}

TEST_F(DecisionEngineTest, PastThePointOfNoReturnTheReasonSaysSo) {
  breach(1, Severity::kMajor);
  DecisionOutput d = decide(plan_, statuses_, acts_, at(150 * 60));
  EXPECT_EQ(d.recommendation, Recommendation::kBackout);
  EXPECT_NE(d.reason.find("point of no return 04:20 (passed 10m ago: a backout now ends after "
                          "06:00)"),
            std::string::npos)
      << d.reason;
}

TEST(RecommendationTest, Names) {
  EXPECT_EQ(to_string(Recommendation::kFixForward), "fix_forward");
  EXPECT_EQ(headline(Recommendation::kFixForward), "FIX-FORWARD");
  EXPECT_EQ(headline(Recommendation::kBackout), "BACKOUT");
}

}  // namespace
}  // namespace backout::rules
