// One libpq connection driven asynchronously on an Asio strand: host names resolved by Asio's
// resolver (libpq's own lookup inside PQconnectPoll blocks) and handed to libpq as numeric
// `hostaddr`es, PQconnectPoll and the query driven by waits on the socket, the idle connection
// watched for its end. It knows nothing of probes: what to run, how long to wait and what an
// answer means are the caller's.
//
// Thread-safety: not thread-safe; every call, and every callback it makes, on the strand given to
// create(). Time: it has no clock and no timeout of its own; the caller bounds an operation by
// calling close(), which drops the connection rather than calling PQcancel (that blocks while it
// connects to the server). Callbacks report errors as text, redacted of the dsn's secrets.
//
// Lifetime: create() returns a shared_ptr, which its pending waits hold. A connection is used for
// one connect, then queries one at a time, then close(); after close() none of its callbacks
// runs, even one already queued.
#pragma once

#include <libpq-fe.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "postgres/postgres_conninfo.h"

namespace backout::collectors {

class PgConnection : public std::enable_shared_from_this<PgConnection> {
 public:
  enum class Phase { kResolving, kConnecting, kQuerying };
  /// The end of connect() or query(): nullopt on success, else why not.
  using Done = std::function<void(std::optional<std::string> error)>;
  /// One result of a query (single-row mode: one per row, then the final one). An error returned
  /// abandons the query with it: Done gets it, and the connection is left to close().
  using ResultHandler = std::function<std::optional<std::string>(const PGresult& result)>;
  /// The server ended the idle connection; `reason` is what it said first, if it said anything.
  using Closed = std::function<void(std::string reason)>;

  static std::shared_ptr<PgConnection> create(boost::asio::any_io_executor strand,
                                              std::shared_ptr<const PostgresConnInfo> info);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  /// Resolves the hosts that need it, then connects. `done` runs once (perhaps before connect()
  /// returns), unless close() comes first.
  void connect(Done done);
  /// Sends `sql` (one at a time, after connect() succeeded) and passes each result to
  /// `on_result`; `done` runs after the last one, or on an error.
  void query(const std::string& sql, ResultHandler on_result, Done done);
  /// Open, and neither in a transaction nor inside a query: fit to be kept between queries.
  bool idle() const;
  /// Watches the idle connection: input is drained (a notice, a parameter change, a
  /// notification) until the server ends the connection, then `closed` runs once.
  void watch(Closed closed);
  /// Ends the connection and whatever it was doing. Idempotent.
  void close();

  /// What it was doing last (the caller's timeout message says it).
  Phase phase() const { return phase_; }
  /// "host:port" of the server libpq is connecting or connected to ("" before it knows).
  std::string server() const;
  /// A result's error, "message (SQLSTATE xxxxx)", redacted.
  std::string error(const PGresult& result) const;

 private:
  using Step = void (PgConnection::*)();

  PgConnection(boost::asio::any_io_executor strand, std::shared_ptr<const PostgresConnInfo> info);

  void resolve_next(std::size_t index);
  void start_connect();
  void poll_connect();
  void flush();
  void flush_more();
  void read_results();
  void on_idle_input();
  void wait_socket(boost::asio::posix::descriptor_base::wait_type what, Step next);
  void finish(std::optional<std::string> error);
  std::string connect_error() const;
  std::string libpq_error() const;
  static void receive_notice(void* arg, const PGresult* res);

  const std::shared_ptr<const PostgresConnInfo> info_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::posix::stream_descriptor socket_;  // a dup of libpq's socket
  PGconn* conn_ = nullptr;
  bool closed_ = false;
  Phase phase_ = Phase::kResolving;

  Done done_;  // of the operation in progress
  ResultHandler on_result_;
  Closed on_closed_;

  std::vector<std::vector<std::string>> addresses_;  // per host, when resolving here
  std::vector<std::string> resolve_errors_;
  std::string closing_notice_;  // what the server said before closing, if anything
};

}  // namespace backout::collectors
