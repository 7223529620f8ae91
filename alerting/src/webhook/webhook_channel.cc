#include "webhook/webhook_channel.h"

#include "backout/alerting/webhook_payload.h"
#include "http/webhook_post_channel.h"

namespace backout::alerting {

KindSpec webhook_spec() {
  return {.kind = "webhook",
          .summary = "generic JSON webhook (each page with its key)",
          .secrets = {webhook_url_secret()},
          .chat = true};
}

Result<std::unique_ptr<Channel>> make_webhook_channel(const ChannelSetup& setup) {
  return make_webhook_post_channel(
      setup, {.default_name = "webhook",
              .render = [](const MessageContext& ctx) { return webhook_payload(ctx); },
              .idempotency_header = true});
}

}  // namespace backout::alerting
