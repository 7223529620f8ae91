// Severities of a trigger and the decision matrix keys. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace backout::rules {

/// How bad a breach is, as the plan's trigger criteria say. Ordered from least to most severe.
///  - minor:         log and continue (posted to chat, nobody paged);
///  - discretionary: nobody's threshold, a judgement call: the discretionary decider is asked;
///  - major:         backout unless a fix lands before the point of no return;
///  - critical:      immediate backout.
enum class Severity { kMinor = 0, kDiscretionary = 1, kMajor = 2, kCritical = 3 };

std::string_view to_string(Severity s);
std::optional<Severity> parse_severity(std::string_view s);

}  // namespace backout::rules
