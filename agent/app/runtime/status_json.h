// The JSON of GET /api/v1/status: plan, phase, recommendation, point of no return, and every
// trigger with value, threshold, state and since; sources with their latest outcome; open
// breaches with their acknowledgement. Pure; thread-safe (call under the watch's lock).
#pragma once

#include <string>
#include <vector>

#include <cstdint>
#include <optional>

#include "app/runtime/source_status.h"
#include "backout/core/clock_guard.h"
#include "backout/rules/watch.h"

namespace backout::agent {

/// The agent's clock against the wall clock (GuardedClock): `clock` in the status.
struct ClockState {
  std::optional<Duration> pending;            // a detected step not taken yet
  std::uint64_t steps = 0;                    // steps detected since start
  std::optional<ClockGuard::Event> last;      // the latest event
};

std::string status_json(const rules::Watch& watch, const std::vector<SourceState>& sources,
                        TimePoint now, const ClockState& clock = {});

}  // namespace backout::agent
