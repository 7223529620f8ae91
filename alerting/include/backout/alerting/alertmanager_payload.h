// The Alertmanager API v2 payload (POST /api/v2/alerts): one alert per trigger of a page, so that
// Alertmanager's routing, grouping, inhibition, silences and receivers take it from there.
// Pure; thread-safe. Time: startsAt is when the episode opened, endsAt is computed from the
// page's time (ctx.now); nothing reads a clock.
//
//   [{"labels": {"alertname": "BackoutTrigger", "trigger": "db_connectivity",
//                "severity": "critical", "release": "2.0",
//                "project": "Customer Portal Enhancement"},
//     "annotations": {"summary": "BACKOUT — Customer Portal Enhancement 2.0 — critical: ...",
//                     "description": "3 failed checks over 1m (threshold > 0)",  // evidence
//                     "recommendation": "backout", "reason": "<the decision's reason>",
//                     "decides": "@jane.doe (Deployment Lead)", "episode": "db_connectivity#1",
//                     "value": "3", "threshold": "> 0", "point_of_no_return": "04:20"},
//     "startsAt": "2026-06-07T03:08:00+01:00",
//     "endsAt": "2026-06-07T03:13:00+01:00",      // firing: page time + ttl
//     "generatorURL": "..."}]                       // only when ChannelOptions::link is set
//
// Firing and resolving. A firing alert's endsAt is the page time plus `ttl` (5m): if the agent
// dies, Alertmanager resolves the alert by itself instead of keeping a stale page open. The
// notifier therefore re-posts the open episodes' alerts more often than `ttl` (render the last
// page again with a fresh ctx.now: the payload is idempotent); a resolve page posts endsAt = the
// resolve time. Labels carry no values, so every post of one trigger at one severity is the
// same alert. When a trigger's severity changes, the post also resolves the trigger's other
// severities (alerts with endsAt = the page time), so exactly one severity of a trigger fires;
// a resolved alert that never fired is never notified by Alertmanager.
//
// High availability. Run two agents with the same plan and point both at the same Alertmanager
// (or at every peer of an Alertmanager cluster). Both post identical label sets; Alertmanager
// identifies an alert by its labels, so it keeps one alert, takes the earliest startsAt and the
// latest post's annotations and endsAt, and notifies once. If one agent dies its posts stop and
// the other's keep the alert firing; if both die the alert resolves after `ttl`. (Chat, webhook
// and PagerDuty posts are not deduplicated across agents; route paging through Alertmanager when
// two agents run.)
#pragma once

#include <string>
#include <vector>

#include "backout/alerting/channel.h"

namespace backout::alerting {

struct AlertmanagerOptions {
  Duration ttl = std::chrono::minutes{5};  // endsAt of a firing alert = ctx.now + ttl
  std::string generator_url;               // empty: no generatorURL
};

/// Whether Alertmanager gets this page: every page about triggers, not the final message.
bool alertmanager_wants(const rules::Page& page);

/// The JSON array of alerts for `ctx.page`.
std::string alertmanager_payload(const MessageContext& ctx, const AlertmanagerOptions& options);

/// How often the open episodes are posted again: well inside the default `ttl`.
inline constexpr Duration kAlertmanagerRepostEvery = std::chrono::minutes{1};

/// The re-post policy above, at `now`: one repeat page for each open episode that was paged,
/// carrying the decision's recommendation and reason, keyed "refresh:EPISODE:NOW" (each re-post
/// is its own message, deduplicated by Alertmanager through its labels). Empty when none is open.
std::vector<rules::Page> alertmanager_reposts(const std::vector<rules::Episode>& episodes,
                                              const rules::DecisionOutput& decision,
                                              TimePoint now);

}  // namespace backout::alerting
