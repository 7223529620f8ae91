// Spec functions and collector factories of the built-in source kinds, one per collector folder.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backout/core/result.h"
#include "backout/core/kind_spec.h"

namespace backout::collectors {

// Declared, not included: the spec files include this header and need no Asio.
class Collector;
struct CollectorContext;

KindSpec prometheus_spec();
KindSpec promql_spec();
KindSpec http_spec();
KindSpec tcp_spec();
KindSpec postgres_spec();
KindSpec log_spec();
KindSpec push_spec();

// Collector factories (SourceKind::create), one per kind with a collector. They fail only on
// what the plan cannot say (an unset secret), with a message naming the source and the key.
Result<std::unique_ptr<Collector>> create_prometheus_collector(const Source& source,
                                                               CollectorContext ctx);
Result<std::unique_ptr<Collector>> create_http_collector(const Source& source,
                                                         CollectorContext ctx);
Result<std::unique_ptr<Collector>> create_tcp_collector(const Source& source,
                                                        CollectorContext ctx);
Result<std::unique_ptr<Collector>> create_promql_collector(const Source& source,
                                                           CollectorContext ctx);
Result<std::unique_ptr<Collector>> create_push_collector(const Source& source,
                                                         CollectorContext ctx);

/// Names of the `(?<name>...)` groups of a log regex, in order.
std::vector<std::string> log_named_groups(const std::string& regex);
/// The regex with `(?<name>` turned into `(`, for std::regex (ECMAScript has no named groups).
std::string log_strip_group_names(const std::string& regex);
/// Series name of a named group: `latency_ms` -> `latency` (recorded in seconds).
std::string log_series_for_group(const std::string& group);

}  // namespace backout::collectors
