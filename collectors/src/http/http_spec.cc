// Source kind `http`: a synthetic request (GET, POST or HEAD) timed to the complete response.
#include <algorithm>
#include <cctype>

#include "common_options.h"
#include "http/http_kind.h"

namespace backout::collectors {

KindSpec http_spec() {
  KindSpec s;
  s.kind = "http";
  s.summary = "probe a URL over HTTP or HTTPS: status, body and time to the complete response";
  s.options = {
      url_option("the URL to request"),
      {.name = "method",
       .type = OptionType::kEnum,
       .default_value = std::string("GET"),
       .help = "request method",
       .choices = {"GET", "POST", "HEAD"}},
      {.name = "body", .type = OptionType::kString, .help = "request body (POST)"},
      {.name = "headers",
       .type = OptionType::kStringMap,
       .help = "extra request headers (no secrets: use bearer_token_env)"},
      {.name = "expect_status",
       .type = OptionType::kStatusList,
       .help = "status code(s) that count as up (default: any 2xx)"},
      {.name = "expect_body",
       .type = OptionType::kRegex,
       .help = "regular expression the response body must contain"},
      {.name = "follow_redirects",
       .type = OptionType::kBoolean,
       .default_value = false,
       .help = "follow up to 5 redirects instead of judging the 3xx response"},
      every_option(std::chrono::seconds{5}),
      timeout_option(std::chrono::seconds{5}),
      ca_file_option(),
  };
  s.secrets = {bearer_token_secret()};
  s.has_up = true;
  s.series = [](const KindOptions&) -> std::optional<std::vector<std::string>> {
    return std::vector<std::string>{"up", "duration", "status"};
  };
  s.check = [](const KindOptions& o, std::vector<OptionIssue>& issues) {
    for (std::int64_t code : o.integers("expect_status")) {
      if (code < 100 || code > 599) {
        issues.push_back({"expect_status", "HTTP status " + std::to_string(code) +
                                               " is outside 100..599"});
      }
    }
    for (const auto& [name, value] : o.string_map("headers")) {
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (lower == "authorization" || lower == "cookie" || lower == "x-api-key") {
        issues.push_back({"headers", "header '" + name +
                                         "' carries a secret; give the token with "
                                         "bearer_token_env or bearer_token_file instead"});
      }
    }
    if (o.string("method") != "POST" && !o.string("body").empty()) {
      issues.push_back({"body", "a body is only sent with method: POST", true});
    }
  };
  return s;
}

}  // namespace backout::collectors
