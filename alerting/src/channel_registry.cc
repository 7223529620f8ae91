// make_channel: the one place that knows every channel kind. A new kind is one folder (payload
// and channel) plus one line in kFactories.
#include <array>

#include "alertmanager/alertmanager_channel.h"
#include "backout/alerting/channel.h"
#include "backout/core/text.h"
#include "channel_setup.h"
#include "pagerduty/pagerduty_channel.h"
#include "slack/slack_channel.h"
#include "teams/teams_channel.h"
#include "webhook/webhook_channel.h"

namespace backout::alerting {

namespace {

struct Factory {
  std::string_view kind;
  Result<std::unique_ptr<Channel>> (*make)(const ChannelSetup&);
};

constexpr std::array kFactories = {
    Factory{"slack", &make_slack_channel},
    Factory{"teams", &make_teams_channel},
    Factory{"webhook", &make_webhook_channel},
    Factory{"alertmanager", &make_alertmanager_channel},
    Factory{"pagerduty", &make_pagerduty_channel},
};

}  // namespace

Result<std::unique_ptr<Channel>> make_channel(const rules::Channel& spec, net::HttpClient& http,
                                              const SecretResolver& resolve,
                                              const ChannelOptions& options) {
  for (const Factory& f : kFactories) {
    if (f.kind == spec.kind) {
      return f.make(ChannelSetup{spec, http, resolve, options});
    }
  }
  std::vector<std::string> kinds;
  for (const Factory& f : kFactories) {
    kinds.emplace_back(f.kind);
  }
  return Error{"notify: unknown channel kind '" + spec.kind + "'; use " + quoted_list(kinds)};
}

Result<std::unique_ptr<Channel>> make_channel(const rules::Channel& spec, net::HttpClient& http,
                                              const SecretResolver& resolve) {
  return make_channel(spec, http, resolve, ChannelOptions{});
}

}  // namespace backout::alerting
