// Asio watches a dup() of libpq's socket, not the socket itself: libpq may close and reopen its
// socket while connecting (next host, SSL retry) and the new one may get the same number, which
// the reactor would take for the old, already deregistered one. With a descriptor of our own the
// reactor's view is always right, and closing it never touches libpq's.
#include "postgres/pg_connection.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace backout::collectors {

namespace asio = boost::asio;
using boost::system::error_code;
using WaitType = asio::posix::descriptor_base::wait_type;

std::shared_ptr<PgConnection> PgConnection::create(asio::any_io_executor strand,
                                                   std::shared_ptr<const PostgresConnInfo> info) {
  return std::shared_ptr<PgConnection>(new PgConnection(std::move(strand), std::move(info)));
}

PgConnection::PgConnection(asio::any_io_executor strand,
                           std::shared_ptr<const PostgresConnInfo> info)
    : info_(std::move(info)), resolver_(strand), socket_(strand) {}

PgConnection::~PgConnection() { close(); }

void PgConnection::connect(Done done) {
  done_ = std::move(done);
  phase_ = Phase::kResolving;
  if (info_->needs_resolution()) {
    resolve_next(0);
  } else {
    start_connect();
  }
}

void PgConnection::resolve_next(std::size_t index) {
  const std::vector<std::string>& hosts = info_->hosts();
  if (index == hosts.size()) {
    for (const std::vector<std::string>& a : addresses_) {
      if (!a.empty()) {
        start_connect();
        return;
      }
    }
    std::string why;
    for (const std::string& e : resolve_errors_) {
      why += (why.empty() ? "" : "; ") + e;
    }
    finish(why);
    return;
  }
  if (!PostgresConnInfo::is_host_name(hosts[index])) {
    addresses_.push_back({""});  // a socket directory or an address: libpq takes it as it is
    resolve_next(index + 1);
    return;
  }
  // No AI_ADDRCONFIG (Asio's default): like libpq, and a loopback-only host keeps 127.0.0.1.
  resolver_.async_resolve(hosts[index], "", asio::ip::tcp::resolver::flags(),
                          [self = shared_from_this(), index](
                              error_code ec, const asio::ip::tcp::resolver::results_type& results) {
                            if (self->closed_) {
                              return;
                            }
                            std::vector<std::string> found;
                            if (ec) {
                              self->resolve_errors_.push_back("cannot resolve host \"" +
                                                              self->info_->hosts()[index] +
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

void PgConnection::start_connect() {
  phase_ = Phase::kConnecting;
  auto [keys, values] = info_->params(addresses_);
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
    finish("libpq could not allocate a connection");
    return;
  }
  closing_notice_.clear();
  PQsetNoticeReceiver(conn_, &PgConnection::receive_notice, this);
  if (PQstatus(conn_) == CONNECTION_BAD) {
    finish(connect_error());
    return;
  }
  // libpq's protocol: behave as if PQconnectPoll had last said "writing".
  wait_socket(WaitType::wait_write, &PgConnection::poll_connect);
}

void PgConnection::poll_connect() {
  switch (PQconnectPoll(conn_)) {
    case PGRES_POLLING_READING:
      wait_socket(WaitType::wait_read, &PgConnection::poll_connect);
      return;
    case PGRES_POLLING_WRITING:
      wait_socket(WaitType::wait_write, &PgConnection::poll_connect);
      return;
    case PGRES_POLLING_OK:
      finish(std::nullopt);
      return;
    default:
      finish(connect_error());
      return;
  }
}

void PgConnection::query(const std::string& sql, ResultHandler on_result, Done done) {
  done_ = std::move(done);
  on_result_ = std::move(on_result);
  phase_ = Phase::kQuerying;
  if (PQsetnonblocking(conn_, 1) != 0 || PQsendQuery(conn_, sql.c_str()) != 1) {
    finish(libpq_error());
    return;
  }
  // Rows one at a time: a query that returns many rows costs no memory here.
  PQsetSingleRowMode(conn_);
  flush();
}

void PgConnection::flush() {
  const int r = PQflush(conn_);
  if (r < 0) {
    finish(libpq_error());
  } else if (r == 1) {
    wait_socket(WaitType::wait_write, &PgConnection::flush_more);
  } else {
    read_results();
  }
}

void PgConnection::flush_more() {
  // libpq's advice: read what the server sent meanwhile so that neither side stalls.
  if (PQconsumeInput(conn_) != 1) {
    finish(libpq_error());
    return;
  }
  flush();
}

void PgConnection::read_results() {
  if (PQconsumeInput(conn_) != 1) {
    finish(libpq_error());
    return;
  }
  while (PQisBusy(conn_) == 0) {
    PGresult* res = PQgetResult(conn_);
    if (res == nullptr) {
      finish(std::nullopt);
      return;
    }
    std::optional<std::string> abandon = on_result_(*res);
    PQclear(res);
    if (abandon) {
      finish(std::move(abandon));
      return;
    }
  }
  wait_socket(WaitType::wait_read, &PgConnection::read_results);
}

bool PgConnection::idle() const {
  return !closed_ && conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK &&
         PQtransactionStatus(conn_) == PQTRANS_IDLE && socket_.is_open();
}

void PgConnection::watch(Closed closed) {
  on_closed_ = std::move(closed);
  socket_.async_wait(WaitType::wait_read, [self = shared_from_this()](error_code ec) {
    if (ec || self->closed_) {
      return;
    }
    self->on_idle_input();
  });
}

void PgConnection::on_idle_input() {
  if (PQconsumeInput(conn_) == 1 && PQstatus(conn_) == CONNECTION_OK) {
    while (PGnotify* n = PQnotifies(conn_)) {
      PQfreemem(n);
    }
    watch(std::move(on_closed_));
    return;
  }
  Closed closed = std::move(on_closed_);
  closed(!closing_notice_.empty() ? closing_notice_ : libpq_error());
}

void PgConnection::close() {
  closed_ = true;
  // The callbacks may hold their caller, which holds this connection.
  done_ = nullptr;
  on_result_ = nullptr;
  on_closed_ = nullptr;
  resolver_.cancel();
  error_code ignored;
  socket_.close(ignored);  // our dup only; libpq's socket goes with PQfinish
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
}

std::string PgConnection::server() const {
  if (conn_ == nullptr || PQhost(conn_) == nullptr || *PQhost(conn_) == '\0') {
    return "";
  }
  return std::string(PQhost(conn_)) + ":" + (PQport(conn_) ? PQport(conn_) : "");
}

std::string PgConnection::error(const PGresult& result) const {
  const char* primary = PQresultErrorField(&result, PG_DIAG_MESSAGE_PRIMARY);
  const char* state = PQresultErrorField(&result, PG_DIAG_SQLSTATE);
  if (primary == nullptr) {
    const char* msg = PQresultErrorMessage(&result);
    return (msg != nullptr && *msg != '\0') ? info_->redact(msg) : libpq_error();
  }
  std::string out = primary;
  if (state != nullptr) {
    out += std::string(" (SQLSTATE ") + state + ")";
  }
  return info_->redact(out);
}

// libpq names the address it was given; when the name was resolved here, say it too.
std::string PgConnection::connect_error() const {
  if (addresses_.empty()) {
    return libpq_error();
  }
  std::string names;
  for (const std::string& h : info_->hosts()) {
    names += (names.empty() ? "" : ",") + h;
  }
  return "host " + names + ": " + libpq_error();
}

std::string PgConnection::libpq_error() const {
  std::string msg = conn_ != nullptr ? info_->redact(PQerrorMessage(conn_)) : std::string();
  return msg.empty() ? "libpq reported an error without a message" : msg;
}

// Waits until libpq's socket is ready, then runs `next`. While connecting, the socket is wrapped
// afresh for every wait (see the top of the file).
void PgConnection::wait_socket(WaitType what, Step next) {
  if (phase_ == Phase::kConnecting || !socket_.is_open()) {
    error_code ignored;
    socket_.close(ignored);
    const int fd = PQsocket(conn_);
    if (fd < 0) {
      finish(libpq_error());
      return;
    }
    const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) {
      finish(std::string("cannot duplicate the connection's socket: ") + std::strerror(errno));
      return;
    }
    error_code ec;
    socket_.assign(own, ec);
    if (ec) {
      ::close(own);
      finish("cannot watch the connection's socket: " + ec.message());
      return;
    }
  }
  socket_.async_wait(what, [self = shared_from_this(), next](error_code ec) {
    if (self->closed_) {
      return;
    }
    if (ec) {
      self->finish("waiting for the server: " + ec.message());
      return;
    }
    (self.get()->*next)();
  });
}

void PgConnection::finish(std::optional<std::string> error) {
  on_result_ = nullptr;
  if (Done done = std::move(done_)) {
    done(std::move(error));
  }
}

// libpq reports what the server says to an idle connection before closing it as a notice: a
// FATAL "terminating connection due to administrator command" (57P01) on a fast shutdown, a
// WARNING "terminating connection because of crash of another server process" (57P02) after a
// crash or an immediate shutdown. Those are kept, as the reason the connection ended: FATAL, PANIC
// and class 57 (operator intervention). Other notices (raised by functions in the query) may
// carry data and are dropped.
void PgConnection::receive_notice(void* arg, const PGresult* res) {
  auto* self = static_cast<PgConnection*>(arg);
  const char* severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
  const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  const bool fatal = severity != nullptr &&
                     (std::strcmp(severity, "FATAL") == 0 || std::strcmp(severity, "PANIC") == 0);
  const bool intervention = state != nullptr && std::strncmp(state, "57", 2) == 0;
  if (fatal || intervention) {
    self->closing_notice_ = self->error(*res);
  }
}

}  // namespace backout::collectors
