// The Alertmanager channel: renders alertmanager_payload.h and posts it to
// <base URL>/api/v2/alerts. Immutable once built; thread-safe as Channel says. Time: firing
// alerts end at ctx.now + alert_ttl (see alertmanager_payload.h for why and for HA).
#pragma once

#include <memory>
#include <string>

#include "backout/alerting/alertmanager_payload.h"
#include "channel_setup.h"
#include "http/json_post.h"

namespace backout::alerting {

class AlertmanagerChannel final : public Channel {
 public:
  AlertmanagerChannel(net::HttpClient& http, std::string name, http::JsonPost target,
                      AlertmanagerOptions options);

  std::string name() const override { return name_; }
  bool wants(const rules::Page& page) const override;
  std::string render(const MessageContext& ctx) const override;
  void deliver(const std::string& payload, const std::string& key,
               std::function<void(DeliveryResult)> done) override;
  /// Open alerts are posted again before their endsAt passes (alertmanager_reposts).
  std::optional<Duration> repost_every() const override { return kAlertmanagerRepostEvery; }
  std::vector<rules::Page> reposts(const MessageContext& ctx) const override;

 private:
  net::HttpClient* http_;
  std::string name_;
  http::JsonPost target_;
  AlertmanagerOptions options_;
};

/// The `alertmanager` kind: a notify entry's keys.
KindSpec alertmanager_spec();
Result<std::unique_ptr<Channel>> make_alertmanager_channel(const ChannelSetup& setup);

}  // namespace backout::alerting
