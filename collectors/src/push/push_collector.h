// Factory of the `push` source kind with what a test needs to see: the port its StatsD socket
// is bound to (statsd_listen with port 0). The registry uses the two-argument factory of push_kind.h.
//
// Thread-safety: the collector runs on the strand of its CollectorContext (collector.h). Time:
// none of its own; each batch (HTTP push or StatsD datagram) is one attempt when it arrives.
#pragma once

#include <cstdint>
#include <memory>

#include "backout/collectors/collector.h"

namespace backout::collectors {

/// As create_push_collector(source, ctx), and sets `*statsd_port` to the bound UDP port (0
/// without statsd_listen).
Result<std::unique_ptr<Collector>> create_push_collector(const Source& source,
                                                         CollectorContext ctx,
                                                         std::uint16_t* statsd_port);

}  // namespace backout::collectors
