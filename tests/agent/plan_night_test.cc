// The plan keys of the whole night (DESIGN section 9): `deployment`, `backout` (steps and the
// verification of the reversal) and `notify.blind_after`. The night plan here is the reference
// plan plus the night plan's contacts, sources, deployment, backout and blind_after (its
// preflight and after_backout: plan_before_after_test.cc), and every broken edit of it comes back as
// the exact `FILE:LINE:COL: error: message`. Also `backout-agent check` on it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/kinds/kinds.h"
#include "plan/plan_loader.h"
#include "support/paths.h"
#include "support/plan_edit.h"

namespace backout::plan {
namespace {

// `check` judges the window as of this time: the plans here are of 2026-06-07 (a window that
// has ended is a warning; see CheckCommand.AWindowThatHasEndedIsAWarning).
constexpr const char* kBeforeTheWindow = "2026-06-06T12:00:00+01:00";

using backout::testing::After;
using backout::testing::apply_edits;
using backout::testing::Before;
using backout::testing::Delete;
using backout::testing::Edit;
using backout::testing::Edited;
using backout::testing::expand_all;
using backout::testing::Replace;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// --- the night plan -----------------------------------------------------------------------------
// As in shared/plans/customer-portal-2.0-night.yaml.

const char* const kContacts =
    "  support:         { name: Support Desk,   chat: \"@support-desk\" }\n"
    "  qa:              { name: QA On Call,     chat: \"@qa-oncall\" }";

const char* const kSources =
    "  db_version:                  # the restore step's \"SELECT version FROM system_info; "
    "expected v1.9\"\n"
    "    kind: postgres\n"
    "    dsn_env: PORTAL_DB_DSN\n"
    "    query: SELECT CASE WHEN version = 'v1.9' THEN 1 ELSE 0 END FROM system_info\n"
    "    every: 30s\n"
    "    timeout: 10s\n"
    "  app_version:                 # the application's \"version file shows v1.9\"\n"
    "    kind: http\n"
    "    url: http://127.0.0.1:8080/version\n"
    "    every: 30s\n"
    "    timeout: 5s\n"
    "    expect_status: 200";

const char* const kDeployment =
    "# The deployment itself stops the portal: these triggers are expected to breach until "
    "go-live.\n"
    "deployment:\n"
    "  duration: 30m\n"
    "  expect_outage: [system_unavailable, page_load_time, api_response_time, error_rate, "
    "login_failure_rate, transaction_errors]\n";

const char* const kSteps =
    "  steps:\n"
    "    - { id: announce,       action: Announce backout to team,     owner: project_manager, "
    "duration: 2m,  verify: Team notified }\n"
    "    - { id: stop_traffic,   action: Stop incoming traffic,        owner: it_operations,   "
    "duration: 5m,  verify: No new connections }\n"
    "    - { id: notify_users,   action: Notify users,                 owner: support,         "
    "duration: 5m,  verify: Message displayed }\n"
    "    - { id: stop_app,       action: Stop application servers,     owner: it_operations,   "
    "duration: 5m,  verify: Services stopped }\n"
    "    - { id: restore_db,     action: Restore database,             owner: dba,             "
    "duration: 30m, verify: DB restored,\n"
    "        check: { measure: value(db_version), when: \"> 0\" } }\n"
    "    - { id: restore_app,    action: Restore application,          owner: it_operations,   "
    "duration: 15m, verify: Files restored }\n"
    "    - { id: restore_config, action: Restore configuration,        owner: it_operations,   "
    "duration: 10m, verify: Config restored }\n"
    "    - { id: start_app,      action: Start application servers,    owner: it_operations,   "
    "duration: 5m,  verify: Services started }\n"
    "    - { id: verify_health,  action: Verify system health,         owner: qa,              "
    "duration: 15m, verify: All checks pass }\n"
    "    - { id: resume_traffic, action: Resume traffic,               owner: it_operations,   "
    "duration: 5m,  verify: System live }\n"
    "    - { id: notify_stakeholders, action: Notify stakeholders,     owner: project_manager, "
    "duration: 5m,  verify: Comms sent }";

const char* const kVerifyChecks =
    "    checks:\n"
    "      - { name: Customer count matches the pre-deployment count, measure: value(customers), "
    "when: \">= baseline\" }\n"
    "      - { name: Database version is v1.9,                        measure: value(db_version), "
    "when: \"> 0\" }\n"
    "      - { name: Application is back,                             measure: "
    "availability(home_page), when: \">= 99%\" }";

const std::string kVerify =
    std::string("  verify:\n    hold: 5m\n    timeout: 30m\n") + kVerifyChecks;

std::string backout_block() {
  return std::string(
             "# The backout procedure (template: Step-by-Step Process) and Verify Reversal.\n"
             "backout:\n"
             "  expect_outage: [system_unavailable, page_load_time, api_response_time, "
             "error_rate, login_failure_rate,\n"
             "                  transaction_errors, db_connectivity, data_integrity, "
             "performance_degradation]\n") +
         kSteps + "\n" + kVerify + "\n";
}

const std::string& night_text() {
  static const std::string text = [] {
    const std::string reference =
        backout::testing::read_file(backout::testing::reference_plan_path());
    Edited e = apply_edits(
        reference,
        {
            After("  steering_group:", kContacts),
            After("    query: SELECT COUNT(*) FROM customers\n    every: 1m\n    timeout: 10s",
                  kSources),
            Before("\nnotify:", std::string(kDeployment) + "\n" + backout_block()),
            After("  group_wait: 2s",
                  "  blind_after: 2m              # a trigger that cannot be judged this long is "
                  "reported to its decider"),
        });
    return e.text;
  }();
  return text;
}

LoadResult load(std::string_view text) {
  return load_plan_text(text, "plan.yaml", agent::builtin_kinds().catalog);
}

std::vector<std::string> formatted(const LoadResult& r) {
  std::vector<std::string> out;
  for (const Diagnostic& d : r.diagnostics) {
    out.push_back(d.format());
  }
  return out;
}

Edited apply(const std::vector<Edit>& edits) { return apply_edits(night_text(), edits); }

// The night plan's steps add up to 1h42m against a backout_duration of 1h40m: every plan whose
// backout section loads has this warning, at `steps:`.
const char* const kStepsWarning =
    "plan.yaml:{@  steps:}:3: warning: backout.steps: the steps add up to 1h42m but "
    "window.backout_duration is 1h40m (the point of no return is computed from backout_duration)";

struct PlanCase {
  std::string name;
  std::vector<Edit> edits;
  std::vector<std::string> expected;  // every diagnostic, in order; see expand()
};

// Each case is one mistake an operator can make in the night's keys, and exactly what the loader
// answers.
const std::vector<PlanCase>& broken_plans() {
  static const std::vector<PlanCase> cases = {
      // --- top level ---
      {"TopLevelTypo",
       {Replace("deployment:", "deploymnet:")},
       {"plan.yaml:{L}:1: error: plan file: unknown key 'deploymnet'; did you mean 'deployment'?",
        kStepsWarning}},
      // --- deployment ---
      {"DeploymentNotAMap",
       {Replace("deployment:\n  duration: 30m\n  expect_outage:", "deployment: 30m")},
       {"plan.yaml:{L}:13: error: deployment must be a map { duration, expect_outage }, not a "
        "single value",
        kStepsWarning}},
      {"DeploymentDurationMissing",
       {Delete("\n  duration: 30m")},
       {"plan.yaml:{@deployment:}:1: error: deployment: missing 'duration' (the planned time from "
        "window.start to go-live, e.g. duration: 30m)",
        kStepsWarning}},
      {"DeploymentDurationZero",
       {Replace("\n  duration: 30m", "  duration: 0s")},
       {"plan.yaml:{L}:13: error: deployment.duration: 0s is too short; the minimum is 1s",
        kStepsWarning}},
      {"DeploymentDurationWithoutUnit",
       {Replace("\n  duration: 30m", "  duration: 30")},
       {"plan.yaml:{L}:13: error: deployment.duration: '30' is not a duration: missing unit after "
        "30; add one of d, h, m, s, ms (e.g. 30s or 30m)",
        kStepsWarning}},
      {"DeploymentUnknownKeyDidYouMean",
       {Replace("\n  duration: 30m", "  duraton: 30m")},
       // The fix offered, 'duration' is not also reported as missing.
       {"plan.yaml:{L}:3: error: deployment: unknown key 'duraton'; did you mean 'duration'?",
        kStepsWarning}},
      {"DeploymentExpectOutageUnknownTrigger",
       {Replace("  expect_outage: [system_unavailable, page_load_time, api_response_time, "
                "error_rate, login_failure_rate, transaction_errors]",
                "  expect_outage: [system_unavailable, error_rte]")},
       {"plan.yaml:{L}:39: error: deployment.expect_outage: unknown trigger 'error_rte'; did you "
        "mean 'error_rate'?",
        kStepsWarning}},
      {"DeploymentExpectOutageNoSuggestion",
       {Replace("  expect_outage: [system_unavailable, page_load_time, api_response_time, "
                "error_rate, login_failure_rate, transaction_errors]",
                "  expect_outage: [maintenance_page]")},
       {"plan.yaml:{L}:19: error: deployment.expect_outage: unknown trigger 'maintenance_page'; "
        "triggers are login_failure_rate, transaction_errors, page_load_time, api_response_time, "
        "error_rate, db_connectivity, system_unavailable, data_integrity, "
        "performance_degradation",
        kStepsWarning}},
      {"DeploymentExpectOutageIsAMap",
       {Replace("  expect_outage: [system_unavailable, page_load_time, api_response_time, "
                "error_rate, login_failure_rate, transaction_errors]",
                "  expect_outage: { error_rate: yes }")},
       {"plan.yaml:{L}:18: error: deployment.expect_outage: expected a list of trigger ids, e.g. "
        "[system_unavailable, error_rate], not a map",
        kStepsWarning}},
      {"ExpectOutageNamesATriggerThatHasErrors",
       // The trigger's own error is reported; its id is known, so naming it is not an error too.
       {Replace("    when: \"< 50%\"", "    when: \"< 50\"")},
       {"plan.yaml:{L}:12: error: triggers.system_unavailable.when: availability() is a share; "
        "write the threshold as a percentage, e.g. \"< 5%\"",
        kStepsWarning}},
      // --- backout ---
      {"BackoutUnknownKey",
       {Replace("  steps:", "  step:")},
       {"plan.yaml:{L}:3: error: backout: unknown key 'step'; did you mean 'steps'?"}},
      {"BackoutStepsMissing",
       {Delete(kSteps)},
       {"plan.yaml:{@backout:}:1: error: backout: missing 'steps' (the procedure in order, each "
        "'- { id, action, owner, duration }'; without steps a backout decision starts no "
        "procedure and verify never begins)"}},
      {"BackoutStepsEmpty",
       {Replace(kSteps, "  steps: []")},
       {"plan.yaml:{L}:3: error: backout.steps: no step; list the procedure in order, each item "
        "starting with '- id: ...'"}},
      {"BackoutStepsNotAList",
       {Replace(kSteps, "  steps: { id: announce }")},
       {"plan.yaml:{L}:10: error: backout.steps must be a list, each item starting with "
        "'- id: ...'"}},
      {"BackoutNotAMap",
       {Replace(backout_block(), "backout: [announce, stop_traffic]\n")},
       {"plan.yaml:{L}:10: error: backout must be a map { expect_outage, steps, verify, data_at_risk }, not a "
        "list"}},
      {"BackoutExpectOutageUnknownTrigger",
       {Replace("                  transaction_errors, db_connectivity,",
                "                  transaction_errors, db_conectivity, data_integrity, "
                "performance_degradation]")},
       {"plan.yaml:{L}:39: error: backout.expect_outage: unknown trigger 'db_conectivity'; did "
        "you mean 'db_connectivity'?"}},
      // --- steps ---
      {"StepNotAMap",
       {Before("    - { id: announce,", "    - announce")},
       {"plan.yaml:{L}:7: error: backout.steps[1] must be a map with id, action, owner, duration "
        "and optionally verify and check"}},
      {"StepIdMissing",
       {Replace("    - { id: announce,       action:",
                "    - { action: Announce backout to team, "
                "owner: project_manager, duration: 2m }")},
       {"plan.yaml:{L}:7: error: backout.steps[1]: missing 'id' (a short name such as "
        "stop_traffic; `done ID` names it)"}},
      {"StepIdNotAnIdentifier",
       {Replace("    - { id: stop_traffic,",
                "    - { id: stop-traffic, action: Stop incoming "
                "traffic, owner: it_operations, duration: 5m }")},
       {"plan.yaml:{L}:13: error: backout.steps[2].id: 'stop-traffic' is not an identifier "
        "([A-Za-z_][A-Za-z0-9_]*)"}},
      {"StepIdDuplicate",
       // Reported at the second occurrence, naming the first's line.
       {Replace("    - { id: stop_traffic,",
                "    - { id: announce, action: Stop incoming "
                "traffic, owner: it_operations, duration: 5m }")},
       {"plan.yaml:{L}:13: error: backout.steps[2].id: duplicate id 'announce' (first at line "
        "162); give each item its own id, `done ID` names one"}},
      {"StepUnknownKeyDidYouMean",
       {Replace("    - { id: stop_app,",
                "    - { id: stop_app, action: Stop application servers, "
                "ownr: it_operations, duration: 5m }")},
       {"plan.yaml:{L}:57: error: backout.steps.stop_app: unknown key 'ownr'; did you mean "
        "'owner'?"}},
      {"StepOwnerNotInContacts",
       {Replace("    - { id: notify_users,",
                "    - { id: notify_users, action: Notify users, owner: "
                "suport, duration: 5m }")},
       {"plan.yaml:{L}:56: error: backout.steps.notify_users.owner: role 'suport' is not in "
        "contacts; did you mean 'support'?"}},
      {"StepOwnerUnknownNoSuggestion",
       {Replace("    - { id: verify_health,",
                "    - { id: verify_health, action: Verify system "
                "health, owner: testers, duration: 15m }")},
       {"plan.yaml:{L}:65: error: backout.steps.verify_health.owner: role 'testers' is not in "
        "contacts; contacts has deployment_lead, project_manager, sponsor, it_operations, dba, "
        "steering_group, support, qa"}},
      {"StepOwnerMissing",
       {Replace("    - { id: stop_app,",
                "    - { id: stop_app, action: Stop application servers, duration: 5m }")},
       {"plan.yaml:{L}:7: error: backout.steps.stop_app: missing 'owner' (the role from contacts "
        "who carries the step out)"}},
      {"StepActionMissing",
       {Replace("    - { id: stop_app,",
                "    - { id: stop_app, owner: it_operations, duration: 5m }")},
       {"plan.yaml:{L}:7: error: backout.steps.stop_app: missing 'action' (what is done, e.g. "
        "action: Stop incoming traffic)"}},
      {"StepDurationMissing",
       {Replace("    - { id: stop_app,",
                "    - { id: stop_app, action: Stop application servers, owner: it_operations }")},
       {"plan.yaml:{L}:7: error: backout.steps.stop_app: missing 'duration' (the step's planned "
        "time, e.g. duration: 5m)"}},
      {"StepDurationZero",
       {Replace("    - { id: announce,",
                "    - { id: announce, action: Announce backout to team, "
                "owner: project_manager, duration: 0s }")},
       {"plan.yaml:{L}:91: error: backout.steps.announce.duration: 0s is too short; the minimum "
        "is 1s"}},
      {"StepDurationNotADuration",
       {Replace("    - { id: announce,",
                "    - { id: announce, action: Announce backout to team, "
                "owner: project_manager, duration: two }")},
       {"plan.yaml:{L}:91: error: backout.steps.announce.duration: 'two' is not a duration: "
        "expected a number at 'two'; write durations as e.g. 30s, 5m or 1h30m"}},
      {"StepVerifyIsAList",
       {Replace("    - { id: announce,",
                "    - { id: announce, action: Announce backout to team, "
                "owner: project_manager, duration: 2m, verify: [Team "
                "notified, Chat updated] }")},
       {"plan.yaml:{L}:103: error: backout.steps.announce.verify: expected text: how the owner "
        "verifies the step, not a list"}},
      {"StepCheckIsAFileCheck",
       {Replace("        check: { measure: value(db_version), when: \"> 0\" } }",
                "        check: { file: /backup/db/portal_20260607, max_age: 24h } }")},
       {"plan.yaml:{L}:18: error: backout.steps.restore_db.check: file checks are only for "
        "preflight items; a backout step's check is a measure, e.g. check: { measure: "
        "value(db_version), when: \"> 0\" }"}},
      {"StepCheckNotAMap",
       {Replace("        check: { measure: value(db_version), when: \"> 0\" } }",
                "        check: value(db_version) }")},
       {"plan.yaml:{L}:16: error: backout.steps.restore_db.check must be a map { measure, when, "
        "over }, not a single value"}},
      {"StepCheckUnknownSource",
       {Replace("check: { measure: value(db_version)",
                "        check: { measure: "
                "value(db_versio), when: \"> 0\" } }")},
       {"plan.yaml:{L}:33: error: backout.steps.restore_db.check.measure: unknown source "
        "'db_versio'; did you mean 'db_version'?"}},
      {"StepCheckMeasureDoesNotParse",
       {Replace("check: { measure: value(db_version)",
                "        check: { measure: value(db_version, when: \"> 0\" } }")},
       {"plan.yaml:{L}:43: error: backout.steps.restore_db.check.measure: expected ')' to close "
        "value(, found the end of the text"}},
      {"StepCheckWhenMissing",
       {Replace("check: { measure: value(db_version)",
                "        check: { measure: value(db_version) } }")},
       {"plan.yaml:{L}:9: error: backout.steps.restore_db.check: missing 'when' (the condition "
        "under which it passes, e.g. when: \"> 0\")"}},
      {"StepCheckUnknownKey",
       {Replace("check: { measure: value(db_version)",
                "        check: { measure: value(db_version), whn: \"> 0\" } }")},
       {"plan.yaml:{L}:46: error: backout.steps.restore_db.check: unknown key 'whn'; did you mean "
        "'when'?"}},
      {"StepCheckShareWithoutPercent",
       {Replace("check: { measure: value(db_version)",
                "        check: { measure: availability(app_version), when: \"> 0\" } }")},
       {"plan.yaml:{L}:61: error: backout.steps.restore_db.check.when: availability() is a share; "
        "write the threshold as a percentage, e.g. \"> 5%\""}},
      {"StepCheckOverTooShort",
       {Replace("check: { measure: value(db_version)",
                "        check: { measure: value(db_version), when: \"> 0\", over: 0s } }")},
       {"plan.yaml:{L}:65: error: backout.steps.restore_db.check.over: 0s is too short; the "
        "minimum is 1s"}},
      // --- verify ---
      {"VerifyUnknownKey",
       {Replace("    hold: 5m", "    hld: 5m")},
       {"plan.yaml:{L}:5: error: backout.verify: unknown key 'hld'; did you mean 'hold'?"}},
      {"VerifyNotAMap",
       {Replace(kVerify, "  verify: 5m")},
       {"plan.yaml:{L}:11: error: backout.verify must be a map { hold, timeout, checks }, not a "
        "single value"}},
      {"VerifyTimeoutNotLongerThanHold",
       {Replace("    timeout: 30m", "    timeout: 5m")},
       {"plan.yaml:{L}:14: error: backout.verify.timeout: 5m is not longer than hold (5m); the "
        "reversal would be declared incomplete before it could be verified; make timeout longer "
        "than hold"}},
      {"VerifyTimeoutShorterThanTheDefaultHold",
       {Delete("    hold: 5m"), Replace("    timeout: 30m", "    timeout: 3m")},
       {"plan.yaml:{L}:14: error: backout.verify.timeout: 3m is not longer than hold (5m by "
        "default); the reversal would be declared incomplete before it could be verified; make "
        "timeout longer than hold"}},
      {"VerifyHoldNotShorterThanTheDefaultTimeout",
       {Replace("    hold: 5m", "    hold: 45m"), Delete("    timeout: 30m")},
       {"plan.yaml:{L}:11: error: backout.verify.hold: 45m is not shorter than timeout (30m by "
        "default); shorten hold or set a longer timeout"}},
      {"VerifyHoldNotADuration",
       {Replace("    hold: 5m", "    hold: five minutes")},
       {"plan.yaml:{L}:11: error: backout.verify.hold: 'five minutes' is not a duration: expected "
        "a number at 'five minutes'; write durations as e.g. 30s, 5m or 1h30m"}},
      {"VerifyChecksNotAList",
       {Replace(kVerifyChecks, "    checks: value(customers)")},
       {"plan.yaml:{L}:13: error: backout.verify.checks must be a list, each item starting with "
        "'- name: ...'"}},
      {"VerifyCheckNotAMap",
       {After("    checks:", "      - customers match")},
       {"plan.yaml:{L}:9: error: backout.verify.checks[1] must be a map with name, measure, when "
        "and optionally over"}},
      {"VerifyCheckNameMissing",
       {Replace("      - { name: Database version is v1.9,",
                "      - { measure: value(db_version), when: \"> 0\" }")},
       {"plan.yaml:{L}:9: error: backout.verify.checks[2]: missing 'name' (what is checked, in "
        "words; a failing check is named by it)"}},
      {"VerifyCheckMeasureMissing",
       {Replace("      - { name: Database version is v1.9,",
                "      - { name: Database version is v1.9, when: \"> 0\" }")},
       {"plan.yaml:{L}:9: error: backout.verify.checks[2]: missing 'measure' (what is measured, "
        "e.g. measure: value(db_version))"}},
      {"VerifyCheckUnknownKeyDidYouMean",
       {Replace("      - { name: Database version is v1.9,",
                "      - { name: Database version is v1.9, mesure: value(db_version), when: "
                "\"> 0\" }")},
       {"plan.yaml:{L}:43: error: backout.verify.checks[2]: unknown key 'mesure'; did you mean "
        "'measure'?"}},
      {"VerifyCheckUnknownSeries",
       {Replace("measure: availability(home_page), when: \">= 99%\"",
                "      - { name: Application is back, measure: max(home_page.durations), when: "
                "\"< 2s\" }")},
       {"plan.yaml:{L}:61: error: backout.verify.checks[3].measure: source 'home_page' (http) has "
        "no series 'durations'; did you mean 'duration'?"}},
      {"VerifyCheckLatencyWithoutUnit",
       {Replace(
           "measure: availability(home_page), when: \">= 99%\"",
           "      - { name: Application is back, measure: p95(api.duration), when: \"< 5\" }")},
       {"plan.yaml:{L}:73: error: backout.verify.checks[3].when: p95() is a duration; give the "
        "threshold a time unit, e.g. \"< 10s\" or \"< 500ms\""}},
      {"VerifyCheckShareAbove100",
       {Replace("when: \">= 99%\"",
                "      - { name: Application is back, measure: "
                "availability(home_page), when: \">= 199%\" }")},
       {"plan.yaml:{L}:79: error: backout.verify.checks[3].when: >= 199% can never be reached; a "
        "share is at most 100%"}},
      {"VerifyCheckWhenPerSeverity",
       // A check passes or fails: one condition, not a map severity -> condition.
       {Replace("when: \">= 99%\"",
                "      - { name: Application is back, measure: "
                "availability(home_page), when: { critical: \"< 50%\" } }")},
       {"plan.yaml:{L}:78: error: backout.verify.checks[3].when: expected a condition such as "
        "\"> 5%\", not a map"}},
      {"VerifyCheckConditionDoesNotParse",
       {Replace("when: \"> 0\" }\n      - { name: Application",
                "      - { name: Database version is v1.9, measure: value(db_version), when: "
                "\"is v1.9\" }\n      - { name: Application is back, measure: "
                "availability(home_page), when: \">= 99%\" }")},
       {"plan.yaml:{L}:78: error: backout.verify.checks[2].when: a condition starts with >, >=, < "
        "or <= (e.g. \"> 5%\"), found 'is v1.9'"}},
      {"VerifyCheckBaselineWithoutWindowBaseline",
       // `>= baseline` works as in triggers, and needs window.baseline as they do.
       {Replace("  baseline: 30m", "  baseline: 0s")},
       {"plan.yaml:{@when: \"< baseline\"}:12: error: triggers.data_integrity.when: '< baseline' "
        "compares with a baseline, but window.baseline is 0; set window.baseline (e.g. 30m)",
        "plan.yaml:{@when: \"> +50% baseline\"}:12: error: triggers.performance_degradation.when: "
        "'> +50% baseline' compares with a baseline, but window.baseline is 0; set "
        "window.baseline (e.g. 30m)",
        "plan.yaml:{@when: \">= baseline\"}:100: error: backout.verify.checks[1].when: '>= "
        "baseline' compares with a baseline, but window.baseline is 0; set window.baseline "
        "(e.g. 30m)"}},
      {"VerifyCheckOverNotADuration",
       {Replace("when: \"> 0\" }\n      - { name: Application",
                "      - { name: Database version is v1.9, measure: value(db_version), when: "
                "\"> 0\", over: 1 }\n      - { name: Application is back, measure: "
                "availability(home_page), when: \">= 99%\" }")},
       {"plan.yaml:{L}:90: error: backout.verify.checks[2].over: '1' is not a duration: missing "
        "unit after 1; add one of d, h, m, s, ms (e.g. 1s or 1m)"}},
      // --- notify.blind_after ---
      {"BlindAfterZero",
       {Replace("  blind_after: 2m", "  blind_after: 0s")},
       {kStepsWarning,
        "plan.yaml:{L}:16: error: notify.blind_after: 0s is too short; the minimum is 1s"}},
      {"BlindAfterNotADuration",
       {Replace("  blind_after: 2m", "  blind_after: soon")},
       {kStepsWarning,
        "plan.yaml:{L}:16: error: notify.blind_after: 'soon' is not a duration: expected a number "
        "at 'soon'; write durations as e.g. 30s, 5m or 1h30m"}},
      {"BlindAfterTypo",
       {Replace("  blind_after: 2m", "  blind_afer: 2m")},
       {kStepsWarning,
        "plan.yaml:{L}:3: error: notify: unknown key 'blind_afer'; did you mean 'blind_after'?"}},
  };
  return cases;
}

// Accepted, with exactly these warnings.
const std::vector<PlanCase>& doubtful_plans() {
  static const std::vector<PlanCase> cases = {
      {"TheNightPlanAsWritten", {}, {kStepsWarning}},
      {"ExpectOutageListedTwice",
       {Replace("  expect_outage: [system_unavailable, page_load_time, api_response_time, "
                "error_rate, login_failure_rate, transaction_errors]",
                "  expect_outage: [error_rate, system_unavailable, error_rate]")},
       {"plan.yaml:{L}:51: warning: deployment.expect_outage: 'error_rate' is listed twice",
        kStepsWarning}},
      {"StepsThatAddUpToTheBackoutDuration",
       {Replace("  backout_duration: 100m", "  backout_duration: 102m")},
       {}},
      {"StepsShorterThanTheBackoutDuration",
       {Replace("  backout_duration: 100m", "  backout_duration: 2h")},
       {"plan.yaml:{@  steps:}:3: warning: backout.steps: the steps add up to 1h42m but "
        "window.backout_duration is 2h (the point of no return is computed from "
        "backout_duration)"}},
  };
  return cases;
}

class NightBrokenPlan : public ::testing::TestWithParam<PlanCase> {};
class NightDoubtfulPlan : public ::testing::TestWithParam<PlanCase> {};

TEST_P(NightBrokenPlan, ReportsExactlyTheseDiagnostics) {
  const PlanCase& c = GetParam();
  Edited edited = apply(c.edits);
  LoadResult r = load(edited.text);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(formatted(r), ElementsAreArray(expand_all(c.expected, edited))) << edited.text;
  EXPECT_GE(r.errors(), 1u);
}

TEST_P(NightDoubtfulPlan, LoadsWithExactlyTheseWarnings) {
  const PlanCase& c = GetParam();
  Edited edited = apply(c.edits);
  LoadResult r = load(edited.text);
  EXPECT_TRUE(r.ok());
  EXPECT_THAT(formatted(r), ElementsAreArray(expand_all(c.expected, edited)));
}

std::string case_name(const ::testing::TestParamInfo<PlanCase>& info) { return info.param.name; }

void PrintTo(const PlanCase& c, std::ostream* os) { *os << c.name; }

INSTANTIATE_TEST_SUITE_P(PlanNight, NightBrokenPlan, ::testing::ValuesIn(broken_plans()),
                         case_name);
INSTANTIATE_TEST_SUITE_P(PlanNight, NightDoubtfulPlan, ::testing::ValuesIn(doubtful_plans()),
                         case_name);

TEST(PlanNightBrokenPlans, AreMany) { EXPECT_GE(broken_plans().size(), 50u); }

TEST(PlanNightBrokenPlans, EveryMistakeInOneLoad) {
  // Mistakes in every new section at once, reported in file order.
  Edited edited = apply({
      Replace("  blind_after: 2m", "  blind_after: 0s"),
      Replace("    timeout: 30m", "    timeout: 1m"),
      Replace("    - { id: notify_users,",
              "    - { id: notify_users, action: Notify users, owner: "
              "suport, duration: 5m }"),
      Replace("\n  duration: 30m", "  duration: 0m"),
  });
  LoadResult r = load(edited.text);
  EXPECT_THAT(formatted(r),
              ElementsAreArray(expand_all(
                  {
                      "plan.yaml:{@duration: 0m}:13: error: deployment.duration: 0m is too "
                      "short; the minimum is 1s",
                      "plan.yaml:{@suport}:56: error: backout.steps.notify_users.owner: role "
                      "'suport' is not in contacts; did you mean 'support'?",
                      "plan.yaml:{@timeout: 1m}:14: error: backout.verify.timeout: 1m is not "
                      "longer than hold (5m); the reversal would be declared incomplete before "
                      "it could be verified; make timeout longer than hold",
                      "plan.yaml:{@blind_after}:16: error: notify.blind_after: 0s is too short; "
                      "the minimum is 1s",
                  },
                  edited)));
}

// --- the loaded night -------------------------------------------------------------------------

TEST(PlanNight, IsTypedAsWritten) {
  LoadResult r = load(night_text());
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(formatted(r));
  const rules::Plan& p = *r.plan;
  ASSERT_TRUE(p.deployment.has_value());
  EXPECT_EQ(p.deployment->duration, 30min);
  EXPECT_EQ(p.deployment->expect_outage,
            (std::vector<std::string>{"system_unavailable", "page_load_time", "api_response_time",
                                      "error_rate", "login_failure_rate", "transaction_errors"}));
  ASSERT_TRUE(p.backout.has_value());
  const rules::Backout& b = *p.backout;
  EXPECT_EQ(b.expect_outage.size(), 9u);
  EXPECT_EQ(b.expect_outage.back(), "performance_degradation");
  ASSERT_EQ(b.steps.size(), 11u);
  EXPECT_EQ(b.planned(), 102min);
  const rules::BackoutStep& first = b.steps.front();
  EXPECT_EQ(first.id, "announce");
  EXPECT_EQ(first.action, "Announce backout to team");
  EXPECT_EQ(first.owner, "project_manager");
  EXPECT_EQ(first.duration, 2min);
  EXPECT_EQ(first.verify, "Team notified");
  EXPECT_FALSE(first.check.has_value());
  EXPECT_EQ(b.steps[2].owner, "support");
  EXPECT_EQ(b.steps[8].owner, "qa");
  EXPECT_EQ(b.steps.back().id, "notify_stakeholders");
  const rules::BackoutStep& restore = b.steps[4];
  EXPECT_EQ(restore.id, "restore_db");
  EXPECT_EQ(restore.owner, "dba");
  EXPECT_EQ(restore.duration, 30min);
  ASSERT_TRUE(restore.check.has_value());
  EXPECT_EQ(restore.check->name, "restore_db");  // a step's check is named by its step
  EXPECT_EQ(restore.check->measure.text(), "value(db_version)");
  EXPECT_EQ(restore.check->measure.kind, rules::MeasureKind::kValue);
  EXPECT_EQ(restore.check->when.text, "> 0");
  EXPECT_EQ(restore.check->over, 1min);  // the default
  EXPECT_EQ(b.hold, 5min);
  EXPECT_EQ(b.timeout, 30min);
  ASSERT_EQ(b.checks.size(), 3u);
  EXPECT_EQ(b.checks[0].name, "Customer count matches the pre-deployment count");
  EXPECT_EQ(b.checks[0].measure.text(), "value(customers)");
  EXPECT_TRUE(b.checks[0].when.relative);  // ">= baseline", as for triggers
  EXPECT_EQ(b.checks[0].when.text, ">= baseline");
  EXPECT_EQ(b.checks[2].measure.kind, rules::MeasureKind::kAvailability);
  EXPECT_EQ(b.checks[2].when.unit, rules::ThresholdUnit::kPercent);
  EXPECT_DOUBLE_EQ(b.checks[2].when.value, 0.99);
  EXPECT_EQ(b.checks[2].over, 1min);
  EXPECT_EQ(p.notify.blind_after, 2min);
}

TEST(PlanNight, DefaultsOfHoldTimeoutOverAndBlindAfter) {
  Edited edited =
      apply({Delete("    hold: 5m"), Delete("    timeout: 30m"), Delete("  blind_after: 2m"),
             Replace("when: \"> 0\" } }",
                     "        check: { measure: "
                     "availability(app_version), when: \">= "
                     "99%\", over: 3m } }")});
  LoadResult r = load(edited.text);
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(formatted(r));
  const rules::Backout& b = *r.plan->backout;
  EXPECT_EQ(b.hold, 5min);
  EXPECT_EQ(b.timeout, 30min);
  EXPECT_EQ(r.plan->notify.blind_after, 2min);
  EXPECT_EQ(b.steps[4].check->over, 3min);  // written
  EXPECT_EQ(b.checks[2].over, 1min);        // not written
}

TEST(PlanNight, WrittenValuesOverrideTheDefaults) {
  Edited edited = apply({Replace("    hold: 5m", "    hold: 0s"),
                         Replace("    timeout: 30m", "    timeout: 45m"),
                         Replace("  blind_after: 2m", "  blind_after: 90s")});
  LoadResult r = load(edited.text);
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(formatted(r));
  EXPECT_EQ(r.plan->backout->hold, 0s);  // verified as soon as every check and trigger is fine
  EXPECT_EQ(r.plan->backout->timeout, 45min);
  EXPECT_EQ(r.plan->notify.blind_after, 90s);
}

TEST(PlanNight, VerifyAndExpectOutageAreOptional) {
  Edited edited = apply({Delete(kVerify),
                         Delete("  expect_outage: [system_unavailable, page_load_time, "
                                "api_response_time, error_rate, login_failure_rate,\n"),
                         Replace("  expect_outage: [system_unavailable, page_load_time, "
                                 "api_response_time, error_rate, login_failure_rate, "
                                 "transaction_errors]",
                                 "  expect_outage: error_rate")});
  LoadResult r = load(edited.text);
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(formatted(r));
  EXPECT_EQ(r.plan->deployment->expect_outage, std::vector<std::string>{"error_rate"});
  const rules::Backout& b = *r.plan->backout;
  EXPECT_TRUE(b.expect_outage.empty());
  EXPECT_EQ(b.hold, 5min);
  EXPECT_EQ(b.timeout, 30min);
  EXPECT_TRUE(b.checks.empty());
  EXPECT_EQ(b.steps.size(), 11u);
}

TEST(PlanNight, TheReferencePlanHasNoNight) {
  LoadResult r = load(backout::testing::read_file(backout::testing::reference_plan_path()));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.plan->deployment.has_value());
  EXPECT_FALSE(r.plan->backout.has_value());
  EXPECT_EQ(r.plan->notify.blind_after, 2min);
}

// --- backout-agent check ------------------------------------------------------------------------

int run_cli(const std::vector<std::string>& args, std::string* out, std::string* err) {
  std::ostringstream o;
  std::ostringstream e;
  std::vector<std::string> argv = {"backout-agent"};
  argv.insert(argv.end(), args.begin(), args.end());
  int code = agent::main_entry(argv, o, e);
  *out = o.str();
  *err = e.str();
  return code;
}

std::string write_temp(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + "plan_night_test_" + name + ".yaml";
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  return path;
}

TEST(PlanNightCheck, ShowsTheDeploymentAndTheProcedureAndWarnsAboutTheTotal) {
  const std::string path = write_temp("night", night_text());
  std::string out, err;
  ASSERT_EQ(run_cli({"check", "--plan", path, "--now", kBeforeTheWindow}, &out, &err), 0) << err;
  Edited plain{night_text(), 1};
  EXPECT_EQ(err, expand_all({path + ":{@  steps:}:3: warning: backout.steps: the steps add up "
                                    "to 1h42m but window.backout_duration is 1h40m (the point "
                                    "of no return is computed from backout_duration)"},
                            plain)
                         .front() +
                     "\n");
  const std::string expected =
      "\n"
      "Deployment          30m from the start: go-live planned at 02:30\n"
      "  expected outages: system_unavailable, page_load_time, api_response_time, error_rate, "
      "login_failure_rate, transaction_errors\n"
      "\n"
      "Backout procedure (11 steps)\n"
      "   1. announce                2m  Announce backout to team\n"
      "                                  owner: Project Manager John Smith (@john.smith); "
      "verify: Team notified\n"
      "   2. stop_traffic            5m  Stop incoming traffic\n"
      "                                  owner: IT Operations Dave Jones (@dave.jones); verify: "
      "No new connections\n"
      "   3. notify_users            5m  Notify users\n"
      "                                  owner: Support Support Desk (@support-desk); verify: "
      "Message displayed\n"
      "   4. stop_app                5m  Stop application servers\n"
      "                                  owner: IT Operations Dave Jones (@dave.jones); verify: "
      "Services stopped\n"
      "   5. restore_db             30m  Restore database\n"
      "                                  owner: DBA Mike Brown (@mike.brown); verify: DB "
      "restored\n"
      "                                  check: value(db_version) > 0\n"
      "   6. restore_app            15m  Restore application\n"
      "                                  owner: IT Operations Dave Jones (@dave.jones); verify: "
      "Files restored\n"
      "   7. restore_config         10m  Restore configuration\n"
      "                                  owner: IT Operations Dave Jones (@dave.jones); verify: "
      "Config restored\n"
      "   8. start_app               5m  Start application servers\n"
      "                                  owner: IT Operations Dave Jones (@dave.jones); verify: "
      "Services started\n"
      "   9. verify_health          15m  Verify system health\n"
      "                                  owner: QA QA On Call (@qa-oncall); verify: All checks "
      "pass\n"
      "  10. resume_traffic          5m  Resume traffic\n"
      "                                  owner: IT Operations Dave Jones (@dave.jones); verify: "
      "System live\n"
      "  11. notify_stakeholders     5m  Notify stakeholders\n"
      "                                  owner: Project Manager John Smith (@john.smith); "
      "verify: Comms sent\n"
      "  total 1h42m: 2m more than window.backout_duration (1h40m), from which the point of no "
      "return is computed\n"
      "  expected outages while the steps run: system_unavailable, page_load_time, "
      "api_response_time, error_rate, login_failure_rate, transaction_errors, db_connectivity, "
      "data_integrity, performance_degradation\n"
      "  reversal verified when every check holds and no trigger is breached for 5m; incomplete "
      "if not after 30m\n"
      "    Customer count matches the pre-deployment count: value(customers) >= baseline\n"
      "    Database version is v1.9: value(db_version) > 0\n"
      "    Application is back: availability(home_page) >= 99% over 1m\n"
      "\n"
      "Sources (7)\n";
  EXPECT_THAT(out, HasSubstr(expected)) << out;
  EXPECT_THAT(out, HasSubstr("  a trigger that cannot be judged for 2m while deploying or in the "
                             "window is reported to its decider\n"));
  EXPECT_THAT(out, HasSubstr("\n1 warning (see above); the plan is usable.\n"));
  std::remove(path.c_str());
}

TEST(PlanNightCheck, StepsThatAddUpSayTheyDo) {
  Edited edited = apply({Replace("  backout_duration: 100m", "  backout_duration: 102m")});
  const std::string path = write_temp("night_even", edited.text);
  std::string out, err;
  ASSERT_EQ(run_cli({"check", "--plan", path, "--now", kBeforeTheWindow}, &out, &err), 0) << err;
  EXPECT_EQ(err, "");
  EXPECT_THAT(out, HasSubstr("\n  total 1h42m, as window.backout_duration\n"));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace backout::plan
