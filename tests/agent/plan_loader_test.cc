// The plan loader against the reference plan and against broken edits of it: every problem an
// operator can make must come back as `FILE:LINE:COL: error: message`, with the key named and a
// way to fix it, and all of them at once. Also `backout-agent check` run in-process.
#include "plan/plan_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/kinds/kinds.h"
#include "plan/plan_summary.h"
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
using backout::testing::expand;
using backout::testing::expand_all;
using backout::testing::Replace;
using backout::testing::Whole;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

const std::string& reference_text() {
  static const std::string text =
      backout::testing::read_file(backout::testing::reference_plan_path());
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

// --- edits of the reference plan ----------------------------------------------------------------
// An edit names the lines it touches by an anchor (support/plan_edit.h); `{L}`, `{L+n}` and
// `{@text}` in an expected diagnostic name lines of the edited plan.

Edited apply(const std::vector<Edit>& edits) { return apply_edits(reference_text(), edits); }

struct PlanCase {
  std::string name;
  std::vector<Edit> edits;
  std::vector<std::string> expected;  // every diagnostic, in order; see expand()
};

// Each case is one mistake an operator can make, and exactly what the loader answers.
const std::vector<PlanCase>& broken_plans() {
  static const std::vector<PlanCase> cases = {
      {"YamlUnquotedGreaterThan",
       {Replace("when: \"> 5%\"", "    when: > 5%")},
       {"plan.yaml:{L}:13: error: YAML syntax: unexpected character in block scalar; quote "
        "conditions that start with > or <, e.g. when: \"> 5%\""}},
      {"YamlUnquotedGreaterEqual",
       {Replace("when: \"> 10s\"", "    when: >= 10s")},
       {"plan.yaml:{L}:12: error: YAML syntax: unexpected character in block scalar; quote "
        "conditions that start with > or <, e.g. when: \"> 5%\""}},
      {"YamlTabIndentation",
       {Replace("  backout_duration: 100m", "\tbackout_duration: 100m")},
       {"plan.yaml:{L}:2: error: YAML syntax: end of map not found; YAML does not allow tabs for "
        "indentation, use spaces"}},
      {"YamlBadIndentation",
       {Replace("    every: 1s\n    timeout: 2s\n  home_page:",
                "    every: 1s\n   timeout: 2s\n  home_page:")},
       {"plan.yaml:{L+1}:4: error: YAML syntax: end of map not found; check the indentation and "
        "quote values that contain ': ' or ' #'"}},
      {"YamlUnclosedFlowMap",
       {Replace("  steering_group:",
                "  steering_group:  { name: Steering Group, chat: \"@steering-group\"")},
       {"plan.yaml:{L+3}:1: error: YAML syntax: end of map flow not found; a '{' or '[' opened on "
        "this line or above is not closed"}},
      {"YamlColonInPlainValue",
       {Replace("  owner: John Smith (PM)", "  owner: PM: John Smith")},
       {"plan.yaml:{L}:12: error: YAML syntax: illegal map value; quote a value that contains ': ' "
        "(e.g. owner: \"PM: John Smith\"), or check the indentation"}},
      {"YamlUndefinedAlias",
       {Replace("  dba: ", "  dba: *mike")},
       {"plan.yaml:{L}:8: error: YAML syntax: the referenced anchor is not defined; a value "
        "starting with * names an anchor (&name); quote it if it is text, e.g. \"*mike\""}},
      {"NestingTooDeep",
       {After("state_dir:", "extra: " + std::string(70, '[') + std::string(70, ']'))},
       {"plan.yaml:{L}:1: error: the plan nests more than 64 levels deep; a backout plan needs a "
        "handful"}},
      {"NestingHiddenBehindAQuote",
       {After("state_dir:", "extra: [x\", " + std::string(3000, '['))},
       {"plan.yaml:{L}:1: error: the plan nests more than 64 levels deep; a backout plan needs a "
        "handful"}},
      {"EmptyFile",
       {Whole("")},
       {"plan.yaml:1:1: error: the plan is empty; start from "
        "deploy/examples/customer-portal-2.0.yaml"}},
      {"OnlyComments",
       {Whole("# a plan will go here\n")},
       {"plan.yaml:1:1: error: the plan is empty; start from "
        "deploy/examples/customer-portal-2.0.yaml"}},
      {"RootIsAList",
       {Whole("- version: 1\n- plan: {}\n")},
       {"plan.yaml:1:1: error: the plan must be a YAML map with the keys version, plan, window, "
        "contacts, authority, sources, triggers, preflight_at, preflight, deployment, backout, "
        "after_backout, notify, server, state_dir"}},
      {"RootIsAScalar",
       {Whole("customer portal\n")},
       {"plan.yaml:1:1: error: the plan must be a YAML map with the keys version, plan, window, "
        "contacts, authority, sources, triggers, preflight_at, preflight, deployment, backout, "
        "after_backout, notify, server, state_dir"}},
      {"VersionTwo",
       {Replace("version: 1", "version: 2")},
       {"plan.yaml:{L}:10: error: version: this agent reads plan version 1, not 2"}},
      {"VersionNotANumber",
       {Replace("version: 1", "version: one")},
       {"plan.yaml:{L}:10: error: version: 'one' is not a whole number; write version: 1"}},
      {"VersionMissing",
       {Delete("version: 1")},
       {"plan.yaml:1:1: error: missing 'version: 1' at the top of the plan (the schema version)"}},
      {"TopUnknownKeyDidYouMean",
       {Replace("state_dir:", "stat_dir: /var/lib/backout-agent")},
       {"plan.yaml:{L}:1: error: plan file: unknown key 'stat_dir'; did you mean 'state_dir'?"}},
      {"TopUnknownKeyNoSuggestion",
       {After("state_dir:", "rollback: yes")},
       {"plan.yaml:{L}:1: error: plan file: unknown key 'rollback'; expected one of version, plan, "
        "window, contacts, authority, sources, triggers, preflight_at, preflight, deployment, "
        "backout, after_backout, notify, server, state_dir"}},
      {"TopDuplicateKey",
       {After("state_dir:", "state_dir: /tmp/backout")},
       {"plan.yaml:{L}:1: error: plan file: duplicate key 'state_dir' (first at line 149); remove "
        "one of them"}},
      {"SectionIsAList",
       {Replace("server:\n  listen: 127.0.0.1:9750\n  token_env: BACKOUT_AGENT_TOKEN   # required "
                "by every POST of the API",
                "server: [127.0.0.1:9750]")},
       {"plan.yaml:{L}:9: error: server must be a map, not a list"}},
      {"PlanUnknownKey",
       {Replace("  revision: \"1.2\"", "  revison: \"1.2\"")},
       {"plan.yaml:{L}:3: error: plan: unknown key 'revison'; did you mean 'revision'?"}},
      {"PlanMissingRelease",
       {Delete("  release: \"2.0\"")},
       {"plan.yaml:{@plan:}:1: error: plan: missing 'release' (the release being deployed, e.g. "
        "\"2.0\")"}},
      {"PlanStatusTypo",
       {Replace("  status: approved", "  status: aproved")},
       {"plan.yaml:{L}:11: error: plan.status: 'aproved' is not a status; use draft or approved"}},
      {"WindowUnknownKeyStem",
       {Replace("  baseline: 30m", "  baseline_for: 30m")},
       {"plan.yaml:{L}:3: error: window: unknown key 'baseline_for'; did you mean 'baseline'?"}},
      {"WindowUnknownKeyTypo",
       {Replace("  warn_before_point_of_no_return: 15m", "  warn_before_point_of_no_retrun: 15m")},
       {"plan.yaml:{L}:3: error: window: unknown key 'warn_before_point_of_no_retrun'; did you "
        "mean 'warn_before_point_of_no_return'?"}},
      {"WindowDuplicateKey",
       {After("  baseline: 30m", "  baseline: 20m")},
       {"plan.yaml:{L}:3: error: window: duplicate key 'baseline' (first at line 19); remove one "
        "of them"}},
      {"WindowMissingStart",
       {Delete("  start: 2026")},
       {"plan.yaml:{@window:\n}:1: error: window: missing 'start' (e.g. start: "
        "2026-06-07T02:00:00+01:00)"}},
      {"DurationWithoutUnit",
       {Replace("  backout_duration: 100m", "  backout_duration: 100")},
       {"plan.yaml:{L}:21: error: window.backout_duration: '100' is not a duration: missing unit "
        "after 100; add one of d, h, m, s, ms (e.g. 100s or 100m)"}},
      {"DurationWithFraction",
       {Replace("  backout_duration: 100m", "  backout_duration: 1.5h")},
       {"plan.yaml:{L}:21: error: window.backout_duration: '1.5h' is not a duration: fractions are "
        "not accepted; write 1h30m rather than 1.5h"}},
      {"DurationInWords",
       {Replace("  warn_before_point_of_no_return: 15m",
                "  warn_before_point_of_no_return: 15 minutes")},
       {"plan.yaml:{L}:35: error: window.warn_before_point_of_no_return: '15 minutes' is not a "
        "duration: write the unit right after the number, without a space: 15m"}},
      {"TimeWithoutOffset",
       {Replace("  start: 2026", "  start: 2026-06-07T02:00:00")},
       {"plan.yaml:{L}:10: error: window.start: '2026-06-07T02:00:00' has no UTC offset (add Z or "
        "e.g. +01:00); write it as RFC 3339 with an offset, e.g. 2026-06-07T02:00:00+01:00"}},
      {"TimeNotACalendarDate",
       {Replace("  start: 2026", "  start: 2026-06-31T02:00:00+01:00")},
       {"plan.yaml:{L}:10: error: window.start: '2026-06-31T02:00:00+01:00' is not a calendar "
        "date; write it as RFC 3339 with an offset, e.g. 2026-06-07T02:00:00+01:00"}},
      {"TimeYearOutOfRange",
       {Replace("  end: 2026", "  end: 9999-06-07T06:00:00+01:00")},
       {"plan.yaml:{L}:8: error: window.end: '9999-06-07T06:00:00+01:00' has the year 9999, "
        "outside the years this agent handles (1970 to 2200)"}},
      {"EndBeforeStart",
       {Replace("  end: 2026", "  end: 2026-06-07T01:00:00+01:00")},
       {"plan.yaml:{L}:8: error: window.end: 2026-06-07T01:00:00+01:00 is not after window.start "
        "2026-06-07T02:00:00+01:00"}},
      {"BackoutNotShorterThanWindow",
       {Replace("  backout_duration: 100m", "  backout_duration: 4h")},
       {"plan.yaml:{L}:21: error: window.backout_duration: 4h is not shorter than the window (4h), "
        "so a backout could never finish inside it; lengthen the window or check the rehearsed "
        "backout time"}},
      {"ContactUnknownKey",
       {Replace("  dba: ",
                "  dba:             { name: Mike Brown,     chat: \"@mike.brown\",     phon: "
                "\"xxx-xxxx\" }")},
       {"plan.yaml:{L}:69: error: contacts.dba: unknown key 'phon'; did you mean 'phone'?"}},
      {"ContactMissingChat",
       {Replace("  dba: ", "  dba:             { name: Mike Brown }")},
       {"plan.yaml:{L}:3: error: contacts.dba: missing 'chat' (the chat handle pages mention, e.g. "
        "\"@jane.doe\")"}},
      {"ContactChatWithSpace",
       {Replace("  dba: ", "  dba:             { name: Mike Brown,     chat: \"@mike brown\" }")},
       {"plan.yaml:{L}:50: error: contacts.dba.chat: '@mike brown' contains a space; a chat handle "
        "is one word such as \"@jane.doe\""}},
      {"ContactRoleNotAnIdentifier",
       {Replace("  dba: ", "  db-admin:        { name: Mike Brown,     chat: \"@mike.brown\" }")},
       {"plan.yaml:{L}:3: error: contacts.db-admin: a role must be a name like deployment_lead "
        "([A-Za-z_][A-Za-z0-9_]*)"}},
      {"AuthorityUnknownSeverity",
       {Replace("  discretionary: {",
                "  discretonary: { decides: sponsor,         notify: [steering_group] }")},
       {"plan.yaml:{L}:3: error: authority: unknown key 'discretonary'; did you mean "
        "'discretionary'?"}},
      {"AuthorityUnknownField",
       {Replace("  discretionary: {",
                "  discretionary: { decide: sponsor,         notify: [steering_group] }")},
       {"plan.yaml:{L}:20: error: authority.discretionary: unknown key 'decide'; did you mean "
        "'decides'?"}},
      {"AuthorityMissingCritical",
       {Delete("  critical:      {")},
       {"plan.yaml:{@authority:}:1: error: authority: missing 'critical' (who decides a critical "
        "breach, e.g. critical: { decides: deployment_lead })"}},
      {"AuthorityUnknownRoleDecides",
       {Replace("  critical:      {",
                "  critical:      { decides: deployment_led, notify: [project_manager, sponsor], "
                "ack_within: 5m,  escalate_to: project_manager }")},
       {"plan.yaml:{L}:29: error: authority.critical.decides: role 'deployment_led' is not in "
        "contacts; did you mean 'deployment_lead'?"}},
      {"AuthorityUnknownRoleNotify",
       {Replace("  major:         {",
                "  major:         { decides: project_manager, notify: [sponsr],                   "
                "ack_within: 10m, escalate_to: sponsor }")},
       {"plan.yaml:{L}:55: error: authority.major.notify: role 'sponsr' is not in contacts; did "
        "you mean 'sponsor'?"}},
      {"AuthorityUnknownRoleEscalateTo",
       {Replace("  major:         {",
                "  major:         { decides: project_manager, notify: [sponsor],                  "
                "ack_within: 10m, escalate_to: cto }")},
       {"plan.yaml:{L}:112: error: authority.major.escalate_to: role 'cto' is not in contacts; "
        "contacts has deployment_lead, project_manager, sponsor, it_operations, dba, "
        "steering_group"}},
      {"AuthorityEscalateWithoutAck",
       {Replace("  major:         {",
                "  major:         { decides: project_manager, notify: [sponsor],                  "
                "escalate_to: sponsor }")},
       {"plan.yaml:{L}:82: error: authority.major: escalate_to needs ack_within (how long the "
        "decider has to acknowledge before sponsor is paged)"}},
      {"AuthorityNotifyNotAList",
       {Replace("  discretionary: {",
                "  discretionary: { decides: sponsor,         notify: { steering_group: yes } }")},
       {"plan.yaml:{L}:54: error: authority.discretionary.notify: expected a role or a list of "
        "roles, e.g. [project_manager, sponsor]"}},
      {"SourceUnknownKindTypo",
       {Replace("    kind: prometheus", "    kind: prometeus")},
       {"plan.yaml:{L}:11: error: sources.portal.kind: unknown kind 'prometeus'; did you mean "
        "'prometheus'?"}},
      {"SourceUnknownKindAmbiguous",
       {Replace("    kind: prometheus", "    kind: prom")},
       {"plan.yaml:{L}:11: error: sources.portal.kind: unknown kind 'prom'; kinds are prometheus, "
        "promql, http, tcp, postgres, log, push"}},
      {"SourceUnknownKind",
       {Replace("    kind: prometheus", "    kind: graphite")},
       {"plan.yaml:{L}:11: error: sources.portal.kind: unknown kind 'graphite'; kinds are "
        "prometheus, promql, http, tcp, postgres, log, push"}},
      {"SourceMissingKind",
       {Delete("    kind: prometheus")},
       {"plan.yaml:{@portal:}:3: error: sources.portal: missing 'kind' (one of prometheus, promql, "
        "http, tcp, postgres, log, push)"}},
      {"SourceKindKeyTypo",
       {Replace("    kind: prometheus", "    knd: prometheus")},
       {"plan.yaml:{L}:5: error: sources.portal: unknown key 'knd'; did you mean 'kind'?"}},
      {"SourceMissingUrl",
       {Delete("    url: http://127.0.0.1:8080/metrics")},
       {"plan.yaml:{@portal:}:3: error: sources.portal: missing 'url' (the /metrics URL to "
        "scrape)"}},
      {"PrometheusUnknownKey",
       {Replace("    timeout: 2s\n  home_page:", "    timout: 2s\n  home_page:")},
       {"plan.yaml:{L}:5: error: sources.portal: unknown key 'timout' for a prometheus source; did "
        "you mean 'timeout'?"}},
      {"HttpUnknownKey",
       {Replace("    expect_status: 200", "    expected_status: 200")},
       {"plan.yaml:{L}:5: error: sources.home_page: unknown key 'expected_status' for a http "
        "source; did you mean 'expect_status'?"}},
      {"HttpStatusOutOfRange",
       {Replace("    expect_status: 200", "    expect_status: [200, 999]")},
       {"plan.yaml:{L}:26: error: sources.home_page.expect_status: 999 is out of range; it must be "
        "between 100 and 599"}},
      {"HttpStatusNotANumber",
       {Replace("    expect_status: 200", "    expect_status: ok")},
       {"plan.yaml:{L}:20: error: sources.home_page.expect_status: 'ok' is not an HTTP status code "
        "such as 200"}},
      {"HttpSecretHeader",
       {After("    expect_status: 200", "    headers: { Authorization: \"Bearer abc\" }")},
       {"plan.yaml:{L}:14: error: sources.home_page.headers: header 'Authorization' carries a "
        "secret; give the token with bearer_token_env or bearer_token_file instead"}},
      {"PostgresUnknownKey",
       {Replace("    query: SELECT 1", "    querry: SELECT 1")},
       {"plan.yaml:{L}:5: error: sources.portal_db: unknown key 'querry' for a postgres source; "
        "did you mean 'query'?"}},
      {"PostgresInlineDsn",
       {Replace("    dsn_env: PORTAL_DB_DSN\n    query: SELECT 1",
                "    dsn: postgresql://portal:secret@db/portal\n    query: SELECT 1")},
       {"plan.yaml:{L}:5: error: sources.portal_db.dsn: secrets are never written in the plan; "
        "give the name of an environment variable as dsn_env or a file as dsn_file"}},
      {"PostgresMissingDsn",
       {Replace("    dsn_env: PORTAL_DB_DSN\n    query: SELECT 1", "    query: SELECT 1")},
       {"plan.yaml:{@portal_db:}:3: error: sources.portal_db: missing dsn_env or dsn_file (libpq "
        "connection string or URI, e.g. postgresql://user@host/db)"}},
      {"PostgresDsnEnvTypo",
       {Replace("    dsn_env: PORTAL_DB_DSN\n    query: SELECT 1",
                "    dsn_evn: PORTAL_DB_DSN\n    query: SELECT 1")},
       {"plan.yaml:{L}:5: error: sources.portal_db: unknown key 'dsn_evn' for a postgres source; "
        "did you mean 'dsn_env'?"}},
      {"PostgresDsnEnvAndFile",
       {After("    query: SELECT 1", "    dsn_file: /etc/backout/dsn")},
       {"plan.yaml:{L}:5: error: sources.portal_db: give either dsn_env or dsn_file, not both"}},
      {"TcpUnknownKey",
       {Before("  portal:   ", "  db_port:\n    kind: tcp\n    adress: 127.0.0.1:5432")},
       {"plan.yaml:{L+2}:5: error: sources.db_port: unknown key 'adress' for a tcp source; did you "
        "mean 'address'?"}},
      {"TcpAddressWithoutPort",
       {Before("  portal:   ", "  db_port:\n    kind: tcp\n    address: 127.0.0.1")},
       {"plan.yaml:{L+2}:14: error: sources.db_port.address: '127.0.0.1' is not host:port; write "
        "e.g. 127.0.0.1:5432"}},
      {"PromqlUnknownKey",
       {Before("  portal:   ",
               "  prom:\n    kind: promql\n    url: http://127.0.0.1:9090\n    query: { errors: "
               "\"sum(rate(http_requests_total[5m]))\" }")},
       {"plan.yaml:{L+3}:5: error: sources.prom: unknown key 'query' for a promql source; did you "
        "mean 'queries'?"}},
      {"LogUnknownKey",
       {Before("  portal:   ",
               "  app_log:\n    kind: log\n    path: /var/log/portal/app.log\n    match: { errors: "
               "\"ERROR\" }\n    from_begin: true")},
       {"plan.yaml:{@from_begin: true}:5: error: sources.app_log: unknown key 'from_begin' for a "
        "log source; expected one of path, match, from_start, every"}},
      {"LogBadRegex",
       {Before("  portal:   ",
               "  app_log:\n    kind: log\n    path: /var/log/portal/app.log\n    match: { errors: "
               "\"ERROR (\" }")},
       {"plan.yaml:{L+3}:12: error: sources.app_log.match: regular expression of 'errors' does not "
        "compile: Unmatched marking parenthesis ( or \\(.  The error occurred while parsing the "
        "regular expression: 'ERROR (>>>HERE>>>'."}},
      {"PushUnknownKey",
       {Before("  portal:   ", "  events:\n    kind: push\n    serie: [logins]")},
       {"plan.yaml:{L+2}:5: error: sources.events: unknown key 'serie' for a push source; did you "
        "mean 'series'?"}},
      {"UrlWithCredentials",
       {Replace("    url: http://127.0.0.1:8080/metrics",
                "    url: http://admin:pw@127.0.0.1:8080/metrics")},
       {"plan.yaml:{L}:10: error: sources.portal.url: the URL carries credentials "
        "(user:password@), which are secrets and would be shown in logs; remove them and give a "
        "token with bearer_token_env or bearer_token_file"}},
      {"UrlNotHttp",
       {Replace("    url: http://127.0.0.1:8080/metrics", "    url: 127.0.0.1:8080/metrics")},
       {"plan.yaml:{L}:10: error: sources.portal.url: '127.0.0.1:8080/metrics' is not an http:// "
        "or https:// URL"}},
      {"SourceEveryTooShort",
       {Replace("    every: 1s\n    timeout: 2s\n  home_page:",
                "    every: 10ms\n    timeout: 2s\n  home_page:")},
       {"plan.yaml:{L}:12: error: sources.portal.every: 10ms is too short; the minimum is 100ms"}},
      {"TriggersNotAList",
       {Replace("triggers:", "triggers: login_failure_rate\nold_triggers:")},
       {"plan.yaml:{L}:11: error: triggers must be a list, each item starting with '- id: ...'",
        "plan.yaml:{L+1}:1: error: plan file: unknown key 'old_triggers'; expected one of version, "
        "plan, window, contacts, authority, sources, triggers, preflight_at, preflight, "
        "deployment, backout, after_backout, notify, server, state_dir"}},
      {"TriggerNotAMap",
       {Before("  - id: data_integrity", "  - data_integrity")},
       {"plan.yaml:{L}:5: error: triggers[8] must be a map with id, name, measure, over, when, "
        "severity, ..."}},
      {"TriggerUnknownKey",
       {Replace("    min_count: 50 ", "    min_cout: 50")},
       {"plan.yaml:{L}:5: error: triggers.login_failure_rate: unknown key 'min_cout'; did you mean "
        "'min_count'?"}},
      {"TriggerMeasureKeyTypo",
       {Replace("    measure: failures(portal_db)", "    mesure: failures(portal_db)")},
       {"plan.yaml:{L}:5: error: triggers.db_connectivity: unknown key 'mesure'; did you mean "
        "'measure'?"}},
      {"TriggerDuplicateKey",
       {After("    over: 1m\n    when: \"> 0\"", "    over: 2m")},
       {"plan.yaml:{L}:5: error: triggers.db_connectivity: duplicate key 'over' (first at line "
        "113); remove one of them"}},
      {"TriggerMissingWhenAndSeverity",
       {Delete("    when: \"< 50%\""),
        Replace("    severity: critical\n\n  - id: data_integrity", "\n  - id: data_integrity")},
       {"plan.yaml:{@- id: system_unavailable}:5: error: triggers.system_unavailable: missing "
        "'when' (the breach condition, e.g. when: \"> 5%\")",
        "plan.yaml:{@- id: system_unavailable}:5: error: triggers.system_unavailable: missing "
        "'severity' (critical, major, minor or discretionary), e.g. severity: major"}},
      {"TriggerMissingId",
       {Delete("  - id: page_load_time"),
        Replace("    name: Page load time", "  - name: Page load time")},
       {"plan.yaml:{L}:5: error: triggers[3]: missing 'id' (a short name such as "
        "login_failure_rate)"}},
      {"TriggerIdNotAnIdentifier",
       {Replace("  - id: page_load_time", "  - id: page-load-time")},
       {"plan.yaml:{L}:9: error: triggers[3].id: 'page-load-time' is not an identifier "
        "([A-Za-z_][A-Za-z0-9_]*)"}},
      {"DuplicateTriggerId",
       {Replace("  - id: transaction_errors", "  - id: login_failure_rate")},
       {"plan.yaml:{L}:9: error: triggers[2].id: duplicate trigger id 'login_failure_rate' (first "
        "at line 68)"}},
      {"OverTooShort",
       {Replace("    over: 1m\n    when: \"> 0\"", "    over: 0\n    when: \"> 0\"")},
       {"plan.yaml:{L}:11: error: triggers.db_connectivity.over: 0 is too short; the minimum is "
        "1s"}},
      {"UnknownSourceInMeasure",
       {Replace("    measure: failures(portal_db)", "    measure: failures(portal_dbs)")},
       {"plan.yaml:{L}:23: error: triggers.db_connectivity.measure: unknown source 'portal_dbs'; "
        "did you mean 'portal_db'?"}},
      {"ProbeHasNoSuchSeries",
       {Replace("    measure: p95(api.duration)\n    over: 5m\n    when: \"> 5s\"",
                "    measure: p95(api.latency)\n    over: 5m\n    when: \"> 5s\"")},
       {"plan.yaml:{L}:22: error: triggers.api_response_time.measure: source 'api' (http) has no "
        "series 'latency'; it has up, duration, status"}},
      {"FailuresOnASourceWithoutUp",
       {Before("  portal:   ", "  events:\n    kind: push\n    series: [logins]"),
        Replace("    measure: failures(portal_db)", "    measure: failures(events)")},
       {"plan.yaml:{@measure: failures(events)}:23: error: triggers.db_connectivity.measure: "
        "failures() needs a source that is probed or scraped; 'events' is a push source, which has "
        "no up/down outcome"}},
      {"PushSeriesNotDeclared",
       {Before("  portal:   ", "  events:\n    kind: push\n    series: [logins]"),
        Replace("    measure: value(customers)", "    measure: value(events.login)")},
       {"plan.yaml:{@measure: value(events.login)}:27: error: triggers.data_integrity.measure: "
        "source 'events' (push) has no series 'login'; did you mean 'logins'?"}},
      {"MeasureMissingComma",
       {Replace("    measure: ratio(portal.portal_transactions_failed_total, "
                "portal.portal_transactions_total)",
                "    measure: ratio(portal.portal_transactions_failed_total "
                "portal.portal_transactions_total)")},
       {"plan.yaml:{L}:60: error: triggers.transaction_errors.measure: expected ',' between the "
        "arguments of ratio(), found 'portal.porta...'"}},
      {"MeasureSyntaxInsideQuotes",
       {Replace("    measure: p95(home_page.duration)", "    measure: \"p95(home_page.duration\"")},
       {"plan.yaml:{L}:37: error: triggers.page_load_time.measure: expected ')' to close p95(, "
        "found the end of the text"}},
      {"MeasureErrorAfterEscapedQuotes",
       {Replace("    measure: ratio(portal.http_requests_total{code=~\"5..\"}, "
                "portal.http_requests_total)",
                "    measure: \"ratio(portal.http_requests_total{code=~\\\"5..\\\"} "
                "portal.http_requests_total)\"")},
       // The column is where `portal` starts in the file, past the two `\"` escapes.
       {"plan.yaml:{L}:63: error: triggers.error_rate.measure: expected ',' between the "
        "arguments of ratio(), found 'portal.http_...'"}},
      {"MeasureErrorInSingleQuotes",
       {Replace("    measure: ratio(portal.http_requests_total{code=~\"5..\"}, "
                "portal.http_requests_total)",
                "    measure: 'ratio(portal.http_requests_total{code=~''5..''} "
                "portal.http_requests_total)'")},
       {"plan.yaml:{L}:63: error: triggers.error_rate.measure: expected ',' between the "
        "arguments of ratio(), found 'portal.http_...'"}},
      {"MeasureUnterminatedLabel",
       {Replace("    measure: ratio(portal.http_requests_total{code=~\"5..\"}, "
                "portal.http_requests_total)",
                "    measure: ratio(portal.http_requests_total{code=~\"5..}, "
                "portal.http_requests_total)")},
       {"plan.yaml:{L}:53: error: triggers.error_rate.measure: unterminated label value: add the "
        "closing \""}},
      {"MeasureUnknownFunction",
       {Replace("    measure: failures(portal_db)", "    measure: failure(portal_db)")},
       {"plan.yaml:{L}:14: error: triggers.db_connectivity.measure: unknown function 'failure'; "
        "did you mean 'failures'?"}},
      {"MeasureBadLabelRegex",
       {Replace("    measure: ratio(portal.http_requests_total{code=~\"5..\"}, "
                "portal.http_requests_total)",
                "    measure: ratio(portal.http_requests_total{code=~\"5[0-9\"}, "
                "portal.http_requests_total)")},
       {"plan.yaml:{L}:47: error: triggers.error_rate.measure: label regex \"5[0-9\" does not "
        "compile: Unexpected character within '[...]' in regular expression"}},
      {"ConditionLatencyWithoutUnit",
       {Replace("    when: \"> 10s\"", "    when: \"> 10\"")},
       {"plan.yaml:{L}:12: error: triggers.page_load_time.when: p95() is a duration; give the "
        "threshold a time unit, e.g. \"> 10s\" or \"> 500ms\""}},
      {"ConditionPercentOnFailures",
       {Replace("    when: \"> 0\"  ", "    when: \"> 5%\"")},
       {"plan.yaml:{L}:12: error: triggers.db_connectivity.when: failures() counts failed checks; "
        "write a plain number, e.g. \"> 0\""}},
      {"ConditionShareOver100",
       {Replace("    when: \"< 50%\"", "    when: \"< 150%\"")},
       {"plan.yaml:{L}:12: error: triggers.system_unavailable.when: < 150% can never be reached; a "
        "share is at most 100%"}},
      {"ConditionRatioWithoutPercent",
       {Replace("    when: \"> 2%\"", "    when: \"> 0.02\"")},
       {"plan.yaml:{L}:12: error: triggers.transaction_errors.when: ratio() is a share; write the "
        "threshold as a percentage, e.g. \"> 5%\""}},
      {"ConditionSpaceBeforeUnit",
       {Replace("    when: \"> 2%\"", "    when: \"> 2 %\"")},
       {"plan.yaml:{L}:16: error: triggers.transaction_errors.when: write the unit right after the "
        "number, without a space: \"> 2%\""}},
      {"ConditionSyntaxInMultiLevel",
       {Replace("      critical: \"> 25%\"", "      critical: \">> 25%\"")},
       {"plan.yaml:{L}:19: error: triggers.error_rate.when.critical: expected a number after the "
        "comparison, e.g. \"> 5%\", \">= 10s\" or \"> +50% baseline\""}},
      {"RelativeThresholdWithBaselineZero",
       {Replace("  baseline: 30m", "  baseline: 0s")},
       {"plan.yaml:{@when: \"< baseline\"}:12: error: triggers.data_integrity.when: '< baseline' "
        "compares with a baseline, but window.baseline is 0; set window.baseline (e.g. 30m)",
        "plan.yaml:{@when: \"> +50% baseline\"}:12: error: triggers.performance_degradation.when: "
        "'> +50% baseline' compares with a baseline, but window.baseline is 0; set window.baseline "
        "(e.g. 30m)"}},
      {"SeverityTypo",
       {Replace("    severity: critical\n\n  - id: system_unavailable",
                "    severity: critcal\n\n  - id: system_unavailable")},
       {"plan.yaml:{L}:15: error: triggers.db_connectivity.severity: 'critcal' is not a severity; "
        "did you mean 'critical'?"}},
      {"SeverityAndConditionBothWrong",
       {Replace("    when: \"> 0\"  ", "    when: \"> none\""),
        Replace("    severity: critical\n\n  - id: system_unavailable",
                "    severity: fatal\n\n  - id: system_unavailable")},
       {"plan.yaml:{L}:14: error: triggers.db_connectivity.when: expected a number after the "
        "comparison, e.g. \"> 5%\", \">= 10s\" or \"> +50% baseline\"",
        "plan.yaml:{L+1}:15: error: triggers.db_connectivity.severity: 'fatal' is not a severity; "
        "use critical, major, minor or discretionary"}},
      {"SeverityWithMultiLevelWhen",
       {After("    for: 30s", "    severity: major")},
       {"plan.yaml:{L}:5: error: triggers.error_rate.severity: with a 'when' per severity, the "
        "severities are its keys; remove 'severity'"}},
      {"WhenMapUnknownSeverity",
       {Replace("      major: \"> 1%\"", "      majr: \"> 1%\"")},
       {"plan.yaml:{L}:7: error: triggers.error_rate.when: unknown key 'majr'; did you mean "
        "'major'?"}},
      {"DiscretionaryWithoutAuthority",
       {Delete("  discretionary: {"),
        Replace("    severity: critical\n\n  - id: system_unavailable",
                "    severity: discretionary\n\n  - id: system_unavailable")},
       {"plan.yaml:{@severity: discretionary}:15: error: severity discretionary is used but "
        "authority has no 'discretionary' entry; add authority.discretionary: { decides: sponsor "
        "}"}},
      {"EarlyOnNonEligibleMeasure",
       {After("    measure: failures(portal_db)", "    early: on")},
       {"plan.yaml:{L}:5: error: triggers.db_connectivity.early: early detection works on ratio(), "
        "availability() and pNN() with a '>' threshold; remove 'early' or set it to off"}},
      {"EarlyBadShift",
       {After("    measure: p95(home_page.duration)", "    early: { shift: 0.5 }")},
       {"plan.yaml:{L}:21: error: triggers.page_load_time.early.shift: '0.5' must be a number "
        "above 1 (the multiple of the threshold rate to detect, default 2)"}},
      {"EarlyUnknownKey",
       {After("    measure: p95(home_page.duration)", "    early: { shfit: 3 }")},
       {"plan.yaml:{L}:14: error: triggers.page_load_time.early: unknown key 'shfit'; did you mean "
        "'shift'?"}},
      {"EarlyNotABoolean",
       {After("    measure: p95(home_page.duration)", "    early: maybe")},
       {"plan.yaml:{L}:12: error: triggers.page_load_time.early: 'maybe' is not true or false"}},
      {"NotifyUnknownKey",
       {Replace("  repeat_every: 10m", "  repeat_evry: 10m")},
       {"plan.yaml:{L}:3: error: notify: unknown key 'repeat_evry'; did you mean 'repeat_every'?"}},
      {"NotifyNoChannel",
       {Delete("  chat:\n    kind: slack"), Delete("    url_env: ONCALL_CHAT_WEBHOOK")},
       {"plan.yaml:{@notify:\n}:1: error: notify: no channel, so nobody would be paged; add chat: "
        "{ kind: slack, url_env: ONCALL_CHAT_WEBHOOK }"}},
      {"ChatKindTypo",
       {Replace("    kind: slack", "    kind: slak")},
       {"plan.yaml:{L}:11: error: notify.chat.kind: 'slak' is not a chat kind; did you mean "
        "'slack'?"}},
      {"ChatUnknownKey",
       {After("    url_env: ONCALL_CHAT_WEBHOOK", "    channel: \"#releases\"")},
       {"plan.yaml:{L}:5: error: notify.chat: unknown key 'channel'; expected one of kind, url, "
        "url_env, url_file"}},
      {"ChatInlineUrl",
       {Replace("    url_env: ONCALL_CHAT_WEBHOOK",
                "    url: https://hooks.slack.com/services/T000/B000/XXXX")},
       {"plan.yaml:{L}:5: error: notify.chat.url: secrets are never written in the plan; give the "
        "name of an environment variable as url_env or a file as url_file"}},
      {"ChatUrlEnvHoldsTheUrl",
       {Replace("    url_env: ONCALL_CHAT_WEBHOOK",
                "    url_env: https://hooks.slack.com/services/T000/B000/XXXX")},
       {"plan.yaml:{L}:14: error: notify.chat.url_env: "
        "'https://hooks.slack.com/services/T000/B000/XXXX' is not an environment variable name "
        "([A-Za-z_][A-Za-z0-9_]*); put the secret itself in the environment, not here"}},
      {"PagerdutyInlineKey",
       {After("    url_env: ONCALL_CHAT_WEBHOOK", "  pagerduty: { routing_key: R0UT1NGKEY }")},
       {"plan.yaml:{L}:16: error: notify.pagerduty.routing_key: secrets are never written in the "
        "plan; give the name of an environment variable as routing_key_env or a file as "
        "routing_key_file"}},
      {"AlertmanagerUrlWithCredentials",
       {After("    url_env: ONCALL_CHAT_WEBHOOK",
              "  alertmanager: { url: \"http://admin:pw@127.0.0.1:9093\" }")},
       {"plan.yaml:{L}:24: error: notify.alertmanager.url: the URL carries credentials "
        "(user:password@), which are secrets and would be shown in logs; remove them"}},
      {"ServerUnknownKey",
       {Replace("  listen: 127.0.0.1:9750", "  listn: 127.0.0.1:9750")},
       {"plan.yaml:{L}:3: error: server: unknown key 'listn'; did you mean 'listen'?"}},
      {"ServerInlineToken",
       {Replace("  token_env: BACKOUT", "  token: s3cr3t-t0ken")},
       {"plan.yaml:{L}:3: error: server.token: secrets are never written in the plan; give the "
        "name of an environment variable as token_env or a file as token_file"}},
      {"ServerTokenEnvWithDollar",
       {Replace("  token_env: BACKOUT", "  token_env: $BACKOUT_AGENT_TOKEN")},
       {"plan.yaml:{L}:14: error: server.token_env: '$BACKOUT_AGENT_TOKEN' is not an environment "
        "variable name ([A-Za-z_][A-Za-z0-9_]*)"}},
      {"ServerListenBadPort",
       {Replace("  listen: 127.0.0.1:9750", "  listen: 127.0.0.1:97500")},
       {"plan.yaml:{L}:11: error: server.listen: '97500' in '127.0.0.1:97500' is not a port; ports "
        "are 1 to 65535, e.g. 127.0.0.1:9750"}},
      {"ServerListenWithoutPort",
       {Replace("  listen: 127.0.0.1:9750", "  listen: localhost")},
       {"plan.yaml:{L}:11: error: server.listen: 'localhost' is not host:port; write e.g. "
        "127.0.0.1:9750"}},
  };
  return cases;
}

// Plans that are accepted but deserve a second look: exactly the warning(s), no error.
const std::vector<PlanCase>& doubtful_plans() {
  static const std::vector<PlanCase> cases = {
      {"WarnForLongerThanOver",
       {Replace("    for: 1m\n    severity: major\n\n  - id: transaction_errors",
                "    for: 10m\n    severity: major\n\n  - id: transaction_errors")},
       {"plan.yaml:{L}:5: warning: triggers.login_failure_rate.for: 10m is longer than over (5m); "
        "the breach must outlast its own window"}},
      {"WarnMinCountOnValue",
       {After("    measure: value(customers)", "    min_count: 5")},
       {"plan.yaml:{L}:5: warning: triggers.data_integrity.min_count: value() has no count of "
        "observations; min_count has no effect"}},
      {"WarnRatioWithoutMinCount",
       {Delete("    min_count: 20")},
       {"plan.yaml:{@measure: ratio(portal.portal_t}:5: warning: triggers.transaction_errors: "
        "ratio() without min_count: one failure out of one attempt is 100%; set min_count (e.g. "
        "50) so that a quiet minute cannot trigger a backout"}},
      {"WarnWindowCannotFillBeforePnr",
       {Replace("    over: 5m\n    min_count: 50", "    over: 3h\n    min_count: 50")},
       {"plan.yaml:{@- id: login_failure_rate}:5: warning: triggers.login_failure_rate: over (3h) "
        "plus for (1m) is longer than the 2h20m from the window start to the point of no return; a "
        "fault that starts with the window is confirmed only after that point"}},
      {"WarnShadowedLevel",
       {Replace("      major: \"> 1%\"", "      major: \"> 30%\"")},
       {"plan.yaml:{@when:\n      critical}:5: warning: triggers.error_rate.when: major (> 30%) "
        "can never apply: critical (> 25%) is checked first and is met before it"}},
      {"WarnAvailabilityUpward",
       {Replace("    when: \"< 50%\"", "    when: \"> 50%\"")},
       {"plan.yaml:{L}:12: warning: triggers.system_unavailable.when: availability > 50% fires "
        "when the source is up; did you mean \"< ...\"?"}},
      {"WarnFailuresDownward",
       {Replace("    when: \"> 0\"  ", "    when: \"< 1\"")},
       {"plan.yaml:{L}:12: warning: triggers.db_connectivity.when: failures < 1 fires when there "
        "are few failures; did you mean \"> ...\"?"}},
      {"WarnListenOnAllInterfaces",
       {Replace("  listen: 127.0.0.1:9750", "  listen: 0.0.0.0:9750")},
       {"plan.yaml:{L}:11: warning: server.listen: 0.0.0.0:9750 is reachable from other hosts; the "
        "dashboard and status are readable without a token, so keep it behind a firewall"}},
      {"WarnNoServer",
       {Delete("server:"), Delete("  listen: 127.0.0.1:9750"), Delete("  token_env: BACKOUT")},
       {"plan.yaml:1:1: warning: no 'server': the API listens on 127.0.0.1:9750 and its POST "
        "endpoints (ack, fix-forward, decision, raise) are disabled without server.token_env"}},
      {"WarnNoToken",
       {Delete("  token_env: BACKOUT")},
       {"plan.yaml:{@server:}:1: warning: server: no token_env or token_file; the POST endpoints "
        "(ack, fix-forward, decision, raise) are disabled"}},
      {"WarnAckWithoutEscalation",
       {Replace("  major:         {",
                "  major:         { decides: project_manager, notify: [sponsor],                  "
                "ack_within: 10m }")},
       {"plan.yaml:{L}:82: warning: authority.major: ack_within without escalate_to: an "
        "unacknowledged page is repeated but nobody else is paged"}},
      {"WarnEndInAnotherOffset",
       {Replace("  end: 2026", "  end: 2026-06-07T05:00:00Z")},
       {"plan.yaml:{L}:8: warning: window.end: its UTC offset +00:00 differs from window.start's "
        "+01:00; times are shown in the start's offset"}},
      {"WarnWarningBeforeTheWindow",
       {Replace("  warn_before_point_of_no_return: 15m", "  warn_before_point_of_no_return: 3h")},
       {"plan.yaml:{L}:35: warning: window.warn_before_point_of_no_return: 3h before the point of "
        "no return is before the window starts; the warning will come as soon as a major breach "
        "opens"}},
      {"WarnLongGroupWait",
       {Replace("  group_wait: 2s", "  group_wait: 5m")},
       {"plan.yaml:{L}:15: warning: notify.group_wait: 5m delays every page by as much; a few "
        "seconds is usual"}},
      {"WarnBodyWithoutPost",
       {After("    expect_status: 200", "    body: \"{}\"")},
       {"plan.yaml:{L}:11: warning: sources.home_page.body: a body is only sent with method: "
        "POST"}},
      {"WarnRelativeWindowLongerThanBaseline",
       {Replace("  baseline: 30m", "  baseline: 2m")},
       {"plan.yaml:{@- id: performance_degradation}:5: warning: triggers.performance_degradation: "
        "its window (over: 5m) is longer than window.baseline (2m); the baseline is measured over "
        "the shorter period"}},
      {"WarnNotifiedTwice",
       {Replace("  discretionary: {",
                "  discretionary: { decides: sponsor,         notify: [steering_group, "
                "steering_group] }")},
       {"plan.yaml:{L}:71: warning: authority.discretionary.notify: 'steering_group' is listed "
        "twice"}},
  };
  return cases;
}

class BrokenPlan : public ::testing::TestWithParam<PlanCase> {};
class DoubtfulPlan : public ::testing::TestWithParam<PlanCase> {};

TEST_P(BrokenPlan, ReportsExactlyTheseErrors) {
  const PlanCase& c = GetParam();
  Edited edited = apply(c.edits);
  LoadResult r = load(edited.text);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(formatted(r), ElementsAreArray(expand_all(c.expected, edited))) << edited.text;
  EXPECT_GE(r.errors(), 1u);
}

TEST_P(DoubtfulPlan, LoadsWithExactlyTheseWarnings) {
  const PlanCase& c = GetParam();
  Edited edited = apply(c.edits);
  LoadResult r = load(edited.text);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.errors(), 0u);
  EXPECT_THAT(formatted(r), ElementsAreArray(expand_all(c.expected, edited)));
}

std::string case_name(const ::testing::TestParamInfo<PlanCase>& info) { return info.param.name; }

// gtest prints a failing parameter with this; the name says which case it is.
void PrintTo(const PlanCase& c, std::ostream* os) { *os << c.name; }

INSTANTIATE_TEST_SUITE_P(Loader, BrokenPlan, ::testing::ValuesIn(broken_plans()), case_name);
INSTANTIATE_TEST_SUITE_P(Loader, DoubtfulPlan, ::testing::ValuesIn(doubtful_plans()), case_name);

TEST(BrokenPlans, AreMany) {
  // The issue asks for at least 40 broken plans; keep the table from shrinking unnoticed.
  EXPECT_GE(broken_plans().size(), 100u);
}

TEST(BrokenPlans, EveryErrorIsReportedInFileOrder) {
  // Five unrelated mistakes, made bottom-up: the loader reports all of them, sorted by position.
  Edited edited = apply({
      Replace("  listen: 127.0.0.1:9750", "  listen: 127.0.0.1"),
      Replace("    when: \"< 50%\"", "    when: \"< 150%\""),
      Replace("    measure: failures(portal_db)", "    measure: failures(portal_dbs)"),
      Replace("  critical:      {",
              "  critical:      { decides: deployment_led, notify: [project_manager, sponsor], "
              "ack_within: 5m,  escalate_to: project_manager }"),
      Replace("    kind: prometheus", "    kind: prometeus"),
      Replace("  backout_duration: 100m", "  backout_duration: 100"),
      Replace("version: 1", "version: 3"),
  });
  LoadResult r = load(edited.text);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(
      formatted(r),
      ElementsAreArray(expand_all(
          {
              "plan.yaml:{@version: 3}:10: error: version: this agent reads plan version 1, not 3",
              "plan.yaml:{@backout_duration: 100}:21: error: window.backout_duration: '100' is "
              "not a duration: missing unit after 100; add one of d, h, m, s, ms (e.g. 100s or "
              "100m)",
              "plan.yaml:{@deployment_led,}:29: error: authority.critical.decides: role "
              "'deployment_led' is not in contacts; did you mean 'deployment_lead'?",
              "plan.yaml:{@prometeus}:11: error: sources.portal.kind: unknown kind 'prometeus'; "
              "did you mean 'prometheus'?",
              "plan.yaml:{@portal_dbs}:23: error: triggers.db_connectivity.measure: unknown "
              "source 'portal_dbs'; did you mean 'portal_db'?",
              "plan.yaml:{@150%}:12: error: triggers.system_unavailable.when: < 150% can never "
              "be reached; a share is at most 100%",
              "plan.yaml:{@listen: 127.0.0.1}:11: error: server.listen: '127.0.0.1' is not "
              "host:port; write e.g. 127.0.0.1:9750",
          },
          edited)));
  // The triggers on the broken source are still checked (a trigger using 'portal' is fine), and
  // nothing else is reported about them.
  EXPECT_EQ(r.errors(), 7u);
  EXPECT_EQ(r.warnings(), 0u);
}

TEST(BrokenPlans, ErrorsAndWarningsInterleaveByPosition) {
  Edited edited = apply({
      Replace("  group_wait: 2s", "  group_wait: 5m"),
      Delete("    min_count: 20"),
      Replace("  baseline: 30m", "  baseline: 30"),
  });
  LoadResult r = load(edited.text);
  EXPECT_THAT(formatted(r),
              ElementsAreArray(expand_all(
                  {
                      "plan.yaml:{@baseline: 30\n}:13: error: window.baseline: '30' is not a "
                      "duration: missing unit after 30; add one of d, h, m, s, ms (e.g. 30s or "
                      "30m)",
                      "plan.yaml:{@ratio(portal.portal_transactions}:5: warning: "
                      "triggers.transaction_errors: ratio() without min_count: one failure out "
                      "of one attempt is 100%; set min_count (e.g. 50) so that a quiet minute "
                      "cannot trigger a backout",
                      "plan.yaml:{@group_wait}:15: warning: notify.group_wait: 5m delays every "
                      "page by as much; a few seconds is usual",
                  },
                  edited)));
  EXPECT_EQ(r.errors(), 1u);
  EXPECT_EQ(r.warnings(), 2u);
}

TEST(BrokenPlans, PositionsUseTheFileNameGiven) {
  LoadResult r = load_plan_text("version: 2\n", "/etc/backout/release.yaml",
                                agent::builtin_kinds().catalog);
  ASSERT_FALSE(r.diagnostics.empty());
  EXPECT_EQ(r.diagnostics.front().format(),
            "/etc/backout/release.yaml:1:1: error: missing 'plan' (project, release, owner, "
            "revision, status)");
}

TEST(BrokenPlans, UnreadableFileIsOneDiagnostic) {
  LoadResult r = load_plan_file("/nonexistent/plan.yaml", agent::builtin_kinds().catalog);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(formatted(r), ElementsAreArray(std::vector<std::string>{
                                "/nonexistent/plan.yaml:1:1: error: cannot read the plan file: No "
                                "such file or directory"}));
}

TEST(BrokenPlans, OversizedPlanIsRefusedBeforeParsing) {
  std::string huge = reference_text() + "# " + std::string(5 << 20, 'x') + "\n";
  LoadResult r = load(huge);
  EXPECT_THAT(formatted(r), ElementsAreArray(std::vector<std::string>{
                                "plan.yaml:1:1: error: the plan is " + std::to_string(huge.size()) +
                                " bytes; plans are limited to 4 MiB"}));
}

// --- the reference plan -----------------------------------------------------------------------

TEST(ReferencePlan, LoadsWithoutAnyDiagnostic) {
  LoadResult r = load(reference_text());
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(formatted(r));
  EXPECT_THAT(formatted(r), ::testing::IsEmpty());  // not even a warning
}

TEST(ReferencePlan, IsTypedAsWritten) {
  LoadResult r = load(reference_text());
  ASSERT_TRUE(r.ok());
  const rules::Plan& p = *r.plan;
  EXPECT_EQ(p.path, "plan.yaml");
  EXPECT_EQ(p.header.project, "Customer Portal Enhancement");
  EXPECT_EQ(p.header.release, "2.0");
  EXPECT_EQ(p.header.revision, "1.2");
  EXPECT_TRUE(p.header.approved);
  EXPECT_EQ(format_rfc3339(p.window.start.at, p.window.offset()), "2026-06-07T02:00:00+01:00");
  EXPECT_EQ(format_clock(p.window.point_of_no_return(), p.window.offset()), "04:20");
  EXPECT_EQ(p.window.backout_duration, std::chrono::minutes{100});
  EXPECT_EQ(p.window.warn_before_pnr, std::chrono::minutes{15});
  EXPECT_EQ(p.window.baseline, std::chrono::minutes{30});
  ASSERT_EQ(p.contacts.size(), 6u);
  EXPECT_EQ(p.contact("deployment_lead")->chat, "@jane.doe");
  EXPECT_EQ(p.contact("steering_group")->phone, "");
  ASSERT_NE(p.authority_for(rules::Severity::kCritical), nullptr);
  EXPECT_EQ(p.authority_for(rules::Severity::kCritical)->decides, "deployment_lead");
  EXPECT_EQ(p.authority_for(rules::Severity::kMajor)->escalate_to, "sponsor");
  EXPECT_EQ(p.authority_for(rules::Severity::kDiscretionary)->ack_within, std::nullopt);
  ASSERT_EQ(p.sources.size(), 5u);
  EXPECT_EQ(p.source("home_page")->options.string("method"), "GET");  // default filled in
  EXPECT_EQ(p.source("home_page")->options.integers("expect_status"),
            std::vector<std::int64_t>{200});
  EXPECT_EQ(p.source("portal_db")->options.secret("dsn")->describe(), "$PORTAL_DB_DSN");
  ASSERT_EQ(p.triggers.size(), 9u);
  const rules::Trigger* error_rate = p.trigger("error_rate");
  ASSERT_NE(error_rate, nullptr);
  ASSERT_EQ(error_rate->levels.size(), 2u);
  EXPECT_EQ(error_rate->levels[0].severity, rules::Severity::kCritical);  // most severe first
  EXPECT_EQ(error_rate->levels[1].severity, rules::Severity::kMajor);
  EXPECT_EQ(error_rate->min_count, 100u);
  EXPECT_TRUE(error_rate->early.enabled);  // on by default for ratio()
  EXPECT_FALSE(p.trigger("db_connectivity")->early.enabled);
  EXPECT_TRUE(p.trigger("data_integrity")->relative());
  EXPECT_EQ(p.trigger("data_integrity")->over, std::chrono::minutes{5});  // the default
  ASSERT_NE(p.notify.channel("chat"), nullptr);
  EXPECT_EQ(p.notify.channel("chat")->kind, "slack");
  EXPECT_EQ(p.notify.channel("chat")->options.secret("url")->describe(), "$ONCALL_CHAT_WEBHOOK");
  EXPECT_EQ(p.server.port, 9750);
  EXPECT_EQ(p.server.token->describe(), "$BACKOUT_AGENT_TOKEN");
  EXPECT_EQ(p.state_dir, "/var/lib/backout-agent");
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

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
  std::string path = ::testing::TempDir() + "plan_loader_test_" + name + ".yaml";
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  return path;
}

TEST(CheckCommand, SummarizesTheReferencePlan) {
  const std::string path = backout::testing::reference_plan_path();
  std::string out, err;
  ASSERT_EQ(run_cli({"check", "--plan", path, "--now", kBeforeTheWindow}, &out, &err), 0) << err;
  EXPECT_EQ(err, "");
  const std::vector<std::string> lines = lines_of(out);
  auto has = [&](const std::string& line) {
    EXPECT_NE(std::find(lines.begin(), lines.end(), line), lines.end())
        << "missing line: " << line << "\nin:\n"
        << out;
  };
  has("Plan " + path + " is valid.");
  has("  Customer Portal Enhancement, release 2.0 (revision 1.2, approved, owner John Smith (PM))");
  has("Window              2026-06-07 02:00 to 06:00 (+01:00), 4h");
  has("Backout takes       1h40m");
  has("Point of no return  04:20 (2026-06-07T04:20:00+01:00): the last moment a backout can start "
      "and finish by 06:00");
  has("Warning             04:05 (15m before the point of no return, if a major breach is open)");
  has("Baseline            01:30 to 02:00 (30m before the start)");
  has("Triggers (9)");
  // Each trigger: severity, measure, threshold, window, and its for/min_count/early settings.
  const std::string pad(27, ' ');
  has("  login_failure_rate       Login failure rate");
  has(pad +
      "major          ratio(portal.portal_login_failures_total, "
      "portal.portal_login_attempts_total) > 5% over 5m, for 1m, min 50 observations, early "
      "detection");
  has(pad +
      "major          ratio(portal.portal_transactions_failed_total, "
      "portal.portal_transactions_total) > 2% over 5m, for 1m, min 20 observations, early "
      "detection");
  has(pad + "major          p95(home_page.duration) > 10s over 5m, early detection");
  has(pad + "major          p95(api.duration) > 5s over 5m, early detection");
  has(pad +
      "critical       ratio(portal.http_requests_total{code=~\"5..\"}, "
      "portal.http_requests_total) > 25% over 5m, for 30s, min 100 observations, early "
      "detection");
  has(pad +
      "major          ratio(portal.http_requests_total{code=~\"5..\"}, "
      "portal.http_requests_total) > 1% over 5m, for 30s, min 100 observations, early "
      "detection");
  has(pad + "critical       failures(portal_db) > 0 over 1m");
  has(pad + "critical       availability(home_page) < 50% over 1m, early detection");
  has(pad + "critical       value(customers) < baseline");
  has(pad + "major          p95(api.duration) > +50% baseline over 5m, for 2m, early detection");
  // Who decides each severity, who is told, with chat handles.
  has("Decision authority");
  has("  critical       decides: Deployment Lead Jane Doe (@jane.doe)");
  has("                 told:    Project Manager John Smith (@john.smith), Sponsor Sarah Williams "
      "(@sarah.williams)");
  has("                 ack within 5m, else page Project Manager John Smith (@john.smith)");
  has("  major          decides: Project Manager John Smith (@john.smith)");
  has("                 told:    Sponsor Sarah Williams (@sarah.williams)");
  has("                 ack within 10m, else page Sponsor Sarah Williams (@sarah.williams)");
  has("  discretionary  decides: Sponsor Sarah Williams (@sarah.williams)");
  has("                 told:    Steering Group (@steering-group)");
  has("  minor          logged and posted to chat; nobody is paged");
  has("Sources (5)");
  has("  portal_db  postgres    dsn from $PORTAL_DB_DSN, every 2s");
  has("  chat          slack: url from $ONCALL_CHAT_WEBHOOK");
  has("Server 127.0.0.1:9750, POSTs need the token from $BACKOUT_AGENT_TOKEN");
  // The summary never shows a secret's value, only where it comes from.
  EXPECT_THAT(out, ::testing::Not(HasSubstr("postgresql://")));
}

TEST(CheckCommand, SummaryMatchesSummarize) {
  LoadResult r =
      load_plan_file(backout::testing::reference_plan_path(), agent::builtin_kinds().catalog);
  ASSERT_TRUE(r.ok());
  std::string out, err;
  ASSERT_EQ(run_cli({"check", "--plan", backout::testing::reference_plan_path(), "--now",
                     kBeforeTheWindow},
                    &out, &err),
            0);
  EXPECT_EQ(out, summarize(*r.plan));
}

TEST(CheckCommand, InvalidPlanExitsTwoWithEveryError) {
  Edited edited = apply({Replace("  backout_duration: 100m", "  backout_duration: 100"),
                         Replace("    kind: slack", "    kind: slak")});
  const std::string path = write_temp("invalid", edited.text);
  std::string out, err;
  EXPECT_EQ(run_cli({"check", "--plan", path, "--now", kBeforeTheWindow}, &out, &err), 2);
  EXPECT_EQ(out, "");
  EXPECT_EQ(err, path + ":" + std::to_string(edited.line) +
                     ":21: error: window.backout_duration: '100' is not a duration: missing unit "
                     "after 100; add one of d, h, m, s, ms (e.g. 100s or 100m)\n" +
                     expand(path + ":{@kind: slak}:11: error: notify.chat.kind: 'slak' is not a "
                                   "chat kind; did you mean 'slack'?",
                            edited) +
                     "\n" + path + ": 2 errors; the plan was not accepted\n");
  std::remove(path.c_str());
}

TEST(CheckCommand, WarningsGoToStderrAndTheExitCodeStaysZero) {
  Edited edited = apply({Delete("    min_count: 20")});
  const std::string path = write_temp("warning", edited.text);
  std::string out, err;
  EXPECT_EQ(run_cli({"check", "--plan", path, "--now", kBeforeTheWindow}, &out, &err), 0);
  EXPECT_EQ(err, expand(path + ":{@ratio(portal.portal_transactions}:5: warning: "
                               "triggers.transaction_errors: ratio() without min_count: one "
                               "failure out of one attempt is 100%; set min_count (e.g. 50) so "
                               "that a quiet minute cannot trigger a backout\n",
                        edited));
  EXPECT_THAT(out, HasSubstr("Plan " + path + " is valid."));
  EXPECT_THAT(out, HasSubstr("\n1 warning (see above); the plan is usable.\n"));
  std::remove(path.c_str());
}

TEST(CheckCommand, ErrorsAndWarningsAreCounted) {
  Edited edited = apply({Delete("    min_count: 20"), Replace("version: 1", "version: 2")});
  const std::string path = write_temp("counted", edited.text);
  std::string out, err;
  EXPECT_EQ(run_cli({"check", "--plan", path, "--now", kBeforeTheWindow}, &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("\n" + path + ": 1 error, 1 warning; the plan was not accepted\n"));
  std::remove(path.c_str());
}

TEST(CheckCommand, MissingFileExitsTwo) {
  std::string out, err;
  EXPECT_EQ(run_cli({"check", "--plan", "/nonexistent/plan.yaml"}, &out, &err), 2);
  EXPECT_EQ(err,
            "/nonexistent/plan.yaml:1:1: error: cannot read the plan file: No such file or "
            "directory\n/nonexistent/plan.yaml: 1 error; the plan was not accepted\n");
}

TEST(CheckCommand, MissingPlanOptionExitsTwo) {
  std::string out, err;
  EXPECT_EQ(run_cli({"check"}, &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("missing --plan FILE"));
}

// DESIGN section 9: a plan whose window has ended is a warning for `check` (exit 0) and a refusal
// for `run` without --start-now.
TEST(CheckCommand, AWindowThatHasEndedIsAWarning) {
  std::string out, err;
  ASSERT_EQ(run_cli({"check", "--plan", backout::testing::reference_plan_path(), "--now",
                     "2026-06-07T06:00:00+01:00"},
                    &out, &err),
            0)
      << err;
  EXPECT_EQ(err, backout::testing::reference_plan_path() +
                     ": warning: this plan's window ended at 2026-06-07T06:00:00+01:00; `run` "
                     "refuses it unless --start-now rehearses it now\n");
  EXPECT_THAT(out, HasSubstr("\n1 warning (see above); the plan is usable.\n"));
  EXPECT_EQ(run_cli({"check", "--plan", backout::testing::reference_plan_path(), "--now",
                     "2026-06-07T05:59:59+01:00"},
                    &out, &err),
            0);
  EXPECT_EQ(run_cli({"check", "--plan", backout::testing::reference_plan_path(), "--now",
                     "yesterday"},
                    &out, &err),
            2);
}

// Issue 14, item 13: `--listen 127.0.0.1:abc` aborted the process (std::stoi threw) and
// `:70000` silently listened on 4464 (70000 mod 65536).
TEST(RunCommand, RefusesAListenThatIsNotHostAndPort) {
  for (const char* listen : {"127.0.0.1:abc", "127.0.0.1:70000", "127.0.0.1:-1", "127.0.0.1:",
                             ":9750", "127.0.0.1:9750x", "127.0.0.1: 9750"}) {
    std::string out, err;
    EXPECT_EQ(run_cli({"run", "--plan", backout::testing::reference_plan_path(), "--listen",
                       listen},
                      &out, &err),
              2)
        << listen;
    EXPECT_THAT(err, HasSubstr("is not host:port (a port from 0 to 65535")) << listen;
  }
}

}  // namespace
}  // namespace backout::plan

namespace backout::plan {
namespace {

// Issue 10, item 4: the loader names no channel kind. A kind it has never heard of, given in the
// catalog, is loaded from `notify` with its own keys and checked by the same path as a source's
// options (required keys, secrets, did-you-mean), with nothing else changed.
TEST(ChannelKindPlugin, AKindInTheCatalogIsLoadedAndCheckedLikeAnyOther) {
  KindCatalog catalog = agent::builtin_kinds().catalog;
  catalog.channels.push_back(
      {.kind = "opsgenie",
       .summary = "Opsgenie Alert API",
       .options = {{.name = "region",
                    .type = OptionType::kEnum,
                    .default_value = OptionValue{std::string("us")},
                    .help = "the account's region",
                    .choices = {"us", "eu"}}},
       .secrets = {{.base = "api_key", .required = true, .help = "the integration's API key"}}});
  auto with_notify = [](const std::string& entry) {
    std::string text = reference_text();
    const std::string anchor = "notify:\n";
    text.insert(text.find(anchor) + anchor.size(), entry);
    return text;
  };

  LoadResult ok = load_plan_text(with_notify("  opsgenie: { api_key_env: OPSGENIE_KEY }\n"),
                                 "plan.yaml", catalog);
  ASSERT_TRUE(ok.ok()) << formatted(ok).front();
  const rules::Channel* og = ok.plan->notify.channel("opsgenie");
  ASSERT_NE(og, nullptr);
  EXPECT_EQ(og->kind, "opsgenie");
  EXPECT_EQ(og->options.secret("api_key")->describe(), "$OPSGENIE_KEY");
  EXPECT_EQ(og->options.string("region"), "us");  // the spec's default
  EXPECT_NE(ok.plan->notify.channel("chat"), nullptr) << "the other entries are unchanged";

  LoadResult typo = load_plan_text(
      with_notify("  opsgenie: { api_key_env: OPSGENIE_KEY, regoin: eu }\n"), "plan.yaml", catalog);
  ASSERT_FALSE(typo.ok());
  EXPECT_THAT(formatted(typo).front(),
              HasSubstr("notify.opsgenie: unknown key 'regoin'; did you mean 'region'?"));

  LoadResult inline_key =
      load_plan_text(with_notify("  opsgenie: { api_key: s3cr3t }\n"), "plan.yaml", catalog);
  ASSERT_FALSE(inline_key.ok());
  EXPECT_THAT(formatted(inline_key).front(),
              HasSubstr("notify.opsgenie.api_key: secrets are never written in the plan"));

  // Without the kind in the catalog the same entry is an unknown key of notify.
  LoadResult unknown = load(with_notify("  opsgenie: { api_key_env: OPSGENIE_KEY }\n"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(formatted(unknown).front(), HasSubstr("notify: unknown key 'opsgenie'"));
}

}  // namespace
}  // namespace backout::plan
