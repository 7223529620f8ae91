// The generic webhook payload: one documented JSON object per page, for scripts, bridges and
// ticketing. Pure; thread-safe. Time: `at` is the page's time; times are RFC 3339 in the
// window's UTC offset.
//
// Schema (version 1; fields are only ever added, never renamed or removed):
//   {
//     "version": 1,
//     "kind": "breach",              // breach | severity_up | repeat | escalation | pnr_warning |
//                                    // eta_passed | resolve | final | act (a person's act)
//     "key": "breach:db_connectivity#1",  // idempotency key of the page, also sent as the
//                                    // Idempotency-Key header: a retried page has the same key
//     "at": "2026-06-07T03:08:00+01:00",
//     "release": {"project": "Customer Portal Enhancement", "release": "2.0"},
//     "recommendation": "backout",   // go | watch | fix_forward | backout
//     "reason": "critical: Database connectivity: 3 failed checks over 1m ...",
//     "severity": "critical",        // highest severity of the page; null when none
//     "triggers": [{                 // the triggers the page is about (final: those still open)
//       "id": "db_connectivity", "name": "Database connectivity",
//       "state": "breached",         // ok | pending | breached | inconclusive
//       "severity": "critical",      // the episode's severity; null when never breached
//       "value": 3,                  // window measure in base units (ratios as fractions,
//                                    // latencies in seconds); null when there is none
//       "value_text": "3",           // as people read it: "7.1%", "2.3s"
//       "threshold": 0,              // null for a baseline threshold not yet known
//       "condition": "> 0", "window": "1m",
//       "path": "average",           // average | early (early detection fired)
//       "evidence": "3 failed checks over 1m (threshold > 0)",
//       "episode": "db_connectivity#1", "opened_at": "...", "resolved_at": null,
//       "acknowledged_at": null, "acknowledged_by": null
//     }],
//     "decides": {"role": "deployment_lead", "title": "Deployment Lead", "name": "Jane Doe",
//                 "chat": "@jane.doe"},     // null when nobody is asked to decide
//     "escalated_from": null,        // escalation: the role that did not acknowledge (same shape)
//     "mention": ["@jane.doe", "@john.smith", "@sarah.williams"],
//     "point_of_no_return": "2026-06-07T04:20:00+01:00",
//     "seconds_to_point_of_no_return": 4320,  // negative once passed
//     "backout_duration_seconds": 6000,
//     "phase": "in_window",          // pre_window | in_window | post_window
//     "title": "BACKOUT recommended — Customer Portal Enhancement 2.0 — critical: ...",
//     "text": "the whole chat message as plain text, one line per line",
//     "night": null                  // final only: {"breaches", "by_severity": {...}, "pages",
//                                    // "acknowledged", "fix_forwards", "decisions": [{"kind",
//                                    // "by", "at", "note"}]}
//   }
// Nothing secret is in it: the webhook URL itself is the only secret and stays in the channel.
#pragma once

#include <string>

#include "backout/alerting/channel.h"

namespace backout::alerting {

std::string webhook_payload(const MessageContext& ctx);

}  // namespace backout::alerting
