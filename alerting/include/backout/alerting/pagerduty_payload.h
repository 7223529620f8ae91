// PagerDuty Events API v2 payloads (POST https://events.pagerduty.com/v2/enqueue). Pure;
// thread-safe. Time: `timestamp` is the page's time; nothing reads a clock.
//
//   {"routing_key": "<integration key>",    // only when given: see below
//    "event_action": "trigger",             // trigger | acknowledge | resolve
//    "dedup_key": "db_connectivity#1",      // the episode key: repeats, escalations and restarts
//                                           // update one incident instead of opening another
//    "client": "backout-agent", "client_url": "...",   // client_url only when a link is set
//    "payload": {"summary": "<= 1024 characters", "source": "Customer Portal Enhancement 2.0",
//                "severity": "critical",    // critical -> critical, major -> error,
//                                           // discretionary -> warning, minor -> info
//                "timestamp": "2026-06-07T03:08:00+01:00", "component": "portal_db",
//                "group": "Customer Portal Enhancement", "class": "db_connectivity",
//                "custom_details": {"recommendation", "reason", "evidence", "value", "threshold",
//                                   "decides", "mention", "point_of_no_return", "page", "phase"}}}
// acknowledge and resolve events carry only routing_key, event_action and dedup_key.
//
// One event per episode: a page about one trigger is one event object; a page about several is a
// JSON array of events, which the channel posts one after the other (each is idempotent by its
// dedup_key, so retrying the whole array is safe). The routing key is a secret: the payload the
// outbox stores leaves it out and the channel adds it when posting.
#pragma once

#include <string>
#include <string_view>

#include "backout/alerting/channel.h"

namespace backout::alerting {

struct PagerDutyOptions {
  std::string routing_key;  // empty: left out (the stored payload)
  std::string client_url;   // empty: left out
};

/// PagerDuty pages people, so it skips minor breaches (and their resolves) and the final message.
bool pagerduty_wants(const rules::Page& page);

/// PagerDuty's severity for ours.
std::string_view pagerduty_severity(rules::Severity s);

/// The trigger (or resolve) event(s) of `ctx.page`.
std::string pagerduty_payload(const MessageContext& ctx, const PagerDutyOptions& options);

/// The acknowledge event(s) for the acknowledged episodes of `ctx.page.triggers`; nullopt when
/// none of them is acknowledged.
std::optional<std::string> pagerduty_acknowledge_payload(const MessageContext& ctx,
                                                         const PagerDutyOptions& options);

/// Adds `routing_key` to every event of a stored payload (one object or an array); returns the
/// bodies to post in order, or an error for a payload that is not such JSON.
Result<std::vector<std::string>> pagerduty_bodies(std::string_view payload,
                                                  const std::string& routing_key);

}  // namespace backout::alerting
