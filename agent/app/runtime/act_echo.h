// The message a person's act is echoed to the channels with: chat shows who did what ("decision
// backout by @sarah.williams: ..."), and an acknowledgement also reaches the channels that take
// one (PagerDuty's acknowledge event for the episodes it names). Pure: what the act was, the
// watch as the act left it and the time; the runtime hands the result to the dispatcher.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "app/record/timeline_event.h"
#include "backout/rules/watch.h"

namespace backout::agent {

struct ActEcho {
  rules::Page page;  // kind kAct, posted: it pages nobody
  /// An acknowledgement: the key of its acknowledge message ("ack:" + the open episodes' keys),
  /// sent besides the page.
  std::optional<std::string> acknowledgement;
};

/// The echo of `event` (an ack, fix-forward, decision, raise or clear), nullopt for any other
/// kind. `seq` makes the page's key unique among acts at the same instant.
std::optional<ActEcho> act_echo(const record::TimelineEvent& event, const rules::Watch& watch,
                                TimePoint now, std::uint64_t seq);

}  // namespace backout::agent
