// What a person's act is echoed to the channels with (act_echo), and the Alertmanager re-post
// policy (alertmanager_reposts): both pure, taken out of the runtime (issue 10, item 2).
#include "app/runtime/act_echo.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "backout/alerting/alertmanager_payload.h"
#include "support/test_plan.h"

namespace backout::agent {
namespace {

using ::testing::ElementsAre;

record::TimelineEvent event(record::EventBody body) {
  return {{backout::testing::at(60), std::chrono::minutes{60}}, std::move(body)};
}

class ActEchoTest : public ::testing::Test {
 protected:
  ActEchoTest() : plan_(make_plan()), watch_(plan_) {}
  static rules::Plan make_plan() {
    rules::Plan p = backout::testing::base_plan();
    p.triggers.push_back(backout::testing::trigger(
        "login", "ratio(portal.f_total, portal.a_total)", "> 5%", rules::Severity::kMajor));
    p.triggers.back().name = "Login failure rate";
    return p;
  }
  rules::Plan plan_;
  rules::Watch watch_;
};

TEST_F(ActEchoTest, AnAcknowledgementNamesTheTriggersAndItsOpenEpisodes) {
  const TimePoint now = backout::testing::at(60);
  auto id = watch_.raise(rules::Severity::kCritical, "credentials leaked", "@jane.doe", now);
  ASSERT_TRUE(id.ok());
  watch_.tick(now);
  watch_.tick(now + std::chrono::seconds{5});  // past group_wait: the episode is paged
  auto echo = act_echo(event(record::Acknowledged{{"login", *id}, "@john.smith"}), watch_,
                       now + std::chrono::seconds{6}, 7);
  ASSERT_TRUE(echo.has_value());
  EXPECT_EQ(echo->page.kind, rules::PageKind::kAct);
  EXPECT_EQ(echo->page.reason, "acknowledged by @john.smith: Login failure rate, " + *id);
  EXPECT_THAT(echo->page.triggers, ElementsAre("login", *id));
  EXPECT_EQ(echo->acknowledgement, "ack:" + *id + "#1");
  EXPECT_EQ(echo->page.key, "act:" +
                                std::to_string((now + std::chrono::seconds{6})
                                                   .time_since_epoch()
                                                   .count()) +
                                ":7");
}

TEST_F(ActEchoTest, DecisionsFixForwardsAndRaisesSayWhoDidWhat) {
  const TimePoint now = backout::testing::at(60);
  auto decided = act_echo(
      event(record::Decided{rules::HumanDecision::Kind::kExtend, "@sarah.williams", "board: +1h",
                            ZonedTime{backout::testing::at(5 * 3600), std::chrono::minutes{60}},
                            std::nullopt}),
      watch_, now, 1);
  ASSERT_TRUE(decided.has_value());
  EXPECT_EQ(decided->page.reason,
            "decision extend by @sarah.williams: board: +1h (window extended to 07:00)");
  EXPECT_FALSE(decided->acknowledgement.has_value());
  auto fix = act_echo(event(record::FixForwardDeclared{
                          "login", ZonedTime{backout::testing::at(3600), std::chrono::minutes{60}},
                          "@john.smith", false}),
                      watch_, now, 2);
  ASSERT_TRUE(fix.has_value());
  EXPECT_EQ(fix->page.reason,
            "fix-forward declared by @john.smith for Login failure rate, ETA 03:00 (after the "
            "point of no return: it does not change the recommendation)");
  auto raised = act_echo(
      event(record::Raised{"manual_1", rules::Severity::kMajor, "search is slow", "@jane.doe"}),
      watch_, now, 3);
  ASSERT_TRUE(raised.has_value());
  EXPECT_EQ(raised->page.reason, "major raised by @jane.doe: search is slow (manual_1)");
  auto cleared = act_echo(event(record::RaiseCleared{"manual_1", "@jane.doe"}), watch_, now, 4);
  ASSERT_TRUE(cleared.has_value());
  EXPECT_EQ(cleared->page.reason, "manual_1 cleared by @jane.doe");
}

TEST_F(ActEchoTest, OtherEventsAreNotActs) {
  EXPECT_FALSE(act_echo(event(record::PhaseChanged{rules::Phase::kInWindow}), watch_,
                        backout::testing::at(60), 1)
                   .has_value());
}

TEST(AlertmanagerRepostsTest, EveryOpenPagedEpisodeIsPostedAgainWithTheDecision) {
  const TimePoint now = backout::testing::at(600);
  rules::Episode paged{"login", 1, rules::Severity::kMajor, backout::testing::at(60)};
  paged.paged_at = backout::testing::at(62);
  rules::Episode gathering{"db", 1, rules::Severity::kCritical, backout::testing::at(599)};
  rules::Episode resolved = paged;
  resolved.trigger = "latency";
  resolved.resolved_at = backout::testing::at(300);
  rules::DecisionOutput decision;
  decision.recommendation = rules::Recommendation::kFixForward;
  decision.reason = "login failures above 5%";
  const auto pages = alerting::alertmanager_reposts({paged, gathering, resolved}, decision, now);
  ASSERT_EQ(pages.size(), 1U);
  EXPECT_EQ(pages[0].kind, rules::PageKind::kRepeat);
  EXPECT_THAT(pages[0].triggers, ElementsAre("login"));
  EXPECT_EQ(pages[0].severity, rules::Severity::kMajor);
  EXPECT_EQ(pages[0].recommendation, rules::Recommendation::kFixForward);
  EXPECT_EQ(pages[0].reason, "login failures above 5%");
  EXPECT_EQ(pages[0].key,
            "refresh:login#1:" + std::to_string(now.time_since_epoch().count()));
  EXPECT_TRUE(alerting::alertmanager_reposts({gathering, resolved}, decision, now).empty());
}

}  // namespace
}  // namespace backout::agent
