// What the human message says for each page kind (DESIGN sections 1, 5 and 6), asserted on the
// plain text so that a wording change shows up here as well as in the goldens.
#include "backout/alerting/chat_message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "alerting/scenarios.h"
#include "backout/alerting/slack_payload.h"

namespace backout::alerting {
namespace {

using testing::clock_at;
using ::testing::HasSubstr;
using ::testing::Not;

const testing::Scenario& scenario(const std::string& name) {
  static const std::vector<testing::Scenario> all = testing::all_scenarios();
  for (const testing::Scenario& s : all) {
    if (s.name == name) {
      return s;
    }
  }
  throw std::invalid_argument("no scenario " + name);
}

std::string text_of(const std::string& name) {
  return compose_message(scenario(name).ctx).plain_text();
}

TEST(ChatMessage, CriticalBreachSaysEverythingTheDesignExampleSays) {
  const ChatMessage m = compose_message(scenario("critical_db_breach").ctx);
  EXPECT_EQ(m.tone, Tone::kDanger);
  EXPECT_EQ(m.emoji, ":red_circle:");
  EXPECT_EQ(m.title.plain(),
            "BACKOUT recommended \xE2\x80\x94 Customer Portal Enhancement 2.0 \xE2\x80\x94 "
            "critical: Database connectivity");
  const std::string t = m.plain_text();
  EXPECT_THAT(t, HasSubstr("3 failed checks over 1m (threshold > 0)."));
  EXPECT_THAT(t,
              HasSubstr("Decides: @jane.doe (Deployment Lead). FYI @john.smith @sarah.williams."));
  EXPECT_THAT(t, HasSubstr("Point of no return 04:20 (in 1h12m); backout takes 1h40m."));
  EXPECT_THAT(t, HasSubstr("Acknowledge: `backout-agent ack --trigger db_connectivity --by @you` "
                           "or POST /api/v1/ack."));
  ASSERT_EQ(m.mentions.size(), 3u);
  EXPECT_EQ(m.mentions[0].handle, "@jane.doe");
  EXPECT_EQ(m.mentions[0].role_title, "Deployment Lead");
  EXPECT_EQ(m.mentions[0].name, "Jane Doe");
}

TEST(ChatMessage, SlackTextUsesMrkdwnAndEscapesSlackControlCharacters) {
  const std::string t = slack_text(compose_message(scenario("critical_db_breach").ctx));
  EXPECT_EQ(t.substr(0, t.find('\n')),
            ":red_circle: *BACKOUT recommended* \xE2\x80\x94 Customer Portal Enhancement 2.0 "
            "\xE2\x80\x94 critical: _Database connectivity_");
  EXPECT_THAT(t, HasSubstr("(threshold &gt; 0)"));
  EXPECT_THAT(t, Not(HasSubstr("> 0")));
}

TEST(ChatMessage, MajorBreachWithoutFixForwardRecommendsBackoutAndSaysHowToFixForward) {
  const std::string t = text_of("major_login_breach");
  EXPECT_THAT(t, HasSubstr("BACKOUT recommended"));
  EXPECT_THAT(t, HasSubstr("major: Login failure rate"));
  EXPECT_THAT(t, HasSubstr("7.1% over 5m (threshold > 5%)."));
  EXPECT_THAT(t, HasSubstr("No fix-forward declared: backout, unless a fix with an ETA before "
                           "04:20 is declared"));
  EXPECT_THAT(t, HasSubstr("Decides: @john.smith (Project Manager). FYI @sarah.williams."));
}

TEST(ChatMessage, MajorBreachWithHonouredFixForwardSaysFixForwardAndEta) {
  const ChatMessage m = compose_message(scenario("major_login_fix_forward").ctx);
  EXPECT_EQ(m.tone, Tone::kWarning);
  const std::string t = m.plain_text();
  EXPECT_THAT(t, HasSubstr("FIX-FORWARD, ETA 03:40 \xE2\x80\x94"));
  EXPECT_THAT(t, HasSubstr("Fix-forward by John Smith, ETA 03:40 (in 10m)."));
  EXPECT_THAT(t, Not(HasSubstr("No fix-forward")));
}

TEST(ChatMessage, EarlyDetectionCarriesTheCusumEvidence) {
  const ChatMessage m = compose_message(scenario("early_detection").ctx);
  EXPECT_THAT(m.plain_text(),
              HasSubstr("Early detection: ~20% over the last 3.0s (61 of 305), above 5% with "
                        "99.9% confidence; 5m average 3.1%."));
  bool threshold_fact = false;
  for (const Fact& f : m.facts) {
    if (f.title == "Threshold") {
      threshold_fact = true;
      EXPECT_EQ(f.value, "> 5% (early detection)");
    }
  }
  EXPECT_TRUE(threshold_fact);
}

TEST(ChatMessage, EscalationNamesWhoDidNotAcknowledgeAndWhoDecidesNow) {
  const std::string t = text_of("escalation");
  EXPECT_THAT(t, HasSubstr("@jane.doe (Deployment Lead) has not acknowledged within 5m; decides "
                           "now: @john.smith (Project Manager)."));
  EXPECT_THAT(t, HasSubstr("FYI @jane.doe @sarah.williams."));
  EXPECT_THAT(t, Not(HasSubstr("Decides:")));
}

TEST(ChatMessage, RepeatCountsRemindersSinceTheFirstPage) {
  const std::string t = text_of("repeat");
  EXPECT_THAT(t, HasSubstr("reminder 1 \xE2\x80\x94"));
  EXPECT_THAT(t, HasSubstr("Reminder 1, not acknowledged since 03:08 (15m)."));
}

TEST(ChatMessage, PnrWarningSaysTimeLeftOnce) {
  const std::string t = text_of("pnr_warning");
  EXPECT_THAT(t, HasSubstr("point of no return in 15m"));
  EXPECT_THAT(t, HasSubstr("Point of no return in 15m (04:20): a backout takes 1h40m"));
  EXPECT_THAT(t, Not(HasSubstr("Point of no return 04:20 (in 15m)")));
  // Acknowledged already: no acknowledgement hint.
  EXPECT_THAT(t, Not(HasSubstr("Acknowledge:")));
}

TEST(ChatMessage, EtaPassedSaysTheFixForwardEtaPassedWithTheBreachOpen) {
  const std::string t = text_of("eta_passed");
  EXPECT_THAT(t, HasSubstr("The fix-forward ETA 03:40 passed with the breach still open (declared "
                           "by John Smith at 03:12)."));
  EXPECT_THAT(t, HasSubstr("BACKOUT recommended"));
}

TEST(ChatMessage, SeverityUpAsksForANewAcknowledgement) {
  const std::string t = text_of("severity_up");
  EXPECT_THAT(t, HasSubstr("severity up \xE2\x80\x94 critical: Error rate"));
  EXPECT_THAT(t, HasSubstr("Error rate rose to critical: it needs a new acknowledgement."));
  EXPECT_THAT(t, HasSubstr("Decides: @jane.doe (Deployment Lead)."));
}

TEST(ChatMessage, ResolveMentionsNobodyAndGivesTheNewRecommendation) {
  const ChatMessage m = compose_message(scenario("resolve").ctx);
  EXPECT_TRUE(m.mentions.empty());
  EXPECT_EQ(m.tone, Tone::kGood);
  EXPECT_TRUE(m.ack_hint.spans.empty());
  const std::string t = m.plain_text();
  EXPECT_THAT(t, HasSubstr("Resolved \xE2\x80\x94 Customer Portal Enhancement 2.0"));
  EXPECT_THAT(t, HasSubstr("Back to normal: 2.1% over 5m (threshold > 5%)."));
  EXPECT_THAT(t, HasSubstr("acknowledged by John Smith at 03:12."));
  // Chats that notify on @name (Mattermost, Rocket.Chat) must not ping anyone on a resolve.
  EXPECT_THAT(t, Not(HasSubstr("@")));
  EXPECT_THAT(t, HasSubstr("Recommendation now GO: all 10 triggers ok."));
  EXPECT_THAT(t, Not(HasSubstr("Decides:")));
  EXPECT_THAT(t, Not(HasSubstr("FYI")));
}

TEST(ChatMessage, MinorBreachIsPostedWithoutMentions) {
  const ChatMessage m = compose_message(scenario("minor_breach").ctx);
  EXPECT_TRUE(m.mentions.empty());
  EXPECT_TRUE(m.ack_hint.spans.empty());
  const std::string t = m.plain_text();
  EXPECT_THAT(t, HasSubstr("WATCH \xE2\x80\x94"));
  EXPECT_THAT(t, HasSubstr("minor: Search latency"));
  EXPECT_THAT(t, HasSubstr("Minor: log and continue; nobody is paged."));
  EXPECT_THAT(t, Not(HasSubstr("@")));
  EXPECT_THAT(t, Not(HasSubstr("Point of no return")));
}

TEST(ChatMessage, AfterTheWindowEveryPageSaysTheWindowClosed) {
  const std::string t = text_of("post_window_breach");
  EXPECT_THAT(t, HasSubstr("The deployment window closed at 06:00."));
  EXPECT_THAT(t, Not(HasSubstr("Point of no return")));
}

TEST(ChatMessage, FinalGoSummarisesTheNight) {
  const ChatMessage m = compose_message(scenario("final_go").ctx);
  EXPECT_EQ(m.tone, Tone::kGood);
  EXPECT_TRUE(m.mentions.empty());
  const std::string t = m.plain_text();
  EXPECT_THAT(t, Not(HasSubstr("@")));  // nobody is paged by a final GO
  EXPECT_THAT(t,
              HasSubstr("Final: GO \xE2\x80\x94 Customer Portal Enhancement 2.0 \xE2\x80\x94 the "
                        "deployment window closed at 06:00"));
  EXPECT_THAT(t, HasSubstr("The night: 2 breaches (1 critical, 1 major), 2 pages, 2 acknowledged; "
                           "decisions: go by Jane Doe at 05:50."));
  EXPECT_THAT(t, HasSubstr("Database connectivity (critical): 03:08\xE2\x80\x93"
                           "03:11 (3m), "
                           "acknowledged by Jane Doe at 03:09."));
}

TEST(ChatMessage, FinalBackoutGivesTheBackoutStatusAndTheDecider) {
  const ChatMessage m = compose_message(scenario("final_backout").ctx);
  EXPECT_EQ(m.tone, Tone::kDanger);
  const std::string t = m.plain_text();
  EXPECT_THAT(t, HasSubstr("Final: BACKOUT"));
  EXPECT_THAT(t, HasSubstr("Backout status: decided by Jane Doe at 05:45 (database failover "
                           "failed)."));
  EXPECT_THAT(t, HasSubstr("Decides: @jane.doe (Deployment Lead)."));
  EXPECT_THAT(t, HasSubstr("since 05:40, still open"));
}

TEST(ChatMessage, FinalBackoutWithoutADecisionAsksForOne) {
  testing::Night n;
  n.breach("db_connectivity", rules::Severity::kCritical, 1,
           "1 failed check over 1m (threshold > 0)", clock_at(5, 50));
  n.tick(clock_at(5, 50));
  const ChatMessage m = compose_message(n.page(clock_at(6, 0), rules::PageKind::kFinal));
  const std::string t = m.plain_text();
  EXPECT_THAT(t, HasSubstr("Critical: Database connectivity: 1 failed check over 1m"));
  EXPECT_THAT(t, HasSubstr("Backout status: no decision recorded"));
  EXPECT_THAT(t, HasSubstr("Decides: @jane.doe (Deployment Lead). FYI @john.smith "
                           "@sarah.williams."));
}

TEST(ChatMessage, PastThePointOfNoReturnSaysSo) {
  testing::Night n;
  n.breach("login_failure_rate", rules::Severity::kMajor, 0.09, "9% over 5m (threshold > 5%)",
           clock_at(4, 29, 58));
  n.tick(clock_at(4, 29, 58));
  const std::string t =
      compose_message(n.page(clock_at(4, 30), rules::PageKind::kBreach)).plain_text();
  EXPECT_THAT(t, HasSubstr("Point of no return 04:20 passed 10m ago: a backout started now ends "
                           "after 06:00 (it takes 1h40m)."));
  EXPECT_THAT(t, HasSubstr("No fix-forward declared."));
}

TEST(ChatMessage, GroupedBreachesListEveryTrigger) {
  testing::Night n;
  n.breach("login_failure_rate", rules::Severity::kMajor, 0.071, testing::kLoginEvidence,
           clock_at(3, 0));
  n.breach("transaction_errors", rules::Severity::kMajor, 0.035, "3.5% over 5m (threshold > 2%)",
           clock_at(3, 0));
  n.tick(clock_at(3, 0));
  const ChatMessage m = compose_message(n.page(clock_at(3, 0, 2), rules::PageKind::kBreach));
  const std::string t = m.plain_text();
  EXPECT_THAT(t, HasSubstr("major: Login failure rate, major: Transaction errors"));
  EXPECT_THAT(t, HasSubstr("Login failure rate (major): 7.1% over 5m (threshold > 5%)."));
  EXPECT_THAT(t, HasSubstr("Transaction errors (major): 3.5% over 5m (threshold > 2%)."));
  EXPECT_THAT(t, HasSubstr("`backout-agent ack --by @you` (all open breaches)"));
}

TEST(ChatMessage, ABreachThatDoesNotDriveTheRecommendationSaysWhatDoes) {
  testing::Night n;
  n.breach("db_connectivity", rules::Severity::kCritical, 3, testing::kDbEvidence, clock_at(3, 0));
  n.tick(clock_at(3, 0));
  n.breach("search_latency", rules::Severity::kMinor, 2.4, "p95 2.4s over 5m (threshold > 2s)",
           clock_at(3, 1));
  n.tick(clock_at(3, 1));
  const std::string t =
      compose_message(n.page(clock_at(3, 1, 2), rules::PageKind::kBreach)).plain_text();
  EXPECT_THAT(t, HasSubstr("Recommendation BACKOUT because of critical: Database connectivity."));
  EXPECT_THAT(t, HasSubstr("Minor: log and continue"));
}

TEST(ChatMessage, AManualRaiseIsNamedByItsReasonAndWhoRaisedIt) {
  testing::Night n;
  n.acts().raises.push_back({"manual_1", rules::Severity::kCritical, "Security breach suspected",
                             "@dave.jones", clock_at(3, 30), false});
  std::vector<MessageContext> pages =
      n.tick(clock_at(3, 30), {{"manual_1", std::nullopt, rules::Severity::kCritical}});
  ASSERT_EQ(pages.size(), 1u);
  const std::string t = compose_message(pages[0]).plain_text();
  EXPECT_THAT(t, HasSubstr("critical: Security breach suspected"));
  EXPECT_THAT(t, HasSubstr("Raised by dave.jones at 03:30."));
  EXPECT_THAT(t, HasSubstr("Decides: @jane.doe (Deployment Lead)."));
  EXPECT_THAT(t, HasSubstr("--trigger manual_1"));
}

TEST(ChatMessage, SlackMentionSyntaxPassesThroughAndOtherMarkupIsEscaped) {
  rules::Plan plan = testing::reference_plan();
  plan.contacts[0].chat = "<@U024BE7LH>";  // deployment_lead, as Slack needs it to notify
  plan.triggers[5].name = "DB <primary> & replica";
  testing::Night n(plan);
  n.breach("db_connectivity", rules::Severity::kCritical, 3, testing::kDbEvidence, clock_at(3, 8));
  const std::string t =
      slack_text(compose_message(n.page(clock_at(3, 8), rules::PageKind::kBreach)));
  EXPECT_THAT(t, HasSubstr("Decides: <@U024BE7LH> (Deployment Lead)."));
  EXPECT_THAT(t, HasSubstr("_DB &lt;primary&gt; &amp; replica_"));
}

}  // namespace
}  // namespace backout::alerting
