// Delivers pages: renders each page for every channel that wants it, stores the payload in the
// outbox, and runs one delivery worker per channel that sends the oldest undelivered message
// first, retrying with exponential backoff and jitter (1-2 s, doubling to 60 s, or the channel's
// Retry-After) until the channel accepts it. A channel down for minutes receives every message,
// in order, once it is back. Sending never blocks the scheduler.
//
// What happens to each message is told to a DeliveryObserver (the agent turns it into metrics,
// timeline events and log lines); the dispatcher itself neither logs nor counts.
//
// Thread-safety: submit() from any thread (the scheduler calls it under the watch's lock);
// workers run on their own strands, and call the observer from them. Time: timestamps and waits
// from the injected TimeSource (tests drive it with a manual clock).
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backout/alerting/channel.h"
#include "backout/alerting/outbox.h"
#include "backout/core/clock.h"
#include "backout/net/time_source.h"

namespace backout::alerting {

/// One delivery attempt's result, as the dispatcher reports it.
struct DeliveryReport {
  enum class Outcome { kDelivered, kRetry, kDropped };
  std::string channel;
  std::string key;
  Outcome outcome = Outcome::kDelivered;
  int attempt = 1;                  // 1 for the first attempt
  std::string detail;               // the channel's words (status, error)
  TimePoint at{};                   // when the result came back
  Duration took{0};                 // from the attempt's start
  Duration since_decided{0};        // from the message's creation
  Duration retry_in{0};             // kRetry: the wait before the next attempt
};

/// Hears what the dispatcher does; called on the workers' strands.
class DeliveryObserver {
 public:
  virtual ~DeliveryObserver() = default;
  virtual void on_attempt(const DeliveryReport& report) = 0;
  /// The channel's queue as the worker saw it before looking for work.
  virtual void on_backlog(const std::string& channel, const OutboxStats& stats) = 0;
  /// A page rendered for `channel` whose key the outbox already holds: not sent twice.
  virtual void on_duplicate(const std::string& channel, const std::string& key) = 0;
};

class Dispatcher {
 public:
  /// `time` stamps the outbox and the reports and runs the retry waits.
  Dispatcher(boost::asio::any_io_executor executor, Outbox& outbox, net::TimeSource& time,
             DeliveryObserver& observer);
  ~Dispatcher();

  void add_channel(std::unique_ptr<Channel> channel);
  std::vector<std::string> channel_names() const;

  /// Renders and stores every page for every channel that wants it (only `only_channel` when
  /// given), then wakes the workers. `ctx` carries the tick's statuses and decision; its `page`
  /// is set per page.
  void submit(const std::vector<rules::Page>& pages, MessageContext ctx,
              const std::string& only_channel = "");
  /// Tells the channels that care (PagerDuty) that `ctx.page.triggers` were acknowledged.
  void submit_acknowledgement(MessageContext ctx, const std::string& key);
  bool has_channel(const std::string& name) const;
  /// The shortest Channel::repost_every() of the channels; nullopt when none reposts.
  std::optional<Duration> repost_every() const;
  /// Renders and stores, for each channel that reposts, the pages it asks for (Channel::reposts
  /// at `ctx.now`), for that channel only.
  void submit_reposts(MessageContext ctx);

  /// Starts the workers (they also deliver what the outbox held from before a restart).
  void start();
  /// Stops the workers; undelivered messages stay in the outbox. A delivery in flight may
  /// already be with the endpoint: it gets `grace` to finish and be recorded (cancelled, it
  /// would be sent again after a restart), then `cancel` aborts whatever is still in flight.
  void stop(Duration grace = Duration{0}, std::function<void()> cancel = {});

  /// Backoff before attempt `attempts + 1`: 2^attempts s (2 s after the first failure), capped
  /// at 60 s, times a jitter in [50%, 100%] from `unit` in [0, 1).
  static Duration backoff(int attempts, double unit);
  /// The longest a message ever waits for its next attempt: the longest Retry-After honoured.
  /// A wait recorded on a clock that has since stepped back (a message restored after a restart,
  /// a step taken between two reads) is cut to it rather than holding a page for the step.
  static constexpr Duration kMaxWait = std::chrono::minutes{5};
  /// The agent's clock was stepped by d: queued messages move with it (Outbox::shift), and the
  /// workers look at their queue again.
  void clock_stepped(Duration d);

 private:
  struct Worker;
  void pump(const std::shared_ptr<Worker>& w);
  void schedule(const std::shared_ptr<Worker>& w, Duration delay);

  boost::asio::any_io_executor executor_;
  Outbox& outbox_;
  net::TimeSource& clock_;
  DeliveryObserver& observer_;
  std::vector<std::shared_ptr<Worker>> workers_;
  bool stopped_ = false;
};

}  // namespace backout::alerting
