// The plan's semantic warnings: choices that load and run but are probably not what the team
// meant (a `for` longer than its own window, a ratio without min_count, an escalation to the
// deciding role itself, a trigger that cannot confirm a fault before the point of no return,
// backout steps that do not add up to the window's backout_duration).
// The loader reports errors while it reads the file and lint() judges the typed plan alone, so
// that any plan (a loaded one, a test's, a reloaded one) is judged by the same rules. The loader
// also lints what it could read of a plan with errors, so that one `check` shows both. Pure: a
// function of the plan; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "backout/rules/plan.h"

namespace backout::rules {

struct LintFinding {
  /// The key the finding is about, as a path into the plan file: "window.end",
  /// "triggers.error_rate.for", "authority.critical.ack_within", "backout.steps",
  /// "notify.group_wait". The
  /// loader shows the finding at that key (at its trigger or section when it has no position
  /// for the key itself).
  std::string key;
  /// The message, starting with the key as the plan's diagnostics name it:
  /// "triggers.error_rate.for: 10m is longer than over (5m); ...".
  std::string message;

  bool operator==(const LintFinding&) const = default;
};

/// The findings, in plan order: window, authority, triggers (in the plan's order), backout,
/// notify, server. `window_known` false: the plan's window is not valid (a plan being loaded whose
/// window has errors), so nothing that depends on it is judged.
std::vector<LintFinding> lint(const Plan& plan, bool window_known = true);

}  // namespace backout::rules
