#include "backout/collectors/push_hub.h"

#include <boost/asio/post.hpp>
#include <utility>

#include "push/declared_series.h"

namespace backout::collectors {

struct PushHub::Subscription {
  SubscriptionId id;
  boost::asio::any_io_executor strand;
  DeclaredSeries declared;
  Receiver receiver;
};

PushHub::SubscriptionId PushHub::subscribe(const std::string& source,
                                           boost::asio::any_io_executor strand,
                                           std::optional<std::vector<std::string>> declared,
                                           Receiver receiver) {
  std::lock_guard lock(mu_);
  const SubscriptionId id = ++next_id_;
  subscriptions_[source] = std::make_shared<const Subscription>(
      Subscription{id, std::move(strand), DeclaredSeries(declared), std::move(receiver)});
  return id;
}

void PushHub::unsubscribe(const std::string& source, SubscriptionId id) {
  std::lock_guard lock(mu_);
  auto it = subscriptions_.find(source);
  if (it != subscriptions_.end() && it->second->id == id) {
    subscriptions_.erase(it);
  }
}

bool PushHub::deliver(const std::string& source, std::vector<PushedSample> samples,
                      PushReceipt* receipt) {
  std::shared_ptr<const Subscription> sub;
  {
    std::lock_guard lock(mu_);
    auto it = subscriptions_.find(source);
    if (it == subscriptions_.end()) {
      return false;
    }
    sub = it->second;
  }
  // Filtering and posting happen outside the lock: a big push does not hold up the others.
  PushBatch batch;
  batch.dropped = sub->declared.drop_undeclared(samples);
  batch.samples = std::move(samples);
  if (receipt != nullptr) {
    *receipt = {.accepted = batch.samples.size(), .dropped = batch.dropped};
  }
  boost::asio::post(sub->strand,
                    [sub, batch = std::move(batch)]() mutable { sub->receiver(std::move(batch)); });
  return true;
}

bool PushHub::has(const std::string& source) const {
  std::lock_guard lock(mu_);
  return subscriptions_.count(source) != 0;
}

}  // namespace backout::collectors
