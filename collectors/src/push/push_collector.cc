// Source kind `push`: the application pushes its events. Batches come from the PushHub (the
// HTTP push API) and, with `statsd_listen`, from a UDP socket of StatsD lines (one batch per
// datagram); each batch goes through the PushAccumulator into the sink and is one attempt.
//
// The collector is always `up` while it listens: an application that pushes nothing is quiet, not
// unreachable (push sources have no failures()/availability()). A failed UDP receive is reported
// as a down attempt with the error, and receiving resumes after kReceiveRetry.
//
// Thread-safety and lifetime: everything runs on the collector's strand. The PushSource lives in
// a shared_ptr; the hub's receiver and the socket's handlers hold weak or shared references and
// check `stopped_` first, so nothing reaches the sink after stop().
#include "push/push_collector.h"

#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <boost/asio/ip/udp.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <chrono>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include "backout/collectors/push_hub.h"
#include "backout/collectors/statsd.h"
#include "push/push_kind.h"
#include "periodic_runner.h"
#include "push/declared_series.h"
#include "push/push_accumulator.h"

namespace backout::collectors {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using udp = asio::ip::udp;

// The largest UDP payload over IPv4 is 65,507 bytes: a datagram never exceeds this buffer.
constexpr std::size_t kDatagramBytes = 65536;
constexpr std::chrono::seconds kReceiveRetry{1};
// Room in the kernel for a burst of datagrams while the strand is busy (best effort: the kernel
// caps it at net.core.rmem_max).
constexpr int kReceiveBufferBytes = 1 << 20;
// A source that pushes nothing still ends an (empty) attempt this often, so that the agent's
// staleness check runs: a pushed gauge series goes stale after its window even when the
// application has gone silent altogether.
constexpr std::chrono::seconds kHeartbeat{5};

class PushSource : public std::enable_shared_from_this<PushSource> {
 public:
  PushSource(const CollectorContext& ctx, std::string source_id,
             std::optional<std::vector<std::string>> declared, std::optional<udp::socket> socket)
      : strand_(ctx.executor),
        sink_(ctx.sink),
        hub_(ctx.push),
        source_id_(std::move(source_id)),
        declared_names_(std::move(declared)),
        declared_(declared_names_),
        socket_(std::move(socket)),
        retry_((ctx.time != nullptr ? *ctx.time : net::real_time()).timer(ctx.executor)),
        heartbeat_((ctx.time != nullptr ? *ctx.time : net::real_time()).timer(ctx.executor)) {}

  void start() {
    if (started_ || stopped_) {
      return;
    }
    started_ = true;
    subscription_ = hub_->subscribe(source_id_, strand_, declared_names_,
                                    [weak = weak_from_this()](PushBatch batch) {
                                      if (auto self = weak.lock()) {
                                        self->on_batch(std::move(batch));
                                      }
                                    });
    // An empty first batch: the router takes the first batch's counters as starting points,
    // and a pushed counter must count from zero (its first increment is an increase).
    sink_->end_attempt({.up = true});
    beat();
    if (socket_) {
      buffer_.resize(kDatagramBytes);
      receive();
    }
  }

  void stop() {
    if (stopped_) {
      return;
    }
    stopped_ = true;
    if (started_) {
      hub_->unsubscribe(source_id_, subscription_);
    }
    error_code ignored;
    retry_->cancel();
    heartbeat_->cancel();
    if (socket_) {
      socket_->close(ignored);
    }
  }

 private:
  // Every kHeartbeat without a batch: an empty attempt (see kHeartbeat).
  void beat() {
    heartbeat_->wait(kHeartbeat, [weak = weak_from_this()](bool fired) {
      auto self = weak.lock();
      if (!fired || !self || self->stopped_) {
        return;
      }
      if (!self->batch_since_beat_) {
        self->sink_->end_attempt({.up = true});
      }
      self->batch_since_beat_ = false;
      self->beat();
    });
  }

  void on_batch(PushBatch batch) {
    if (stopped_) {
      return;
    }
    batch_since_beat_ = true;
    AttemptOutcome outcome{.up = true};
    try {
      const PushAccumulator::Counts counts = accumulator_.add(
          batch.samples, [this](const std::string& metric, const Labels& labels,
                                double value) { sink_->record(metric, labels, value); });
      outcome.samples = counts.samples;
      outcome.malformed = batch.malformed + counts.malformed;
      outcome.dropped = batch.dropped + counts.dropped;
      outcome.lost = batch.lost;
      // With up, the error says what was skipped (the agent logs it beside the count).
      outcome.error = !batch.first_error.empty() ? batch.first_error : counts.first_error;
    } catch (const std::exception& e) {
      // Only allocation can throw here; the attempt ends so the recorded part has its batch.
      outcome = {.up = false, .error = std::string("internal error: ") + e.what()};
    }
    sink_->end_attempt(outcome);
  }

  void receive() {
    socket_->async_wait(udp::socket::wait_read, [self = shared_from_this()](error_code ec) {
      self->on_readable(ec);
    });
  }

  void receive_failed(const std::string& why) {
    sink_->end_attempt({.up = false, .error = "statsd receive: " + why});
    retry_->wait(kReceiveRetry, [self = shared_from_this()](bool fired) {
      if (fired && !self->stopped_) {
        self->receive();
      }
    });
  }

  // Reads what is queued (at most kBurst datagrams, then yields the strand), then asks the
  // socket how many datagrams the kernel dropped for a full receive queue (SO_MEMINFO): a queue
  // that overflowed while the strand was busy is seen, and counted, as soon as it is drained.
  void on_readable(error_code ec) {
    if (stopped_ || ec == asio::error::operation_aborted) {
      return;
    }
    if (ec) {
      receive_failed(ec.message());
      return;
    }
    for (int i = 0; i < kBurst && !stopped_; ++i) {
      const ssize_t n =
          ::recv(socket_->native_handle(), buffer_.data(), buffer_.size(), MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
          break;
        }
        receive_failed(std::strerror(errno));
        return;
      }
      on_datagram(static_cast<std::size_t>(n));
    }
    if (stopped_) {
      return;
    }
    std::uint32_t info[SK_MEMINFO_VARS] = {};
    socklen_t len = sizeof info;
    if (::getsockopt(socket_->native_handle(), SOL_SOCKET, SO_MEMINFO, info, &len) == 0 &&
        len > SK_MEMINFO_DROPS * sizeof(std::uint32_t)) {
      const std::uint32_t total = info[SK_MEMINFO_DROPS];
      if (total != kernel_dropped_) {
        PushBatch lost;
        lost.lost = static_cast<std::uint32_t>(total - kernel_dropped_);  // wraps at 2^32
        kernel_dropped_ = total;
        on_batch(std::move(lost));
      }
    }
    receive();
  }

  void on_datagram(std::size_t n) {
    PushBatch batch;
    const StatsdParseStats stats = parse_statsd(std::string_view(buffer_.data(), n), batch.samples);
    batch.malformed = stats.malformed;
    batch.first_error = stats.first_error;
    batch.dropped = declared_.drop_undeclared(batch.samples);
    on_batch(std::move(batch));
  }

  // Datagrams read per wake-up before the strand is yielded to others.
  static constexpr int kBurst = 64;

  asio::any_io_executor strand_;
  SampleSink* sink_;
  PushHub* hub_;
  const std::string source_id_;
  const std::optional<std::vector<std::string>> declared_names_;
  const DeclaredSeries declared_;
  PushAccumulator accumulator_;
  PushHub::SubscriptionId subscription_ = 0;
  std::optional<udp::socket> socket_;
  std::vector<char> buffer_;
  std::uint32_t kernel_dropped_ = 0;  // the socket's drop count (SO_MEMINFO) last seen
  std::unique_ptr<net::Timer> retry_;
  std::unique_ptr<net::Timer> heartbeat_;
  bool batch_since_beat_ = false;
  bool started_ = false;
  bool stopped_ = false;
};

class PushCollector final : public Collector {
 public:
  explicit PushCollector(std::shared_ptr<PushSource> source) : source_(std::move(source)) {}
  ~PushCollector() override { source_->stop(); }
  PushCollector(const PushCollector&) = delete;
  PushCollector& operator=(const PushCollector&) = delete;

  void start() override { source_->start(); }
  void stop() override { source_->stop(); }

 private:
  std::shared_ptr<PushSource> source_;
};

// Binds the StatsD socket at creation, so that a port already in use stops the agent at start
// with a message rather than leaving a source that never hears anything.
Result<udp::socket> bind_statsd(const Source& source, const CollectorContext& ctx,
                                const std::string& address) {
  const std::string where = "source '" + source.id + "': statsd_listen " + address;
  // host:port or [v6]:port, as the plan loader checked.
  const std::size_t colon = address.rfind(':');
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port = colon == std::string::npos ? "" : address.substr(colon + 1);
  try {
    udp::resolver resolver(ctx.executor);
    const auto results =
        resolver.resolve(host, port, udp::resolver::numeric_service | udp::resolver::passive);
    error_code last;
    for (const auto& entry : results) {
      udp::socket socket(ctx.executor);
      error_code ec;
      socket.open(entry.endpoint().protocol(), ec);
      if (!ec) {
        socket.bind(entry.endpoint(), ec);
      }
      if (!ec) {
        error_code ignored;
        socket.set_option(udp::socket::receive_buffer_size(kReceiveBufferBytes), ignored);
        return socket;
      }
      last = ec;
    }
    return Error{where + ": " + (last ? last.message() : std::string("no address"))};
  } catch (const std::exception& e) {
    return Error{where + ": " + e.what()};
  }
}

}  // namespace

Result<std::unique_ptr<Collector>> create_push_collector(const Source& source,
                                                         CollectorContext ctx) {
  return create_push_collector(source, std::move(ctx), nullptr);
}

Result<std::unique_ptr<Collector>> create_push_collector(const Source& source,
                                                         CollectorContext ctx,
                                                         std::uint16_t* statsd_port) {
  if (statsd_port != nullptr) {
    *statsd_port = 0;
  }
  if (auto problem = check_context(source, ctx, false)) {
    return Error{*problem};
  }
  if (ctx.push == nullptr) {
    return Error{"source '" + source.id + "': no push hub"};
  }
  const KindOptions& o = source.options;
  std::optional<std::vector<std::string>> declared;
  if (o.has("series")) {
    declared = o.strings("series");
  }
  std::optional<udp::socket> socket;
  if (o.has("statsd_listen")) {
    auto bound = bind_statsd(source, ctx, o.string("statsd_listen"));
    if (!bound) {
      return Error{bound.error()};
    }
    socket.emplace(std::move(bound).value());
    if (statsd_port != nullptr) {
      error_code ignored;
      *statsd_port = socket->local_endpoint(ignored).port();
    }
  }
  auto push = std::make_shared<PushSource>(ctx, source.id, std::move(declared), std::move(socket));
  return std::unique_ptr<Collector>(std::make_unique<PushCollector>(std::move(push)));
}

}  // namespace backout::collectors
