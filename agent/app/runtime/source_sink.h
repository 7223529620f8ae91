// The sink each collector writes to: samples go to the watch's router, and each attempt's outcome
// to metrics, the source table, the timeline and the log. Called on the collector's strand only.
// When the source goes down (or comes back), `on_change` asks for an evaluation now rather than
// at the next tick. Time: `clock` is read once per attempt.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "app/metrics/agent_metrics.h"
#include "app/record/timeline.h"
#include "app/runtime/source_status.h"
#include "backout/collectors/collector.h"
#include "backout/core/clock.h"
#include "backout/rules/watch.h"

namespace backout::agent {

/// Delivers a collector's samples to the watch's router and its outcome to metrics, the source
/// table, the timeline and the log. Called on the collector's strand only. When the source goes
/// down (or comes back), `on_change` asks for an evaluation now rather than at the next tick.
class SourceSink final : public collectors::SampleSink {
 public:
  /// `complete_batches`: each successful attempt carries every series of the source (a scrape or
  /// probe, the kinds with `up`), so a series absent from one is stale at once; otherwise
  /// (push, logs) a gauge series is stale after its window's length without a batch.
  SourceSink(std::string id, rules::SourceRouter* router, SourceStatusTable& table,
             AgentMetrics& metrics, std::function<Timeline&()> timeline, const Clock& clock,
             std::chrono::minutes offset, bool complete_batches, std::function<void()> on_change)
      : id_(std::move(id)),
        complete_batches_(complete_batches),
        router_(router),
        table_(table),
        metrics_(metrics),
        timeline_(std::move(timeline)),
        clock_(clock),
        offset_(offset),
        on_change_(std::move(on_change)),
        refused_seen_(router != nullptr ? router->refused() : 0) {}

  void record(const std::string& metric, const Labels& labels, double value) override {
    router_->record(metric, labels, value);
  }

  void end_attempt(const collectors::AttemptOutcome& o) override;

 private:
  std::string id_;
  bool complete_batches_;
  rules::SourceRouter* router_;
  SourceStatusTable& table_;
  AgentMetrics& metrics_;
  std::function<Timeline&()> timeline_;  // the store's, opened after the sinks are made
  const Clock& clock_;
  std::chrono::minutes offset_;
  std::function<void()> on_change_;
  int malformed_logged_ = 0;
  std::uint64_t refused_seen_ = 0;
  std::uint64_t lost_ = 0;          // StatsD datagrams the kernel dropped, in all
  std::uint64_t lost_reports_ = 0;  // attempts that reported some
  std::uint64_t refusal_reports_ = 0;
};

}  // namespace backout::agent
