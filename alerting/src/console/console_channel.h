// The `console` channel kind: each page as the words a person reads in chat (plain text, no
// markup, no JSON), appended to a file or written to the agent's standard output. For a first
// run, a rehearsal on a laptop, or a log of every message next to the real chat:
//   notify:
//     console: { path: /var/log/backout-agent/messages.txt }   # or path: "-" (stdout)
//
// Each message is a block: a header line with the page's time, kind and key, the message's
// lines, and a blank line, written with one write(2) on an O_APPEND descriptor (two writers
// never interleave). A write that fails (a full disk, a closed file) is retried like a failed
// webhook; a message the disk cut short is written again whole on the retry.
//
// Thread-safety: render() is pure; deliver() is called one at a time (the outbox worker) and
// calls `done` before it returns. Time: the page's.
#pragma once

#include <memory>

#include "backout/alerting/channel.h"
#include "channel_setup.h"

namespace backout::alerting {

KindSpec console_spec();
Result<std::unique_ptr<Channel>> make_console_channel(const ChannelSetup& setup);

/// The text render() writes for a page (also what `simulate` or a test may show).
std::string console_text(const MessageContext& ctx);

}  // namespace backout::alerting
