// The Microsoft Teams chat channel (incoming webhook or Workflows webhook): teams_payload.h
// posted to the webhook URL. See http/webhook_post_channel.h.
#pragma once

#include <memory>

#include "channel_setup.h"

namespace backout::alerting {

/// The `teams` kind: a notify entry's keys.
KindSpec teams_spec();
Result<std::unique_ptr<Channel>> make_teams_channel(const ChannelSetup& setup);

}  // namespace backout::alerting
