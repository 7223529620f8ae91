// The source kinds of this build: a new kind is one folder (its spec, its collector and its
// <kind>_kind.h) plus one include and one line in builtin_registry().
#include "backout/collectors/collector.h"
#include "http/http_kind.h"
#include "log/log_kind.h"
#include "postgres/postgres_kind.h"
#include "prometheus/prometheus_kind.h"
#include "promql/promql_kind.h"
#include "push/push_kind.h"
#include "tcp/tcp_kind.h"

namespace backout::collectors {

Registry builtin_registry() {
  Registry r;
  // One line per kind.
  r.add({prometheus_spec(), create_prometheus_collector});
  r.add({promql_spec(), create_promql_collector});
  r.add({http_spec(), create_http_collector});
  r.add({tcp_spec(), create_tcp_collector});
  r.add({postgres_spec(), create_postgres_collector});
  r.add({log_spec(), create_log_collector});
  r.add({push_spec(), create_push_collector});
  return r;
}

}  // namespace backout::collectors
