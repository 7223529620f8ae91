// Builds rules::Plan values in code for the pure tests (no YAML): a small reference-like plan
// with contacts, authority, sources and any triggers the test adds.
#pragma once

#include <string>

#include "backout/rules/plan.h"

namespace backout::testing {

/// 2026-06-07T02:00:00+01:00 plus `seconds` (the test window start is 02:00 +01:00).
TimePoint at(double seconds);

/// A plan with the reference plan's window (02:00-06:00 +01:00, backout 100m, warning 15m,
/// baseline 30m), contacts, authority and sources (portal, home_page, api, portal_db, customers),
/// notify (repeat 10m, group 2s) and no triggers.
rules::Plan base_plan();

/// A trigger from the plan language: measure and condition text as in a plan file.
rules::Trigger trigger(const std::string& id, const std::string& measure, const std::string& when,
                       rules::Severity severity, Duration over = std::chrono::minutes{5},
                       Duration for_duration = Duration{0}, std::uint64_t min_count = 0);

/// Adds a second level to a trigger (e.g. critical "> 25%" above major "> 1%").
void add_level(rules::Trigger& t, rules::Severity severity, const std::string& when);

}  // namespace backout::testing
