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
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "app/runtime/outbox.h"
#include "app/runtime/timeline.h"
#include "backout/core/result.h"
#include "backout/rules/paging_policy.h"

struct sqlite3;

namespace backout::agent {

class StateStore {
 public:
  static constexpr int kSchemaVersion = 1;

  /// Opens (creating) `dir`/state.db. Fails with the reason (directory not writable, not a
  /// database, a newer schema than this agent knows).
  static Result<std::unique_ptr<StateStore>> open(const std::string& dir);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  const std::string& path() const { return path_; }

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
  Result<bool> outbox_enqueue(const std::string& channel, const std::string& key,
                              const std::string& payload, TimePoint now);
  std::optional<OutboxMessage> outbox_head(const std::string& channel);
  Status outbox_delivered(std::int64_t id, TimePoint now);
  Status outbox_retry(std::int64_t id, TimePoint next_attempt, const std::string& error);
  Status outbox_dropped(std::int64_t id, const std::string& error, TimePoint now);
  OutboxStats outbox_stats(const std::string& channel, TimePoint now);
  /// Every message ever stored, in order (for the review).
  std::vector<OutboxMessage> outbox_all();

  // Episodes and flags
  Status save_episodes(const std::vector<rules::Episode>& episodes);
  std::vector<rules::Episode> load_episodes();
  Status save_baseline(const std::string& trigger, double value, TimePoint at);
  std::map<std::string, double> load_baselines();
  Status set_flag(const std::string& key, const std::string& value);
  std::optional<std::string> flag(const std::string& key);

 private:
  StateStore() = default;
  Status exec(const std::string& sql);
  Status migrate();

  std::string dir_;
  std::string path_;
  sqlite3* db_ = nullptr;
  std::mutex mu_;
};

/// The timeline on the state store.
class StoreTimeline final : public Timeline {
 public:
  explicit StoreTimeline(StateStore& store, std::function<void(const std::string&)> on_error)
      : store_(store), on_error_(std::move(on_error)) {}
  void append(const std::string& json) override;
  std::vector<std::string> read(std::size_t from, std::size_t limit) const override;

 private:
  StateStore& store_;
  std::function<void(const std::string&)> on_error_;
};

/// The outbox on the state store.
class StoreOutbox final : public Outbox {
 public:
  explicit StoreOutbox(StateStore& store, std::function<void(const std::string&)> on_error)
      : store_(store), on_error_(std::move(on_error)) {}
  bool enqueue(const std::string& channel, const std::string& key, const std::string& payload,
               TimePoint now) override;
  std::optional<OutboxMessage> head(const std::string& channel) override;
  void delivered(std::int64_t id, TimePoint now) override;
  void retry(std::int64_t id, TimePoint next_attempt, const std::string& error) override;
  void dropped(std::int64_t id, const std::string& error, TimePoint now) override;
  OutboxStats stats(const std::string& channel, TimePoint now) override;

 private:
  void check(const Status& s) {
    if (!s.ok() && on_error_) {
      on_error_(s.error());
    }
  }
  StateStore& store_;
  std::function<void(const std::string&)> on_error_;
};

}  // namespace backout::agent
