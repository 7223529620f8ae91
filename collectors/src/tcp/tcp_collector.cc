// Source kind `tcp`: resolves `address` and connects, timed from the start of the attempt to the
// established connection, which is then closed. Delivers `up` and `duration` (a timed-out attempt
// counts its whole timeout).
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "backout/core/time.h"
#include "tcp/tcp_kind.h"
#include "periodic_runner.h"

namespace backout::collectors {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// "db.internal:5432" -> {"db.internal", "5432"}; "[::1]:5432" -> {"::1", "5432"}.
std::optional<std::pair<std::string, std::string>> split_address(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return std::nullopt;
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::make_pair(host, address.substr(colon + 1));
}

class TcpProbe final : public PeriodicRunner {
 public:
  TcpProbe(const CollectorContext& ctx, Duration every, Duration timeout, std::string host,
           std::string port)
      : PeriodicRunner(ctx.executor, ctx.sink, every, ctx.time),
        timeout_(timeout),
        host_(std::move(host)),
        port_(std::move(port)),
        timer_(strand()) {}

 private:
  // One socket and resolver per attempt: a cancelled range connect may still be winding down
  // when the next attempt starts, and it must not touch that attempt's socket.
  struct Connection {
    explicit Connection(const asio::any_io_executor& ex) : resolver(ex), socket(ex) {}
    tcp::resolver resolver;
    tcp::socket socket;
    void close() {
      resolver.cancel();
      error_code ec;
      socket.close(ec);
    }
  };

  void begin_attempt(std::uint64_t id) override {
    auto self = this->self<TcpProbe>();
    conn_ = std::make_shared<Connection>(strand());
    timer_.expires_after(timeout_);
    timer_.async_wait([self, id](error_code ec) {
      if (ec || !self->current(id)) {
        return;
      }
      self->conn_->close();
      self->finish(id, {.up = false,
                        .duration = self->timeout_,
                        .error = "timeout after " + format_duration(self->timeout_)});
    });
    conn_->resolver.async_resolve(
        host_, port_,
        [self, id, conn = conn_](error_code ec, const tcp::resolver::results_type& results) {
          if (!self->current(id)) {
            return;
          }
          if (ec) {
            return self->fail(id, "resolve " + self->host_ + ": " + ec.message());
          }
          asio::async_connect(
              conn->socket, results,
              [self, id, conn](error_code e, const tcp::endpoint&) { self->on_connect(id, e); });
        });
  }

  void on_connect(std::uint64_t id, error_code ec) {
    if (!current(id)) {
      return;
    }
    if (ec) {
      return fail(id, "connect " + host_ + ":" + port_ + ": " + ec.message());
    }
    const Duration took = elapsed();
    timer_.cancel();
    conn_->close();
    finish(id, {.up = true, .duration = took});
  }

  void fail(std::uint64_t id, std::string reason) {
    timer_.cancel();
    conn_->close();
    finish(id, {.up = false, .duration = elapsed(), .error = std::move(reason)});
  }

  void cancel_attempt() override {
    timer_.cancel();
    if (conn_) {
      conn_->close();
    }
  }

  const Duration timeout_;
  const std::string host_;
  const std::string port_;
  asio::steady_timer timer_;
  std::shared_ptr<Connection> conn_;
};

}  // namespace

Result<std::unique_ptr<Collector>> create_tcp_collector(const Source& source,
                                                        CollectorContext ctx) {
  if (auto problem = check_context(source, ctx, false)) {
    return Error{*problem};
  }
  const KindOptions& o = source.options;
  const std::string address = o.string("address");
  auto parts = split_address(address);
  if (!parts) {
    // The plan loader checked host:port already; this only happens to a plan built in code.
    return Error{"source '" + source.id + "': address '" + address + "' is not host:port"};
  }
  auto runner = std::make_shared<TcpProbe>(ctx, o.duration("every", std::chrono::seconds{5}),
                                           o.duration("timeout", std::chrono::seconds{5}),
                                           std::move(parts->first), std::move(parts->second));
  return make_periodic_collector(std::move(runner));
}

}  // namespace backout::collectors
