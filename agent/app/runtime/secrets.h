// The agent's secret resolution: alerting::resolve_secret plus the key it is for and how to fix it.
// Stateless; thread-safe. Values are never logged.
#pragma once

#include <string>

#include "backout/core/result.h"
#include "backout/core/kind_spec.h"

namespace backout::agent {

/// The value of an environment variable (must be set and non-empty) or of a file (trailing
/// newlines removed). `what` names the key in errors: "sources.portal_db.dsn_env".
Result<std::string> resolve_secret(const SecretRef& ref, const std::string& what = "");

}  // namespace backout::agent
