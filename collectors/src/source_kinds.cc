#include "backout/collectors/source_kinds.h"

#include "kinds.h"

namespace backout::collectors {

const std::vector<SourceKindSpec>& builtin_source_kinds() {
  // One line per kind; a new kind adds its folder and its line here.
  static const std::vector<SourceKindSpec> kinds = {
      prometheus_spec(), promql_spec(), http_spec(),  tcp_spec(),
      postgres_spec(),   log_spec(),    push_spec(),
  };
  return kinds;
}

}  // namespace backout::collectors
