// The Slack incoming-webhook payload of a message, also accepted by Mattermost and Rocket.Chat
// incoming webhooks. Pure; thread-safe; no time of its own (the message carries it).
//
//   {"text": "<the whole message in mrkdwn>",
//    "blocks": [{"type": "header", ...plain_text title},
//               {"type": "section", "text": {"type": "mrkdwn", "text": "<body>"}},
//               {"type": "context", "elements": [{"type": "mrkdwn", "text": "<how to ack>"}]}]}
//
// `text` is readable on its own: Mattermost and Rocket.Chat show only it, Slack uses it for
// notifications. `&`, `<` and `>` are escaped as Slack requires (Mattermost's Markdown decodes
// the entities back); bold is `*...*`, which Mattermost shows in italics. Mentions: Slack notifies
// only on `<@U024BE7LH>` (write that as the contact's chat handle; it is passed through as is);
// Mattermost and Rocket.Chat notify on `@name`. Limits respected: header 150 characters, section
// 3000, text 3000 (longer ones are cut with an ellipsis).
#pragma once

#include <string>

#include "backout/alerting/chat_message.h"

namespace backout::alerting {

/// The mrkdwn text of the whole message (the payload's `text`).
std::string slack_text(const ChatMessage& m);

/// The JSON payload: `text` plus Block Kit `blocks`.
std::string slack_payload(const ChatMessage& m);

}  // namespace backout::alerting
