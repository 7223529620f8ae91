// Option specs shared by several source kinds, so that `every`, `timeout` and TLS options mean the
// same thing everywhere.
#pragma once

#include <chrono>
#include <string>

#include "backout/rules/source_options.h"

namespace backout::collectors {

inline rules::OptionSpec every_option(Duration fallback) {
  rules::OptionSpec o;
  o.name = "every";
  o.type = rules::OptionType::kDuration;
  o.default_value = fallback;
  o.min_duration = std::chrono::milliseconds{100};
  o.help = "how often to sample (at least 100ms)";
  return o;
}

inline rules::OptionSpec timeout_option(Duration fallback) {
  rules::OptionSpec o;
  o.name = "timeout";
  o.type = rules::OptionType::kDuration;
  o.default_value = fallback;
  o.min_duration = std::chrono::milliseconds{10};
  o.help = "how long one attempt may take before it counts as failed";
  return o;
}

inline rules::OptionSpec ca_file_option() {
  rules::OptionSpec o;
  o.name = "ca_file";
  o.type = rules::OptionType::kPath;
  o.help = "PEM file of certificate authorities to verify the server with (default: system CAs)";
  return o;
}

inline rules::OptionSpec url_option(const std::string& help) {
  rules::OptionSpec o;
  o.name = "url";
  o.type = rules::OptionType::kUrl;
  o.required = true;
  o.help = help;
  return o;
}

inline rules::SecretSpec bearer_token_secret() {
  return {"bearer_token", false, "token sent as 'Authorization: Bearer ...'"};
}

}  // namespace backout::collectors
