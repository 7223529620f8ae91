// The catalog of source kinds the agent knows: each kind's option schema and the series it
// exposes. The plan loader validates sources against it. Pure data; thread-safe.
#pragma once

#include <vector>

#include "backout/core/source_options.h"

namespace backout::collectors {

/// Specs of every built-in source kind, one per collector folder, in a stable order.
const std::vector<SourceKindSpec>& builtin_source_kinds();

}  // namespace backout::collectors
