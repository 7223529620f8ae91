// Factory of the `log` source kind (registered in registry.cc): follows `path` like `tail -F`,
// polling every `every`; each `match` entry is the cumulative counter SRC.<name> and its numeric
// named groups are observations (SRC.<group>, or SRC.<x> in seconds for a group `x_ms`).
//
// Thread-safety: the collector runs on the strand of its CollectorContext (collector.h).
// Time: the first poll runs inside start(); the next ones start every `every` (steady clock)
// from the previous start, or at once while a backlog is read (1 MiB per poll). Each poll is one
// attempt.
#pragma once

#include <memory>

#include "backout/collectors/collector.h"

namespace backout::collectors {

/// Builds a log collector. Fails only if a `match` regex does not compile with the run-time
/// engine (the plan loader already checked it against ECMAScript).
Result<std::unique_ptr<Collector>> create_log_collector(const Source& source,
                                                        CollectorContext ctx);

}  // namespace backout::collectors
