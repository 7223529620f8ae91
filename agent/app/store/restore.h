// Rebuilding the watch's state after a restart from the state store: the human acts replayed
// from their timeline events, then episodes, baselines and flags from their tables. Pure
// functions over the stored data; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "backout/rules/decision_engine.h"

namespace backout::agent {

/// The fix-forwards, raises (and their clears), decisions, go-live and done items recorded in
/// the timeline events (encoded TimelineEvents of kinds fix_forward, raise, raise_clear,
/// decision, deployed (declared by a person), done); other kinds, and lines that do not decode,
/// are skipped.
rules::HumanActs acts_from_timeline(const std::vector<std::string>& events);

/// The last recommendation the timeline records (kind recommendation); go when there is none.
/// The paging policy pages eta_passed on a change from fix_forward to backout, which may fall
/// across a restart.
rules::Recommendation last_recommendation(const std::vector<std::string>& events);

}  // namespace backout::agent
