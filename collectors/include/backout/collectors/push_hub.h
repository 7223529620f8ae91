// PushHub: where pushed samples meet the `push` collectors. The agent's HTTP API hands it the
// samples an application posted for a source (POST /api/v1/push/SRC); the push collector of that
// source subscribed at start() and receives them, as one batch, on its own strand.
//
// Push semantics (what the collector makes of a PushedSample, see push/push_accumulator.h):
// - kCounter: an increment (>= 0). The collector keeps a cumulative total per series (metric and
//   labels) and records the total, so the router turns it into increases as for a scraped
//   counter. The collector ends one empty batch at start(), so every series counts from zero:
//   pushing {"metric": "logins", "type": "counter", "value": 3} twice makes the window's
//   increase(logins) 6.
// - kCounterTotal: a counter's cumulative value as the application's own client library keeps it
//   (the Prometheus text format pushed over HTTP). The collector turns it into an increase of
//   its own total: a drop is a reset (the new value is the increase since it, as in Prometheus);
//   a series first pushed in a batch in which no counter total is known yet (an application's
//   first push: its totals since the process started) is a starting point and adds nothing;
//   a series first pushed beside known ones (a labelled series created at its first increment)
//   counts from zero.
// - kGauge: the current value, recorded as it is (`value(SRC.metric)`).
// - kObservation: one observation in seconds (a latency), recorded as it is (`p95(SRC.metric)`).
// - With `series` declared in the plan, samples of other metrics are dropped and counted
//   (PushReceipt::dropped, AttemptOutcome::dropped).
//
// Thread-safety: PushHub is thread-safe: deliver() from any thread (HTTP sessions), subscribe()
// and unsubscribe() from the collectors' strands. A receiver is never called inside deliver(): it
// is posted to the strand given at subscribe(). Time: none; a batch carries no timestamp, its
// samples count when the collector records them.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backout/core/sample.h"

namespace backout::collectors {

/// One pushed value of one series of a push source.
struct PushedSample {
  enum class Type {
    kCounter,       // an increment of a counter, >= 0
    kCounterTotal,  // a counter's cumulative value (Prometheus text format), >= 0
    kGauge,         // the current value
    kObservation,   // one observation in seconds, >= 0
  };
  std::string metric;
  Labels labels;
  double value = 0;
  Type type = Type::kGauge;
};

/// A batch as a push collector receives it: one HTTP push, or one StatsD datagram.
struct PushBatch {
  std::vector<PushedSample> samples;  // of declared metrics only
  std::size_t dropped = 0;            // samples of undeclared metrics, already removed
  std::size_t malformed = 0;          // lines the sender's parser skipped
  std::string first_error;            // the first of those, for the operator
  std::size_t lost = 0;               // StatsD: datagrams the kernel dropped (a full queue)
};

/// What deliver() did with a push, for the HTTP answer.
struct PushReceipt {
  std::size_t accepted = 0;  // handed to the collector
  std::size_t dropped = 0;   // of metrics the source does not declare
};

class PushHub {
 public:
  /// Receives one batch on the subscriber's strand.
  using Receiver = std::function<void(PushBatch batch)>;
  using SubscriptionId = std::uint64_t;

  PushHub() = default;
  PushHub(const PushHub&) = delete;
  PushHub& operator=(const PushHub&) = delete;

  /// Makes `receiver` the push collector of `source`, replacing any earlier one (a restarted
  /// collector wins over the stopped one). `declared`: the source's `series`, or nullopt to
  /// accept every metric. The id is for unsubscribe().
  SubscriptionId subscribe(const std::string& source, boost::asio::any_io_executor strand,
                           std::optional<std::vector<std::string>> declared, Receiver receiver);

  /// Removes the subscription `id` of `source`; a later subscriber of the source is kept.
  /// Batches already posted still reach the receiver's strand: the receiver ignores them once
  /// its collector is stopped.
  void unsubscribe(const std::string& source, SubscriptionId id);

  /// Drops the samples of undeclared metrics, posts the rest (even none, so that the drops are
  /// counted) to the source's collector and fills `receipt`. False, with nothing posted, when
  /// `source` has no push collector (unknown, not a push source, not started yet, stopped).
  bool deliver(const std::string& source, std::vector<PushedSample> samples,
               PushReceipt* receipt = nullptr);

  /// Whether `source` has a push collector now.
  bool has(const std::string& source) const;

 private:
  struct Subscription;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Subscription>> subscriptions_;
  SubscriptionId next_id_ = 0;
};

}  // namespace backout::collectors
