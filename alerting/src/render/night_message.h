// The messages of the night (DESIGN section 9): a phase beginning, go-live overdue, a backout
// step for its owner (action, planned time, how to verify, the owner's phone, the projected end
// of the backout and its margin to the window's end), a step running late, a projection past
// the window, a step's check, and the reversal verified or incomplete. Pure; thread-safe.
//
// E.g. step 5 of the night plan started at 03:27 (backout decided 03:10):
//   :large_orange_circle: *Backout step 5 of 11: Restore database* — Customer Portal ...
//   @mike.brown (DBA), phone xxx-xxxx: restore database, planned 30m; verify: DB restored.
//   Projected end of the backout 04:52, 1h08m before the window ends at 06:00.
//   When done: `backout-agent done restore_db --by @you` (or --failed).
#pragma once

#include "backout/alerting/chat_message.h"

namespace backout::alerting::render {

/// Whether `kind` is one of the night's pages (rules::PageKind::kPhase and after).
bool is_night(rules::PageKind kind);

/// The message of a night page. `ctx.plan` must be set.
ChatMessage compose_night(const MessageContext& ctx);

}  // namespace backout::alerting::render
