#include "teams/teams_channel.h"

#include "backout/alerting/chat_message.h"
#include "backout/alerting/teams_payload.h"

namespace backout::alerting {

TeamsChannel::TeamsChannel(net::HttpClient& http, std::string name, http::JsonPost target)
    : http_(&http), name_(std::move(name)), target_(std::move(target)) {}

// Chat is the team's shared view of the night: it gets every page, minor ones and the final too.
bool TeamsChannel::wants(const rules::Page& page) const {
  (void)page;
  return true;
}

std::string TeamsChannel::render(const MessageContext& ctx) const {
  return teams_payload(compose_message(ctx));
}

void TeamsChannel::deliver(const std::string& payload, const std::string& key,
                           std::function<void(DeliveryResult)> done) {
  (void)key;  // Teams has no idempotency header; the outbox never re-sends a delivered key
  http::post_json(*http_, target_, payload, std::move(done));
}

Result<std::unique_ptr<Channel>> make_teams_channel(const ChannelSetup& setup) {
  Result<std::string> url = webhook_url(setup);
  if (!url.ok()) {
    return Error{url.error()};
  }
  http::JsonPost target{std::move(url).value(), {}, setup.options.timeout};
  return std::unique_ptr<Channel>(
      std::make_unique<TeamsChannel>(setup.http, setup.label("chat"), std::move(target)));
}

}  // namespace backout::alerting
