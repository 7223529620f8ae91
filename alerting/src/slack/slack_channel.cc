#include "slack/slack_channel.h"

#include "backout/alerting/chat_message.h"
#include "backout/alerting/slack_payload.h"
#include "http/webhook_post_channel.h"

namespace backout::alerting {

KindSpec slack_spec() {
  return {.kind = "slack",
          .summary = "Slack-compatible chat webhook (Slack, Mattermost, Rocket.Chat)",
          .secrets = {webhook_url_secret()},
          .chat = true};
}

Result<std::unique_ptr<Channel>> make_slack_channel(const ChannelSetup& setup) {
  return make_webhook_post_channel(
      setup,
      {.default_name = "chat",
       .render = [](const MessageContext& ctx) { return slack_payload(compose_message(ctx)); },
       .idempotency_header = false});
}

}  // namespace backout::alerting
