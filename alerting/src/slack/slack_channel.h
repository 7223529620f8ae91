// The Slack-compatible chat channel (Slack, Mattermost, Rocket.Chat incoming webhooks):
// slack_payload.h posted to the webhook URL. See http/webhook_post_channel.h.
#pragma once

#include <memory>

#include "channel_setup.h"

namespace backout::alerting {

/// The `slack` kind: a notify entry's keys.
KindSpec slack_spec();
Result<std::unique_ptr<Channel>> make_slack_channel(const ChannelSetup& setup);

}  // namespace backout::alerting
