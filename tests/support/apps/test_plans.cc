#include "support/apps/test_plans.h"

#include <stdexcept>

#include "backout/core/time.h"

namespace backout::testing {

std::string agent_plan_text(const TestPlanOptions& o) {
  const auto start = std::chrono::floor<std::chrono::seconds>(
      std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now() + o.start_in));
  const auto length = parse_duration(o.window_length);
  if (!length) {
    throw std::invalid_argument("window_length: " + o.window_length);
  }
  const auto off = std::chrono::minutes{60};
  std::string text = std::string(R"(version: 1
plan: { project: Customer Portal Enhancement, release: "2.0", owner: John Smith (PM), revision: "1.2", status: approved }
window:
  start: )") + format_rfc3339(start, off) + R"(
  end: )" + format_rfc3339(start + *length, off) + R"(
  backout_duration: )" + o.backout_duration + R"(
  warn_before_point_of_no_return: )" + o.warn_before_pnr + R"(
  baseline: 3s
contacts:
  deployment_lead: { name: Jane Doe,       chat: "@jane.doe" }
  project_manager: { name: John Smith,     chat: "@john.smith" }
  sponsor:         { name: Sarah Williams, chat: "@sarah.williams" }
  steering_group:  { name: Steering Group, chat: "@steering-group" }
authority:
  critical:      { decides: deployment_lead, notify: [project_manager, sponsor], ack_within: )" +
                     o.critical_ack_within + R"(, escalate_to: project_manager }
  major:         { decides: project_manager, notify: [sponsor],                  ack_within: )" +
                     o.major_ack_within + R"(, escalate_to: sponsor }
  discretionary: { decides: sponsor,         notify: [steering_group] }
sources:
  portal:    { kind: prometheus, url: )" + o.portal + R"(/metrics, every: 250ms, timeout: 2s }
  home_page: { kind: http, url: )" + o.portal + R"(/, every: 250ms, timeout: 3s, expect_status: 200 }
  api:       { kind: http, url: )" + o.portal + R"(/api/health, every: 250ms, timeout: 2s }
)";
  if (o.with_postgres) {
    text += "  portal_db: { kind: postgres, dsn_env: PORTAL_DB_DSN, query: SELECT 1, every: " +
            o.db_every + ", timeout: 1s }\n";
  }
  text += o.extra_sources;
  text += R"(
triggers:
  - id: login_failure_rate
    name: Login failure rate
    measure: ratio(portal.portal_login_failures_total, portal.portal_login_attempts_total)
    over: 10s
    min_count: 20
    when: "> 5%"
    for: 1s
    severity: major
  - id: page_load_time
    name: Page load time
    measure: p95(home_page.duration)
    over: 3s
    when: "> 500ms"
    clear_after: 2s
    severity: major
)";
  if (o.with_postgres) {
    text += R"(  - id: db_connectivity
    name: Database connectivity
    measure: failures(portal_db)
    over: 2s
    when: "> 0"
    clear_after: 2s
    severity: critical
)";
  }
  text += o.extra_triggers;
  text += R"(
notify:
  chat: { kind: slack, url_env: ONCALL_CHAT_WEBHOOK }
)";
  if (o.with_webhook) {
    text += "  webhook: { url_env: GENERIC_WEBHOOK }\n";
  }
  text += "  repeat_every: " + o.repeat_every + "\n  group_wait: " + o.group_wait + R"(
server:
  listen: 127.0.0.1:9750
)";
  if (o.with_token) {
    text += "  token_env: BACKOUT_AGENT_TOKEN\n";
  }
  text += "state_dir: " + o.state_dir + "\n";
  text += o.night;
  return text;
}

}  // namespace backout::testing
