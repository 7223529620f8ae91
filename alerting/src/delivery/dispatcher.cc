#include "backout/alerting/dispatcher.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <cmath>
#include <random>

namespace backout::alerting {

struct Dispatcher::Worker {
  Worker(boost::asio::any_io_executor ex, std::unique_ptr<Channel> ch,
         net::TimeSource& time)
      : strand(boost::asio::make_strand(ex)), timer(time.timer(strand)), channel(std::move(ch)) {}
  boost::asio::strand<boost::asio::any_io_executor> strand;
  std::unique_ptr<net::Timer> timer;
  std::unique_ptr<Channel> channel;
  bool busy = false;
  std::atomic<bool> stopped{false};
  std::mt19937_64 rng{std::random_device{}()};
};

Dispatcher::Dispatcher(boost::asio::any_io_executor executor, Outbox& outbox, net::TimeSource& clock,
                       DeliveryObserver& observer)
    : executor_(std::move(executor)), outbox_(outbox), clock_(clock), observer_(observer) {}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::add_channel(std::unique_ptr<Channel> channel) {
  workers_.push_back(std::make_shared<Worker>(executor_, std::move(channel), clock_));
}

std::vector<std::string> Dispatcher::channel_names() const {
  std::vector<std::string> out;
  for (const auto& w : workers_) {
    out.push_back(w->channel->name());
  }
  return out;
}

Duration Dispatcher::backoff(int attempts, double unit) {
  const double base = std::min(60.0, std::pow(2.0, std::min(attempts, 10)));
  return from_seconds(base * (0.5 + 0.5 * std::clamp(unit, 0.0, 1.0)));
}

bool Dispatcher::has_channel(const std::string& name) const {
  for (const auto& w : workers_) {
    if (w->channel->name() == name) {
      return true;
    }
  }
  return false;
}

void Dispatcher::submit_acknowledgement(MessageContext ctx, const std::string& key) {
  const TimePoint now = clock_.now();
  for (const auto& w : workers_) {
    if (auto payload = w->channel->render_acknowledgement(ctx)) {
      outbox_.enqueue(w->channel->name(), key, *payload, now);
      boost::asio::post(w->strand, [this, w] { pump(w); });
    }
  }
}

void Dispatcher::submit(const std::vector<rules::Page>& pages, MessageContext ctx,
                        const std::string& only_channel) {
  const TimePoint now = clock_.now();
  for (const rules::Page& page : pages) {
    ctx.page = page;
    ctx.now = page.at;
    for (const auto& w : workers_) {
      if (!only_channel.empty() && w->channel->name() != only_channel) {
        continue;
      }
      if (!w->channel->wants(page)) {
        continue;
      }
      std::string payload = w->channel->render(ctx);
      if (!outbox_.enqueue(w->channel->name(), page.key, payload, now)) {
        observer_.on_duplicate(w->channel->name(), page.key);
      }
    }
  }
  for (const auto& w : workers_) {
    boost::asio::post(w->strand, [this, w] { pump(w); });
  }
}

std::optional<Duration> Dispatcher::repost_every() const {
  std::optional<Duration> out;
  for (const auto& w : workers_) {
    if (auto every = w->channel->repost_every(); every && (!out || *every < *out)) {
      out = every;
    }
  }
  return out;
}

void Dispatcher::submit_reposts(MessageContext ctx) {
  for (const auto& w : workers_) {
    if (!w->channel->repost_every()) {
      continue;
    }
    std::vector<rules::Page> pages = w->channel->reposts(ctx);
    if (!pages.empty()) {
      submit(pages, ctx, w->channel->name());
    }
  }
}

void Dispatcher::clock_stepped(Duration d) {
  outbox_.shift(d);
  for (const auto& w : workers_) {
    boost::asio::post(w->strand, [this, w] { pump(w); });
  }
}

void Dispatcher::start() {
  for (const auto& w : workers_) {
    boost::asio::post(w->strand, [this, w] { pump(w); });
  }
}

void Dispatcher::stop(Duration grace, std::function<void()> cancel) {
  stopped_ = true;
  for (const auto& w : workers_) {
    w->stopped = true;
    boost::asio::post(w->strand, [w, grace, cancel] {
      w->timer->cancel();
      if (w->busy && cancel) {
        // The worker's timer waits no more for a retry now: it bounds the delivery in flight.
        w->timer->wait(grace, [cancel](bool fired) {
          if (fired) {
            cancel();
          }
        });
      }
    });
  }
}

void Dispatcher::schedule(const std::shared_ptr<Worker>& w, Duration delay) {
  w->timer->wait(delay, [this, w](bool fired) {
    if (fired && !w->stopped) {
      pump(w);
    }
  });
}

void Dispatcher::pump(const std::shared_ptr<Worker>& w) {
  if (w->busy || w->stopped) {
    return;
  }
  const std::string name = w->channel->name();
  std::optional<OutboxMessage> m = outbox_.head(name);
  OutboxStats st = outbox_.stats(name, clock_.now());
  observer_.on_backlog(name, st);
  if (!m) {
    return;
  }
  const TimePoint now = clock_.now();
  if (m->next_attempt_at > now && m->next_attempt_at - now <= kMaxWait) {
    schedule(w, m->next_attempt_at - now);
    return;
  }
  w->busy = true;
  const TimePoint started = now;
  w->channel->deliver(m->payload, m->key, [this, w, msg = *m, started](
                                               DeliveryResult r) {
    boost::asio::post(w->strand, [this, w, msg, started, r] {
      w->busy = false;
      if (w->stopped) {
        w->timer->cancel();  // the stop's grace for this delivery: it has finished
      }
      DeliveryReport report{.channel = w->channel->name(),
                            .key = msg.key,
                            .attempt = msg.attempts + 1,
                            .detail = r.detail,
                            .at = clock_.now(),
                            .took = Duration{0},
                            .since_decided = Duration{0}};
      report.took = report.at - started;
      report.since_decided = report.at - msg.created_at;
      switch (r.outcome) {
        case Delivery::kDelivered:
          outbox_.delivered(msg.id, report.at);
          report.outcome = DeliveryReport::Outcome::kDelivered;
          break;
        case Delivery::kRetry: {
          Duration delay = backoff(msg.attempts, std::uniform_real_distribution<double>(
                                                     0, 1)(w->rng));
          if (r.retry_after) {
            delay = std::max(delay, std::min<Duration>(*r.retry_after, kMaxWait));
          }
          outbox_.retry(msg.id, report.at + delay, r.detail, report.at);
          report.outcome = DeliveryReport::Outcome::kRetry;
          report.retry_in = delay;
          break;
        }
        case Delivery::kDrop:
          outbox_.dropped(msg.id, r.detail, report.at);
          report.outcome = DeliveryReport::Outcome::kDropped;
          break;
      }
      observer_.on_attempt(report);
      pump(w);
    });
  });
}

}  // namespace backout::alerting
