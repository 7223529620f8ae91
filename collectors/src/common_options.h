// Option specs shared by several source kinds, so that `every`, `timeout` and TLS options mean the
// same thing everywhere.
#pragma once

#include <chrono>
#include <string>

#include "backout/core/kind_spec.h"

namespace backout::collectors {

inline OptionSpec every_option(Duration fallback) {
  OptionSpec o;
  o.name = "every";
  o.type = OptionType::kDuration;
  o.default_value = fallback;
  o.min_duration = std::chrono::milliseconds{100};
  o.help = "how often to sample (at least 100ms)";
  return o;
}

inline OptionSpec timeout_option(Duration fallback) {
  OptionSpec o;
  o.name = "timeout";
  o.type = OptionType::kDuration;
  o.default_value = fallback;
  o.min_duration = std::chrono::milliseconds{10};
  o.help = "how long one attempt may take before it counts as failed";
  return o;
}

inline OptionSpec ca_file_option() {
  OptionSpec o;
  o.name = "ca_file";
  o.type = OptionType::kPath;
  o.help = "PEM file of certificate authorities to verify the server with (default: system CAs)";
  return o;
}

inline OptionSpec url_option(const std::string& help) {
  OptionSpec o;
  o.name = "url";
  o.type = OptionType::kUrl;
  o.required = true;
  o.help = help;
  return o;
}

inline SecretSpec bearer_token_secret() {
  return {"bearer_token", false, "token sent as 'Authorization: Bearer ...'"};
}

}  // namespace backout::collectors
