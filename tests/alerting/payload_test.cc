// Every payload of every reference scenario is valid JSON with the fields its API requires:
// Slack (text, blocks within Block Kit limits), Teams (message with an Adaptive Card), the
// generic webhook (its documented schema), Alertmanager v2 (labels, RFC 3339 startsAt/endsAt),
// PagerDuty Events v2 (routing_key, event_action, dedup_key, payload.summary/source/severity).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "alerting/scenarios.h"
#include "backout/alerting/alertmanager_payload.h"
#include "backout/alerting/chat_message.h"
#include "backout/alerting/pagerduty_payload.h"
#include "backout/alerting/slack_payload.h"
#include "backout/alerting/teams_payload.h"
#include "backout/alerting/webhook_payload.h"

namespace backout::alerting {
namespace {

namespace json = boost::json;
using testing::clock_at;
using ::testing::HasSubstr;

json::value parse(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  EXPECT_FALSE(ec) << ec.message() << " in " << text;
  return v;
}

const json::object& obj(const json::value& v, std::string_view key) {
  return v.as_object().at(key).as_object();
}
std::string str(const json::value& v, std::string_view key) {
  return std::string(v.as_object().at(key).as_string());
}
std::size_t utf8_chars(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  }
  return n;
}

TimePoint rfc3339(const std::string& s) {
  auto t = parse_rfc3339(s);
  EXPECT_TRUE(t.has_value()) << s << " is not RFC 3339";
  return t ? t->at : TimePoint{};
}

class EveryScenario : public ::testing::Test {
 protected:
  std::vector<testing::Scenario> scenarios_ = testing::all_scenarios();
};

TEST_F(EveryScenario, SlackPayloadHasTextAndBlocksWithinLimits) {
  for (const testing::Scenario& s : scenarios_) {
    SCOPED_TRACE(s.name);
    json::value v = parse(slack_payload(compose_message(s.ctx)));
    ASSERT_TRUE(v.is_object());
    EXPECT_FALSE(str(v, "text").empty());
    const json::array& blocks = v.as_object().at("blocks").as_array();
    ASSERT_GE(blocks.size(), 2u);
    EXPECT_LE(blocks.size(), 50u);
    EXPECT_EQ(str(blocks[0], "type"), "header");
    EXPECT_EQ(str(obj(blocks[0], "text"), "type"), "plain_text");
    EXPECT_LE(utf8_chars(str(obj(blocks[0], "text"), "text")), 150u);
    EXPECT_EQ(str(blocks[1], "type"), "section");
    EXPECT_EQ(str(obj(blocks[1], "text"), "type"), "mrkdwn");
    EXPECT_LE(utf8_chars(str(obj(blocks[1], "text"), "text")), 3000u);
  }
}

// Issue 14, item 13: `<!channel>` or `@here` in a person's text reached chat as a mention.
// Outside text is plain spans; only the contacts' handles (mention spans) may notify.
TEST(SlackPayload, OutsideTextNotifiesNobody) {
  ChatMessage m;
  m.emoji = ":large_blue_circle:";
  m.title.spans = {{Span::Style::kPlain, "decision go by @here"}};
  m.body.push_back({{{Span::Style::kPlain, "note: <!channel> @Channel! @all, @everyone"},
                     {Span::Style::kStrong, "@here"},
                     {Span::Style::kPlain, " mail ops@here.example, @hereford, @allison"},
                     {Span::Style::kMention, "<!here>"},
                     {Span::Style::kMention, "@jane.doe"}}});
  const std::string text = slack_text(m);
  const std::string wj = "\u2060";
  EXPECT_THAT(text, HasSubstr("decision go by @" + wj + "here"));
  EXPECT_THAT(text, HasSubstr("note: &lt;!channel&gt; @" + wj + "Channel! @" + wj + "all, @" +
                              wj + "everyone"));
  EXPECT_THAT(text, HasSubstr("*@" + wj + "here*"));
  EXPECT_THAT(text, HasSubstr(" mail ops@here.example, @hereford, @allison"))
      << "an address or a longer name is not a broadcast";
  EXPECT_THAT(text, HasSubstr("<!here>@jane.doe")) << "the plan's own handles still notify";
  // The payload's JSON carries the same text.
  EXPECT_THAT(str(parse(slack_payload(m)), "text"), HasSubstr("by @" + wj + "here"));
}

TEST_F(EveryScenario, TeamsPayloadIsAMessageWithAnAdaptiveCard) {
  for (const testing::Scenario& s : scenarios_) {
    SCOPED_TRACE(s.name);
    json::value v = parse(teams_payload(compose_message(s.ctx)));
    EXPECT_EQ(str(v, "type"), "message");
    const json::array& att = v.as_object().at("attachments").as_array();
    ASSERT_EQ(att.size(), 1u);
    EXPECT_EQ(str(att[0], "contentType"), "application/vnd.microsoft.card.adaptive");
    const json::object& card = obj(att[0], "content");
    EXPECT_EQ(card.at("type").as_string(), "AdaptiveCard");
    EXPECT_FALSE(card.at("version").as_string().empty());
    const json::array& body = card.at("body").as_array();
    ASSERT_FALSE(body.empty());
    EXPECT_EQ(body[0].as_object().at("type").as_string(), "TextBlock");
    bool facts = false;
    for (const json::value& b : body) {
      if (b.as_object().at("type").as_string() == "FactSet") {
        facts = !b.as_object().at("facts").as_array().empty();
      }
    }
    EXPECT_TRUE(facts);
    EXPECT_LT(serialize(v).size(), 28u * 1024u);  // the incoming-webhook limit
  }
}

TEST_F(EveryScenario, WebhookPayloadFollowsItsSchema) {
  for (const testing::Scenario& s : scenarios_) {
    SCOPED_TRACE(s.name);
    json::value v = parse(webhook_payload(s.ctx));
    const json::object& o = v.as_object();
    EXPECT_EQ(o.at("version").as_int64(), 1);
    EXPECT_EQ(str(v, "kind"), rules::to_string(s.ctx.page.kind));
    EXPECT_EQ(str(v, "key"), s.ctx.page.key);
    EXPECT_EQ(rfc3339(str(v, "at")), s.ctx.page.at);
    EXPECT_EQ(str(obj(v, "release"), "project"), "Customer Portal Enhancement");
    EXPECT_EQ(str(obj(v, "release"), "release"), "2.0");
    EXPECT_THAT(str(v, "recommendation"),
                ::testing::AnyOf("go", "watch", "fix_forward", "backout"));
    EXPECT_TRUE(o.at("reason").is_string());
    EXPECT_TRUE(o.at("severity").is_string() || o.at("severity").is_null());
    EXPECT_EQ(rfc3339(str(v, "point_of_no_return")), clock_at(4, 20));
    EXPECT_THAT(str(v, "phase"), ::testing::AnyOf("in_window", "post_window"));
    EXPECT_TRUE(o.at("mention").is_array());
    EXPECT_TRUE(o.at("decides").is_object() || o.at("decides").is_null());
    for (const json::value& t : o.at("triggers").as_array()) {
      for (const char* key : {"id", "name", "state", "severity", "value", "value_text", "threshold",
                              "condition", "window", "path", "evidence", "episode"}) {
        EXPECT_TRUE(t.as_object().contains(key)) << key;
      }
    }
    EXPECT_EQ(o.at("night").is_null(), s.ctx.page.kind != rules::PageKind::kFinal);
  }
}

TEST(WebhookPayload, CarriesTheDeciderAndTheTriggerReading) {
  json::value v = parse(webhook_payload(testing::database_night()[0].ctx));
  const json::object& decides = obj(v, "decides");
  EXPECT_EQ(decides.at("role").as_string(), "deployment_lead");
  EXPECT_EQ(decides.at("title").as_string(), "Deployment Lead");
  EXPECT_EQ(decides.at("name").as_string(), "Jane Doe");
  EXPECT_EQ(decides.at("chat").as_string(), "@jane.doe");
  const json::object& t = v.as_object().at("triggers").as_array()[0].as_object();
  EXPECT_EQ(t.at("id").as_string(), "db_connectivity");
  EXPECT_EQ(t.at("value").as_int64(), 3);  // integral readings are integers, not 3E0
  EXPECT_EQ(t.at("condition").as_string(), "> 0");
  EXPECT_EQ(t.at("episode").as_string(), "db_connectivity#1");
  EXPECT_EQ(v.as_object().at("seconds_to_point_of_no_return").as_int64(), 72 * 60);
}

TEST_F(EveryScenario, AlertmanagerPayloadIsAnArrayOfAlertsWithLabelsAndTimes) {
  for (const testing::Scenario& s : scenarios_) {
    SCOPED_TRACE(s.name);
    if (!alertmanager_wants(s.ctx.page)) {
      EXPECT_EQ(s.ctx.page.kind, rules::PageKind::kFinal);
      continue;
    }
    json::value v = parse(alertmanager_payload(s.ctx, {}));
    ASSERT_TRUE(v.is_array());
    ASSERT_GE(v.as_array().size(), s.ctx.page.triggers.size());
    int firing = 0;
    for (const json::value& a : v.as_array()) {
      const json::object& labels = obj(a, "labels");
      EXPECT_EQ(labels.at("alertname").as_string(), "BackoutTrigger");
      EXPECT_FALSE(labels.at("trigger").as_string().empty());
      EXPECT_THAT(std::string(labels.at("severity").as_string()),
                  ::testing::AnyOf("critical", "major", "discretionary", "minor"));
      EXPECT_EQ(labels.at("release").as_string(), "2.0");
      EXPECT_EQ(labels.at("project").as_string(), "Customer Portal Enhancement");
      const json::object& ann = obj(a, "annotations");
      EXPECT_FALSE(ann.at("summary").as_string().empty());
      EXPECT_TRUE(ann.contains("description"));
      const TimePoint starts = rfc3339(str(a, "startsAt"));
      const TimePoint ends = rfc3339(str(a, "endsAt"));
      EXPECT_LE(starts, ends);
      if (ends > s.ctx.page.at) {
        ++firing;
        EXPECT_EQ(ends, s.ctx.now + std::chrono::minutes{5});
      } else {
        EXPECT_EQ(ends, s.ctx.page.at);
      }
    }
    // One severity per trigger fires, none on a resolve.
    EXPECT_EQ(firing, s.ctx.page.kind == rules::PageKind::kResolve
                          ? 0
                          : static_cast<int>(s.ctx.page.triggers.size()));
  }
}

TEST(AlertmanagerPayload, OneAlertPerTriggerStartingWhenTheEpisodeOpened) {
  const testing::Scenario s = testing::database_night()[0];
  json::value v = parse(alertmanager_payload(s.ctx, {std::chrono::minutes{5}, "http://agent/"}));
  ASSERT_EQ(v.as_array().size(), 1u);
  const json::value& a = v.as_array()[0];
  EXPECT_EQ(str(a, "startsAt"), "2026-06-07T03:08:00+01:00");
  EXPECT_EQ(str(a, "endsAt"), "2026-06-07T03:13:00+01:00");
  EXPECT_EQ(str(a, "generatorURL"), "http://agent/");
  EXPECT_EQ(str(obj(a, "annotations"), "decides"), "@jane.doe (Deployment Lead)");
  EXPECT_EQ(str(obj(a, "annotations"), "description"), testing::kDbEvidence);
}

TEST(AlertmanagerPayload, ARiseInSeverityResolvesTheLowerSeverity) {
  json::value v = parse(alertmanager_payload(testing::severity_up().ctx, {}));
  ASSERT_EQ(v.as_array().size(), 2u);
  const json::value& critical = v.as_array()[0];
  const json::value& major = v.as_array()[1];
  EXPECT_EQ(str(obj(critical, "labels"), "severity"), "critical");
  EXPECT_EQ(str(critical, "endsAt"), "2026-06-07T02:40:00+01:00");
  EXPECT_EQ(str(obj(major, "labels"), "severity"), "major");
  EXPECT_EQ(str(major, "endsAt"), "2026-06-07T02:35:00+01:00");
}

TEST(AlertmanagerPayload, ResolveEndsTheAlertAtTheResolveTime) {
  json::value v = parse(alertmanager_payload(testing::login_night()[1].ctx, {}));
  ASSERT_EQ(v.as_array().size(), 1u);
  EXPECT_EQ(str(v.as_array()[0], "endsAt"), "2026-06-07T03:25:00+01:00");
}

TEST_F(EveryScenario, PagerDutyEventsHaveTheRequiredFields) {
  for (const testing::Scenario& s : scenarios_) {
    SCOPED_TRACE(s.name);
    if (!pagerduty_wants(s.ctx.page)) {
      EXPECT_TRUE(s.ctx.page.kind == rules::PageKind::kFinal ||
                  s.ctx.page.severity == rules::Severity::kMinor);
      continue;
    }
    // The stored payload has no routing key; the channel adds it: check the bodies it posts.
    const std::string stored = pagerduty_payload(s.ctx, {});
    EXPECT_THAT(stored, ::testing::Not(HasSubstr("routing_key")));
    Result<std::vector<std::string>> bodies = pagerduty_bodies(stored, "R0UT1NGKEY");
    ASSERT_TRUE(bodies.ok()) << bodies.error();
    ASSERT_EQ(bodies->size(), s.ctx.page.triggers.size());
    for (const std::string& body : *bodies) {
      json::value e = parse(body);
      EXPECT_EQ(str(e, "routing_key"), "R0UT1NGKEY");
      const std::string action = str(e, "event_action");
      EXPECT_FALSE(str(e, "dedup_key").empty());
      EXPECT_LE(str(e, "dedup_key").size(), 255u);
      if (s.ctx.page.kind == rules::PageKind::kResolve) {
        EXPECT_EQ(action, "resolve");
        continue;
      }
      EXPECT_EQ(action, "trigger");
      const json::object& p = obj(e, "payload");
      EXPECT_FALSE(p.at("summary").as_string().empty());
      EXPECT_LE(p.at("summary").as_string().size(), 1024u);
      EXPECT_FALSE(p.at("source").as_string().empty());
      EXPECT_THAT(std::string(p.at("severity").as_string()),
                  ::testing::AnyOf("critical", "error", "warning", "info"));
      rfc3339(std::string(p.at("timestamp").as_string()));
    }
  }
}

TEST(PagerDutyPayload, DedupKeyIsTheEpisodeKeySoRepeatsUpdateOneIncident) {
  const std::vector<testing::Scenario> night = testing::database_night();
  for (const testing::Scenario& s : night) {
    json::value e = parse(pagerduty_payload(s.ctx, {"KEY", ""}));
    EXPECT_EQ(str(e, "dedup_key"), "db_connectivity#1") << s.name;
    EXPECT_EQ(str(obj(e, "payload"), "severity"), "critical");
    EXPECT_EQ(str(obj(e, "payload"), "component"), "portal_db");
  }
}

TEST(PagerDutyPayload, MapsSeverities) {
  EXPECT_EQ(pagerduty_severity(rules::Severity::kCritical), "critical");
  EXPECT_EQ(pagerduty_severity(rules::Severity::kMajor), "error");
  EXPECT_EQ(pagerduty_severity(rules::Severity::kDiscretionary), "warning");
  EXPECT_EQ(pagerduty_severity(rules::Severity::kMinor), "info");
}

TEST(PagerDutyPayload, SkipsMinorBreachesAndTheFinalMessage) {
  EXPECT_FALSE(pagerduty_wants(testing::minor_breach().ctx.page));
  EXPECT_FALSE(pagerduty_wants(testing::final_go().ctx.page));
  EXPECT_FALSE(pagerduty_wants(testing::final_backout().ctx.page));
  EXPECT_TRUE(pagerduty_wants(testing::database_night()[0].ctx.page));
  EXPECT_TRUE(pagerduty_wants(testing::login_night()[1].ctx.page));  // resolve
}

TEST(PagerDutyPayload, AGroupedPageIsOneEventPerEpisode) {
  testing::Night n;
  n.breach("login_failure_rate", rules::Severity::kMajor, 0.071, testing::kLoginEvidence,
           clock_at(3, 0));
  n.breach("transaction_errors", rules::Severity::kMajor, 0.035, "3.5% over 5m (threshold > 2%)",
           clock_at(3, 0));
  n.tick(clock_at(3, 0));
  MessageContext ctx = n.page(clock_at(3, 0, 2), rules::PageKind::kBreach);
  json::value v = parse(pagerduty_payload(ctx, {}));
  ASSERT_TRUE(v.is_array());
  ASSERT_EQ(v.as_array().size(), 2u);
  EXPECT_EQ(str(v.as_array()[0], "dedup_key"), "login_failure_rate#1");
  EXPECT_EQ(str(v.as_array()[1], "dedup_key"), "transaction_errors#1");
}

TEST(PagerDutyPayload, AcknowledgeEventForAcknowledgedEpisodes) {
  testing::Night n;
  n.breach("db_connectivity", rules::Severity::kCritical, 3, testing::kDbEvidence, clock_at(3, 8));
  MessageContext ctx = n.page(clock_at(3, 8), rules::PageKind::kBreach);
  EXPECT_FALSE(pagerduty_acknowledge_payload(ctx, {}).has_value());
  n.ack("db_connectivity", "@jane.doe", clock_at(3, 9));
  // The notifier renders the acknowledgement with the episodes as they are after the ack.
  ctx.episodes = n.episodes();
  std::optional<std::string> ack = pagerduty_acknowledge_payload(ctx, {"KEY", ""});
  ASSERT_TRUE(ack.has_value());
  json::value e = parse(*ack);
  EXPECT_EQ(str(e, "event_action"), "acknowledge");
  EXPECT_EQ(str(e, "dedup_key"), "db_connectivity#1");
  EXPECT_EQ(str(e, "routing_key"), "KEY");
  EXPECT_FALSE(e.as_object().contains("payload"));
}

TEST(PagerDutyPayload, SummaryIsCutAt1024Bytes) {
  rules::Plan plan = testing::reference_plan();
  plan.triggers[5].name = std::string(3000, 'x') + "\xC3\xA9";
  testing::Night n(plan);
  n.breach("db_connectivity", rules::Severity::kCritical, 3, testing::kDbEvidence, clock_at(3, 8));
  MessageContext ctx = n.page(clock_at(3, 8), rules::PageKind::kBreach);
  json::value e = parse(pagerduty_payload(ctx, {}));
  EXPECT_LE(obj(e, "payload").at("summary").as_string().size(), 1024u);
  json::value slack = parse(slack_payload(compose_message(ctx)));
  EXPECT_LE(utf8_chars(str(obj(slack.as_object().at("blocks").as_array()[0], "text"), "text")),
            150u);
  EXPECT_LE(utf8_chars(str(slack, "text")), 3000u);
}

TEST(PagerDutyPayload, BodiesRejectWhatIsNotAnEvent) {
  EXPECT_FALSE(pagerduty_bodies("not json", "K").ok());
  EXPECT_FALSE(pagerduty_bodies("[1]", "K").ok());
  EXPECT_FALSE(pagerduty_bodies("\"x\"", "K").ok());
  Result<std::vector<std::string>> two = pagerduty_bodies(R"([{"a":1},{"b":2}])", "K");
  ASSERT_TRUE(two.ok());
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ(two->at(0), R"({"routing_key":"K","a":1})");
}

TEST(TeamsPayload, UpnHandlesBecomeRealMentions) {
  rules::Plan plan = testing::reference_plan();
  plan.contacts[0].chat = "jane.doe@example.com";
  testing::Night n(plan);
  n.breach("db_connectivity", rules::Severity::kCritical, 3, testing::kDbEvidence, clock_at(3, 8));
  json::value v =
      parse(teams_payload(compose_message(n.page(clock_at(3, 8), rules::PageKind::kBreach))));
  const json::object& card = obj(v.as_object().at("attachments").as_array()[0], "content");
  const json::array& entities = card.at("msteams").as_object().at("entities").as_array();
  ASSERT_EQ(entities.size(), 1u);
  EXPECT_EQ(str(entities[0], "text"), "<at>Jane Doe</at>");
  EXPECT_EQ(str(obj(entities[0], "mentioned"), "id"), "jane.doe@example.com");
  EXPECT_THAT(serialize(card.at("body")),
              HasSubstr("Decides: <at>Jane Doe</at> (Deployment Lead)"));
}

}  // namespace
}  // namespace backout::alerting
