// The Microsoft Teams incoming-webhook payload of a message: a message with one Adaptive Card
// attachment. Works with the classic Office 365 connector webhooks and with Workflows ("post to a
// channel when a webhook request is received"). Pure; thread-safe; no time of its own.
//
//   {"type": "message",
//    "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": null,
//      "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
//        "type": "AdaptiveCard", "version": "1.4",
//        "body": [TextBlock title (coloured by tone), TextBlock per body line,
//                 FactSet {Value, Threshold, Decides, Point of no return, ...}, TextBlock hint],
//        "msteams": {"width": "Full", "entities": [mentions]}}}]}
//
// Mentions: Teams notifies only through `<at>Name</at>` with an entity naming the user by UPN or
// Azure AD object id, so a chat handle that looks like a UPN (jane.doe@example.com) becomes a
// real mention; other handles (@jane.doe) are shown as text. The card stays far below the 28 KB
// webhook limit (long reasons are cut).
#pragma once

#include <string>

#include "backout/alerting/chat_message.h"

namespace backout::alerting {

std::string teams_payload(const ChatMessage& m);

}  // namespace backout::alerting
