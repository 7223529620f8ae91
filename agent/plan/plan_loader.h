// The plan loader: YAML text -> typed, immutable rules::Plan, with every problem reported as
// `FILE:LINE:COL: error: key: message` (and doubtful choices as warnings). Nothing after loading
// re-validates the plan. Stateless functions; thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backout/core/kind_spec.h"
#include "backout/rules/plan.h"
#include "plan/diagnostics.h"

namespace backout::plan {

struct LoadResult {
  std::optional<rules::Plan> plan;       // set when there is no error
  std::vector<Diagnostic> diagnostics;   // errors and warnings, in file order

  bool ok() const { return plan.has_value(); }
  std::size_t errors() const;
  std::size_t warnings() const;
};

/// Loads and validates a plan from text; `path` names it in diagnostics. `kinds` are the source
/// and channel kinds known to this build (app/kinds: builtin_kinds().catalog()).
LoadResult load_plan_text(std::string_view text, const std::string& path,
                          const KindCatalog& kinds);

/// Reads the file and loads it; an unreadable file is one diagnostic at 1:1.
LoadResult load_plan_file(const std::string& path, const KindCatalog& kinds);

}  // namespace backout::plan
