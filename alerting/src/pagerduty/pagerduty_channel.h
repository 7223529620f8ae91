// The PagerDuty Events API v2 channel: renders pagerduty_payload.h without the routing key and
// adds the key (a secret) when it posts, one event after the other. Immutable once built;
// thread-safe as Channel says. Time: none of its own.
#pragma once

#include <memory>
#include <string>

#include "backout/alerting/pagerduty_payload.h"
#include "channel_setup.h"
#include "http/json_post.h"

namespace backout::alerting {

class PagerDutyChannel final : public Channel {
 public:
  static constexpr std::string_view kEventsUrl = "https://events.pagerduty.com/v2/enqueue";

  PagerDutyChannel(net::HttpClient& http, std::string name, http::JsonPost target,
                   std::string routing_key, std::string client_url);

  std::string name() const override { return name_; }
  bool wants(const rules::Page& page) const override;
  std::string render(const MessageContext& ctx) const override;
  void deliver(const std::string& payload, const std::string& key,
               std::function<void(DeliveryResult)> done) override;
  std::optional<std::string> render_acknowledgement(const MessageContext& ctx) const override;

 private:
  net::HttpClient* http_;
  std::string name_;
  http::JsonPost target_;
  std::string routing_key_;
  PagerDutyOptions render_options_;  // without the routing key: the outbox stores the payload
};

/// The `pagerduty` kind: a notify entry's keys.
KindSpec pagerduty_spec();
Result<std::unique_ptr<Channel>> make_pagerduty_channel(const ChannelSetup& setup);

}  // namespace backout::alerting
