// Spec functions of the built-in source kinds, one per collector folder.
#pragma once

#include <string>
#include <vector>

#include "backout/rules/source_options.h"

namespace backout::collectors {

rules::SourceKindSpec prometheus_spec();
rules::SourceKindSpec promql_spec();
rules::SourceKindSpec http_spec();
rules::SourceKindSpec tcp_spec();
rules::SourceKindSpec postgres_spec();
rules::SourceKindSpec log_spec();
rules::SourceKindSpec push_spec();

/// Names of the `(?<name>...)` groups of a log regex, in order.
std::vector<std::string> log_named_groups(const std::string& regex);
/// The regex with `(?<name>` turned into `(`, for std::regex (ECMAScript has no named groups).
std::string log_strip_group_names(const std::string& regex);
/// Series name of a named group: `latency_ms` -> `latency` (recorded in seconds).
std::string log_series_for_group(const std::string& group);

}  // namespace backout::collectors
