// What the dispatcher reports becomes the agent's record: a timeline `notify` event for each
// delivery, each message's first failed attempt and each drop; the notification and outbox
// metrics; and one log line per attempt that says what to check.
//
// Thread-safety: called from the dispatcher's workers; Timeline and AgentMetrics are
// thread-safe.
#pragma once

#include <chrono>

#include "app/metrics/agent_metrics.h"
#include "app/record/timeline.h"
#include "backout/alerting/dispatcher.h"

namespace backout::agent {

class DeliveryRecorder final : public alerting::DeliveryObserver {
 public:
  /// `offset` is the agent's UTC offset for the timeline's local times.
  DeliveryRecorder(AgentMetrics& metrics, Timeline& timeline, std::chrono::minutes offset)
      : metrics_(metrics), timeline_(timeline), offset_(offset) {}

  void on_attempt(const alerting::DeliveryReport& report) override;
  void on_backlog(const std::string& channel, const alerting::OutboxStats& stats) override;
  void on_duplicate(const std::string& channel, const std::string& key) override;

 private:
  AgentMetrics& metrics_;
  Timeline& timeline_;
  std::chrono::minutes offset_;
};

}  // namespace backout::agent
