// The generic webhook channel: renders webhook_payload.h (a documented JSON object per page) and
// posts it with an Idempotency-Key header so that receivers can drop a retried page. Immutable
// once built; thread-safe as Channel says. Time: none of its own.
#pragma once

#include <memory>
#include <string>

#include "channel_setup.h"
#include "http/json_post.h"

namespace backout::alerting {

class WebhookChannel final : public Channel {
 public:
  WebhookChannel(net::HttpClient& http, std::string name, http::JsonPost target);

  std::string name() const override { return name_; }
  bool wants(const rules::Page& page) const override;
  std::string render(const MessageContext& ctx) const override;
  void deliver(const std::string& payload, const std::string& key,
               std::function<void(DeliveryResult)> done) override;

 private:
  net::HttpClient* http_;
  std::string name_;
  http::JsonPost target_;
};

Result<std::unique_ptr<Channel>> make_webhook_channel(const ChannelSetup& setup);

}  // namespace backout::alerting
