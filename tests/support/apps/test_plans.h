// Plans for end-to-end tests of the real agent: the reference plan's shape (contacts, authority,
// a portal on the PortalApp stand-in, a PostgreSQL source, three triggers) with the timings a
// test needs (a window opening a few seconds from now, short acknowledgement and repeat
// intervals, a reachable point of no return). Pure text generation; thread-safe. Time: the
// window start is read from the system clock once, when the text is made, so a test writes the
// plan once and restarts the agent on the same file (the state store belongs to one window).
#pragma once

#include <chrono>
#include <string>

namespace backout::testing {

struct TestPlanOptions {
  std::string portal;     // base URL of the PortalApp ("http://127.0.0.1:PORT")
  std::string state_dir;  // the agent's state_dir
  std::string extra_sources;   // YAML lines appended to sources:
  std::string extra_triggers;  // YAML list items appended to triggers:
  /// The window opens this long after the text is made.
  std::chrono::seconds start_in{3};
  /// Durations as the plan writes them.
  std::string window_length = "4h";
  std::string backout_duration = "100m";
  std::string warn_before_pnr = "15m";
  std::string critical_ack_within = "5m";
  std::string major_ack_within = "10m";
  std::string repeat_every = "10m";
  std::string group_wait = "500ms";
  /// The portal_db source (PostgreSQL, dsn from $PORTAL_DB_DSN) and its db_connectivity trigger.
  bool with_postgres = true;
  /// How often portal_db is checked.
  std::string db_every = "250ms";
  /// server.token_env: BACKOUT_AGENT_TOKEN; false leaves POSTs disabled.
  bool with_token = true;
  /// notify.webhook from $GENERIC_WEBHOOK (the generic payload, with each page's key).
  bool with_webhook = false;
  /// Top-level YAML appended as it is (the night's `deployment` and `backout`).
  std::string night;
};

/// The plan's YAML. Chat is Slack-shaped, from $ONCALL_CHAT_WEBHOOK.
std::string agent_plan_text(const TestPlanOptions& options);

}  // namespace backout::testing
