// The state store: one SQLite database in WAL mode under state_dir, holding everything the agent
// must not lose on a restart: the timeline (every event of the night), the outbox (every message
// before it is sent), episodes (breaches with their pages, acknowledgements and escalation
// timers), baselines, and flags such as "final message sent". Human acts are restored from the
// timeline, where each is recorded with all its data.
//
// Durability: each write is its own transaction; in WAL mode with synchronous=NORMAL a committed
// transaction survives the process being killed (kill -9) at any moment — only a power loss can
// drop the last few, which synchronous=FULL would also cover at the cost of an fsync per event.
// Schema versioned (meta.schema_version) with forward migrations applied at open.
//
// Thread-safety: thread-safe (one connection behind a mutex; writes take microseconds). A write
// that fails (disk full, I/O error) returns an error: callers log it, count it in
// backout_errors_total{kind="state_store"} and carry on.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backout/alerting/outbox.h"
#include "app/record/timeline.h"
#include "backout/core/result.h"
#include "backout/rules/paging_policy.h"

struct sqlite3;

namespace backout::agent {

/// One outbox row as stored: the message and where it stands.
struct OutboxRow {
  enum class State { kPending, kDelivered, kDropped };
  alerting::OutboxMessage message;
  State state = State::kPending;
  std::optional<TimePoint> done_at;
};

class StateStore {
 public:
  static constexpr int kSchemaVersion = 1;

  /// Opens (creating) `dir`/state.db. Fails with the reason (directory not writable, not a
  /// database, damaged, a newer schema than this agent knows).
  static Result<std::unique_ptr<StateStore>> open(const std::string& dir);
  /// open(), for the running agent: a store that is damaged (not a database, a failed
  /// integrity check, a truncated file, an unreadable schema version) is moved aside as
  /// state-damaged-<suffix>.db (with its -wal and -shm) and a fresh store is started, because
  /// a watch without last night's history beats no watch; recovered() then says what was lost.
  /// Other failures (permissions, a newer schema) fail as open() does: nothing is moved.
  static Result<std::unique_ptr<StateStore>> open_or_recover(const std::string& dir,
                                                             const std::string& suffix);
  /// Set by open_or_recover() when it started afresh: why, and where the damaged file went.
  const std::optional<std::string>& recovered() const { return recovered_; }
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  const std::string& path() const { return path_; }

  /// Makes every later write fail as on a file that turned read-only (SQLITE_READONLY), or
  /// undoes it. A mounted filesystem cannot be remounted read-only under an open database, so
  /// the fault tests use this to see that path.
  Status set_query_only(bool on);

  /// Which plan this state belongs to ("release|window start"); empty for a new store.
  std::string identity();
  Status set_identity(const std::string& identity);
  /// Moves the database aside (state-<suffix>.db) and starts an empty one: a new release.
  Status archive_and_reset(const std::string& suffix);

  // Timeline
  Status append_event(const std::string& json, TimePoint at, const std::string& kind);
  std::vector<std::string> events(std::size_t from, std::size_t limit);
  std::size_t event_count();

  // Outbox
  /// Writes the whole row of message `row.message.id` (inserting it the first time): the
  /// durable outbox records each change as the message's state after it, so a write that fails
  /// can be repeated later as it is.
  Status outbox_put(const OutboxRow& row);
  /// Messages not yet delivered or dropped, oldest first (every channel).
  std::vector<alerting::OutboxMessage> outbox_pending();
  /// (channel, key) of every message ever stored, and the largest id used.
  std::vector<std::pair<std::string, std::string>> outbox_keys();
  std::int64_t outbox_max_id();
  /// Every message ever stored, in order (for the review).
  std::vector<alerting::OutboxMessage> outbox_all();

  // Episodes and flags
  Status save_episodes(const std::vector<rules::Episode>& episodes);
  std::vector<rules::Episode> load_episodes();
  Status save_baseline(const std::string& trigger, double value, TimePoint at);
  /// The stored baselines by trigger. A row whose value is not a finite number (written by
  /// hand, or by another tool) is left out, and described in `unusable` ("trigger: 'value'"):
  /// restored as 0 it would make every reading of a relative trigger a breach.
  std::map<std::string, double> load_baselines(std::vector<std::string>* unusable = nullptr);
  Status set_flag(const std::string& key, const std::string& value);
  std::optional<std::string> flag(const std::string& key);

 private:
  StateStore() = default;
  Status exec(const std::string& sql);
  Status migrate(bool* damaged = nullptr);
  static Result<std::unique_ptr<StateStore>> open_checked(const std::string& dir, bool& damaged);

  std::string dir_;
  std::string path_;
  std::optional<std::string> recovered_;
  sqlite3* db_ = nullptr;
  std::mutex mu_;
};

/// When to try a failed store write again: at once the first time, then after 1 s, doubling to
/// 30 s, so a full disk costs a few writes a minute instead of one per event. A wall clock that
/// went back makes an attempt due at once. Not thread-safe (its owner's lock guards it).
class StoreRetryGate {
 public:
  bool due(TimePoint now) const { return failures_ == 0 || now >= next_ || now < last_; }
  void failed(TimePoint now);
  void succeeded() { failures_ = 0; }
  bool failing() const { return failures_ > 0; }

 private:
  int failures_ = 0;
  TimePoint last_{};
  TimePoint next_{};
};

/// The timeline on the state store. An event that cannot be written (disk full, store read-only)
/// is held in memory, served by read() after the stored ones, and written, in order, once the
/// store takes writes again (flush(), on every tick and append). Holds at most kMaxHeld events;
/// past that the oldest held ones are lost (counted, logged). Thread-safe.
class StoreTimeline final : public Timeline {
 public:
  static constexpr std::size_t kMaxHeld = 100000;

  explicit StoreTimeline(StateStore& store, std::function<void(const std::string&)> on_error)
      : store_(store), on_error_(std::move(on_error)) {}
  void append(const record::TimelineEvent& event) override;
  std::vector<std::string> read(std::size_t from, std::size_t limit) const override;
  /// Writes the held events if the store takes them; returns how many are still held.
  std::size_t flush(TimePoint now);

 private:
  struct Held {
    std::string json;
    TimePoint at;
    std::string kind;
  };
  std::size_t flush_locked(TimePoint now);

  StateStore& store_;
  std::function<void(const std::string&)> on_error_;
  mutable std::mutex mu_;
  std::deque<Held> held_;
  StoreRetryGate gate_;
};

/// The outbox on the state store. Memory is the authority on what is queued and what was
/// delivered; the store is its record. A change the store cannot take (disk full, read-only) is
/// kept in memory and written when the store takes writes again, so a failed write never makes
/// a message go out twice, nor keeps one from going out: a page decided while the disk is full
/// is delivered, and recorded later. At construction it restores the undelivered messages and
/// the keys already used from the store. Thread-safe.
class StoreOutbox final : public alerting::Outbox {
 public:
  explicit StoreOutbox(StateStore& store, std::function<void(const std::string&)> on_error);
  bool enqueue(const std::string& channel, const std::string& key, const std::string& payload,
               TimePoint now) override;
  std::optional<alerting::OutboxMessage> head(const std::string& channel) override;
  void delivered(std::int64_t id, TimePoint now) override;
  void retry(std::int64_t id, TimePoint next_attempt, const std::string& error,
             TimePoint now) override;
  void dropped(std::int64_t id, const std::string& error, TimePoint now) override;
  alerting::OutboxStats stats(const std::string& channel, TimePoint now) override;
  std::size_t flush(TimePoint now) override;
  /// Moves the queued messages in memory; the stored rows keep the times they were written with
  /// (a restart takes them as they are, and the dispatcher caps any wait; see Dispatcher::pump).
  void shift(Duration d) override { queued_.shift(d); }

 private:
  void finish(std::int64_t id, OutboxRow::State state, const std::optional<std::string>& error,
              TimePoint now);
  void record_locked(OutboxRow row, TimePoint now);
  std::size_t flush_locked(TimePoint now);

  StateStore& store_;
  std::function<void(const std::string&)> on_error_;
  alerting::MemoryOutbox queued_;
  std::mutex mu_;  // guards unsaved_ and gate_, and orders the changes to queued_
  std::map<std::int64_t, OutboxRow> unsaved_;  // by id: the latest state of each message
  StoreRetryGate gate_;
};

}  // namespace backout::agent
