#include "app/runtime/delivery_recorder.h"

#include <spdlog/spdlog.h>

#include "backout/core/time.h"

namespace backout::agent {

using Outcome = alerting::DeliveryReport::Outcome;

void DeliveryRecorder::on_attempt(const alerting::DeliveryReport& r) {
  auto event = [&](record::Delivery::Outcome outcome) {
    timeline_.append(
        {{r.at, offset_}, record::Delivery{r.channel, r.key, outcome, r.attempt, r.detail}});
  };
  switch (r.outcome) {
    case Outcome::kDelivered:
      metrics_.on_notification(r.channel, "delivered");
      event(record::Delivery::Outcome::kDelivered);
      spdlog::info("delivered {} to {} ({}) in {}, {} after it was decided", r.key, r.channel,
                   r.detail, format_latency(r.took), format_latency(r.since_decided));
      break;
    case Outcome::kRetry:
      metrics_.on_notification(r.channel, "retry");
      spdlog::warn("delivering {} to {} failed ({}); retrying in {} (attempt {})", r.key,
                   r.channel, r.detail, format_span(r.retry_in), r.attempt + 1);
      if (r.attempt == 1) {
        event(record::Delivery::Outcome::kRetry);
      }
      break;
    case Outcome::kDropped:
      metrics_.on_notification(r.channel, "dropped");
      metrics_.on_error("notification_dropped");
      event(record::Delivery::Outcome::kDropped);
      spdlog::error("{} refused {} for good ({}); check the channel's configuration", r.channel,
                    r.key, r.detail);
      break;
  }
}

void DeliveryRecorder::on_backlog(const std::string& channel,
                                  const alerting::OutboxStats& stats) {
  metrics_.set_outbox(channel, static_cast<double>(stats.depth), to_seconds(stats.oldest_age));
}

void DeliveryRecorder::on_duplicate(const std::string& channel, const std::string& key) {
  spdlog::info("page {} for {} is already in the outbox; not sent twice", key, channel);
}

}  // namespace backout::agent
