#include "pagerduty/pagerduty_channel.h"

namespace backout::alerting {

namespace {

// Posts the events one after the other; the first that is not delivered decides the outcome.
// Every event is idempotent by its dedup_key, so a retry may safely send the delivered ones again.
class Sequence : public std::enable_shared_from_this<Sequence> {
 public:
  Sequence(net::HttpClient& client, http::JsonPost target, std::vector<std::string> bodies,
           std::function<void(DeliveryResult)> done)
      : http_(&client),
        target_(std::move(target)),
        bodies_(std::move(bodies)),
        done_(std::move(done)) {}

  void start() { step({Delivery::kDelivered, "nothing to send", std::nullopt}); }

 private:
  void step(DeliveryResult last) {
    if (next_ == bodies_.size() || last.outcome != Delivery::kDelivered) {
      if (bodies_.size() > 1 && last.outcome != Delivery::kDelivered) {
        last.detail = "event " + std::to_string(next_) + " of " + std::to_string(bodies_.size()) +
                      ": " + last.detail;
      }
      done_(std::move(last));
      return;
    }
    std::string body = std::move(bodies_[next_++]);
    http::post_json(*http_, target_, std::move(body),
                    [self = shared_from_this()](DeliveryResult r) { self->step(std::move(r)); });
  }

  net::HttpClient* http_;
  http::JsonPost target_;
  std::vector<std::string> bodies_;
  std::size_t next_ = 0;
  std::function<void(DeliveryResult)> done_;
};

}  // namespace

PagerDutyChannel::PagerDutyChannel(net::HttpClient& http, std::string name, http::JsonPost target,
                                   std::string routing_key, std::string client_url)
    : http_(&http),
      name_(std::move(name)),
      target_(std::move(target)),
      routing_key_(std::move(routing_key)),
      render_options_{"", std::move(client_url)} {}

bool PagerDutyChannel::wants(const rules::Page& page) const { return pagerduty_wants(page); }

std::string PagerDutyChannel::render(const MessageContext& ctx) const {
  return pagerduty_payload(ctx, render_options_);
}

std::optional<std::string> PagerDutyChannel::render_acknowledgement(
    const MessageContext& ctx) const {
  return pagerduty_acknowledge_payload(ctx, render_options_);
}

void PagerDutyChannel::deliver(const std::string& payload, const std::string& key,
                               std::function<void(DeliveryResult)> done) {
  (void)key;  // the dedup_key inside each event is PagerDuty's idempotency key
  Result<std::vector<std::string>> bodies = pagerduty_bodies(payload, routing_key_);
  if (!bodies.ok()) {
    done({Delivery::kDrop, bodies.error(), std::nullopt});
    return;
  }
  std::make_shared<Sequence>(*http_, target_, std::move(bodies).value(), std::move(done))->start();
}

KindSpec pagerduty_spec() {
  return {.kind = "pagerduty",
          .summary = "PagerDuty Events API v2 (trigger, acknowledge, resolve)",
          .secrets = {{.base = "routing_key",
                       .required = true,
                       .help = "the Events API v2 integration key"}}};
}

Result<std::unique_ptr<Channel>> make_pagerduty_channel(const ChannelSetup& setup) {
  Result<std::string> key = read_secret(setup, setup.spec.options.secret("routing_key"), "routing key");
  if (!key.ok()) {
    return Error{key.error()};
  }
  std::string url =
      setup.options.url.empty() ? std::string(PagerDutyChannel::kEventsUrl) : setup.options.url;
  if (!is_http_url(url)) {
    return Error{"notify pagerduty: the Events API URL must be an http:// or https:// URL"};
  }
  http::JsonPost target{std::move(url), {}, setup.options.timeout};
  return std::unique_ptr<Channel>(
      std::make_unique<PagerDutyChannel>(setup.http, setup.label("pagerduty"), std::move(target),
                                         std::move(key).value(), setup.options.link));
}

}  // namespace backout::alerting
