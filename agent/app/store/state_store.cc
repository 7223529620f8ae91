#include "app/store/state_store.h"

#include <sqlite3.h>

#include <boost/json.hpp>
#include <cmath>
#include <filesystem>

#include "backout/core/text.h"

namespace backout::agent {
namespace {

namespace fs = std::filesystem;

std::int64_t ns(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint tp(std::int64_t v) { return TimePoint{Duration{v}}; }

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) {
      s_ = nullptr;
    }
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return s_ != nullptr; }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  Stmt& bind_null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  int step() { return sqlite3_step(s_); }
  std::int64_t i64(int c) const { return sqlite3_column_int64(s_, c); }
  double real(int c) const { return sqlite3_column_double(s_, c); }
  bool null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  std::string text(int c) const {
    const unsigned char* t = sqlite3_column_text(s_, c);
    return t == nullptr ? std::string()
                        : std::string(reinterpret_cast<const char*>(t),
                                      static_cast<std::size_t>(sqlite3_column_bytes(s_, c)));
  }
  std::string error() const { return sqlite3_errmsg(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

Status done(Stmt& s, const char* what) {
  if (!s.ok()) {
    return Error{std::string("state store: cannot prepare ") + what};
  }
  int rc = s.step();
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    return Error{std::string("state store: ") + what + ": " + s.error()};
  }
  return {};
}

alerting::OutboxMessage read_message(const Stmt& s) {
  alerting::OutboxMessage m;
  m.id = s.i64(0);
  m.channel = s.text(1);
  m.key = s.text(2);
  m.payload = s.text(3);
  m.created_at = tp(s.i64(4));
  m.attempts = static_cast<int>(s.i64(5));
  m.next_attempt_at = tp(s.i64(6));
  m.last_error = s.text(7);
  return m;
}

}  // namespace

namespace {

bool damage_code(int code) {
  const int primary = code & 0xff;
  return primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT;
}

}  // namespace

Result<std::unique_ptr<StateStore>> StateStore::open(const std::string& dir) {
  bool damaged = false;
  return open_checked(dir, damaged);
}

// open(); `damaged` tells whether the failure is the file's own (then, and only then,
// open_or_recover moves it aside).
Result<std::unique_ptr<StateStore>> StateStore::open_checked(const std::string& dir,
                                                             bool& damaged) {
  damaged = false;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return Error{"cannot create state_dir " + dir + ": " + ec.message() +
                 "; create it and give the agent's user write access"};
  }
  std::unique_ptr<StateStore> s(new StateStore());
  s->dir_ = dir;
  s->path_ = (fs::path(dir) / "state.db").string();
  if (sqlite3_open_v2(s->path_.c_str(), &s->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = s->db_ != nullptr ? sqlite3_errmsg(s->db_) : "out of memory";
    return Error{"cannot open the state store " + s->path_ + ": " + msg};
  }
  sqlite3_busy_timeout(s->db_, 2000);
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                             "PRAGMA foreign_keys=ON"}) {
    if (Status st = s->exec(pragma); !st.ok()) {
      damaged = damage_code(sqlite3_extended_errcode(s->db_));
      return Error{"the state store " + s->path_ + " is not usable: " + st.error() +
                   (damaged ? "" : " (is the directory writable?)")};
    }
  }
  // A truncated or damaged file often opens: the quick check reads every page.
  {
    Stmt q(s->db_, "PRAGMA quick_check");
    const int rc = q.ok() ? q.step() : sqlite3_errcode(s->db_);
    if (rc != SQLITE_ROW || q.text(0) != "ok") {
      const std::string what = rc == SQLITE_ROW ? q.text(0) : sqlite3_errmsg(s->db_);
      damaged = rc == SQLITE_ROW || damage_code(rc);
      return Error{"the state store " + s->path_ + " is not usable: the integrity check says " +
                   printable(what)};
    }
  }
  if (Status st = s->migrate(&damaged); !st.ok()) {
    return Error{st.error()};
  }
  return s;
}

Result<std::unique_ptr<StateStore>> StateStore::open_or_recover(const std::string& dir,
                                                                const std::string& suffix) {
  bool damaged = false;
  auto first = open_checked(dir, damaged);
  if (first.ok() || !damaged) {
    return first;
  }
  const fs::path path = fs::path(dir) / "state.db";
  const fs::path aside = fs::path(dir) / ("state-damaged-" + suffix + ".db");
  std::error_code ec;
  fs::rename(path, aside, ec);
  if (ec) {
    return Error{first.error() + "; moving it aside as " + aside.string() + " failed too: " +
                 ec.message()};
  }
  for (const char* ext : {"-wal", "-shm"}) {
    std::error_code ignored;
    fs::rename(path.string() + ext, aside.string() + ext, ignored);
  }
  auto fresh = open(dir);
  if (!fresh.ok()) {
    return Error{first.error() + "; moved aside as " + aside.string() +
                 ", but a fresh store cannot be started: " + fresh.error()};
  }
  (*fresh)->recovered_ = first.error() + "; moved aside as " + aside.string();
  return fresh;
}

StateStore::~StateStore() {
  if (db_ != nullptr) {
    sqlite3_close_v2(db_);
  }
}

Status StateStore::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    return Error{msg};
  }
  return {};
}

Status StateStore::set_query_only(bool on) {
  std::lock_guard lock(mu_);
  return exec(on ? "PRAGMA query_only = ON" : "PRAGMA query_only = OFF");
}

// Called before the store is shared (open) or with mu_ held (archive_and_reset). `damaged`, when
// given, is set when the failure is the file's own (an unreadable schema version).
Status StateStore::migrate(bool* damaged) {
  if (Status s = exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT "
                      "NULL)");
      !s.ok()) {
    return Error{"state store: " + s.error()};
  }
  int version = 0;
  {
    Stmt q(db_, "SELECT value FROM meta WHERE key = 'schema_version'");
    if (q.ok() && q.step() == SQLITE_ROW) {
      auto v = parse_whole_number(q.text(0), 1000000);
      if (!v) {
        if (damaged != nullptr) {
          *damaged = true;
        }
        return Error{"the state store " + path_ + " is not usable: its schema_version is '" +
                     printable(q.text(0)) + "', not a number"};
      }
      version = static_cast<int>(*v);
    }
  }
  if (version > kSchemaVersion) {
    return Error{"the state store " + path_ + " has schema version " + std::to_string(version) +
                 ", newer than this agent's " + std::to_string(kSchemaVersion) +
                 "; run the newer agent or move the file aside"};
  }
  // Migrations, one per version, each in a transaction.
  static const char* const kMigrations[] = {
      // 1: the first schema.
      "CREATE TABLE timeline (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, "
      "  kind TEXT NOT NULL, event TEXT NOT NULL);"
      "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, "
      "  key TEXT NOT NULL, payload TEXT NOT NULL, created_at INTEGER NOT NULL, "
      "  attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, "
      "  last_error TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT 'pending', "
      "  done_at INTEGER, UNIQUE (channel, key));"
      "CREATE INDEX outbox_pending ON outbox (channel, state, id);"
      "CREATE TABLE episodes (trigger TEXT NOT NULL, number INTEGER NOT NULL, "
      "  severity TEXT NOT NULL, opened_at INTEGER NOT NULL, paged_at INTEGER, "
      "  last_page_at INTEGER, acked_at INTEGER, acked_by TEXT NOT NULL DEFAULT '', "
      "  escalated INTEGER NOT NULL, pnr_warned INTEGER NOT NULL, pages INTEGER NOT NULL, "
      "  resolved_at INTEGER, PRIMARY KEY (trigger, number));"
      "CREATE TABLE baselines (trigger TEXT PRIMARY KEY, value REAL NOT NULL, "
      "  captured_at INTEGER NOT NULL);"
      "CREATE TABLE flags (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
  };
  for (int v = version; v < kSchemaVersion; ++v) {
    Status s = exec(std::string("BEGIN IMMEDIATE;") + kMigrations[v] +
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', '" +
                    std::to_string(v + 1) + "');COMMIT;");
    if (!s.ok()) {
      (void)exec("ROLLBACK");
      return Error{"state store: migration to schema " + std::to_string(v + 1) + " failed: " +
                   s.error()};
    }
  }
  return {};
}

std::string StateStore::identity() {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT value FROM meta WHERE key = 'identity'");
  if (q.ok() && q.step() == SQLITE_ROW) {
    return q.text(0);
  }
  return {};
}

Status StateStore::set_identity(const std::string& identity) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "INSERT OR REPLACE INTO meta (key, value) VALUES ('identity', ?)");
  q.bind(1, identity);
  return done(q, "set identity");
}

Status StateStore::archive_and_reset(const std::string& suffix) {
  std::lock_guard lock(mu_);
  (void)exec("PRAGMA wal_checkpoint(TRUNCATE)");
  sqlite3_close_v2(db_);
  db_ = nullptr;
  std::error_code ec;
  fs::path archived = fs::path(dir_) / ("state-" + suffix + ".db");
  fs::rename(path_, archived, ec);
  if (ec) {
    return Error{"cannot move " + path_ + " aside: " + ec.message()};
  }
  fs::remove(path_ + "-wal", ec);
  fs::remove(path_ + "-shm", ec);
  if (sqlite3_open_v2(path_.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    return Error{"cannot recreate the state store " + path_};
  }
  (void)exec("PRAGMA journal_mode=WAL");
  (void)exec("PRAGMA synchronous=NORMAL");
  return migrate();
}

Status StateStore::append_event(const std::string& json, TimePoint at, const std::string& kind) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "INSERT INTO timeline (at, kind, event) VALUES (?, ?, ?)");
  q.bind(1, ns(at)).bind(2, kind).bind(3, json);
  return done(q, "append to the timeline");
}

std::vector<std::string> StateStore::events(std::size_t from, std::size_t limit) {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  Stmt q(db_, "SELECT event FROM timeline ORDER BY id LIMIT ? OFFSET ?");
  q.bind(1, static_cast<std::int64_t>(limit)).bind(2, static_cast<std::int64_t>(from));
  while (q.ok() && q.step() == SQLITE_ROW) {
    out.push_back(q.text(0));
  }
  return out;
}

std::size_t StateStore::event_count() {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT COUNT(*) FROM timeline");
  return q.ok() && q.step() == SQLITE_ROW ? static_cast<std::size_t>(q.i64(0)) : 0;
}

namespace {

const char* state_name(OutboxRow::State s) {
  switch (s) {
    case OutboxRow::State::kPending:
      return "pending";
    case OutboxRow::State::kDelivered:
      return "delivered";
    case OutboxRow::State::kDropped:
      return "dropped";
  }
  return "pending";
}

}  // namespace

Status StateStore::outbox_put(const OutboxRow& row) {
  std::lock_guard lock(mu_);
  const alerting::OutboxMessage& m = row.message;
  Stmt q(db_, "INSERT INTO outbox (id, channel, key, payload, created_at, attempts, "
              "next_attempt_at, last_error, state, done_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
              "ON CONFLICT (id) DO UPDATE SET attempts = excluded.attempts, "
              "next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error, "
              "state = excluded.state, done_at = excluded.done_at");
  q.bind(1, m.id).bind(2, m.channel).bind(3, m.key).bind(4, m.payload).bind(5, ns(m.created_at));
  q.bind(6, static_cast<std::int64_t>(m.attempts)).bind(7, ns(m.next_attempt_at));
  q.bind(8, m.last_error).bind(9, std::string(state_name(row.state)));
  if (row.done_at) {
    q.bind(10, ns(*row.done_at));
  } else {
    q.bind_null(10);
  }
  return done(q, "record a message in the outbox");
}

std::vector<alerting::OutboxMessage> StateStore::outbox_pending() {
  std::lock_guard lock(mu_);
  std::vector<alerting::OutboxMessage> out;
  Stmt q(db_, "SELECT id, channel, key, payload, created_at, attempts, next_attempt_at, "
              "last_error FROM outbox WHERE state = 'pending' ORDER BY id");
  while (q.ok() && q.step() == SQLITE_ROW) {
    out.push_back(read_message(q));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> StateStore::outbox_keys() {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  Stmt q(db_, "SELECT channel, key FROM outbox");
  while (q.ok() && q.step() == SQLITE_ROW) {
    out.emplace_back(q.text(0), q.text(1));
  }
  return out;
}

std::int64_t StateStore::outbox_max_id() {
  std::lock_guard lock(mu_);
  // sqlite_sequence remembers ids of rows since deleted too (AUTOINCREMENT).
  Stmt q(db_, "SELECT MAX(m) FROM (SELECT MAX(id) AS m FROM outbox UNION ALL "
              "SELECT seq FROM sqlite_sequence WHERE name = 'outbox')");
  return q.ok() && q.step() == SQLITE_ROW ? q.i64(0) : 0;
}

std::vector<alerting::OutboxMessage> StateStore::outbox_all() {
  std::lock_guard lock(mu_);
  std::vector<alerting::OutboxMessage> out;
  Stmt q(db_, "SELECT id, channel, key, payload, created_at, attempts, next_attempt_at, "
              "last_error FROM outbox ORDER BY id");
  while (q.ok() && q.step() == SQLITE_ROW) {
    out.push_back(read_message(q));
  }
  return out;
}

Status StateStore::save_episodes(const std::vector<rules::Episode>& episodes) {
  std::lock_guard lock(mu_);
  if (Status s = exec("BEGIN IMMEDIATE"); !s.ok()) {
    return Error{"state store: " + s.error()};
  }
  for (const rules::Episode& e : episodes) {
    Stmt q(db_, "INSERT OR REPLACE INTO episodes (trigger, number, severity, opened_at, "
                "paged_at, last_page_at, acked_at, acked_by, escalated, pnr_warned, pages, "
                "resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q.bind(1, e.trigger)
        .bind(2, static_cast<std::int64_t>(e.number))
        .bind(3, std::string(rules::to_string(e.severity)))
        .bind(4, ns(e.opened_at));
    auto opt = [&](int i, const std::optional<TimePoint>& t) {
      if (t) {
        q.bind(i, ns(*t));
      } else {
        q.bind_null(i);
      }
    };
    opt(5, e.paged_at);
    opt(6, e.last_page_at);
    opt(7, e.acked_at);
    q.bind(8, e.acked_by)
        .bind(9, std::int64_t{e.escalated ? 1 : 0})
        .bind(10, std::int64_t{e.pnr_warned ? 1 : 0})
        .bind(11, static_cast<std::int64_t>(e.pages));
    opt(12, e.resolved_at);
    if (Status s = done(q, "save an episode"); !s.ok()) {
      (void)exec("ROLLBACK");
      return s;
    }
  }
  if (Status s = exec("COMMIT"); !s.ok()) {
    return Error{"state store: " + s.error()};
  }
  return {};
}

std::vector<rules::Episode> StateStore::load_episodes() {
  std::lock_guard lock(mu_);
  std::vector<rules::Episode> out;
  Stmt q(db_, "SELECT trigger, number, severity, opened_at, paged_at, last_page_at, acked_at, "
              "acked_by, escalated, pnr_warned, pages, resolved_at FROM episodes "
              "ORDER BY opened_at, trigger, number");
  while (q.ok() && q.step() == SQLITE_ROW) {
    rules::Episode e;
    e.trigger = q.text(0);
    e.number = static_cast<std::uint64_t>(q.i64(1));
    e.severity = rules::parse_severity(q.text(2)).value_or(rules::Severity::kMajor);
    e.opened_at = tp(q.i64(3));
    auto opt = [&](int c) -> std::optional<TimePoint> {
      return q.null(c) ? std::nullopt : std::optional<TimePoint>(tp(q.i64(c)));
    };
    e.paged_at = opt(4);
    e.last_page_at = opt(5);
    e.acked_at = opt(6);
    e.acked_by = q.text(7);
    e.escalated = q.i64(8) != 0;
    e.pnr_warned = q.i64(9) != 0;
    e.pages = static_cast<std::uint32_t>(q.i64(10));
    e.resolved_at = opt(11);
    out.push_back(std::move(e));
  }
  return out;
}

Status StateStore::save_baseline(const std::string& trigger, double value, TimePoint at) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "INSERT OR REPLACE INTO baselines (trigger, value, captured_at) VALUES (?, ?, ?)");
  q.bind(1, trigger).bind(2, value).bind(3, ns(at));
  return done(q, "save a baseline");
}

std::map<std::string, double> StateStore::load_baselines(std::vector<std::string>* unusable) {
  std::lock_guard lock(mu_);
  std::map<std::string, double> out;
  Stmt q(db_, "SELECT trigger, value, typeof(value) FROM baselines");
  while (q.ok() && q.step() == SQLITE_ROW) {
    const std::string type = q.text(2);
    const double v = q.real(1);
    if ((type == "real" || type == "integer") && std::isfinite(v)) {
      out[q.text(0)] = v;
    } else if (unusable != nullptr) {
      unusable->push_back(printable(q.text(0)) + ": '" + printable(q.text(1)) + "'");
    }
  }
  return out;
}

Status StateStore::set_flag(const std::string& key, const std::string& value) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "INSERT OR REPLACE INTO flags (key, value) VALUES (?, ?)");
  q.bind(1, key).bind(2, value);
  return done(q, "set a flag");
}

std::optional<std::string> StateStore::flag(const std::string& key) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT value FROM flags WHERE key = ?");
  q.bind(1, key);
  if (q.ok() && q.step() == SQLITE_ROW) {
    return q.text(0);
  }
  return std::nullopt;
}

void StoreRetryGate::failed(TimePoint now) {
  ++failures_;
  last_ = now;
  const auto delay = std::min<Duration>(std::chrono::seconds{30},
                                        std::chrono::seconds{1L << std::min(failures_ - 1, 5)});
  next_ = now + delay;
}

void StoreTimeline::append(const record::TimelineEvent& event) {
  std::string json = record::encode(event);
  const TimePoint at = event.at.at;
  std::string kind(event.kind());
  std::lock_guard lock(mu_);
  if (held_.size() >= kMaxHeld) {
    held_.pop_front();
    if (on_error_) {
      on_error_("state store: more than " + std::to_string(kMaxHeld) +
                " timeline events held in memory; the oldest is lost");
    }
  }
  held_.push_back(Held{json, at, std::move(kind)});
  // The event's own time paces the retries: the timeline has no clock of its own.
  flush_locked(at);
}

std::size_t StoreTimeline::flush(TimePoint now) {
  std::lock_guard lock(mu_);
  return flush_locked(now);
}

std::size_t StoreTimeline::flush_locked(TimePoint now) {
  if (held_.empty() || !gate_.due(now)) {
    return held_.size();
  }
  while (!held_.empty()) {
    const Held& h = held_.front();
    if (Status s = store_.append_event(h.json, h.at, h.kind); !s.ok()) {
      gate_.failed(now);
      if (on_error_) {
        on_error_(s.error() + " (" + std::to_string(held_.size()) +
                  " timeline events held in memory until the store takes writes again)");
      }
      return held_.size();
    }
    held_.pop_front();
  }
  gate_.succeeded();
  return 0;
}

std::vector<std::string> StoreTimeline::read(std::size_t from, std::size_t limit) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out = store_.events(from, limit);
  if (out.size() < limit && !held_.empty()) {
    // The held events come after every stored one.
    const std::size_t stored = store_.event_count();
    const std::size_t reached = from + out.size();
    for (std::size_t i = reached >= stored ? reached - stored : held_.size();
         i < held_.size() && out.size() < limit; ++i) {
      out.push_back(held_[i].json);
    }
  }
  return out;
}

StoreOutbox::StoreOutbox(StateStore& store, std::function<void(const std::string&)> on_error)
    : store_(store), on_error_(std::move(on_error)) {
  for (const auto& [channel, key] : store_.outbox_keys()) {
    queued_.remember(channel, key);
  }
  for (alerting::OutboxMessage& m : store_.outbox_pending()) {
    queued_.restore(std::move(m));
  }
  queued_.reserve_ids(store_.outbox_max_id() + 1);
}

// Each change takes mu_ from the memory update to the row it leaves in unsaved_, so the rows
// of one message are recorded in the order its changes happened (a worker may deliver a message
// while the tick that enqueued it is still here).
bool StoreOutbox::enqueue(const std::string& channel, const std::string& key,
                          const std::string& payload, TimePoint now) {
  std::lock_guard lock(mu_);
  std::optional<std::int64_t> id = queued_.add(channel, key, payload, now);
  if (!id) {
    return false;
  }
  if (std::optional<alerting::OutboxMessage> m = queued_.find(*id)) {
    record_locked(OutboxRow{std::move(*m), OutboxRow::State::kPending, std::nullopt}, now);
  }
  return true;
}

std::optional<alerting::OutboxMessage> StoreOutbox::head(const std::string& channel) {
  return queued_.head(channel);
}

void StoreOutbox::delivered(std::int64_t id, TimePoint now) {
  finish(id, OutboxRow::State::kDelivered, std::nullopt, now);
}

void StoreOutbox::dropped(std::int64_t id, const std::string& error, TimePoint now) {
  finish(id, OutboxRow::State::kDropped, error, now);
}

void StoreOutbox::finish(std::int64_t id, OutboxRow::State state,
                         const std::optional<std::string>& error, TimePoint now) {
  std::lock_guard lock(mu_);
  std::optional<alerting::OutboxMessage> m = queued_.find(id);
  if (!m) {
    return;
  }
  queued_.delivered(id, now);  // leaves the queue either way
  ++m->attempts;
  if (error) {
    m->last_error = *error;
  }
  record_locked(OutboxRow{std::move(*m), state, now}, now);
}

void StoreOutbox::retry(std::int64_t id, TimePoint next_attempt, const std::string& error,
                        TimePoint now) {
  std::lock_guard lock(mu_);
  queued_.retry(id, next_attempt, error, now);
  if (std::optional<alerting::OutboxMessage> m = queued_.find(id)) {
    record_locked(OutboxRow{std::move(*m), OutboxRow::State::kPending, std::nullopt}, now);
  }
}

alerting::OutboxStats StoreOutbox::stats(const std::string& channel, TimePoint now) {
  return queued_.stats(channel, now);
}

void StoreOutbox::record_locked(OutboxRow row, TimePoint now) {
  const std::int64_t id = row.message.id;
  unsaved_.insert_or_assign(id, std::move(row));
  flush_locked(now);
}

std::size_t StoreOutbox::flush(TimePoint now) {
  std::lock_guard lock(mu_);
  return flush_locked(now);
}

std::size_t StoreOutbox::flush_locked(TimePoint now) {
  if (unsaved_.empty() || !gate_.due(now)) {
    return unsaved_.size();
  }
  // In id order: a message is inserted before a later one, as it was enqueued.
  for (auto it = unsaved_.begin(); it != unsaved_.end();) {
    if (Status s = store_.outbox_put(it->second); !s.ok()) {
      gate_.failed(now);
      if (on_error_) {
        on_error_(s.error() + " (" + std::to_string(unsaved_.size()) +
                  " outbox changes held in memory until the store takes writes again; "
                  "delivery goes on)");
      }
      return unsaved_.size();
    }
    it = unsaved_.erase(it);
  }
  gate_.succeeded();
  return 0;
}

}  // namespace backout::agent
