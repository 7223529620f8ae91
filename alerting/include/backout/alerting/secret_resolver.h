// Reads secrets (webhook URLs, routing keys) from where the plan says they are: an environment
// variable or a file. Thread-safe (reads the environment and the file system; no caching).
// Time: none. Errors name the variable or the file, never a value.
#pragma once

#include <string>

#include "backout/core/result.h"
#include "backout/core/kind_spec.h"

namespace backout::alerting {

/// The secret's value: the variable's value, or the file's content without its trailing newline.
/// Fails on an unset or empty variable and on an unreadable or empty file.
Result<std::string> resolve_secret(const SecretRef& ref);

}  // namespace backout::alerting
