#include "http/webhook_post_channel.h"

namespace backout::alerting {

WebhookPostChannel::WebhookPostChannel(net::HttpClient& http, std::string name,
                                       http::JsonPost target, WebhookPostStyle style)
    : http_(&http), name_(std::move(name)), target_(std::move(target)), style_(style) {}

bool WebhookPostChannel::wants(const rules::Page& page) const {
  (void)page;
  return true;
}

std::string WebhookPostChannel::render(const MessageContext& ctx) const {
  return style_.render(ctx);
}

void WebhookPostChannel::deliver(const std::string& payload, const std::string& key,
                                 std::function<void(DeliveryResult)> done) {
  // Without the header (chat services have none), the outbox alone keeps a delivered key from
  // being sent again.
  if (!style_.idempotency_header || key.empty()) {
    http::post_json(*http_, target_, payload, std::move(done));
    return;
  }
  http::JsonPost target = target_;
  target.headers.emplace_back("Idempotency-Key", key);
  http::post_json(*http_, target, payload, std::move(done));
}

Result<std::unique_ptr<Channel>> make_webhook_post_channel(const ChannelSetup& setup,
                                                           WebhookPostStyle style) {
  Result<std::string> url = webhook_url(setup);
  if (!url.ok()) {
    return Error{url.error()};
  }
  http::JsonPost target{std::move(url).value(), {}, setup.options.timeout};
  return std::unique_ptr<Channel>(std::make_unique<WebhookPostChannel>(
      setup.http, setup.label(style.default_name), std::move(target), style));
}

}  // namespace backout::alerting
