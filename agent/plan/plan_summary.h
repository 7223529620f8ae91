// The human summary `backout-agent check` prints for a valid plan. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "backout/rules/plan.h"

namespace backout::plan {

/// Release, window, point of no return (in the window's own offset) and its warning, each trigger
/// with severity, measure, window and threshold, who decides each severity and who is told (with
/// chat handles), the deployment and the backout procedure (each step with its owner, duration
/// and verification, their total against window.backout_duration, the verification's checks),
/// the preflight items (each with its owner and check, or "confirmed by its owner"), the
/// after-backout actions with their due times, the sources and the channels.
std::string summarize(const rules::Plan& plan);

/// One line describing a check: `value(db_version) > 0`, `availability(home_page) >= 99% over 1m`.
std::string describe_check(const rules::MeasureCheck& c);

/// One line describing a preflight file check: `file /backup/db/portal, at most 24h old, at
/// least 1 byte`.
std::string describe_file_check(const rules::FileCheck& f);

/// A size as people read it: 512 bytes, 10 MB, 1.5 GB (decimal units, as `df -H`).
std::string format_bytes(std::uint64_t bytes);

/// One line describing a trigger level: `ratio(a, b) > 5% over 5m, for 1m, min 50 observations`.
std::string describe_level(const rules::Trigger& t, const rules::Level& level);

}  // namespace backout::plan
