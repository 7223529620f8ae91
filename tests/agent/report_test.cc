// The post-backout review: a scripted night of timeline events through the pure builder and
// renderer (no SQLite), and `backout-agent report` in-process on a real state store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/record/timeline_event.h"
#include "app/report/review.h"
#include "app/report/review_markdown.h"
#include "app/store/state_store.h"
#include "backout/core/text.h"
#include "app/kinds/kinds.h"
#include "plan/plan_loader.h"
#include "support/paths.h"

namespace backout::agent {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// The reference plan (deploy/examples/customer-portal-2.0.yaml): window 02:00-06:00 +01:00,
// backout 100m (point of no return 04:20); critical decided by Jane Doe, acknowledged within 5m
// or escalated to John Smith; major decided by John Smith within 10m.
const rules::Plan& reference_plan() {
  static const rules::Plan plan = [] {
    plan::LoadResult r = plan::load_plan_file(backout::testing::reference_plan_path(),
                                              agent::builtin_kinds().catalog);
    if (!r.ok()) {
      throw std::runtime_error("the reference plan does not load");
    }
    return *r.plan;
  }();
  return plan;
}

std::string at(const std::string& clock) { return "\"at\": \"2026-06-07T" + clock + "+01:00\""; }

// A night in which a major breach is fixed forward, then the database goes away: BACKOUT is
// recommended, the page to Jane is escalated before she acknowledges, she decides backout, and
// the team records the backout as complete. Times are in the plan's offset (+01:00).
std::vector<std::string> scripted_night() {
  return {
      "{" + at("01:30:00") + ", \"kind\": \"agent\", \"event\": \"started\"}",
      "{" + at("01:30:00") + ", \"kind\": \"phase\", \"phase\": \"pre_window\"}",
      "{" + at("02:00:00") + ", \"kind\": \"phase\", \"phase\": \"in_window\"}",
      "{" + at("02:00:00") +
          ", \"kind\": \"recommendation\", \"recommendation\": \"go\", \"reason\": \"all 9 "
          "triggers ok\"}",
      // A major breach, paged to the PM; chat fails once, then takes it.
      "{" + at("02:41:00") +
          ", \"kind\": \"trigger\", \"trigger\": \"login_failure_rate\", \"state\": "
          "\"breached\", \"severity\": \"major\", \"value\": 0.071, \"path\": \"average\"}",
      "{" + at("02:41:00") +
          ", \"kind\": \"recommendation\", \"recommendation\": \"backout\", \"reason\": "
          "\"major: Login failure rate: 7.1% over 5m (threshold > 5%); no fix-forward declared; "
          "backout takes 1h40m, point of no return 04:20 (in 1h39m)\"}",
      "{" + at("02:41:02") +
          ", \"kind\": \"notify\", \"trigger\": \"login_failure_rate\", \"decides\": "
          "\"project_manager\", \"mention\": [\"@john.smith\", \"@sarah.williams\"], \"page\": "
          "\"breach\"}",
      "{" + at("02:41:03") +
          ", \"kind\": \"delivery\", \"channel\": \"chat\", \"key\": "
          "\"breach:login_failure_rate#1\", \"outcome\": \"retry\", \"attempts\": 1, "
          "\"detail\": \"HTTP 503\"}",
      "{" + at("02:41:05.250") +
          ", \"kind\": \"delivery\", \"channel\": \"chat\", \"key\": "
          "\"breach:login_failure_rate#1\", \"outcome\": \"delivered\", \"attempts\": 2, "
          "\"detail\": \"HTTP 200\"}",
      "{" + at("02:44:00") +
          ", \"kind\": \"ack\", \"triggers\": [\"login_failure_rate\"], \"by\": \"@john.smith\"}",
      "{" + at("02:46:00") +
          ", \"kind\": \"fix_forward\", \"trigger\": \"login_failure_rate\", \"eta\": "
          "\"2026-06-07T03:30:00+01:00\", \"by\": \"@john.smith\", "
          "\"before_point_of_no_return\": true}",
      "{" + at("02:46:00") +
          ", \"kind\": \"recommendation\", \"recommendation\": \"fix_forward\", \"reason\": "
          "\"major: Login failure rate: 6.8% over 5m (threshold > 5%); fix-forward by "
          "@john.smith, ETA 03:30 (in 44m); backout takes 1h40m, point of no return 04:20 (in "
          "1h34m)\"}",
      // The database goes away: critical, BACKOUT, paged to Jane, escalated to John.
      "{" + at("03:05:00") +
          ", \"kind\": \"source\", \"source\": \"portal_db\", \"up\": false, \"error\": "
          "\"connection refused\"}",
      "{" + at("03:05:02") +
          ", \"kind\": \"trigger\", \"trigger\": \"db_connectivity\", \"state\": \"breached\", "
          "\"severity\": \"critical\", \"value\": 1, \"path\": \"average\"}",
      "{" + at("03:05:02") +
          ", \"kind\": \"recommendation\", \"recommendation\": \"backout\", \"reason\": "
          "\"critical: Database connectivity: 1 failed check over 1m (threshold > 0); immediate "
          "backout; backout takes 1h40m, point of no return 04:20 (in 1h14m)\"}",
      "{" + at("03:05:02") +
          ", \"kind\": \"notify\", \"trigger\": \"db_connectivity\", \"decides\": "
          "\"deployment_lead\", \"mention\": [\"@jane.doe\", \"@john.smith\", "
          "\"@sarah.williams\"], \"page\": \"breach\"}",
      "{" + at("03:05:02.400") +
          ", \"kind\": \"delivery\", \"channel\": \"chat\", \"key\": "
          "\"breach:db_connectivity#1\", \"outcome\": \"delivered\", \"attempts\": 1, "
          "\"detail\": \"HTTP 200\"}",
      "{" + at("03:10:02") +
          ", \"kind\": \"notify\", \"trigger\": \"db_connectivity\", \"decides\": "
          "\"project_manager\", \"mention\": [\"@john.smith\"], \"page\": \"escalation\"}",
      "{" + at("03:10:02.300") +
          ", \"kind\": \"delivery\", \"channel\": \"chat\", \"key\": "
          "\"escalation:db_connectivity#1\", \"outcome\": \"delivered\", \"attempts\": 1, "
          "\"detail\": \"HTTP 200\"}",
      "{" + at("03:11:30") +
          ", \"kind\": \"ack\", \"triggers\": [\"db_connectivity\"], \"by\": \"@jane.doe\"}",
      "{" + at("03:12:00") +
          ", \"kind\": \"decision\", \"decision\": \"backout\", \"by\": \"@jane.doe\", "
          "\"note\": \"database unreachable after the schema migration\"}",
      "{" + at("03:12:00.250") +
          ", \"kind\": \"recommendation\", \"recommendation\": \"backout\", \"reason\": "
          "\"backout decided by @jane.doe at 03:12: database unreachable after the schema "
          "migration\"}",
      // The backout restores the database: the breaches resolve.
      "{" + at("03:20:00") + ", \"kind\": \"source\", \"source\": \"portal_db\", \"up\": true}",
      "{" + at("03:21:00") +
          ", \"kind\": \"trigger\", \"trigger\": \"db_connectivity\", \"state\": \"ok\", "
          "\"severity\": null, \"value\": 0}",
      "{" + at("03:21:00") +
          ", \"kind\": \"notify\", \"trigger\": \"db_connectivity\", \"decides\": null, "
          "\"mention\": [], \"page\": \"resolve\"}",
      "{" + at("03:21:00.200") +
          ", \"kind\": \"delivery\", \"channel\": \"chat\", \"key\": "
          "\"resolve:db_connectivity#1\", \"outcome\": \"delivered\", \"attempts\": 1, "
          "\"detail\": \"HTTP 200\"}",
      "{" + at("03:25:00") +
          ", \"kind\": \"trigger\", \"trigger\": \"login_failure_rate\", \"state\": \"ok\", "
          "\"severity\": null, \"value\": 0.012}",
      "{" + at("03:30:10") + ", \"kind\": \"agent\", \"event\": \"restarted\"}",
      "{" + at("04:40:00") +
          ", \"kind\": \"decision\", \"decision\": \"go\", \"by\": \"@jane.doe\", \"note\": "
          "\"backout complete: v1.9 verified by QA\", \"accepted\": []}",
  };
}

// Asserts that `needles` occur in `text` in this order; returns false (with a message) if not.
::testing::AssertionResult InOrder(const std::string& text,
                                   const std::vector<std::string>& needles) {
  std::size_t pos = 0;
  for (const std::string& n : needles) {
    std::size_t found = text.find(n, pos);
    if (found == std::string::npos) {
      return ::testing::AssertionFailure()
             << "'" << n << "' not found after offset " << pos << " in:\n"
             << text;
    }
    pos = found + n.size();
  }
  return ::testing::AssertionSuccess();
}

std::string section(const std::string& md, const std::string& heading) {
  std::size_t start = md.find(heading);
  if (start == std::string::npos) {
    return "";
  }
  std::size_t end = md.find("\n## ", start + heading.size());
  return md.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

report::ReviewInput night_input(const rules::Plan* plan) {
  report::ReviewInput in;
  report::decode_timeline(scripted_night(), in);
  in.identity = "Customer Portal Enhancement|2.0|2026-06-07T02:00:00+01:00";
  in.plan = plan;
  in.store_path = "/var/lib/backout-agent/state.db";
  in.plan_path = "customer-portal-2.0.yaml";
  return in;
}

TEST(ReviewTest, ScriptedNightTimelineHasEveryEventInOrder) {
  const std::string md = report::render_markdown(report::build_review(night_input(
      &reference_plan())));
  const std::string timeline = section(md, "## Timeline of Events");
  ASSERT_FALSE(timeline.empty()) << md;
  EXPECT_THAT(timeline, HasSubstr("| Time (+01:00) | Event | Details |"));
  EXPECT_TRUE(InOrder(
      timeline,
      {"| 01:30:00 | Agent started |", "| 02:00:00 | Window opened |",
       "| 02:41:00 | Trigger breached | Login failure rate (login_failure_rate): major, value "
       "7.1%, by the window average |",
       "| 02:41:00 | Recommendation: BACKOUT |",
       "| 02:41:02 | Page: breach | Login failure rate (major); paged John Smith (Project Manager, "
       "@john.smith); mentioned @sarah.williams; delivered 02:41:05.250 on chat (2 attempts) |",
       "| 02:41:03 | Delivery failed, retrying | breach page about Login failure rate (02:41:02) "
       "to chat, attempt 1, 1s after the page: HTTP 503 |",
       "| 02:41:05.250 | Delivered |",
       "| 02:44:00 | Acknowledged | John Smith (Project Manager, @john.smith): Login failure rate, "
       "2m58s after the page |",
       "| 02:46:00 | Fix-forward declared | John Smith (Project Manager, @john.smith): for Login "
       "failure rate, ETA 03:30:00 (before the point of no return); resolved at 03:25:00, 5m "
       "before the ETA |",
       "| 02:46:00 | Recommendation: FIX-FORWARD |",
       "| 03:05:00 | Source down | portal_db: connection refused |",
       "| 03:05:02 | Trigger breached | Database connectivity (db_connectivity): critical",
       "| 03:05:02 | Page: breach | Database connectivity (critical); paged Jane Doe (Deployment "
       "Lead, @jane.doe)",
       "| 03:10:02 | Page: escalation | Database connectivity (critical); paged John Smith",
       "| 03:11:30 | Acknowledged | Jane Doe (Deployment Lead, @jane.doe): Database connectivity, "
       "6m28s after the page |",
       "| 03:12:00 | Decision: BACKOUT | Jane Doe (Deployment Lead, @jane.doe): database "
       "unreachable after the schema migration (the plan's decider for critical breaches) |",
       "| 03:20:00 | Source up | portal_db |",
       "| 03:21:00 | Trigger resolved | Database connectivity (db_connectivity): value 0; "
       "breached for 15m58s |",
       "| 03:21:00 | Posted: resolved |", "| 03:25:00 | Trigger resolved | Login failure rate",
       "| 03:30:10 | Agent restarted | state restored from the store; 5m10s since the previous "
       "event |",
       "| 04:40:00 | Decision: GO (backout complete) |"}));
}

TEST(ReviewTest, ScriptedNightNamesTheDecisionAndWhoMadeIt) {
  const std::string md = report::render_markdown(report::build_review(night_input(
      &reference_plan())));
  EXPECT_THAT(md, HasSubstr("# Post-Backout Review: Customer Portal Enhancement 2.0"));
  EXPECT_THAT(md, HasSubstr("**Outcome:** BACKOUT, decided by Jane Doe (Deployment Lead, "
                            "@jane.doe) at 03:12:00 after Database connectivity breached "
                            "(critical) at 03:05:02; backout complete at 04:40:00."));
  const std::string decisions = section(md, "## Decisions Made");
  EXPECT_TRUE(InOrder(decisions,
                      {"| Time | Act | By | Details |",
                       "| 02:44:00 | Acknowledged | John Smith (Project Manager, @john.smith) |",
                       "| 02:46:00 | Fix-forward declared | John Smith (Project Manager, "
                       "@john.smith) | for Login failure rate, ETA 03:30:00",
                       "| 03:11:30 | Acknowledged | Jane Doe (Deployment Lead, @jane.doe) |",
                       "| 03:12:00 | Decision: BACKOUT | Jane Doe (Deployment Lead, @jane.doe) | "
                       "database unreachable after the schema migration; the plan's decider for "
                       "critical breaches |"}));
  const std::string header = section(md, "## Plan Header");
  EXPECT_THAT(header, HasSubstr("| Plan Owner | John Smith (PM) |"));
  EXPECT_THAT(header, HasSubstr("| Version | 1.2 |"));
  EXPECT_THAT(header, HasSubstr("| Status | Approved |"));
  EXPECT_THAT(header, HasSubstr("| Deployment window | 02:00 to 06:00 (+01:00) |"));
  EXPECT_THAT(header, HasSubstr("| Point of no return | 04:20 |"));
  EXPECT_THAT(header, HasSubstr("| Backout duration (rehearsed) | 1h40m |"));
  const std::string trigger = section(md, "## What Triggered the Backout");
  EXPECT_THAT(trigger, HasSubstr("| Trigger | Database connectivity (db_connectivity) |"));
  EXPECT_THAT(trigger, HasSubstr("critical: Database connectivity: 1 failed check over 1m"));
  EXPECT_THAT(trigger, HasSubstr("| Decision matrix | decides: Jane Doe (Deployment Lead, "
                                 "@jane.doe); notified: John Smith"));
}

TEST(ReviewTest, ScriptedNightPlannedVersusActual) {
  const std::string md = report::render_markdown(report::build_review(night_input(
      &reference_plan())));
  const std::string results = section(md, "## Test Results: Planned vs Actual");
  EXPECT_THAT(results, HasSubstr("| Test | Expected Duration | Actual Duration | Issues |"));
  EXPECT_THAT(results, HasSubstr("| Total backout | 1h40m (rehearsed) | 1h28m (03:12:00 to "
                                 "04:40:00) | within the rehearsed duration |"));
  EXPECT_THAT(results, HasSubstr("| Backout decision | by the point of no return, 04:20:00 | "
                                 "03:12:00 by Jane Doe (Deployment Lead, @jane.doe), 6m58s after "
                                 "BACKOUT was recommended | 1h08m before the point of no return |"));
  EXPECT_THAT(results, HasSubstr("| Detection to delivery: breach page about Login failure rate "
                                 "(02:41:02) | after group_wait 2s | 5.2s | 2 attempts on chat "
                                 "(HTTP 503) |"));
  EXPECT_THAT(results, HasSubstr("| Detection to delivery: breach page about Database "
                                 "connectivity (03:05:02) | immediate (critical) | 0.4s |"));
  EXPECT_THAT(results, HasSubstr("| Acknowledgement: Login failure rate (paged 02:41:02) | "
                                 "within 10m | 2m58s by John Smith"));
  EXPECT_THAT(results, HasSubstr("| Acknowledgement: Database connectivity (paged 03:05:02) | "
                                 "within 5m | 6m28s by Jane Doe (Deployment Lead, @jane.doe) | "
                                 "1m28s late; escalated to John Smith (Project Manager, "
                                 "@john.smith) at 03:10:02 |"));
}

TEST(ReviewTest, ScriptedNightAnswersTheReviewQuestions) {
  const std::string md = report::render_markdown(report::build_review(night_input(
      &reference_plan())));
  const std::string review = section(md, "## Post-Backout Review");
  EXPECT_TRUE(InOrder(
      review,
      {"### What triggered the backout?",
       "Database connectivity (db_connectivity) breached at 03:05:02 with severity critical, "
       "value 1, by the window average.",
       "The agent recommended BACKOUT at 03:05:02: critical: Database connectivity",
       "The backout was decided by Jane Doe (Deployment Lead, @jane.doe) at 03:12:00",
       "### Was the trigger appropriate?",
       "Confirmed by a person: Jane Doe (Deployment Lead, @jane.doe) decided backout at "
       "03:12:00, 6m58s after the agent recommended it.",
       "The breach resolved at 03:21:00, 15m58s after it opened.", report::kToBeCompleted,
       "### Did backout execute as planned?",
       "The backout was decided at 03:12:00, 1h08m before the point of no return (04:20:00).",
       "Backout complete was recorded at 04:40:00, 1h28m after the decision, within the "
       "rehearsed 1h40m.",
       report::kToBeCompleted, "### What was the actual duration?",
       "1h28m (decision 03:12:00 to backout complete 04:40:00); rehearsed 1h40m.",
       "### What could be improved?",
       "The breach page about Login failure rate (02:41:02) needed 2 attempts on chat (first "
       "error: HTTP 503); delivered 3.2s after the page.",
       "The page about Database connectivity (03:05:02) was acknowledged 6m28s after it was "
       "sent, over the plan's 5m; it was escalated to John Smith (Project Manager, @john.smith) "
       "at 03:10:02.",
       "Source portal_db was down from 03:05:00 to 03:20:00 (15m): connection refused.",
       "The agent restarted at 03:30:10 (no events for 5m10s before it).",
       report::kToBeCompleted, "### Root cause of original issue?", report::kToBeCompleted,
       "### Plan for next attempt?", report::kToBeCompleted}));
  // The duration is known: no placeholder between its question and the next.
  const std::size_t q4 = review.find("### What was the actual duration?");
  const std::size_t q5 = review.find("### What could be improved?");
  EXPECT_EQ(review.substr(q4, q5 - q4).find(report::kToBeCompleted), std::string::npos);
}

TEST(ReviewTest, WithoutThePlanTheHeaderComesFromTheTimeline) {
  const std::string md =
      report::render_markdown(report::build_review(night_input(/*plan=*/nullptr)));
  const std::string header = section(md, "## Plan Header");
  EXPECT_THAT(header, HasSubstr("| Project | Customer Portal Enhancement |"));
  EXPECT_THAT(header, HasSubstr("| Release | 2.0 |"));
  EXPECT_THAT(header, HasSubstr("| Deployment Date | 2026-06-07 |"));
  EXPECT_THAT(header, HasSubstr("| Plan Owner | — |"));
  EXPECT_THAT(header, HasSubstr("| Deployment window | 02:00 to 06:00 (+01:00) |"));
  EXPECT_THAT(header, HasSubstr("| Point of no return | 04:20 |"));
  EXPECT_THAT(header, HasSubstr("| Backout duration (rehearsed) | 1h40m |"));
  EXPECT_THAT(header, HasSubstr("give --plan"));
  // People and triggers by their handles and ids.
  EXPECT_THAT(md, HasSubstr("| 03:12:00 | Decision: BACKOUT | @jane.doe: database unreachable "
                            "after the schema migration |"));
  EXPECT_THAT(md, HasSubstr("paged Deployment Lead;"));
  EXPECT_THAT(md, HasSubstr("| Total backout | 1h40m (rehearsed) | 1h28m"));
  EXPECT_THAT(md, Not(HasSubstr("Jane Doe")));
}

// Issue 10, item 1: the agent records the plan it watched, so a review without --plan still
// names the people, roles and durations, instead of reading them back out of English reasons.
TEST(ReviewTest, WithoutThePlanTheRecordedPlanNamesPeopleAndRoles) {
  report::ReviewInput in = night_input(/*plan=*/nullptr);
  const record::TimelineEvent snapshot{*parse_rfc3339("2026-06-07T01:55:00+01:00"),
                                       record::snapshot_of(reference_plan())};
  in.events.insert(in.events.begin(), snapshot);
  const std::string md = report::render_markdown(report::build_review(in));
  const std::string header = section(md, "## Plan Header");
  EXPECT_THAT(header, HasSubstr("| Plan Owner | John Smith (PM) |"));
  EXPECT_THAT(header, HasSubstr("| Point of no return | 04:20 |"));
  EXPECT_THAT(header, HasSubstr("the plan the agent recorded when it started"));
  EXPECT_THAT(header, Not(HasSubstr("give --plan")));
  EXPECT_THAT(md, HasSubstr("Jane Doe"));
  EXPECT_THAT(md, Not(HasSubstr("| plan |"))) << "the snapshot has no row of its own";
}

TEST(ReviewTest, UndeliveredPagesAndUnacknowledgedEscalationsAreFindings) {
  report::ReviewInput in;
  in.identity = "Customer Portal Enhancement|2.0|2026-06-07T02:00:00+01:00";
  in.plan = &reference_plan();
  const std::vector<std::string> lines = {
      "{" + at("02:10:00") +
          ", \"kind\": \"trigger\", \"trigger\": \"system_unavailable\", \"state\": "
          "\"breached\", \"severity\": \"critical\", \"value\": 0.2, \"path\": \"average\"}",
      "{" + at("02:10:00") +
          ", \"kind\": \"recommendation\", \"recommendation\": \"backout\", \"reason\": "
          "\"critical: System unavailable: 20% over 1m (threshold < 50%); immediate backout; "
          "backout takes 1h40m, point of no return 04:20 (in 2h10m)\"}",
      "{" + at("02:10:00") +
          ", \"kind\": \"notify\", \"trigger\": \"system_unavailable\", \"decides\": "
          "\"deployment_lead\", \"mention\": [\"@jane.doe\"], \"page\": \"breach\"}",
      "{" + at("02:15:00") +
          ", \"kind\": \"notify\", \"trigger\": \"system_unavailable\", \"decides\": "
          "\"project_manager\", \"mention\": [\"@john.smith\"], \"page\": \"escalation\"}",
      "{" + at("02:20:00") + ", \"kind\": \"mystery\", \"detail\": 42}",
      "not json",
  };
  report::decode_timeline(lines, in);
  alerting::OutboxMessage stuck;
  stuck.id = 1;
  stuck.channel = "chat";
  stuck.key = "breach:system_unavailable#1";
  stuck.created_at = parse_rfc3339("2026-06-07T02:10:00.010+01:00")->at;
  stuck.attempts = 7;
  stuck.last_error = "connection refused";
  in.outbox = {stuck};
  const report::Review r = report::build_review(in);
  const std::string md = report::render_markdown(r);
  EXPECT_THAT(md, HasSubstr("The breach page about System unavailable (02:10:00) was never "
                            "delivered to chat (7 attempts, last error: connection refused)."));
  EXPECT_THAT(md, HasSubstr("Nobody acknowledged the page about System unavailable (02:10:00); "
                            "it was escalated to John Smith (Project Manager, @john.smith) at "
                            "02:15:00; it was still open at the end of the record."));
  EXPECT_THAT(md, HasSubstr("BACKOUT was recommended at 02:10:00 but no decision (backout or go) "
                            "was recorded."));
  EXPECT_THAT(md, HasSubstr("1 timeline entries could not be read"));
  // An unknown kind is kept with its fields.
  EXPECT_THAT(md, HasSubstr("| 02:20:00 | mystery | {\"detail\":42} |"));
  EXPECT_EQ(r.unreadable_events, 1u);
  EXPECT_EQ(r.pages.size(), 2u);
}

// Issue 10, item 1: notify events carry their page's key, so one page about two triggers is
// one page, and two pages alike at one instant (two escalations to one role) stay two.
TEST(ReviewTest, NotifyKeysTellPagesApart) {
  report::ReviewInput in;
  in.identity = "Customer Portal Enhancement|2.0|2026-06-07T02:00:00+01:00";
  in.plan = &reference_plan();
  auto notify = [](const char* trigger, const char* key) {
    return "{" + at("02:10:00") + ", \"kind\": \"notify\", \"trigger\": \"" + trigger +
           "\", \"decides\": \"project_manager\", \"mention\": [\"@john.smith\"], \"page\": "
           "\"escalation\", \"key\": \"" + key + "\"}";
  };
  const std::vector<std::string> lines = {
      notify("login_failure_rate", "escalation:login_failure_rate#1+transaction_errors#1"),
      notify("transaction_errors", "escalation:login_failure_rate#1+transaction_errors#1"),
      notify("page_load_time", "escalation:page_load_time#1"),
      "{" + at("02:10:01") + ", \"kind\": \"delivery\", \"channel\": \"chat\", \"key\": "
          "\"escalation:page_load_time#1\", \"outcome\": \"delivered\", \"attempts\": 1, "
          "\"detail\": \"HTTP 200\"}",
  };
  report::decode_timeline(lines, in);
  const report::Review r = report::build_review(in);
  ASSERT_EQ(r.pages.size(), 2u);
  EXPECT_EQ(r.pages[0].triggers,
            (std::vector<std::string>{"login_failure_rate", "transaction_errors"}));
  EXPECT_EQ(r.pages[1].triggers, std::vector<std::string>{"page_load_time"});
  EXPECT_TRUE(r.pages[0].deliveries.empty());
  ASSERT_EQ(r.pages[1].deliveries.size(), 1u);
  EXPECT_EQ(r.pages[1].deliveries[0].outcome, "delivered");
}

// A kind the record does not know, "backout_complete", still ends the backout: its `by` and
// `note` are read through record::string_field().
TEST(ReviewTest, AnEventOfKindBackoutCompleteEndsTheBackout) {
  report::ReviewInput in;
  in.identity = "Customer Portal Enhancement|2.0|2026-06-07T02:00:00+01:00";
  in.plan = &reference_plan();
  const std::vector<std::string> lines = {
      "{" + at("03:12:00") +
          ", \"kind\": \"decision\", \"decision\": \"backout\", \"by\": \"@jane.doe\", "
          "\"note\": \"\"}",
      "{" + at("04:00:00") +
          ", \"kind\": \"backout_complete\", \"by\": \"@jane.doe\", \"note\": \"v1.9 "
          "verified\"}",
  };
  report::decode_timeline(lines, in);
  const report::Review r = report::build_review(in);
  ASSERT_TRUE(r.backout_complete_at.has_value());
  EXPECT_EQ(*r.backout_complete_at, parse_rfc3339("2026-06-07T04:00:00+01:00")->at);
  ASSERT_EQ(r.acts.size(), 2u);
  EXPECT_EQ(r.acts[1].what, "Backout complete");
  EXPECT_EQ(r.acts[1].who, "Jane Doe (Deployment Lead, @jane.doe)");
  EXPECT_EQ(r.acts[1].details, "v1.9 verified");
}

// Issue 11, item 8: the steps of the backout, planned against actual, and the answers to "Did
// backout execute as planned?" and "What was the actual duration?" from them.
TEST(ReviewTest, TheBackoutStepsArePlannedAgainstActual) {
  rules::Plan plan = reference_plan();
  rules::Backout b;
  b.steps = {{"announce", "Announce backout to team", "project_manager", std::chrono::minutes{2},
              "Team notified", std::nullopt},
             {"restore_db", "Restore database", "dba", std::chrono::minutes{30}, "DB restored",
              std::nullopt}};
  plan.backout = b;
  report::ReviewInput in;
  in.identity = "Customer Portal Enhancement|2.0|2026-06-07T02:00:00+01:00";
  in.plan = &plan;
  auto step = [](const std::string& clock, const std::string& id, const std::string& state) {
    return "{" + at(clock) + ", \"kind\": \"step\", \"step\": \"" + id +
           "\", \"state\": \"" + state + "\", \"projected_end\": null}";
  };
  const std::vector<std::string> lines = {
      "{" + at("03:10:00") +
          ", \"kind\": \"decision\", \"decision\": \"backout\", \"by\": \"@jane.doe\", "
          "\"note\": \"\"}",
      "{" + at("03:10:00") + ", \"kind\": \"night\", \"phase\": \"backing_out\"}",
      step("03:10:00", "announce", "started"),
      "{" + at("03:12:00") +
          ", \"kind\": \"done\", \"item\": \"announce\", \"by\": \"@john.smith\", "
          "\"note\": \"\", \"failed\": false}",
      step("03:12:00", "restore_db", "started"),
      step("03:57:00", "restore_db", "overrun"),
      "{" + at("03:57:00") +
          ", \"kind\": \"done\", \"item\": \"restore_db\", \"by\": \"@mike.brown\", "
          "\"note\": \"restored from the 01:00 backup\", \"failed\": false}",
      "{" + at("03:57:00") + ", \"kind\": \"night\", \"phase\": \"verifying\"}",
      "{" + at("04:02:00") +
          ", \"kind\": \"verify\", \"outcome\": \"verified\", \"failing\": []}",
  };
  report::decode_timeline(lines, in);
  ASSERT_EQ(in.unreadable_events, 0u);
  const report::Review r = report::build_review(in);
  ASSERT_EQ(r.steps.size(), 2u);
  std::vector<std::string> rows;
  for (const report::DurationRow& d : r.durations) {
    if (d.test.rfind("Step", 0) == 0 || d.test.rfind("Backout procedure", 0) == 0 ||
        d.test == "Verify reversal") {
      rows.push_back(d.test + " | " + d.expected + " | " + d.actual + " | " + d.issues);
    }
  }
  EXPECT_EQ(rows,
            (std::vector<std::string>{
                "Step 1: Announce backout to team, John Smith (Project Manager, @john.smith) | 2m "
                "| 2m (03:10:00 to 03:12:00) | ",
                "Step 2: Restore database, Mike Brown (DBA, @mike.brown) | 30m | 45m (03:12:00 to "
                "03:57:00) | 15m over; note: restored from the 01:00 backup",
                "Backout procedure (2 steps) | 32m | 47m | 15m over the planned steps",
                "Verify reversal | within 30m (held 5m) | verified at 04:02:00, 5m after the last "
                "step | "}))
      << "one row per step, the total and the verification";
  std::string as_planned, actual;
  for (const report::Answer& a : r.answers) {
    if (a.question == "Did backout execute as planned?") {
      as_planned = join(a.facts, " ");
    }
    if (a.question == "What was the actual duration?") {
      actual = join(a.facts, " ");
    }
  }
  EXPECT_THAT(as_planned, HasSubstr("2 of 2 steps were done; over their planned time: "
                                    "restore_db (45m against 30m)."));
  EXPECT_THAT(as_planned, HasSubstr("The reversal was verified at 04:02:00."));
  EXPECT_THAT(actual, HasSubstr("47m (decision 03:10:00 to backout complete 03:57:00)"));
  EXPECT_THAT(actual, HasSubstr("The steps were planned at 32m."));
  EXPECT_THAT(actual, HasSubstr("With the verification: 52m (reversal verified at 04:02:00)."));
}

// Issue 10, item 1: the store's episodes are the paging policy's own record. An
// acknowledgement the timeline lost (the disk was full when it was made) still shows, and a
// breach the timeline has no event for is listed from the store, with a note.
TEST(ReviewTest, TheStoredEpisodesAreTheAuthorityForAcknowledgementsAndFillGaps) {
  report::ReviewInput in = night_input(&reference_plan());
  // The night without its acknowledgement of the login failures.
  std::vector<std::string> lines;
  for (const std::string& l : scripted_night()) {
    if (l.find("\"kind\": \"ack\"") == std::string::npos) {
      lines.push_back(l);
    }
  }
  in.events.clear();
  report::decode_timeline(lines, in);
  for (const report::EpisodeRecord& e : report::build_review(in).episodes) {
    EXPECT_FALSE(e.acked_at.has_value()) << e.trigger << ": the timeline alone has no ack";
  }

  rules::Episode login;
  login.trigger = "login_failure_rate";
  login.number = 1;
  login.severity = rules::Severity::kMajor;
  login.opened_at = parse_rfc3339("2026-06-07T02:41:00+01:00")->at;
  login.paged_at = parse_rfc3339("2026-06-07T02:41:02+01:00")->at;
  login.acked_at = parse_rfc3339("2026-06-07T02:44:00+01:00")->at;
  login.acked_by = "@john.smith";
  rules::Episode api;  // its breach's events are not in the timeline at all
  api.trigger = "api_response_time";
  api.number = 1;
  api.severity = rules::Severity::kMajor;
  api.opened_at = parse_rfc3339("2026-06-07T03:05:00+01:00")->at;
  api.resolved_at = parse_rfc3339("2026-06-07T03:12:00+01:00")->at;
  in.episodes = {login, api};
  const report::Review r = report::build_review(in);
  ASSERT_FALSE(r.episodes.empty());
  const report::EpisodeRecord* found_login = nullptr;
  const report::EpisodeRecord* found_api = nullptr;
  for (const report::EpisodeRecord& e : r.episodes) {
    if (e.trigger == "login_failure_rate" && !found_login) {
      found_login = &e;
    }
    if (e.trigger == "api_response_time") {
      found_api = &e;
    }
  }
  ASSERT_NE(found_login, nullptr);
  ASSERT_TRUE(found_login->acked_at.has_value());
  EXPECT_EQ(*found_login->acked_at, *login.acked_at);
  EXPECT_THAT(found_login->acked_by, HasSubstr("John Smith"));
  ASSERT_NE(found_api, nullptr);
  EXPECT_EQ(found_api->breached_at, api.opened_at);
  EXPECT_EQ(found_api->resolved_at, api.resolved_at);
  const std::string md = report::render_markdown(r);
  EXPECT_THAT(md, HasSubstr("The timeline has no events for 1 breach the agent kept in its "
                            "store: "));
  EXPECT_THAT(md, HasSubstr("(03:05:00); their times come from the store."));
}

TEST(ReviewTest, MarkdownTextEscapesTableBreakers) {
  EXPECT_EQ(report::markdown_text("a | b *c* `d` <e> [f]\nnext"),
            "a \\| b \\*c\\* \\`d\\` \\<e> \\[f\\] next");
  EXPECT_EQ(report::markdown_text(""), "—");
}

TEST(ReviewTest, ReviewTimeShowsTheDateOnAnotherDay) {
  const auto off = std::chrono::minutes{60};
  const TimePoint start = parse_rfc3339("2026-06-07T23:00:00+01:00")->at;
  EXPECT_EQ(report::review_time(start, off, start), "23:00:00");
  EXPECT_EQ(report::review_time(start + std::chrono::minutes{90} + std::chrono::milliseconds{5},
                                off, start),
            "2026-06-08 00:30:00.005");
}

// --- `backout-agent report` on a real state store --------------------------------------------

class ReportCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("backout-report-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  struct ReportRun {
    int code = 0;
    std::string out;
    std::string err;
  };
  static ReportRun report(std::vector<std::string> args) {
    args.insert(args.begin(), {"backout-agent", "report"});
    std::ostringstream out;
    std::ostringstream err;
    ReportRun r;
    r.code = main_entry(args, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  fs::path dir_;
};

TEST_F(ReportCommandTest, WritesTheReviewOfARealStateStoreToAFile) {
  {
    auto opened = StateStore::open(dir_.string());
    ASSERT_TRUE(opened.ok()) << opened.error();
    StateStore& store = **opened;
    ASSERT_TRUE(store.set_identity("Customer Portal Enhancement|2.0|2026-06-07T02:00:00+01:00")
                    .ok());
    StoreTimeline timeline(store, nullptr);
    for (const std::string& e : scripted_night()) {
      auto event = record::decode(e);
      ASSERT_TRUE(event.ok()) << event.error() << ": " << e;
      timeline.append(*event);
    }
    // The escalation page is still in the outbox: delivered (its event is in the timeline).
    auto created = parse_rfc3339("2026-06-07T03:10:02+01:00")->at;
    StoreOutbox outbox(store, nullptr);
    ASSERT_TRUE(outbox.enqueue("chat", "escalation:db_connectivity#1", "{}", created));
  }
  const std::string file = (dir_ / "review.md").string();
  ReportRun r = report({"--state-dir", dir_.string(), "--out", file, "--plan",
                  backout::testing::reference_plan_path()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("wrote the post-backout review of 29 timeline events to " + file));
  const std::string md = backout::testing::read_file(file);
  EXPECT_THAT(md, HasSubstr("# Post-Backout Review: Customer Portal Enhancement 2.0"));
  EXPECT_THAT(md, HasSubstr("Written by backout-agent from the state store " +
                            (dir_ / "state.db").string() + " and the plan "));
  EXPECT_THAT(md, HasSubstr("| 03:12:00 | Decision: BACKOUT | Jane Doe (Deployment Lead, "
                            "@jane.doe)"));
  EXPECT_THAT(md, HasSubstr("| Total backout | 1h40m (rehearsed) | 1h28m (03:12:00 to "
                            "04:40:00) |"));
  EXPECT_THAT(md, HasSubstr("### Root cause of original issue?\n\n(to be completed by the "
                            "team)"));

  // To stdout, without the plan.
  ReportRun plain = report({"--state-dir", dir_.string()});
  ASSERT_EQ(plain.code, 0) << plain.err;
  EXPECT_THAT(plain.out, HasSubstr("| 03:12:00 | Decision: BACKOUT | @jane.doe"));
  EXPECT_THAT(plain.out, HasSubstr("| Point of no return | 04:20 |"));
}

TEST_F(ReportCommandTest, AnEmptyStoreStillGivesAReview) {
  {
    auto opened = StateStore::open(dir_.string());
    ASSERT_TRUE(opened.ok()) << opened.error();
  }
  ReportRun r = report({"--state-dir", dir_.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("**Outcome:** The timeline is empty"));
  EXPECT_THAT(r.out, HasSubstr("### Plan for next attempt?"));
}

TEST_F(ReportCommandTest, MissingDirectoryIsExitTwoAndCreatesNothing) {
  ReportRun r = report({"--state-dir", dir_.string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("no state store in " + dir_.string()));
  EXPECT_THAT(r.err, HasSubstr("does not exist"));
  EXPECT_FALSE(fs::exists(dir_));
}

TEST_F(ReportCommandTest, DirectoryWithoutStateDbIsExitTwoWithAHint) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "state-1780000000.db") << "";
  ReportRun r = report({"--state-dir", dir_.string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("no state.db there"));
  EXPECT_THAT(r.err, HasSubstr("state-1780000000.db"));
  EXPECT_FALSE(fs::exists(dir_ / "state.db"));
}

TEST_F(ReportCommandTest, UnreadableStoreIsExitTwo) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "state.db") << "this is not a SQLite database, just text that is long "
                                      "enough to have a header of its own.............";
  ReportRun r = report({"--state-dir", dir_.string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("cannot read the state store"));
}

TEST_F(ReportCommandTest, StateDirIsRequired) {
  ReportRun r = report({});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("missing --state-dir DIR"));
}

}  // namespace
}  // namespace backout::agent
