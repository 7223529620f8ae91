// The typed record (issue 10, item 1): every kind and field survives encode -> decode, the wire
// format is the one the timeline API, the state store and `simulate` have always written, and a
// line the codec cannot read says which field is wrong.
#include "app/record/timeline_event.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace backout::agent::record {
namespace {

using ::testing::HasSubstr;

const std::chrono::minutes kOffset{60};

ZonedTime at(const char* text) { return *parse_rfc3339(text); }

TimelineEvent ev(EventBody body) { return {at("2026-06-07T03:12:00.250+01:00"), std::move(body)}; }

// One event per kind with every field set, and the variants with optional fields absent.
std::vector<TimelineEvent> every_kind() {
  using rules::Severity;
  return {
      ev(TriggerChanged{"login_failure_rate", rules::TriggerState::kBreached, Severity::kMajor,
                        0.071, rules::DetectionPath::kEarly, ""}),
      ev(TriggerChanged{"db", rules::TriggerState::kInconclusive, std::nullopt, std::nullopt,
                        std::nullopt, "0 observations in the last 5m"}),
      ev(TriggerChanged{"db", rules::TriggerState::kOk, std::nullopt, 0, std::nullopt, ""}),
      ev(RecommendationChanged{rules::Recommendation::kBackout,
                               "critical: \"Database\" down; immediate backout"}),
      ev(Notified{"db_connectivity", "deployment_lead", {"@jane.doe", "<@U024BE7LH>"},
                  rules::PageKind::kEscalation, "escalation:db_connectivity#1"}),
      ev(Notified{std::nullopt, "", {}, rules::PageKind::kFinal, "final"}),
      ev(PhaseChanged{rules::Phase::kPostWindow}),
      ev(SourceChanged{"portal_db", false, "connection refused\nretrying"}),
      ev(SourceChanged{"portal", true, ""}),
      ev(Delivery{"chat", "breach:login_failure_rate#1", Delivery::Outcome::kRetry, 3,
                  "HTTP 503"}),
      ev(AgentLifecycle{AgentLifecycle::What::kRestarted, ""}),
      ev(AgentLifecycle{AgentLifecycle::What::kStoreRecovered, "file is not a database"}),
      ev(ClockStepped{ClockGuard::Outcome::kApplied, -3599.998765, at("2026-06-07T02:12:01Z")}),
      ev(Acknowledged{{"login_failure_rate", "manual_1"}, "@john.smith"}),
      ev(FixForwardDeclared{"login_failure_rate", at("2026-06-07T03:40:00+01:00"), "@john.smith",
                            false}),
      ev(Decided{rules::HumanDecision::Kind::kExtend, "@sarah.williams", "change board: +1h",
                 at("2026-06-07T07:00:00+01:00"), std::nullopt}),
      ev(Decided{rules::HumanDecision::Kind::kGo, "@jane.doe", "",
                 std::nullopt, std::vector<std::string>{"page_load_time:major"}}),
      ev(Raised{"manual_1", Severity::kCritical, "credentials leaked", "@jane.doe"}),
      ev(RaiseCleared{"manual_1", "@jane.doe"}),
      ev(PlanSnapshot{"Customer Portal Enhancement",
                      "2.0",
                      "John Smith (PM)",
                      "1.2",
                      true,
                      at("2026-06-07T02:00:00+01:00"),
                      at("2026-06-07T06:00:00+01:00"),
                      std::chrono::minutes{100},
                      std::chrono::minutes{15},
                      std::chrono::milliseconds{500},
                      std::chrono::minutes{10},
                      {{"deployment_lead", "Jane Doe", "@jane.doe"}, {"dba", "Mike Brown", ""}},
                      {{Severity::kDiscretionary, "sponsor", {}, std::nullopt, std::nullopt},
                       {Severity::kCritical, "deployment_lead", {"project_manager"},
                        std::chrono::minutes{5}, "project_manager"}},
                      {{"login_failure_rate", "Login failure rate",
                        "ratio(portal.login_failures_total, portal.login_attempts_total)"}}}),
      ev(AgentLifecycle{AgentLifecycle::What::kReloaded, "kept 5 triggers; added: search"}),
      ev(AgentLifecycle{AgentLifecycle::What::kReloadRefused, "server: $TOKEN is not set"}),
      ev(GoLiveDeclared{"@jane.doe", false}),
      ev(GoLiveDeclared{"", true}),
      ev(ItemDoneRecorded{"restore_db", "@mike.brown", "restored from the 01:00 backup", false}),
      ev(ItemDoneRecorded{"start_app", "@ops", "", true}),
      ev(NightPhaseChanged{rules::NightPhase::kBackingOut}),
      ev(StepChanged{"restore_db", StepChanged::What::kStarted,
                     at("2026-06-07T04:52:00+01:00")}),
      ev(StepChanged{"restore_db", StepChanged::What::kVerified, std::nullopt}),
      ev(VerifyOutcome{true, {}}),
      ev(VerifyOutcome{false, {"Database version is v1.9", "login_failure_rate"}}),
      ev(Unknown{"preflight",
                 R"({"at":"2026-06-07T03:12:00.250+01:00","kind":"preflight","ready":false})"}),
  };
}

TEST(TimelineEventTest, EveryKindAndFieldSurvivesARoundTrip) {
  std::set<std::size_t> kinds;
  for (const TimelineEvent& e : every_kind()) {
    kinds.insert(e.body.index());
    const std::string line = encode(e);
    auto back = decode(line);
    ASSERT_TRUE(back.ok()) << back.error() << "\n" << line;
    EXPECT_EQ(*back, e) << line;
    EXPECT_EQ(back->kind(), e.kind());
    EXPECT_EQ(encode(*back), line) << "encoding is stable";
    EXPECT_EQ(back->at.offset, kOffset) << line;
  }
  EXPECT_EQ(kinds.size(), std::variant_size_v<EventBody>) << "a kind without a round-trip case";
}

// The lines as the producers wrote them before the record was typed: GET /api/v1/timeline and
// the stores of earlier nights keep this format.
TEST(TimelineEventTest, TheWireFormatIsTheTimelinesOwn) {
  const std::vector<TimelineEvent> all = every_kind();
  EXPECT_EQ(encode(all[0]),
            R"({"at": "2026-06-07T03:12:00.250+01:00", "kind": "trigger", "trigger": )"
            R"("login_failure_rate", "state": "breached", "severity": "major", "value": 0.071, )"
            R"("path": "early"})");
  EXPECT_EQ(encode(all[1]),
            R"({"at": "2026-06-07T03:12:00.250+01:00", "kind": "trigger", "trigger": "db", )"
            R"("state": "inconclusive", "severity": null, "value": null, "reason": )"
            R"("0 observations in the last 5m"})");
  EXPECT_EQ(encode(all[4]),
            R"({"at": "2026-06-07T03:12:00.250+01:00", "kind": "notify", "trigger": )"
            R"("db_connectivity", "decides": "deployment_lead", "mention": ["@jane.doe", )"
            R"("<@U024BE7LH>"], "page": "escalation", "key": "escalation:db_connectivity#1"})");
  EXPECT_EQ(encode(all[5], Encoding::kSimulate),
            R"({"at": "2026-06-07T03:12:00.250+01:00", "kind": "notify", "trigger": null, )"
            R"("decides": null, "mention": [], "page": "final"})")
      << "simulate lines carry no key (DESIGN section 3)";
  EXPECT_EQ(encode(all[7]),
            R"({"at": "2026-06-07T03:12:00.250+01:00", "kind": "source", "source": )"
            R"("portal_db", "up": false, "error": "connection refused\nretrying"})");
  EXPECT_EQ(encode(all[8]),
            R"({"at": "2026-06-07T03:12:00.250+01:00", "kind": "source", "source": "portal", )"
            R"("up": true})");
  EXPECT_EQ(encode(all[9]),
            R"({"at": "2026-06-07T03:12:00.250+01:00", "kind": "delivery", "channel": "chat", )"
            R"("key": "breach:login_failure_rate#1", "outcome": "retry", "attempts": 3, )"
            R"("detail": "HTTP 503"})");
  EXPECT_EQ(encode(all[14]),
            R"({"at": "2026-06-07T03:12:00.250+01:00", "kind": "fix_forward", "trigger": )"
            R"("login_failure_rate", "eta": "2026-06-07T03:40:00+01:00", "by": "@john.smith", )"
            R"("before_point_of_no_return": false})");
  EXPECT_EQ(encode(all[16]),
            R"({"at": "2026-06-07T03:12:00.250+01:00", "kind": "decision", "decision": "go", )"
            R"("by": "@jane.doe", "note": "", "accepted": ["page_load_time:major"]})");
  EXPECT_EQ(encode(all.back()), std::get<Unknown>(all.back().body).json)
      << "a kind this build does not know is written back as it was read";
}

// The plan snapshot gives back the plan a review needs: names, roles, window, measures.
TEST(TimelineEventTest, ThePlanSnapshotGivesBackWhatAReviewNeeds) {
  const std::vector<TimelineEvent> all = every_kind();
  const PlanSnapshot* s = nullptr;
  for (const TimelineEvent& e : all) {
    s = s != nullptr ? s : e.as<PlanSnapshot>();
  }
  ASSERT_NE(s, nullptr);
  EXPECT_THAT(encode({at("2026-06-07T01:59:00+01:00"), *s}),
              HasSubstr(R"("point_of_no_return": "2026-06-07T04:20:00+01:00", )"
                        R"("backout_duration": "1h40m")"));
  const rules::Plan p = plan_of(*s);
  EXPECT_EQ(p.header.project, "Customer Portal Enhancement");
  EXPECT_EQ(p.window.point_of_no_return(), at("2026-06-07T04:20:00+01:00").at);
  ASSERT_NE(p.contact("deployment_lead"), nullptr);
  EXPECT_EQ(p.contact("deployment_lead")->chat, "@jane.doe");
  ASSERT_NE(p.authority_for(rules::Severity::kCritical), nullptr);
  EXPECT_EQ(p.authority_for(rules::Severity::kCritical)->ack_within, std::chrono::minutes{5});
  ASSERT_NE(p.trigger("login_failure_rate"), nullptr);
  EXPECT_EQ(p.trigger("login_failure_rate")->measure.kind, rules::MeasureKind::kRatio);
  EXPECT_EQ(snapshot_of(p), *s) << "snapshot -> plan -> snapshot keeps everything";
}

TEST(TimelineEventTest, EarlierLinesDecode) {
  // The API wrote acts with Boost.JSON's layout, and notify events had no key.
  auto ack = decode(R"({"at":"2026-06-07T03:20:00+01:00","kind":"ack",)"
                    R"("triggers":["login_failure_rate"],"by":"@john.smith"})");
  ASSERT_TRUE(ack.ok()) << ack.error();
  ASSERT_NE(ack->as<Acknowledged>(), nullptr);
  EXPECT_EQ(ack->as<Acknowledged>()->triggers, std::vector<std::string>{"login_failure_rate"});
  auto notify = decode(R"({"at": "2026-06-07T03:20:00+01:00", "kind": "notify", "trigger": "x",)"
                       R"( "decides": null, "mention": [], "page": "resolve"})");
  ASSERT_TRUE(notify.ok()) << notify.error();
  EXPECT_EQ(notify->as<Notified>()->key, "");
  EXPECT_EQ(notify->as<Notified>()->decides, "");
}

TEST(TimelineEventTest, ALineThatCannotBeReadSaysWhichField) {
  auto r = decode("not json");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr("not a JSON object"));
  r = decode(R"({"kind": "phase", "phase": "in_window"})");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr("'at' must be a string"));
  r = decode(R"({"at": "03:00", "kind": "phase", "phase": "in_window"})");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr("'at' must be an RFC 3339 time"));
  r = decode(R"({"at": "2026-06-07T03:00:00Z", "kind": "phase", "phase": "lunch"})");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr("'phase' is 'lunch', not one of pre_window, in_window, "
                                   "post_window"));
  r = decode(R"({"at": "2026-06-07T03:00:00Z", "kind": "delivery", "channel": "chat"})");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr("a 'delivery' event: 'key' must be a string"));
  r = decode(R"({"at": "2026-06-07T03:00:00Z", "kind": "ack", "triggers": [1], "by": "x"})");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr("'triggers' must be a list of strings"));
}

TEST(TimelineEventTest, TickEventsAreTheChangesTheRecommendationAndOneNotifyPerTrigger) {
  rules::Plan plan;
  plan.window.start = at("2026-06-07T02:00:00+01:00");
  rules::Trigger t;
  t.id = "login_failure_rate";
  plan.triggers.push_back(t);
  rules::TickResult tick;
  tick.at = at("2026-06-07T03:00:00+01:00").at;
  rules::TriggerStatus st;
  st.state = rules::TriggerState::kBreached;
  st.severity = rules::Severity::kMajor;
  st.value = 0.2;
  st.reason = "ignored: only an inconclusive trigger has a reason";
  tick.changes.push_back({0, rules::TriggerState::kPending, rules::Severity::kMajor, st});
  tick.recommendation_changed = true;
  tick.decision.recommendation = rules::Recommendation::kBackout;
  tick.decision.reason = "major";
  rules::Page p;
  p.kind = rules::PageKind::kBreach;
  p.triggers = {"a", "b"};
  p.key = "breach:a#1+b#1";
  tick.pages.push_back(p);
  rules::Page final;
  final.kind = rules::PageKind::kFinal;
  final.key = "final";
  tick.pages.push_back(final);
  const std::vector<TimelineEvent> events = tick_events(plan, tick);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].at.offset, kOffset);
  EXPECT_EQ(events[0].as<TriggerChanged>()->path, rules::DetectionPath::kAverage);
  EXPECT_EQ(events[0].as<TriggerChanged>()->reason, "");
  EXPECT_EQ(events[1].kind(), "recommendation");
  EXPECT_EQ(events[2].as<Notified>()->trigger, "a");
  EXPECT_EQ(events[3].as<Notified>()->trigger, "b");
  EXPECT_EQ(events[3].as<Notified>()->key, "breach:a#1+b#1");
  EXPECT_EQ(events[4].as<Notified>()->trigger, std::nullopt);
}

}  // namespace
}  // namespace backout::agent::record
