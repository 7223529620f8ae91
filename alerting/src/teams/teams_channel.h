// The Microsoft Teams chat channel (incoming webhook or Workflows webhook): renders
// teams_payload.h and posts it to the webhook URL. Immutable once built; thread-safe as Channel
// says. Time: none of its own (the page's time is in the context; the timeout is per attempt).
#pragma once

#include <memory>
#include <string>

#include "channel_setup.h"
#include "http/json_post.h"

namespace backout::alerting {

class TeamsChannel final : public Channel {
 public:
  TeamsChannel(net::HttpClient& http, std::string name, http::JsonPost target);

  std::string name() const override { return name_; }
  bool wants(const rules::Page& page) const override;
  std::string render(const MessageContext& ctx) const override;
  void deliver(const std::string& payload, const std::string& key,
               std::function<void(DeliveryResult)> done) override;

 private:
  net::HttpClient* http_;
  std::string name_;
  http::JsonPost target_;
};

Result<std::unique_ptr<Channel>> make_teams_channel(const ChannelSetup& setup);

}  // namespace backout::alerting
