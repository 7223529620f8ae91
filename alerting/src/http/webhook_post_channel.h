// The channels that render each page to one JSON document and POST it to one webhook URL:
// Slack-compatible chat (Slack, Mattermost, Rocket.Chat), Microsoft Teams and the generic
// webhook. They differ only in the renderer, their default name and whether the message's
// idempotency key is sent (`Idempotency-Key` header); each kind's folder builds one with its own.
// Every such channel wants every page: chat is the team's shared view of the night (minor pages
// and the final message too), and a webhook consumer filters for itself.
// Immutable once built; thread-safe as Channel says. Time: none of its own (the page's time is
// in the context; the timeout is per attempt).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "channel_setup.h"
#include "http/json_post.h"

namespace backout::alerting {

struct WebhookPostStyle {
  std::string_view default_name;  // the channel's name when the plan gives none ("chat")
  std::string (*render)(const MessageContext& ctx) = nullptr;
  bool idempotency_header = false;  // send the message key as `Idempotency-Key`
};

class WebhookPostChannel final : public Channel {
 public:
  WebhookPostChannel(net::HttpClient& http, std::string name, http::JsonPost target,
                     WebhookPostStyle style);

  std::string name() const override { return name_; }
  bool wants(const rules::Page& page) const override;
  std::string render(const MessageContext& ctx) const override;
  void deliver(const std::string& payload, const std::string& key,
               std::function<void(DeliveryResult)> done) override;

 private:
  net::HttpClient* http_;
  std::string name_;
  http::JsonPost target_;
  WebhookPostStyle style_;
};

/// A WebhookPostChannel on the setup's webhook URL (url_env / url_file) and timeout.
Result<std::unique_ptr<Channel>> make_webhook_post_channel(const ChannelSetup& setup,
                                                           WebhookPostStyle style);

}  // namespace backout::alerting
