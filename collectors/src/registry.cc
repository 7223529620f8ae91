#include "backout/collectors/collector.h"
#include "backout/collectors/source_kinds.h"
#include "kinds.h"
#include "log/log_collector.h"
#include "postgres/postgres_collector.h"

namespace backout::collectors {

void Registry::add(SourceKind kind) { kinds_.push_back(std::move(kind)); }

const SourceKind* Registry::find(const std::string& kind) const {
  for (const SourceKind& k : kinds_) {
    if (k.spec.kind == kind) {
      return &k;
    }
  }
  return nullptr;
}

std::vector<SourceKindSpec> Registry::specs() const {
  std::vector<SourceKindSpec> out;
  for (const SourceKind& k : kinds_) {
    out.push_back(k.spec);
  }
  return out;
}

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
