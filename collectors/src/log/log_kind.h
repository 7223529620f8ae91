// The `log` source kind: its option spec (log_spec.cc, with the named-group helpers the matcher
// shares) and its collector's factory (log_collector.cc), registered in registry.cc. The collector follows `path` like `tail -F`,
// polling every `every`; each `match` entry is the cumulative counter SRC.<name> and its numeric
// named groups are observations (SRC.<group>, or SRC.<x> in seconds for a group `x_ms`).
//
// Thread-safety: the collector runs on the strand of its CollectorContext (collector.h).
// Time: the first poll runs inside start(); the next ones start every `every` (steady clock)
// from the previous start, or at once while a backlog is read (1 MiB per poll). Each poll is one
// attempt.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backout/core/kind_spec.h"
#include "backout/core/result.h"

namespace backout::collectors {

// Declared, not included: the spec needs no Asio.
class Collector;
struct CollectorContext;

KindSpec log_spec();
/// Names of the `(?<name>...)` groups of a log regex, in order.
std::vector<std::string> log_named_groups(const std::string& regex);
/// The regex with `(?<name>` turned into `(`, for std::regex (ECMAScript has no named groups).
std::string log_strip_group_names(const std::string& regex);
/// Series name of a named group: `latency_ms` -> `latency` (recorded in seconds).
std::string log_series_for_group(const std::string& group);

/// Builds a log collector. Fails only if a `match` regex does not compile with the run-time
/// engine (the plan loader already checked it against ECMAScript).
Result<std::unique_ptr<Collector>> create_log_collector(const Source& source,
                                                        CollectorContext ctx);

}  // namespace backout::collectors
