// Source kind `tcp`: time to establish a TCP connection.
#include "common_options.h"
#include "tcp/tcp_kind.h"

namespace backout::collectors {

KindSpec tcp_spec() {
  KindSpec s;
  s.kind = "tcp";
  s.summary = "connect to host:port and time the connection";
  s.options = {
      {.name = "address",
       .type = OptionType::kAddress,
       .required = true,
       .help = "host:port to connect to"},
      every_option(std::chrono::seconds{5}),
      timeout_option(std::chrono::seconds{5}),
  };
  s.has_up = true;
  s.series = [](const KindOptions&) -> std::optional<std::vector<std::string>> {
    return std::vector<std::string>{"up", "duration"};
  };
  return s;
}

}  // namespace backout::collectors
