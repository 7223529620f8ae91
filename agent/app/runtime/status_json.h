// The JSON of GET /api/v1/status: plan, phase, recommendation, point of no return, and every
// trigger with value, threshold, state and since; sources with their latest outcome; open
// breaches with their acknowledgement. Pure; thread-safe (call under the watch's lock).
#pragma once

#include <string>
#include <vector>

#include "app/runtime/source_status.h"
#include "backout/rules/watch.h"

namespace backout::agent {

std::string status_json(const rules::Watch& watch, const std::vector<SourceState>& sources,
                        TimePoint now);

}  // namespace backout::agent
