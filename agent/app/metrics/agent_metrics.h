// The agent's /metrics: a prometheus-cpp core registry with the names DESIGN section 6 pins,
// served as text by the agent's own HTTP server. Thread-safe (prometheus-cpp metrics are).
//
// Pinned: backout_trigger_value{trigger}, backout_trigger_threshold{trigger,severity},
// backout_trigger_state{trigger,state} (1 for the current state), backout_recommendation
// {recommendation} (1 for the current one), backout_point_of_no_return_timestamp_seconds,
// backout_source_up{source}, backout_source_scrape_duration_seconds{source},
// backout_notifications_total{channel,outcome}, backout_evaluation_duration_seconds; plus
// process metrics and the agent's own failure counters (every runtime failure shows here).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backout/core/time.h"
#include "backout/rules/plan.h"
#include "backout/rules/watch.h"

namespace prometheus {
class Registry;
class Gauge;
class Counter;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace backout::agent {

class AgentMetrics {
 public:
  explicit AgentMetrics(const rules::Plan& plan);
  ~AgentMetrics();

  /// After each tick (under the watch's lock): trigger values, thresholds, states,
  /// recommendation, phase.
  void on_tick(const rules::Watch& watch, Duration evaluation_time);
  /// After each scrape or probe.
  void on_attempt(const std::string& source, bool up, Duration duration, std::uint64_t malformed,
                  std::uint64_t dropped);
  /// Datagrams of a push source's StatsD socket that the kernel dropped (a full receive queue).
  void on_lost(const std::string& source, std::uint64_t datagrams);
  /// Delivery outcomes: delivered, retry, dropped, failed.
  void on_notification(const std::string& channel, const std::string& outcome);
  /// The outbox (issue: durable paging): messages waiting and the age of the oldest, per channel.
  void set_outbox(const std::string& channel, double depth, double oldest_age_seconds);
  /// What the state store has not taken yet (outbox changes, timeline events held in memory).
  void set_unsaved(double outbox_changes, double timeline_events);
  /// A runtime failure the agent survived (kind: "state_store", "tick_overrun", ...).
  void on_error(const std::string& kind);
  /// HTTP server counters (backout_http_server{stat}), as (stat, value) pairs.
  void set_http(const std::vector<std::pair<std::string, double>>& stats);
  /// A wall-clock step: backout_clock_steps_total{outcome} (detected, applied, reverted).
  void on_clock_step(std::string_view outcome);
  /// backout_clock_offset_seconds: the wall clock minus the agent's clock (non-zero while a
  /// detected step waits to be taken).
  void set_clock_offset(double seconds);

  /// The text exposition format (with process metrics refreshed).
  std::string serialize() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Process metrics from /proc/self: CPU seconds, resident and virtual memory, open fds, start.
struct ProcessStats {
  double cpu_seconds = 0;
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double open_fds = 0;
  double max_fds = 0;
  double start_time_seconds = 0;
};
ProcessStats read_process_stats();

}  // namespace backout::agent
