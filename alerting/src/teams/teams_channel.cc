#include "teams/teams_channel.h"

#include "backout/alerting/chat_message.h"
#include "backout/alerting/teams_payload.h"
#include "http/webhook_post_channel.h"

namespace backout::alerting {

KindSpec teams_spec() {
  return {.kind = "teams",
          .summary = "Microsoft Teams incoming webhook",
          .secrets = {webhook_url_secret()},
          .chat = true};
}

Result<std::unique_ptr<Channel>> make_teams_channel(const ChannelSetup& setup) {
  return make_webhook_post_channel(
      setup,
      {.default_name = "chat",
       .render = [](const MessageContext& ctx) { return teams_payload(compose_message(ctx)); },
       .idempotency_header = false});
}

}  // namespace backout::alerting
