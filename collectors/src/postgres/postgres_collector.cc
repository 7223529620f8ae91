// The `postgres` collector: how one attempt goes; PeriodicRunner does the schedule, stop() and
// the `up` and `duration` samples, PgConnection the libpq connection. One connection per attempt:
// the attempt then measures what the plan's connectivity checks are about (can a client get in
// and run a query now?), and no half-broken connection survives an outage.
//
// Between attempts (`watch_connection`, on by default) the last good connection stays open, idle,
// and its socket is watched. A server that stops or crashes closes it, and the next attempt runs
// at once (PeriodicRunner::probe_now) instead of up to `every` later: a stopped database is seen
// in milliseconds. The closure is only a reason to check, never a failure by itself: a connection
// ended by pg_terminate_backend, idle_session_timeout or a pooler is followed by a check that
// succeeds, so nothing is recorded down. The held connection is closed a little before the next
// check is due (kReleaseMargin), so that its server process has exited when the check connects:
// a role with CONNECTION LIMIT 1, or a server one slot from max_connections, must not refuse the
// check because of our own idle session. A server that keeps closing connections gets at most one
// early check between two scheduled ones. A connection is held only when it is idle (no
// transaction left open by the query).
//
// `timeout` bounds host lookup + connect + query: when it passes, the connection is dropped (see
// pg_connection.h for why it is not cancelled). The price of dropping: the server finishes the
// abandoned statement on its own; at most one per attempt, since attempts never overlap. Add
// `options=-c statement_timeout=...` to the dsn to bound it.
//
// A successful check whose first value is not usable (no rows, NULL, not a number) is still up:
// the server answered. It records no `value`, and says why in AttemptOutcome::error (a
// non-number also counts as malformed). Booleans count as 1 and 0.
#include "postgres/postgres_kind.h"

#include <libpq-fe.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <optional>
#include <string_view>
#include <utility>

#include "periodic_runner.h"
#include "postgres/pg_connection.h"
#include "postgres/postgres_conninfo.h"

namespace backout::collectors {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

constexpr Oid kBoolOid = 16;

// How long before the next check the held connection is closed (at most a quarter of `every`).
constexpr Duration kReleaseMargin = std::chrono::milliseconds{250};

std::optional<double> parse_number(std::string_view text, bool is_bool) {
  if (is_bool) {
    if (text == "t") {
      return 1.0;
    }
    if (text == "f") {
      return 0.0;
    }
    return std::nullopt;
  }
  while (!text.empty() && text.front() == ' ') {
    text.remove_prefix(1);
  }
  while (!text.empty() && text.back() == ' ') {
    text.remove_suffix(1);
  }
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
  }
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

class PostgresProbe final : public PeriodicRunner {
 public:
  PostgresProbe(const CollectorContext& ctx, PostgresConnInfo info, std::string query,
                Duration every, Duration timeout, bool watch_connection)
      : PeriodicRunner(ctx.executor, ctx.sink, every, ctx.time),
        info_(std::make_shared<const PostgresConnInfo>(std::move(info))),
        query_(std::move(query)),
        timeout_(timeout),
        watch_connection_(watch_connection),
        deadline_timer_(strand()),
        release_timer_(time().timer(strand())) {}

  ~PostgresProbe() override { close_connection(); }

 private:
  void begin_attempt(std::uint64_t id) override {
    release();  // a held connection: every check connects afresh
    id_ = id;
    have_row_ = false;
    value_.reset();
    note_.clear();
    query_error_.clear();
    malformed_ = 0;

    deadline_timer_.expires_after(timeout_);
    deadline_timer_.async_wait([self = self<PostgresProbe>(), id](error_code ec) {
      if (ec || !self->current(id)) {
        return;
      }
      self->fail(self->timeout_message());
    });

    conn_ = PgConnection::create(strand(), info_);
    conn_->connect([self = self<PostgresProbe>(), id](std::optional<std::string> error) {
      if (!self->current(id)) {
        return;
      }
      if (error) {
        self->fail(*error);
        return;
      }
      self->send_query();
    });
  }

  void cancel_attempt() override {
    deadline_timer_.cancel();
    close_connection();
  }

  void release() override {
    held_ = false;
    release_timer_->cancel();
    close_connection();
  }

  std::string timeout_message() const {
    const std::string server = conn_ != nullptr ? conn_->server() : std::string();
    const std::string where = server.empty() ? server : " " + server;
    std::string what;
    switch (conn_ != nullptr ? conn_->phase() : PgConnection::Phase::kResolving) {
      case PgConnection::Phase::kResolving:
        what = "resolving the host name";
        break;
      case PgConnection::Phase::kConnecting:
        what = "connecting to the server" + where;
        break;
      case PgConnection::Phase::kQuerying:
        what = "waiting for the query result from" + where;
        break;
    }
    return "timed out after " + format_duration(timeout_) + " " + what;
  }

  void send_query() {
    conn_->query(
        query_,
        [self = self<PostgresProbe>()](const PGresult& res) { return self->take_result(res); },
        [self = self<PostgresProbe>(), id = id_](std::optional<std::string> error) {
          if (!self->current(id)) {
            return;
          }
          if (error) {
            self->fail(*error);
            return;
          }
          if (self->query_error_.empty() && !self->have_row_) {
            self->note_ = "the query returned no rows; no value recorded";
          }
          self->conclude(self->query_error_.empty(), self->query_error_);
        });
  }

  // Keeps what matters of one result. A COPY would never end on its own: it abandons the query.
  std::optional<std::string> take_result(const PGresult& res) {
    switch (PQresultStatus(&res)) {
      case PGRES_SINGLE_TUPLE:
      case PGRES_TUPLES_OK:
        if (!have_row_ && PQntuples(&res) > 0) {
          have_row_ = true;
          take_value(res);
        }
        return std::nullopt;
      case PGRES_COPY_IN:
      case PGRES_COPY_OUT:
      case PGRES_COPY_BOTH:
        return "the query starts a COPY, which a check cannot run";
      case PGRES_FATAL_ERROR:
      case PGRES_NONFATAL_ERROR:
      case PGRES_BAD_RESPONSE:
        if (query_error_.empty()) {
          query_error_ = "query failed: " + conn_->error(res);
        }
        return std::nullopt;
      default:
        return std::nullopt;
    }
  }

  void take_value(const PGresult& res) {
    if (PQnfields(&res) == 0) {
      note_ = "the query's rows have no columns; no value recorded";
    } else if (PQgetisnull(&res, 0, 0) != 0) {
      note_ = "the first column of the first row is NULL; no value recorded";
    } else if (std::optional<double> v =
                   parse_number(PQgetvalue(&res, 0, 0), PQftype(&res, 0) == kBoolOid)) {
      value_ = *v;
    } else {
      // The text itself is left out: it is data from the database, not ours to log.
      note_ = "the first column of the first row (column \"" + std::string(PQfname(&res, 0)) +
              "\") is not a number; no value recorded";
      ++malformed_;
    }
  }

  void fail(const std::string& error) { conclude(false, error); }

  // Ends the attempt: the runner records `up` and `duration` and schedules the next one.
  void conclude(bool up, const std::string& error) {
    const Duration took = elapsed();
    const bool hold = up && watch_connection_ && conn_ != nullptr && conn_->idle();
    if (hold) {
      deadline_timer_.cancel();
    } else {
      cancel_attempt();
    }
    AttemptOutcome out;
    out.up = up;
    out.duration = took;
    out.error = up ? note_ : error;
    if (!up && early()) {
      out.error += " (checked at once: the server had closed the connection kept open since the "
                   "last check" +
                   (early_reason_.empty() ? std::string() : ": " + early_reason_) + ")";
    }
    out.malformed = malformed_;
    out.samples = 2;  // up and duration
    if (up && value_) {
      record(id_, "value", {}, *value_);
      ++out.samples;
    }
    finish(id_, std::move(out));
    if (hold && !stopped()) {
      hold_connection();
    }
  }

  void hold_connection() {
    held_ = true;
    ++held_gen_;
    conn_->watch([self = self<PostgresProbe>(), gen = held_gen_](std::string reason) {
      if (!self->held_ || gen != self->held_gen_ || self->stopped()) {
        return;
      }
      self->early_reason_ = std::move(reason);
      self->release();
      self->probe_now();  // refused when an early check already ran since the last scheduled one
    });
    release_timer_->wait(next_due() - std::min(kReleaseMargin, every() / 4) - steady(),
                         [self = self<PostgresProbe>(), gen = held_gen_](bool fired) {
                           if (fired && self->held_ && gen == self->held_gen_) {
                             self->release();
                           }
                         });
  }

  void close_connection() {
    if (conn_ != nullptr) {
      conn_->close();
      conn_.reset();
    }
  }

  const std::shared_ptr<const PostgresConnInfo> info_;
  const std::string query_;
  const Duration timeout_;
  const bool watch_connection_;

  asio::steady_timer deadline_timer_;
  std::unique_ptr<net::Timer> release_timer_;  // closes the held connection before the next check
  std::shared_ptr<PgConnection> conn_;         // of the attempt, or held since it

  std::uint64_t id_ = 0;  // the attempt in flight (PeriodicRunner's id)
  bool have_row_ = false;
  std::optional<double> value_;
  std::string note_;  // why an up attempt has no value
  std::string query_error_;
  std::size_t malformed_ = 0;

  bool held_ = false;           // conn_ is the last good connection, kept open between checks
  std::uint64_t held_gen_ = 0;  // counts holds: tells a stale wait or timer of an earlier one apart
  std::string early_reason_;    // why the early check runs (for its error message)
};

}  // namespace

Result<std::unique_ptr<Collector>> create_postgres_collector(const Source& source,
                                                             CollectorContext ctx) {
  if (auto problem = check_context(source, ctx, false)) {
    return Error{*problem};
  }
  std::optional<SecretRef> ref = source.options.secret("dsn");
  if (!ref) {
    // The plan loader requires it; this only happens to a source built in code.
    return Error{"source '" + source.id + "': no dsn (set dsn_env or dsn_file)"};
  }
  const std::string where = "source '" + source.id + "': dsn (" + ref->describe() + ")";
  if (!ctx.resolve_secret) {
    return Error{where + ": no secret resolver configured"};
  }
  Result<std::string> dsn = ctx.resolve_secret(*ref);
  if (!dsn) {
    return Error{where + ": " + dsn.error()};
  }
  Result<PostgresConnInfo> info = PostgresConnInfo::parse(*dsn);
  if (!info) {
    return Error{where + ": " + info.error()};
  }
  const KindOptions& o = source.options;
  auto runner = std::make_shared<PostgresProbe>(
      ctx, std::move(info).value(), o.string("query", "SELECT 1"),
      o.duration("every", std::chrono::seconds{5}), o.duration("timeout", std::chrono::seconds{5}),
      o.boolean("watch_connection", true));
  return make_periodic_collector(std::move(runner));
}

}  // namespace backout::collectors
