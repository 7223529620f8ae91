#include "backout/collectors/collector.h"
#include "kinds.h"
#include "log/log_collector.h"
#include "postgres/postgres_collector.h"

namespace backout::collectors {

Registry builtin_registry() {
  Registry r;
  // One line per kind with a collector; see kinds.h.
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
