// Source kind `promql`: evaluate named PromQL queries against a Prometheus-compatible server
// (Prometheus, Thanos, Mimir, VictoriaMetrics). Each query becomes the series `SRC.<name>`.
#include "backout/core/text.h"
#include "common_options.h"
#include "promql/promql_kind.h"

namespace backout::collectors {

KindSpec promql_spec() {
  KindSpec s;
  s.kind = "promql";
  s.summary = "evaluate named PromQL queries on a Prometheus-compatible server";
  s.options = {
      url_option("base URL of the Prometheus HTTP API, e.g. http://127.0.0.1:9090"),
      {.name = "queries",
       .type = OptionType::kStringMap,
       .required = true,
       .help = "name: PromQL expression; each becomes the series SRC.name"},
      every_option(std::chrono::seconds{5}),
      timeout_option(std::chrono::seconds{5}),
      ca_file_option(),
  };
  s.secrets = {bearer_token_secret()};
  s.has_up = true;
  s.series = [](const KindOptions& o) -> std::optional<std::vector<std::string>> {
    std::vector<std::string> names;
    for (const auto& [name, expr] : o.string_map("queries")) {
      names.push_back(name);
    }
    return names;
  };
  s.check = [](const KindOptions& o, std::vector<OptionIssue>& issues) {
    for (const auto& [name, expr] : o.string_map("queries")) {
      if (!is_identifier(name)) {
        issues.push_back({"queries", "query name '" + name +
                                         "' must be an identifier ([A-Za-z_][A-Za-z0-9_]*) so "
                                         "that measures can name it"});
      }
      if (name == "up" || name == "duration") {
        issues.push_back({"queries", "query name '" + name +
                                         "' is taken: SRC.up and SRC.duration say how the "
                                         "queries went; choose another name"});
      }
      if (expr.empty()) {
        issues.push_back({"queries", "query '" + name + "' is empty; give a PromQL expression"});
      }
    }
  };
  return s;
}

}  // namespace backout::collectors
