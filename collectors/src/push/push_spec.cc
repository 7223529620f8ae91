// Source kind `push`: the application pushes events to the agent, over HTTP
// (POST /api/v1/push/SRC with the server token) or as StatsD lines over UDP.
#include "backout/core/text.h"
#include "common_options.h"
#include "push/push_kind.h"

namespace backout::collectors {

KindSpec push_spec() {
  KindSpec s;
  s.kind = "push";
  s.summary = "events pushed by the application over HTTP or StatsD UDP";
  s.options = {
      {.name = "statsd_listen",
       .type = OptionType::kAddress,
       .help = "UDP host:port to receive StatsD lines on (loopback recommended)"},
      {.name = "series",
       .type = OptionType::kStringList,
       .help = "names of the series the application pushes; measures may use only these"},
  };
  s.has_up = false;
  s.series = [](const KindOptions& o) -> std::optional<std::vector<std::string>> {
    if (!o.has("series")) {
      return std::nullopt;
    }
    return o.strings("series");
  };
  s.check = [](const KindOptions& o, std::vector<OptionIssue>& issues) {
    for (const std::string& name : o.strings("series")) {
      if (!is_identifier(name)) {
        issues.push_back({"series", "series name '" + name + "' must be an identifier"});
      }
    }
  };
  return s;
}

}  // namespace backout::collectors
