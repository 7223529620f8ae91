#include "webhook/webhook_channel.h"

#include "backout/alerting/webhook_payload.h"

namespace backout::alerting {

WebhookChannel::WebhookChannel(net::HttpClient& http, std::string name, http::JsonPost target)
    : http_(&http), name_(std::move(name)), target_(std::move(target)) {}

bool WebhookChannel::wants(const rules::Page& page) const {
  (void)page;
  return true;
}

std::string WebhookChannel::render(const MessageContext& ctx) const { return webhook_payload(ctx); }

void WebhookChannel::deliver(const std::string& payload, const std::string& key,
                             std::function<void(DeliveryResult)> done) {
  http::JsonPost target = target_;
  if (!key.empty()) {
    target.headers.emplace_back("Idempotency-Key", key);
  }
  http::post_json(*http_, target, payload, std::move(done));
}

Result<std::unique_ptr<Channel>> make_webhook_channel(const ChannelSetup& setup) {
  Result<std::string> url = webhook_url(setup);
  if (!url.ok()) {
    return Error{url.error()};
  }
  http::JsonPost target{std::move(url).value(), {}, setup.options.timeout};
  return std::unique_ptr<Channel>(
      std::make_unique<WebhookChannel>(setup.http, setup.label("webhook"), std::move(target)));
}

}  // namespace backout::alerting
