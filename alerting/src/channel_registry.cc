// The channel kinds of this build: a new kind is one folder (its spec, payload and channel) plus
// one line in builtin_channels().
#include "alertmanager/alertmanager_channel.h"
#include "backout/alerting/channel.h"
#include "backout/core/text.h"
#include "channel_setup.h"
#include "console/console_channel.h"
#include "pagerduty/pagerduty_channel.h"
#include "slack/slack_channel.h"
#include "teams/teams_channel.h"
#include "webhook/webhook_channel.h"

namespace backout::alerting {

namespace {

using Make = Result<std::unique_ptr<Channel>> (*)(const ChannelSetup&);

ChannelKind kind(KindSpec spec, Make make) {
  return {std::move(spec), [make](const rules::Channel& entry, net::HttpClient& http,
                                  const SecretResolver& resolve, const ChannelOptions& options) {
            return make(ChannelSetup{entry, http, resolve, options});
          }};
}

}  // namespace

const ChannelRegistry& builtin_channels() {
  static const ChannelRegistry registry = [] {
    ChannelRegistry r;
    // One line per kind.
    r.add(kind(slack_spec(), &make_slack_channel));
    r.add(kind(teams_spec(), &make_teams_channel));
    r.add(kind(webhook_spec(), &make_webhook_channel));
    r.add(kind(alertmanager_spec(), &make_alertmanager_channel));
    r.add(kind(pagerduty_spec(), &make_pagerduty_channel));
    r.add(kind(console_spec(), &make_console_channel));
    return r;
  }();
  return registry;
}

Result<std::unique_ptr<Channel>> make_channel(const rules::Channel& spec, net::HttpClient& http,
                                              const SecretResolver& resolve,
                                              const ChannelOptions& options) {
  if (const ChannelKind* k = builtin_channels().find(spec.kind)) {
    return k->create(spec, http, resolve, options);
  }
  std::vector<std::string> kinds;
  for (const KindSpec& s : builtin_channels().specs()) {
    kinds.push_back(s.kind);
  }
  return Error{"notify: unknown channel kind '" + spec.kind + "'; use " + quoted_list(kinds)};
}

Result<std::unique_ptr<Channel>> make_channel(const rules::Channel& spec, net::HttpClient& http,
                                              const SecretResolver& resolve) {
  return make_channel(spec, http, resolve, ChannelOptions{});
}

}  // namespace backout::alerting
