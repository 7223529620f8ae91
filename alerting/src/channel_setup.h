// What a channel factory gets from make_channel, and the checks every factory shares. Runs once
// while the agent starts (control plane); thread-safe; no time.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "backout/alerting/channel.h"

namespace backout::alerting {

struct ChannelSetup {
  const rules::Channel& spec;
  net::HttpClient& http;
  const SecretResolver& resolve;
  const ChannelOptions& options;

  /// options.name, else `fallback`.
  std::string label(std::string_view fallback) const {
    return options.name.empty() ? std::string(fallback) : options.name;
  }
};

/// True for http:// and https:// URLs with a host.
bool is_http_url(std::string_view url);

/// Reads a secret the plan refers to; errors name the reference ($VAR or the file), never a value.
Result<std::string> read_secret(const ChannelSetup& setup,
                                const std::optional<SecretRef>& ref, std::string_view what);

/// The `url` secret of the kinds that post to a webhook URL (slack, teams, webhook).
SecretSpec webhook_url_secret();

/// The webhook URL (the `url` secret), checked to be an http(s) URL.
Result<std::string> webhook_url(const ChannelSetup& setup);

}  // namespace backout::alerting
