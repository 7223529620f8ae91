// The `postgres` collector: how one attempt goes; PeriodicRunner does the schedule, stop() and
// the `up` and `duration` samples. One connection per attempt: the attempt then measures what the
// plan's connectivity checks are about (can a client get in and run a query now?), and no
// half-broken connection survives an outage.
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
// Nothing here blocks the io thread: host names are resolved by Asio's resolver and handed to
// libpq as numeric `hostaddr`es (libpq's own lookup inside PQconnectPoll blocks), PQconnectPoll
// and the query are driven by waits on the socket, and a timeout drops the connection rather
// than calling PQcancel (which blocks while it connects to the server). The price of dropping:
// the server finishes the abandoned statement on its own; at most one per attempt, since
// attempts never overlap. Add `options=-c statement_timeout=...` to the dsn to bound it.
//
// Asio watches a dup() of libpq's socket, not the socket itself: libpq may close and reopen its
// socket while connecting (next host, SSL retry) and the new one may get the same number, which
// the reactor would take for the old, already deregistered one. With a descriptor of our own the
// reactor's view is always right, and closing it never touches libpq's.
//
// A successful check whose first value is not usable (no rows, NULL, not a number) is still up:
// the server answered. It records no `value`, and says why in AttemptOutcome::error (a
// non-number also counts as malformed). Booleans count as 1 and 0.
#include "postgres/postgres_collector.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>

#include "periodic_runner.h"
#include "postgres/postgres_conninfo.h"

namespace backout::collectors {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using WaitType = asio::posix::descriptor_base::wait_type;

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
        info_(std::move(info)),
        query_(std::move(query)),
        timeout_(timeout),
        watch_connection_(watch_connection),
        deadline_timer_(strand()),
        release_timer_(time().timer(strand())),
        resolver_(strand()),
        socket_(strand()) {}

  ~PostgresProbe() override { close_connection(); }

 private:
  enum class Phase { kResolving, kConnecting, kQuerying };
  using Step = void (PostgresProbe::*)();

  void begin_attempt(std::uint64_t id) override {
    release();  // a held connection: every check connects afresh
    id_ = id;
    phase_ = Phase::kResolving;
    addresses_.clear();
    resolve_errors_.clear();
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

    if (info_.needs_resolution()) {
      resolve_next(0);
    } else {
      connect();
    }
  }

  void cancel_attempt() override {
    deadline_timer_.cancel();
    resolver_.cancel();
    close_connection();
  }

  void release() override {
    held_ = false;
    release_timer_->cancel();
    close_connection();
  }

  std::string timeout_message() const {
    std::string where;
    if (conn_ != nullptr && PQhost(conn_) != nullptr && *PQhost(conn_) != '\0') {
      where = std::string(" ") + PQhost(conn_) + ":" + (PQport(conn_) ? PQport(conn_) : "");
    }
    std::string what;
    switch (phase_) {
      case Phase::kResolving:
        what = "resolving the host name";
        break;
      case Phase::kConnecting:
        what = "connecting to the server" + where;
        break;
      case Phase::kQuerying:
        what = "waiting for the query result from" + where;
        break;
    }
    return "timed out after " + format_duration(timeout_) + " " + what;
  }

  void resolve_next(std::size_t index) {
    const std::vector<std::string>& hosts = info_.hosts();
    if (index == hosts.size()) {
      for (const std::vector<std::string>& a : addresses_) {
        if (!a.empty()) {
          connect();
          return;
        }
      }
      std::string why;
      for (const std::string& e : resolve_errors_) {
        why += (why.empty() ? "" : "; ") + e;
      }
      fail(why);
      return;
    }
    if (!PostgresConnInfo::is_host_name(hosts[index])) {
      addresses_.push_back({""});  // a socket directory or an address: libpq takes it as it is
      resolve_next(index + 1);
      return;
    }
    // No AI_ADDRCONFIG (Asio's default): like libpq, and a loopback-only host keeps 127.0.0.1.
    resolver_.async_resolve(
        hosts[index], "", asio::ip::tcp::resolver::flags(),
        [self = self<PostgresProbe>(), id = id_, index](
            error_code ec, const asio::ip::tcp::resolver::results_type& results) {
          if (!self->current(id)) {
            return;
          }
          std::vector<std::string> found;
          if (ec) {
            self->resolve_errors_.push_back("cannot resolve host \"" + self->info_.hosts()[index] +
                                            "\": " + ec.message());
          }
          for (const auto& entry : results) {
            std::string a = entry.endpoint().address().to_string();
            if (std::find(found.begin(), found.end(), a) == found.end()) {
              found.push_back(std::move(a));
            }
          }
          self->addresses_.push_back(std::move(found));
          self->resolve_next(index + 1);
        });
  }

  void connect() {
    phase_ = Phase::kConnecting;
    auto [keys, values] = info_.params(addresses_);
    // Named in pg_stat_activity unless the dsn names itself; first, so the dsn's value wins.
    std::vector<const char*> k{"fallback_application_name"};
    std::vector<const char*> v{"backout-agent"};
    for (std::size_t i = 0; i < keys.size(); ++i) {
      k.push_back(keys[i].c_str());
      v.push_back(values[i].c_str());
    }
    k.push_back(nullptr);
    v.push_back(nullptr);
    conn_ = PQconnectStartParams(k.data(), v.data(), 0);
    if (conn_ == nullptr) {
      fail("libpq could not allocate a connection");
      return;
    }
    closing_notice_.clear();
    PQsetNoticeReceiver(conn_, &PostgresProbe::receive_notice, this);
    if (PQstatus(conn_) == CONNECTION_BAD) {
      fail(connect_error());
      return;
    }
    // libpq's protocol: behave as if PQconnectPoll had last said "writing".
    wait_socket(WaitType::wait_write, &PostgresProbe::poll_connect);
  }

  void poll_connect() {
    switch (PQconnectPoll(conn_)) {
      case PGRES_POLLING_READING:
        wait_socket(WaitType::wait_read, &PostgresProbe::poll_connect);
        return;
      case PGRES_POLLING_WRITING:
        wait_socket(WaitType::wait_write, &PostgresProbe::poll_connect);
        return;
      case PGRES_POLLING_OK:
        send_query();
        return;
      default:
        fail(connect_error());
        return;
    }
  }

  void send_query() {
    phase_ = Phase::kQuerying;
    if (PQsetnonblocking(conn_, 1) != 0 || PQsendQuery(conn_, query_.c_str()) != 1) {
      fail(libpq_error());
      return;
    }
    // Rows one at a time: a query that returns many rows costs no memory here.
    PQsetSingleRowMode(conn_);
    flush();
  }

  void flush() {
    const int r = PQflush(conn_);
    if (r < 0) {
      fail(libpq_error());
    } else if (r == 1) {
      wait_socket(WaitType::wait_write, &PostgresProbe::flush_more);
    } else {
      read_results();
    }
  }

  void flush_more() {
    // libpq's advice: read what the server sent meanwhile so that neither side stalls.
    if (PQconsumeInput(conn_) != 1) {
      fail(libpq_error());
      return;
    }
    flush();
  }

  void read_results() {
    if (PQconsumeInput(conn_) != 1) {
      fail(libpq_error());
      return;
    }
    while (PQisBusy(conn_) == 0) {
      PGresult* res = PQgetResult(conn_);
      if (res == nullptr) {
        if (query_error_.empty() && !have_row_) {
          note_ = "the query returned no rows; no value recorded";
        }
        conclude(query_error_.empty(), query_error_);
        return;
      }
      const bool copy = take_result(res);
      PQclear(res);
      if (copy) {
        fail("the query starts a COPY, which a check cannot run");
        return;
      }
    }
    wait_socket(WaitType::wait_read, &PostgresProbe::read_results);
  }

  // Keeps what matters of one result; true for a COPY, which would never end on its own.
  bool take_result(PGresult* res) {
    switch (PQresultStatus(res)) {
      case PGRES_SINGLE_TUPLE:
      case PGRES_TUPLES_OK:
        if (!have_row_ && PQntuples(res) > 0) {
          have_row_ = true;
          take_value(res);
        }
        return false;
      case PGRES_COPY_IN:
      case PGRES_COPY_OUT:
      case PGRES_COPY_BOTH:
        return true;
      case PGRES_FATAL_ERROR:
      case PGRES_NONFATAL_ERROR:
      case PGRES_BAD_RESPONSE:
        if (query_error_.empty()) {
          query_error_ = "query failed: " + result_error(res);
        }
        return false;
      default:
        return false;
    }
  }

  void take_value(PGresult* res) {
    if (PQnfields(res) == 0) {
      note_ = "the query's rows have no columns; no value recorded";
    } else if (PQgetisnull(res, 0, 0) != 0) {
      note_ = "the first column of the first row is NULL; no value recorded";
    } else if (std::optional<double> v =
                   parse_number(PQgetvalue(res, 0, 0), PQftype(res, 0) == kBoolOid)) {
      value_ = *v;
    } else {
      // The text itself is left out: it is data from the database, not ours to log.
      note_ = "the first column of the first row (column \"" + std::string(PQfname(res, 0)) +
              "\") is not a number; no value recorded";
      ++malformed_;
    }
  }

  std::string result_error(const PGresult* res) const {
    const char* primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (primary == nullptr) {
      const char* msg = PQresultErrorMessage(res);
      return (msg != nullptr && *msg != '\0') ? info_.redact(msg) : libpq_error();
    }
    std::string out = primary;
    if (state != nullptr) {
      out += std::string(" (SQLSTATE ") + state + ")";
    }
    return info_.redact(out);
  }

  // libpq names the address it was given; when the name was resolved here, say it too.
  std::string connect_error() const {
    if (addresses_.empty()) {
      return libpq_error();
    }
    std::string names;
    for (const std::string& h : info_.hosts()) {
      names += (names.empty() ? "" : ",") + h;
    }
    return "host " + names + ": " + libpq_error();
  }

  std::string libpq_error() const {
    std::string msg = conn_ != nullptr ? info_.redact(PQerrorMessage(conn_)) : std::string();
    return msg.empty() ? "libpq reported an error without a message" : msg;
  }

  // Waits until libpq's socket is ready, then runs `next`. While connecting, the socket is
  // wrapped afresh for every wait (see the top of the file).
  void wait_socket(WaitType what, Step next) {
    if (phase_ == Phase::kConnecting || !socket_.is_open()) {
      error_code ignored;
      socket_.close(ignored);
      const int fd = PQsocket(conn_);
      if (fd < 0) {
        fail(libpq_error());
        return;
      }
      const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
      if (own < 0) {
        fail(std::string("cannot duplicate the connection's socket: ") + std::strerror(errno));
        return;
      }
      error_code ec;
      socket_.assign(own, ec);
      if (ec) {
        ::close(own);
        fail("cannot watch the connection's socket: " + ec.message());
        return;
      }
    }
    socket_.async_wait(what, [self = self<PostgresProbe>(), id = id_, next](error_code ec) {
      if (!self->current(id)) {
        return;
      }
      if (ec) {
        self->fail("waiting for the server: " + ec.message());
        return;
      }
      (self.get()->*next)();
    });
  }

  void fail(const std::string& error) { conclude(false, error); }

  // Ends the attempt: the runner records `up` and `duration` and schedules the next one.
  void conclude(bool up, const std::string& error) {
    const Duration took = elapsed();
    const bool hold = up && watch_connection_ && conn_ != nullptr &&
                      PQstatus(conn_) == CONNECTION_OK &&
                      PQtransactionStatus(conn_) == PQTRANS_IDLE && socket_.is_open();
    if (hold) {
      deadline_timer_.cancel();
      resolver_.cancel();
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
      held_ = true;
      ++held_gen_;
      watch_held();
      release_timer_->wait(next_due() - std::min(kReleaseMargin, every() / 4) - steady(),
                           [self = self<PostgresProbe>(), gen = held_gen_](bool fired) {
        if (fired && self->held_ && gen == self->held_gen_) {
          self->release();
        }
      });
    }
  }

  // The held connection: any input while idle is either something to drain (a notice, a
  // parameter change, a notification) or the end of the connection.
  void watch_held() {
    socket_.async_wait(WaitType::wait_read,
                       [self = self<PostgresProbe>(), gen = held_gen_](error_code ec) {
                         if (ec || !self->held_ || gen != self->held_gen_ || self->stopped()) {
                           return;
                         }
                         self->on_held_input();
                       });
  }

  void on_held_input() {
    if (PQconsumeInput(conn_) == 1 && PQstatus(conn_) == CONNECTION_OK) {
      while (PGnotify* n = PQnotifies(conn_)) {
        PQfreemem(n);
      }
      watch_held();
      return;
    }
    early_reason_ = !closing_notice_.empty() ? closing_notice_ : libpq_error();
    release();
    probe_now();  // refused when an early check already ran since the last scheduled one
  }

  // libpq reports what the server says to an idle connection before closing it as a notice: a
  // FATAL "terminating connection due to administrator command" (57P01) on a fast shutdown, a
  // WARNING "terminating connection because of crash of another server process" (57P02) after a
  // crash or an immediate shutdown. Those are kept, as the reason for an early check: FATAL,
  // PANIC and class 57 (operator intervention). Other notices (raised by functions in the query)
  // may carry data and are dropped.
  static void receive_notice(void* arg, const PGresult* res) {
    auto* self = static_cast<PostgresProbe*>(arg);
    const char* severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const bool fatal = severity != nullptr &&
                       (std::strcmp(severity, "FATAL") == 0 || std::strcmp(severity, "PANIC") == 0);
    const bool intervention = state != nullptr && std::strncmp(state, "57", 2) == 0;
    if (fatal || intervention) {
      self->closing_notice_ = self->result_error(res);
    }
  }

  void close_connection() {
    error_code ignored;
    socket_.close(ignored);  // our dup only; libpq's socket goes with PQfinish
    if (conn_ != nullptr) {
      PQfinish(conn_);
      conn_ = nullptr;
    }
  }

  const PostgresConnInfo info_;
  const std::string query_;
  const Duration timeout_;
  const bool watch_connection_;

  asio::steady_timer deadline_timer_;
  std::unique_ptr<net::Timer> release_timer_;  // closes the held connection before the next check
  asio::ip::tcp::resolver resolver_;
  asio::posix::stream_descriptor socket_;  // a dup of libpq's socket
  PGconn* conn_ = nullptr;

  std::uint64_t id_ = 0;  // the attempt in flight (PeriodicRunner's id)
  Phase phase_ = Phase::kResolving;
  std::vector<std::vector<std::string>> addresses_;  // per host, when resolving here
  std::vector<std::string> resolve_errors_;
  bool have_row_ = false;
  std::optional<double> value_;
  std::string note_;  // why an up attempt has no value
  std::string query_error_;
  std::size_t malformed_ = 0;

  bool held_ = false;           // conn_ is the last good connection, kept open between checks
  std::uint64_t held_gen_ = 0;  // counts holds: tells a stale wait or timer of an earlier one apart
  std::string closing_notice_;  // what the server said on conn_ before closing it, if anything
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
