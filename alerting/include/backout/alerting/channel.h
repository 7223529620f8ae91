// A notification channel: renders a page into its payload (pure) and delivers a payload (I/O).
// The outbox stores the rendered payload before the first delivery attempt, so a restart
// delivers exactly what was decided, and retries on kRetry with backoff.
//
// Thread-safety: render() is pure and thread-safe; deliver() may be called from any thread, one
// delivery at a time per channel (the outbox worker serialises them); `done` runs on the
// client's executor. Time: `now` in MessageContext is the page's time; nothing reads a clock.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backout/core/kind_registry.h"
#include "backout/core/kind_spec.h"
#include "backout/core/result.h"
#include "backout/core/time.h"
#include "backout/rules/decision_engine.h"
#include "backout/rules/evaluator.h"
#include "backout/rules/paging_policy.h"
#include "backout/rules/plan.h"

namespace backout::net {
class HttpClient;
}

namespace backout::alerting {

/// Everything a message may say about a page.
struct MessageContext {
  const rules::Plan* plan = nullptr;
  rules::Page page;
  std::vector<rules::TriggerStatus> statuses;  // in plan order, at the page's tick
  rules::DecisionOutput decision;              // at the page's tick
  std::vector<rules::Episode> episodes;        // all episodes so far (for the final summary)
  rules::HumanActs acts;                       // fix-forwards, raises, decisions so far
  TimePoint now{};
};

enum class Delivery { kDelivered, kRetry, kDrop };

struct DeliveryResult {
  Delivery outcome = Delivery::kRetry;
  std::string detail;                   // "HTTP 200", "HTTP 503", "connect: refused", ...
  std::optional<Duration> retry_after;  // from a Retry-After header
};

class Channel {
 public:
  virtual ~Channel() = default;
  /// The `channel` label in /metrics and the outbox: chat, alertmanager, pagerduty, webhook.
  virtual std::string name() const = 0;
  /// Whether this channel sends anything for this page (e.g. PagerDuty skips minor breaches).
  virtual bool wants(const rules::Page& page) const = 0;
  /// The payload for this page: a JSON document (pure; deterministic for the same context).
  virtual std::string render(const MessageContext& ctx) const = 0;
  /// Sends a rendered payload; `key` is the page's idempotency key. 2xx -> kDelivered; 429, 5xx,
  /// timeouts and connection errors -> kRetry (with Retry-After when given); other 4xx -> kDrop.
  virtual void deliver(const std::string& payload, const std::string& key,
                       std::function<void(DeliveryResult)> done) = 0;
  /// The payload that tells the channel that the episodes of `ctx.page.triggers` were
  /// acknowledged (ctx.episodes carries who and when), delivered like any other payload; nullopt
  /// when the channel has nothing to say about acknowledgements (chat: the next message and the
  /// timeline show them). PagerDuty sends its `acknowledge` event so the incident stops paging.
  virtual std::optional<std::string> render_acknowledgement(const MessageContext& ctx) const {
    (void)ctx;
    return std::nullopt;
  }
  /// For a receiver that forgets what it was told unless told again (Alertmanager resolves an
  /// alert whose endsAt passed): how often its pages are posted again. nullopt: never.
  virtual std::optional<Duration> repost_every() const { return std::nullopt; }
  /// The pages to post again now (`ctx.now`, with ctx.episodes and ctx.decision), every
  /// repost_every(); each is rendered and delivered like any other page.
  virtual std::vector<rules::Page> reposts(const MessageContext& ctx) const {
    (void)ctx;
    return {};
  }
};

/// What a plan's notify entry cannot say but the agent (or a test) may want to set.
struct ChannelOptions {
  /// The `channel` label; empty: "chat" for slack and teams, otherwise the kind. The agent sets
  /// "chat" for a chat entry of kind webhook so that it does not clash with notify.webhook.
  std::string name;
  /// Replaces the endpoint: the Events API URL for pagerduty (default
  /// https://events.pagerduty.com/v2/enqueue), the API base URL for alertmanager. Tests only.
  std::string url;
  /// Whole exchange per attempt (connect, TLS, write, read).
  std::chrono::milliseconds timeout{10000};
  /// alertmanager: a firing alert's endsAt is the page time plus this, so that Alertmanager
  /// resolves the alert by itself if the agent dies (see alertmanager_payload.h).
  Duration alert_ttl = std::chrono::minutes{5};
  /// alertmanager: generatorURL of every alert; pagerduty: client_url. Empty: left out.
  std::string link;
};

/// Resolves a secret reference (environment variable or file) to its value.
using SecretResolver = std::function<Result<std::string>(const SecretRef&)>;

/// Builds a channel of one kind from a notify entry (its options validated by the kind's spec).
/// `http` must outlive the channel and every delivery in flight.
using ChannelFactory = std::function<Result<std::unique_ptr<Channel>>(
    const rules::Channel&, net::HttpClient&, const SecretResolver&, const ChannelOptions&)>;

/// A channel kind: its option schema (what a notify entry of the kind may say) and its factory.
struct ChannelKind {
  KindSpec spec;
  ChannelFactory create;
};

/// Channel kinds by name.
using ChannelRegistry = KindRegistry<ChannelKind>;

/// Every built-in channel kind, one registration line each (alerting/src/channel_registry.cc).
const ChannelRegistry& builtin_channels();

/// Builds the channel a plan's notify entry describes with the built-in kinds. Fails only on what the plan cannot say
/// (an unset environment variable), with a message naming it.
/// `http` must outlive the channel and every delivery in flight.
Result<std::unique_ptr<Channel>> make_channel(const rules::Channel& spec, net::HttpClient& http,
                                              const SecretResolver& resolve);
Result<std::unique_ptr<Channel>> make_channel(const rules::Channel& spec, net::HttpClient& http,
                                              const SecretResolver& resolve,
                                              const ChannelOptions& options);

}  // namespace backout::alerting
