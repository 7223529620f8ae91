// The outbox: every message is stored here before its first delivery attempt, and leaves only
// when its channel accepted it (or refused it for good). Delivery workers read the oldest
// undelivered message of their channel, so a channel receives its messages in order.
//
// Thread-safety: implementations are thread-safe. Time: every call takes `now`; the outbox
// never reads a clock. An idempotency key is unique per channel: enqueuing it again is a no-op,
// so a page decided twice (e.g. replayed after a restart) is delivered once.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "backout/core/time.h"

namespace backout::alerting {

struct OutboxMessage {
  std::int64_t id = 0;
  std::string channel;
  std::string key;
  std::string payload;
  TimePoint created_at{};
  int attempts = 0;
  TimePoint next_attempt_at{};
  std::string last_error;
};

struct OutboxStats {
  std::size_t depth = 0;
  Duration oldest_age{0};
};

class Outbox {
 public:
  virtual ~Outbox() = default;
  /// Stores a message; false (and nothing stored) if the channel already has this key.
  virtual bool enqueue(const std::string& channel, const std::string& key,
                       const std::string& payload, TimePoint now) = 0;
  /// The oldest undelivered message of the channel.
  virtual std::optional<OutboxMessage> head(const std::string& channel) = 0;
  virtual void delivered(std::int64_t id, TimePoint now) = 0;
  /// A failed attempt at `now`: try again at `next_attempt`.
  virtual void retry(std::int64_t id, TimePoint next_attempt, const std::string& error,
                     TimePoint now) = 0;
  /// Refused for good (e.g. HTTP 400): removed from the queue, kept for the record.
  virtual void dropped(std::int64_t id, const std::string& error, TimePoint now) = 0;
  virtual OutboxStats stats(const std::string& channel, TimePoint now) = 0;
  /// Writes what could not be recorded yet (a durable outbox whose store failed); called on
  /// every tick. Returns how many changes are still held in memory only.
  virtual std::size_t flush(TimePoint /*now*/) { return 0; }
  /// The agent's clock was stepped by d (GuardedClock): the queued messages' times move with
  /// it, so a retry's backoff and a message's age count the time that really passed.
  virtual void shift(Duration d) = 0;
};

/// An outbox in memory: nothing survives a restart. For `simulate`-like runs and tests; the
/// running agent uses the state store's outbox.
class MemoryOutbox final : public Outbox {
 public:
  bool enqueue(const std::string& channel, const std::string& key, const std::string& payload,
               TimePoint now) override;
  std::optional<OutboxMessage> head(const std::string& channel) override;
  void delivered(std::int64_t id, TimePoint now) override;
  void retry(std::int64_t id, TimePoint next_attempt, const std::string& error,
             TimePoint now) override;
  void dropped(std::int64_t id, const std::string& error, TimePoint now) override;
  OutboxStats stats(const std::string& channel, TimePoint now) override;
  void shift(Duration d) override;

  /// enqueue(), returning the new message's id (nullopt: the key is used on the channel).
  std::optional<std::int64_t> add(const std::string& channel, const std::string& key,
                                  const std::string& payload, TimePoint now);
  /// The undelivered message `id`, if it is queued.
  std::optional<OutboxMessage> find(std::int64_t id);
  /// Puts back a message kept from before a restart, with its id (later ids follow it).
  void restore(OutboxMessage m);
  /// Marks `key` as used on `channel` (a message delivered before a restart): enqueuing it
  /// again is a no-op, as for a message still queued.
  void remember(const std::string& channel, const std::string& key);
  /// The id the next enqueued message gets; at least `id` from now on.
  void reserve_ids(std::int64_t id);

 private:
  std::mutex mu_;
  std::int64_t next_id_ = 1;
  std::map<std::string, std::deque<OutboxMessage>> queues_;
  std::map<std::string, std::set<std::string>> keys_;
};

}  // namespace backout::alerting
