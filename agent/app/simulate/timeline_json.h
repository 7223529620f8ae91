// The JSON lines of the decision timeline (`simulate` output, DESIGN section 3): the record's
// tick events (app/record/timeline_event.h) in its `simulate` encoding:
//   {"at": RFC3339, "kind": "trigger", "trigger": ID, "state": STATE, "severity": SEV, "value": X}
//   {"at": RFC3339, "kind": "recommendation", "recommendation": REC, "reason": TEXT}
//   {"at": RFC3339, "kind": "notify", "trigger": ID, "decides": ROLE, "mention": [handles...]}
// Extra keys: "path" ("early" or "average") on a breach, "reason" on an inconclusive trigger,
// "page" (breach, repeat, escalation, pnr_warning, eta_passed, resolve, final) on a notify.
// Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "backout/rules/watch.h"

namespace backout::agent {

/// One line per change of this tick, in order: triggers, recommendation, pages.
std::vector<std::string> timeline_lines(const rules::Plan& plan, const rules::TickResult& tick);

}  // namespace backout::agent
