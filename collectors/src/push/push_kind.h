// The `push` source kind (takes samples pushed to POST /api/v1/push/SRC and StatsD datagrams): its option spec (push_spec.cc) and its collector's
// factory, the two things registry.cc registers in one line. Declared, not included: the spec
// needs no Asio.
#pragma once

#include <memory>

#include "backout/core/kind_spec.h"
#include "backout/core/result.h"

namespace backout::collectors {

class Collector;
struct CollectorContext;

KindSpec push_spec();
/// Fails only on what the plan cannot say (an unset secret), with a message naming the source
/// and the key.
Result<std::unique_ptr<Collector>> create_push_collector(const Source& source,
                                                         CollectorContext ctx);

}  // namespace backout::collectors
