// The generic webhook channel: webhook_payload.h (the documented JSON) posted to the URL,
// with the message key as Idempotency-Key. See http/webhook_post_channel.h.
#pragma once

#include <memory>

#include "channel_setup.h"

namespace backout::alerting {

/// The `webhook` kind: a notify entry's keys.
KindSpec webhook_spec();
Result<std::unique_ptr<Channel>> make_webhook_channel(const ChannelSetup& setup);

}  // namespace backout::alerting
