#include "alertmanager/alertmanager_channel.h"

namespace backout::alerting {

AlertmanagerChannel::AlertmanagerChannel(net::HttpClient& http, std::string name,
                                         http::JsonPost target, AlertmanagerOptions options)
    : http_(&http),
      name_(std::move(name)),
      target_(std::move(target)),
      options_(std::move(options)) {}

bool AlertmanagerChannel::wants(const rules::Page& page) const { return alertmanager_wants(page); }

std::string AlertmanagerChannel::render(const MessageContext& ctx) const {
  return alertmanager_payload(ctx, options_);
}

void AlertmanagerChannel::deliver(const std::string& payload, const std::string& key,
                                  std::function<void(DeliveryResult)> done) {
  (void)key;  // Alertmanager identifies alerts by their labels: a re-post is the same alert
  http::post_json(*http_, target_, payload, std::move(done));
}

KindSpec alertmanager_spec() {
  return {.kind = "alertmanager",
          .summary = "Alertmanager API v2 (alerts with labels, resolved when cleared)",
          .options = {{.name = "url",
                       .type = OptionType::kUrl,
                       .required = true,
                       .help = "Alertmanager's base URL, e.g. http://127.0.0.1:9093"}}};
}

std::vector<rules::Page> AlertmanagerChannel::reposts(const MessageContext& ctx) const {
  return alertmanager_reposts(ctx.episodes, ctx.decision, ctx.now);
}

Result<std::unique_ptr<Channel>> make_alertmanager_channel(const ChannelSetup& setup) {
  std::string base = setup.options.url.empty() ? setup.spec.options.string("url") : setup.options.url;
  if (!is_http_url(base)) {
    return Error{
        "notify alertmanager: url must be Alertmanager's http:// or https:// base URL, "
        "e.g. http://127.0.0.1:9093"};
  }
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  http::JsonPost target{base + "/api/v2/alerts", {}, setup.options.timeout};
  AlertmanagerOptions options{setup.options.alert_ttl, setup.options.link};
  return std::unique_ptr<Channel>(std::make_unique<AlertmanagerChannel>(
      setup.http, setup.label("alertmanager"), std::move(target), std::move(options)));
}

}  // namespace backout::alerting
