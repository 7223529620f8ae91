// The `postgres` source kind: its option spec (postgres_spec.cc) and its collector's factory
// (postgres_collector.cc), registered in registry.cc. Each attempt connects with
// libpq in non-blocking mode driven by Asio, runs `query` and records `up`, `duration` and, when
// the first column of the first row is a number, `value`.
//
// Thread-safety: the collector runs on the strand of its CollectorContext (collector.h).
// Time: attempts start every `every` (steady clock) from the previous start; `timeout` bounds
// host lookup + connect + query.
#pragma once

#include <memory>

#include "backout/core/kind_spec.h"
#include "backout/core/result.h"

namespace backout::collectors {

// Declared, not included: the spec needs no Asio.
class Collector;
struct CollectorContext;

KindSpec postgres_spec();

/// Builds a postgres collector. Fails only when the `dsn` secret cannot be read or is not a
/// libpq connection string; the message names the variable or file, never the secret.
Result<std::unique_ptr<Collector>> create_postgres_collector(const Source& source,
                                                             CollectorContext ctx);

}  // namespace backout::collectors
