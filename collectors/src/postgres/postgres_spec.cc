// Source kind `postgres`: connect, run a query, keep the first column of the first row.
#include "common_options.h"
#include "postgres/postgres_kind.h"

namespace backout::collectors {

KindSpec postgres_spec() {
  KindSpec s;
  s.kind = "postgres";
  s.summary = "connect to PostgreSQL, run a query and keep the first column of the first row";
  s.options = {
      {.name = "query",
       .type = OptionType::kString,
       .default_value = std::string("SELECT 1"),
       .help = "SQL run on every check; its first column of the first row is SRC.value"},
      every_option(std::chrono::seconds{5}),
      timeout_option(std::chrono::seconds{5}),
      {.name = "watch_connection",
       .type = OptionType::kBoolean,
       .default_value = true,
       .help = "keep the last good connection open between checks and check again at once when "
               "the server closes it (a stopped server is seen in milliseconds)"},
  };
  s.secrets = {{"dsn", true, "libpq connection string or URI, e.g. postgresql://user@host/db"}};
  s.has_up = true;
  s.series = [](const KindOptions&) -> std::optional<std::vector<std::string>> {
    return std::vector<std::string>{"up", "duration", "value"};
  };
  s.check = [](const KindOptions& o, std::vector<OptionIssue>& issues) {
    if (o.string("query").find_first_not_of(" \t\r\n;") == std::string::npos) {
      issues.push_back({"query", "the query is empty; write e.g. SELECT 1"});
    }
  };
  return s;
}

}  // namespace backout::collectors
