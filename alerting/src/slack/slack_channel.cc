#include "slack/slack_channel.h"

#include "backout/alerting/chat_message.h"
#include "backout/alerting/slack_payload.h"

namespace backout::alerting {

SlackChannel::SlackChannel(net::HttpClient& http, std::string name, http::JsonPost target)
    : http_(&http), name_(std::move(name)), target_(std::move(target)) {}

// Chat is the team's shared view of the night: it gets every page, minor ones and the final too.
bool SlackChannel::wants(const rules::Page& page) const {
  (void)page;
  return true;
}

std::string SlackChannel::render(const MessageContext& ctx) const {
  return slack_payload(compose_message(ctx));
}

void SlackChannel::deliver(const std::string& payload, const std::string& key,
                           std::function<void(DeliveryResult)> done) {
  (void)key;  // Slack has no idempotency header; the outbox never re-sends a delivered key
  http::post_json(*http_, target_, payload, std::move(done));
}

Result<std::unique_ptr<Channel>> make_slack_channel(const ChannelSetup& setup) {
  Result<std::string> url = webhook_url(setup);
  if (!url.ok()) {
    return Error{url.error()};
  }
  http::JsonPost target{std::move(url).value(), {}, setup.options.timeout};
  return std::unique_ptr<Channel>(
      std::make_unique<SlackChannel>(setup.http, setup.label("chat"), std::move(target)));
}

}  // namespace backout::alerting
