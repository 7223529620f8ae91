// Listener and sessions after Beast's advanced_server: one strand per connection, timeouts with
// tcp_stream::expires_after, header and body limits on the parser, a bounded queue of pipelined
// responses. Errors on the I/O path are error_codes and end in a counter and a closed
// connection; nothing here throws across a completion handler.
//
// Connection life:
//   accept --(over max_connections)--> 503, close
//     |
//   read request [read_timeout from accept / from the first byte] --> handler --> queue response
//     |  ^                                                                 |
//     |  +-- keep-alive: wait for a first byte [idle_timeout] <------------+
//     |
//   limits / garbage --> 413 / 431 / 400 with Connection: close
//   every byte read waits in one flat_buffer whose size is bounded (max_header_bytes + a read
//   chunk): Beast needs a chunk line or the whole trailer section in it before parsing, and
//   unbounded it would grow with whatever the client sends (issue: a 64 KiB trailer field
//   aborted the process, 8 MiB chunk extensions held the memory).
//   every close after a response: shutdown(send), then drain what the client still sends for
//   a short while ("lingering close"), so the client reads our answer instead of a reset.
#include "app/http/http_server.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace backout::agent::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

// Responses queued on one connection before we stop reading its further pipelined requests.
constexpr std::size_t kMaxPipeline = 8;
// Lingering close: how long and how much we drain after our last response.
constexpr std::chrono::milliseconds kLingerTime{2000};
constexpr std::size_t kLingerBytes = 1024 * 1024;
// Pause after a failed accept (e.g. out of file descriptors) so the loop does not spin.
constexpr std::chrono::milliseconds kAcceptRetry{100};
constexpr std::size_t kReadChunk = 4096;
// Beast's fields container throws std::length_error for a field of 64 KiB or more, from inside
// the parser, i.e. out of io_context::run(): no field may fit in the read buffer to reach it.
constexpr std::size_t kMaxHeaderBytes = 56 * 1024;
static_assert(kMaxHeaderBytes + kReadChunk < std::numeric_limits<std::uint16_t>::max());

class Session;

// What the listener and its sessions share. Sessions keep it alive until their last handler.
struct Core {
  Core(HttpServer::RequestHandler h, ServerLimits l) : handler(std::move(h)), limits(l) {}

  const HttpServer::RequestHandler handler;
  const ServerLimits limits;

  std::atomic<bool> stopped{false};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> timeouts{0};
  std::atomic<std::uint64_t> bad_requests{0};
  std::atomic<std::uint64_t> malformed{0};
  std::atomic<std::uint64_t> headers_too_large{0};
  std::atomic<std::uint64_t> trailers_too_large{0};
  std::atomic<std::uint64_t> chunk_extensions_too_large{0};
  std::atomic<std::uint64_t> bodies_too_large{0};
  std::atomic<std::uint64_t> evicted{0};
  std::atomic<std::uint64_t> reserved_served{0};
  std::atomic<std::uint64_t> active{0};
  std::atomic<std::uint64_t> reserved_active{0};  // connections on a reserved slot now
  std::atomic<std::uint64_t> rejecting{0};  // connections being answered 503 right now

  // Registers a session so stop() can reach it; false once stopped.
  bool add(Session* s, std::weak_ptr<Session> w) {
    std::lock_guard<std::mutex> lock(mu);
    if (stopped.load()) {
      return false;
    }
    sessions.emplace(s, std::move(w));
    return true;
  }
  void remove(Session* s) {
    std::lock_guard<std::mutex> lock(mu);
    sessions.erase(s);
  }
  // Marks the server stopped and returns the live sessions. Under the same lock as add(), so
  // no session registers unseen after this.
  std::vector<std::shared_ptr<Session>> stop_and_list() {
    std::lock_guard<std::mutex> lock(mu);
    stopped.store(true);
    std::vector<std::shared_ptr<Session>> out;
    for (auto& [unused, weak] : sessions) {
      if (auto s = weak.lock()) {
        out.push_back(std::move(s));
      }
    }
    return out;
  }

  /// Claims the connection whose slot a newcomer takes (see ServerLimits::max_connections): of
  /// the connections of `reserved` kind idle for at least `min_idle` at `now_ns`, one of the
  /// client address holding the most, the one idle longest. The claimed connection is no longer
  /// idle for anyone else; the caller closes it (Session::post_evict).
  std::shared_ptr<Session> claim_idle(bool reserved, std::int64_t now_ns,
                                      std::chrono::milliseconds min_idle);

  std::mutex mu;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;  // guarded by mu
};

// Counts one runtime failure and logs it when its count is a power of two: the log says that it
// happens and how often, and a client repeating it cannot flood the log.
void count_and_log(std::atomic<std::uint64_t>& counter, const std::string& what) {
  const std::uint64_t n = ++counter;
  if ((n & (n - 1)) == 0) {
    spdlog::warn("http: {} ({} so far; logged at 1, 2, 4, 8, ...)", what, n);
  }
}

// The read buffer filled up while the parser was in the body: body bytes are consumed as they
// arrive, so what fills it is a chunk line (the parser needs its end) or, after the last chunk
// ("0" with optional extensions, then CRLF), the trailer section (the parser needs all of it).
bool trailer_fills(std::string_view pending) {
  if (pending.substr(0, 2) == "\r\n") {
    pending.remove_prefix(2);  // the CRLF that ends the previous chunk's data
  }
  const std::size_t size_end = pending.find_first_not_of("0123456789abcdefABCDEF");
  if (size_end == 0 || size_end == std::string_view::npos ||
      pending.find_first_not_of('0') < size_end) {
    return false;  // no chunk size yet, or a data chunk's line
  }
  return pending.find("\r\n") != std::string_view::npos;
}

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool valid_field_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), is_token_char);
}

bool valid_field_value(std::string_view value) {
  // No CR, LF or NUL: a handler must not be able to split the response.
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// Fields the server owns: a handler's value for them is ignored.
bool server_owned_field(std::string_view name) {
  for (std::string_view f : {"Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer",
                             "Upgrade", "Proxy-Connection", "Server", "Content-Length"}) {
    if (beast::iequals(name, f)) {
      return true;
    }
  }
  return false;
}

bool handler_response_ok(const HttpResponse& res) {
  if (res.status < 200 || res.status > 599 || !valid_field_value(res.content_type)) {
    return false;
  }
  return std::all_of(res.headers.begin(), res.headers.end(), [](const auto& kv) {
    return valid_field_name(kv.first) && valid_field_value(kv.second);
  });
}

using Response = bhttp::response<bhttp::string_body>;

// Turns a handler's response into the message on the wire. `head`: the request was HEAD, so no
// body is sent and Content-Length is the handler's (the GET length) or the body's size.
Response to_wire(HttpResponse res, unsigned version, bool keep_alive, bool head) {
  if (!handler_response_ok(res)) {
    res = json_error(500, "internal error");
  }
  Response out;
  out.version(version);
  out.result(static_cast<unsigned>(res.status));
  out.set(bhttp::field::server, "backout-agent");
  if (!res.content_type.empty()) {
    out.set(bhttp::field::content_type, res.content_type);
  }
  bool has_cache_control = false;
  std::optional<std::uint64_t> head_length;
  for (const auto& [name, value] : res.headers) {
    if (beast::iequals(name, "Content-Length")) {
      std::uint64_t n = 0;
      const auto [end, err] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (head && err == std::errc() && end == value.data() + value.size()) {
        head_length = n;
      }
      continue;
    }
    if (server_owned_field(name)) {
      continue;
    }
    has_cache_control = has_cache_control || beast::iequals(name, "Cache-Control");
    out.insert(name, value);
  }
  if (!has_cache_control) {
    out.set(bhttp::field::cache_control, "no-store");
  }
  if (res.status == 204 || res.status == 304) {
    // No body and, for 204, no Content-Length (RFC 9110 8.6).
  } else if (head) {
    out.content_length(head_length.value_or(res.body.size()));
  } else {
    out.content_length(res.body.size());
    out.body() = std::move(res.body);
  }
  out.keep_alive(keep_alive);
  return out;
}

std::string peer_address(const tcp::socket& socket) {
  error_code ec;
  const tcp::endpoint ep = socket.remote_endpoint(ec);
  if (ec) {
    return {};
  }
  net::ip::address a = ep.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    a = net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6());
  }
  return a.to_string();
}

bool is_http_error(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category();
}

// One connection. Every member function runs on the connection's strand (the stream's
// executor); completion handlers hold a shared_ptr to it.
class Session : public std::enable_shared_from_this<Session> {
 public:
  enum class Slot { kRegular, kReserved, kReject };

  Session(tcp::socket&& socket, std::shared_ptr<Core> core, Slot slot)
      : stream_(std::move(socket)),
        core_(std::move(core)),
        reject_(slot == Slot::kReject),
        reserved_(slot == Slot::kReserved),
        remote_(peer_address(stream_.socket())),
        buffer_(core_->limits.max_header_bytes + kReadChunk),
        first_deadline_(std::chrono::steady_clock::now() + core_->limits.read_timeout) {
    if (reject_) {
      ++core_->rejected;
      ++core_->rejecting;
    } else {
      ++core_->accepted;
      ++(reserved_ ? core_->reserved_active : core_->active);
    }
  }

  ~Session() {
    core_->remove(this);
    if (reject_) {
      --core_->rejecting;
    } else {
      --(reserved_ ? core_->reserved_active : core_->active);
    }
  }

  // Read by Core::claim_idle under the core's lock: immutable, or atomic.
  bool reserved() const { return reserved_; }
  const std::string& remote() const { return remote_; }
  /// When the connection began waiting for a request (steady ns), 0 while it is busy.
  std::atomic<std::int64_t>& idle_since() { return idle_since_; }

  // A newcomer takes this connection's slot: close it (from any thread).
  void post_evict() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->closed_) {
        ++self->core_->evicted;
        self->close_now();
      }
    });
  }

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::on_start, shared_from_this()));
  }

  // From stop(): close now, from any thread.
  void post_close() {
    net::post(stream_.get_executor(),
              beast::bind_front_handler(&Session::close_now, shared_from_this()));
  }

 private:
  struct Outgoing {
    Response msg;
    bool close_after = false;
  };

  void on_start() {
    if (closed_ || core_->stopped.load()) {
      close_now();
      return;
    }
    if (reject_) {
      closing_ = true;
      HttpResponse res = json_error(503, "too many connections");
      res.headers["Retry-After"] = "1";
      enqueue(to_wire(std::move(res), 11, false, false), /*close_after=*/true);
      return;
    }
    error_code ignored;
    stream_.socket().set_option(tcp::no_delay(true), ignored);
    do_read();
  }

  void do_read() {
    if (closing_ || closed_ || reading_) {
      return;
    }
    if (buffer_.size() > 0) {
      read_request();
      return;
    }
    // Wait for the request's first byte: the first request under the read deadline counted
    // from the accept, a keep-alive connection's next one under the idle timeout; then the
    // whole request must arrive within read_timeout. While it waits, the connection is idle:
    // a newcomer may take its slot when the server is full.
    reading_ = true;
    waiting_first_byte_ = true;
    if (first_request_) {
      stream_.expires_at(first_deadline_);
    } else {
      stream_.expires_after(core_->limits.idle_timeout);
    }
    stream_.async_read_some(
        buffer_.prepare(kReadChunk),
        beast::bind_front_handler(&Session::on_first_bytes, shared_from_this()));
    update_idle();
  }

  // Idle: waiting for a request's first byte with nothing left to write.
  void update_idle() {
    const bool idle = waiting_first_byte_ && !writing_ && queue_.empty() && !closing_ && !closed_;
    if (!idle) {
      idle_since_.store(0);
    } else if (idle_since_.load() == 0) {
      idle_since_.store(std::chrono::steady_clock::now().time_since_epoch().count());
    }
  }

  void on_first_bytes(error_code ec, std::size_t n) {
    reading_ = false;
    waiting_first_byte_ = false;
    update_idle();
    if (ec) {
      // A first request that never came is a timeout; a keep-alive connection left idle is not.
      on_read_error(ec, /*idle=*/!first_request_);
      return;
    }
    buffer_.commit(n);
    read_request();
  }

  void read_request() {
    const bool first = first_request_;
    first_request_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
        core_->limits.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(static_cast<std::uint64_t>(core_->limits.max_body_bytes));
    reading_ = true;
    if (first) {
      stream_.expires_at(first_deadline_);
    } else {
      stream_.expires_after(core_->limits.read_timeout);
    }
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(error_code ec, std::size_t /*bytes*/) {
    reading_ = false;
    if (ec) {
      on_read_error(ec, /*idle=*/false);
      return;
    }
    const auto& header = parser_->get();
    if (header.find(bhttp::field::transfer_encoding) != header.end() && !parser_->chunked()) {
      // RFC 9112 6.3: without chunked last, the body length is unknowable; never guess it.
      reply_error(400, core_->malformed, "unsupported transfer coding");
      return;
    }
    if (parser_->is_done()) {
      on_request();
      return;
    }
    // The body, under the same read deadline. Start the read before queueing "100 Continue"
    // so that the write's expires_after leaves the read deadline alone.
    reading_ = true;
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::on_body, shared_from_this()));
    if (header.version() >= 11 && beast::iequals(header[bhttp::field::expect], "100-continue")) {
      Response cont;
      cont.version(11);
      cont.result(bhttp::status::continue_);
      enqueue(std::move(cont), /*close_after=*/false);
    }
  }

  void on_body(error_code ec, std::size_t /*bytes*/) {
    reading_ = false;
    if (ec) {
      on_read_error(ec, /*idle=*/false);
      return;
    }
    on_request();
  }

  void on_request() {
    bhttp::request<bhttp::string_body> msg = parser_->release();
    parser_.reset();
    ++core_->requests;
    if (closed_ || core_->stopped.load()) {
      close_now();
      return;
    }
    // A reserved slot serves one request.
    const bool keep_alive = msg.keep_alive() && !reserved_;
    const bool head = msg.method() == bhttp::verb::head;

    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    HttpResponse res;
    if (msg.version() >= 11 && msg.find(bhttp::field::host) == msg.end()) {
      res = refusal(400, core_->malformed, "missing Host header");
    } else if (!parse_request_target(req.target, req)) {
      res = refusal(400, core_->malformed, "malformed request target");
    } else {
      for (const auto& field : msg) {
        auto [it, inserted] =
            req.headers.emplace(std::string(field.name_string()), std::string(field.value()));
        if (!inserted) {
          it->second += ", ";
          it->second += field.value();
        }
      }
      req.body = std::move(msg.body());
      req.remote_address = remote_;
      const auto& reserved_paths = core_->limits.reserved_paths;
      if (reserved_ && std::find(reserved_paths.begin(), reserved_paths.end(), req.path) ==
                           reserved_paths.end()) {
        res = json_error(503, "too many connections");
        res.headers["Retry-After"] = "1";
      } else {
        if (reserved_) {
          ++core_->reserved_served;
        }
        res = invoke(req);
      }
    }
    enqueue(to_wire(std::move(res), msg.version(), keep_alive, head), !keep_alive);
    if (!keep_alive) {
      closing_ = true;
    } else if (queue_.size() < kMaxPipeline) {
      do_read();
    }  // else on_write() resumes reading once the queue shrinks
  }

  HttpResponse invoke(const HttpRequest& req) {
    try {
      return core_->handler(req);
    } catch (...) {
      return json_error(500, "internal error");
    }
  }

  void on_read_error(error_code ec, bool idle) {
    if (closed_ || ec == net::error::operation_aborted) {
      return;  // closed by us or by stop()
    }
    if (ec == beast::error::timeout) {
      if (!idle) {
        ++core_->timeouts;
      }
      close_now();
      return;
    }
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof) {
      // The client is done sending; finish writing what it asked for, then close.
      closing_ = true;
      if (!writing_) {
        linger_close();
      }
      return;
    }
    const std::string buffered = std::to_string(buffer_.max_size());
    if (ec == bhttp::error::header_limit ||
        (ec == bhttp::error::buffer_overflow && !(parser_ && parser_->is_header_done()))) {
      reply_error(431, core_->headers_too_large,
                  "request header too large (limit " +
                      std::to_string(core_->limits.max_header_bytes) + " bytes)");
    } else if (ec == bhttp::error::buffer_overflow && trailer_fills(pending())) {
      reply_error(431, core_->trailers_too_large,
                  "request trailer section too large (limit " + buffered + " bytes)");
    } else if (ec == bhttp::error::buffer_overflow) {
      reply_error(413, core_->chunk_extensions_too_large,
                  "chunk size line and extensions too large (limit " + buffered + " bytes)");
    } else if (ec == bhttp::error::body_limit) {
      reply_error(413, core_->bodies_too_large,
                  "request body too large (limit " + std::to_string(core_->limits.max_body_bytes) +
                      " bytes)");
    } else if (is_http_error(ec) && ec != bhttp::error::partial_message &&
               ec != bhttp::error::short_read) {
      reply_error(400, core_->malformed, "malformed request");
    } else {
      close_now();  // reset, or closed mid-request: nobody to answer
    }
  }

  std::string_view pending() const {
    return {static_cast<const char*>(buffer_.data().data()), buffer_.size()};
  }

  // A 4xx for a request the server will not serve, counted as a bad request and by its kind.
  HttpResponse refusal(int status, std::atomic<std::uint64_t>& kind, const std::string& message) {
    ++core_->bad_requests;
    count_and_log(kind, "answered " + std::to_string(status) + " to " + remote_ + ": " + message);
    return json_error(status, message);
  }

  // Answers a request we could not read whole, then closes: the rest of the stream cannot be
  // trusted to start at a request boundary. The buffer goes too, so a refused client holds
  // nothing while its answer drains.
  void reply_error(int status, std::atomic<std::uint64_t>& kind, const std::string& message) {
    closing_ = true;
    parser_.reset();
    buffer_.clear();
    buffer_.shrink_to_fit();
    enqueue(to_wire(refusal(status, kind, message), 11, false, false), /*close_after=*/true);
  }

  void enqueue(Response msg, bool close_after) {
    queue_.push_back(Outgoing{std::move(msg), close_after});
    if (!writing_) {
      do_write();
    }
    update_idle();
  }

  void do_write() {
    writing_ = true;
    stream_.expires_after(core_->limits.write_timeout);
    bhttp::async_write(stream_, queue_.front().msg,
                       beast::bind_front_handler(&Session::on_write, shared_from_this()));
  }

  void on_write(error_code ec, std::size_t /*bytes*/) {
    writing_ = false;
    if (closed_ || ec == net::error::operation_aborted) {
      return;
    }
    if (ec) {
      if (ec == beast::error::timeout) {
        ++core_->timeouts;
      }
      close_now();
      return;
    }
    const bool close_after = queue_.front().close_after;
    queue_.pop_front();
    update_idle();
    if (close_after) {
      linger_close();
      return;
    }
    if (!queue_.empty()) {
      do_write();
    } else if (closing_ && !reading_) {
      linger_close();
      return;
    }
    if (!reading_ && queue_.size() < kMaxPipeline) {
      do_read();
    }
  }

  // Graceful close after our last response: FIN first, then read and drop whatever the client
  // still sends until it closes too (or time / byte budget runs out), so that closing with
  // unread data does not reset the connection under a response the client has not read yet.
  void linger_close() {
    closing_ = true;
    if (reading_) {
      close_now();
      return;
    }
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
      close_now();
      return;
    }
    stream_.expires_after(
        std::min<std::chrono::milliseconds>(core_->limits.read_timeout, kLingerTime));
    buffer_.clear();
    drain();
  }

  void drain() {
    reading_ = true;
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            beast::bind_front_handler(&Session::on_drain, shared_from_this()));
  }

  void on_drain(error_code ec, std::size_t n) {
    reading_ = false;
    drained_ += n;
    if (ec || drained_ > kLingerBytes) {
      close_now();
      return;
    }
    drain();
  }

  void close_now() {
    if (closed_) {
      return;
    }
    closed_ = true;
    closing_ = true;
    idle_since_.store(0);
    stream_.close();  // cancels pending operations and timers
  }

  beast::tcp_stream stream_;
  const std::shared_ptr<Core> core_;
  const bool reject_;
  const bool reserved_;
  const std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::deque<Outgoing> queue_;  // front is being written; references stay valid on push_back
  const std::chrono::steady_clock::time_point first_deadline_;
  std::atomic<std::int64_t> idle_since_{0};
  bool waiting_first_byte_ = false;
  bool first_request_ = true;
  bool reading_ = false;
  bool writing_ = false;
  bool closing_ = false;  // read no further requests
  bool closed_ = false;
  std::size_t drained_ = 0;
};

std::shared_ptr<Session> Core::claim_idle(bool reserved, std::int64_t now_ns,
                                          std::chrono::milliseconds min_idle) {
  const std::int64_t min_ns = std::chrono::nanoseconds(min_idle).count();
  std::lock_guard<std::mutex> lock(mu);
  // Per-client fairness first: the address holding the most connections gives one up.
  std::unordered_map<std::string, std::size_t> per_address;
  for (const auto& [raw, weak] : sessions) {
    if (raw->reserved() == reserved) {
      ++per_address[raw->remote()];
    }
  }
  Session* best = nullptr;
  std::size_t best_count = 0;
  std::int64_t best_since = 0;
  for (const auto& [raw, weak] : sessions) {
    if (raw->reserved() != reserved) {
      continue;
    }
    const std::int64_t since = raw->idle_since().load();
    if (since == 0 || now_ns - since < min_ns) {
      continue;
    }
    const std::size_t count = per_address[raw->remote()];
    if (best == nullptr || count > best_count || (count == best_count && since < best_since)) {
      best = raw;
      best_count = count;
      best_since = since;
    }
  }
  if (best == nullptr) {
    return nullptr;
  }
  std::int64_t expected = best_since;
  if (!best->idle_since().compare_exchange_strong(expected, 0)) {
    return nullptr;  // it got busy meanwhile: keep it
  }
  return sessions[best].lock();
}

std::string host_port(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string listen_hint(const error_code& ec) {
  if (ec == net::error::address_in_use) {
    return "; is another backout-agent running?";
  }
  if (ec == net::error::access_denied) {
    return "; ports below 1024 need CAP_NET_BIND_SERVICE";
  }
  if (ec == boost::system::errc::address_not_available) {
    return "; no local interface has this address";
  }
  return "";
}

}  // namespace

class HttpServer::Impl : public std::enable_shared_from_this<HttpServer::Impl> {
 public:
  Impl(net::io_context& ioc, RequestHandler handler, ServerLimits limits)
      : ioc_(ioc),
        core_(std::make_shared<Core>(std::move(handler), limits)),
        acceptor_(net::make_strand(ioc)),
        retry_timer_(acceptor_.get_executor()) {}

  void listen(const std::string& host, std::uint16_t port) {
    const std::string where = host_port(host, port);
    if (core_->stopped.load()) {
      throw std::runtime_error("cannot listen on " + where + ": the server was stopped");
    }
    if (listening_) {
      throw std::runtime_error("cannot listen on " + where + ": already listening on port " +
                               std::to_string(port_.load()));
    }
    error_code ec;
    tcp::resolver resolver(ioc_);
    const auto endpoints = resolver.resolve(
        host, std::to_string(port), tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec) {
      throw std::runtime_error("cannot listen on " + where + ": cannot resolve '" + host +
                               "': " + ec.message());
    }
    error_code last = net::error::host_not_found;
    for (const auto& entry : endpoints) {
      tcp::acceptor acceptor(acceptor_.get_executor());
      acceptor.open(entry.endpoint().protocol(), ec);
      if (!ec) {
        acceptor.set_option(net::socket_base::reuse_address(true), ec);
      }
      if (!ec) {
        acceptor.bind(entry.endpoint(), ec);
      }
      if (!ec) {
        acceptor.listen(net::socket_base::max_listen_connections, ec);
      }
      if (ec) {
        last = ec;
        continue;
      }
      port_.store(acceptor.local_endpoint(ec).port());
      acceptor_ = std::move(acceptor);
      listening_ = true;
      net::dispatch(acceptor_.get_executor(),
                    beast::bind_front_handler(&Impl::do_accept, shared_from_this()));
      return;
    }
    throw std::runtime_error("cannot listen on " + where + ": " + last.message() +
                             listen_hint(last));
  }

  void listen_on(int fd) {
    if (listening_) {
      throw std::runtime_error("cannot take over a listening socket: already listening on port " +
                               std::to_string(port_.load()));
    }
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot take over the listening socket: " +
                               std::string(std::strerror(errno)));
    }
    tcp::acceptor acceptor(acceptor_.get_executor());
    error_code ec;
    acceptor.assign(addr.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
    if (ec) {
      throw std::runtime_error("cannot take over the listening socket: " + ec.message());
    }
    port_.store(acceptor.local_endpoint(ec).port());
    acceptor_ = std::move(acceptor);
    listening_ = true;
    net::dispatch(acceptor_.get_executor(),
                  beast::bind_front_handler(&Impl::do_accept, shared_from_this()));
  }

  int release_listener() {
    if (!acceptor_.is_open()) {
      return -1;
    }
    error_code ec;
    const int fd = acceptor_.release(ec);
    return ec ? -1 : fd;
  }

  std::uint16_t port() const { return port_.load(); }

  void stop(bool keep_listener) {
    const auto sessions = core_->stop_and_list();
    net::post(acceptor_.get_executor(), [self = shared_from_this(), keep_listener] {
      error_code ignored;
      if (keep_listener) {
        self->acceptor_.cancel(ignored);  // the socket stays bound: connections wait in its queue
      } else {
        self->acceptor_.close(ignored);
      }
      self->retry_timer_.cancel();
    });
    for (const auto& s : sessions) {
      s->post_close();
    }
  }

  Stats stats() const {
    Stats s;
    s.connections_accepted = core_->accepted.load();
    s.connections_rejected = core_->rejected.load();
    s.requests = core_->requests.load();
    s.timeouts = core_->timeouts.load();
    s.bad_requests = core_->bad_requests.load();
    s.malformed_requests = core_->malformed.load();
    s.headers_too_large = core_->headers_too_large.load();
    s.trailers_too_large = core_->trailers_too_large.load();
    s.chunk_extensions_too_large = core_->chunk_extensions_too_large.load();
    s.bodies_too_large = core_->bodies_too_large.load();
    s.evicted = core_->evicted.load();
    s.reserved_served = core_->reserved_served.load();
    s.active = core_->active.load();
    return s;
  }

 private:
  void do_accept() {
    if (core_->stopped.load() || !acceptor_.is_open()) {
      return;
    }
    acceptor_.async_accept(net::make_strand(ioc_),
                           beast::bind_front_handler(&Impl::on_accept, shared_from_this()));
  }

  void on_accept(error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || core_->stopped.load()) {
      return;
    }
    if (ec) {
      // Typically out of file descriptors: the listener degrades, it does not die.
      spdlog::warn("http: accept failed: {}; retrying in {} ms", ec.message(),
                   kAcceptRetry.count());
      retry_timer_.expires_after(kAcceptRetry);
      retry_timer_.async_wait([self = shared_from_this()](error_code wait_ec) {
        if (!wait_ec) {
          self->do_accept();
        }
      });
      return;
    }
    const ServerLimits& limits = core_->limits;
    Session::Slot slot = Session::Slot::kRegular;
    if (core_->active.load() >= limits.max_connections) {
      // Full: take an idle connection's slot, else a reserved one, else refuse.
      const std::int64_t now_ns = std::chrono::steady_clock::now().time_since_epoch().count();
      if (auto victim = core_->claim_idle(false, now_ns, limits.evict_idle_after)) {
        victim->post_evict();
      } else if (limits.reserved_paths.empty()) {
        slot = Session::Slot::kReject;
      } else if (core_->reserved_active.load() < limits.reserved_connections) {
        slot = Session::Slot::kReserved;
      } else if (auto reserved = core_->claim_idle(true, now_ns, std::chrono::milliseconds{0})) {
        reserved->post_evict();
        slot = Session::Slot::kReserved;
      } else {
        slot = Session::Slot::kReject;
      }
    }
    const bool reject = slot == Session::Slot::kReject;
    if (reject && core_->rejecting.load() >= std::max<std::size_t>(limits.max_connections, 16)) {
      // Already answering many refusals: drop this one without a word rather than hold more.
      ++core_->rejected;
      error_code ignored;
      socket.close(ignored);
    } else {
      auto session = std::make_shared<Session>(std::move(socket), core_, slot);
      if (core_->add(session.get(), session)) {
        session->start();
      }
    }
    do_accept();
  }

  net::io_context& ioc_;
  const std::shared_ptr<Core> core_;
  tcp::acceptor acceptor_;  // used on its own strand
  net::steady_timer retry_timer_;
  std::atomic<std::uint16_t> port_{0};
  bool listening_ = false;  // listen() is called from one thread, at start-up
};

HttpServer::HttpServer(boost::asio::io_context& ioc, RequestHandler handler, ServerLimits limits) {
  if (!handler) {
    throw std::invalid_argument("HttpServer needs a request handler");
  }
  if (limits.max_header_bytes == 0 || limits.read_timeout.count() <= 0 ||
      limits.idle_timeout.count() <= 0 || limits.write_timeout.count() <= 0) {
    throw std::invalid_argument(
        "HttpServer limits: max_header_bytes and the timeouts must be positive");
  }
  if (limits.max_header_bytes > kMaxHeaderBytes) {
    throw std::invalid_argument("HttpServer limits: max_header_bytes is " +
                                std::to_string(limits.max_header_bytes) + "; at most " +
                                std::to_string(kMaxHeaderBytes) +
                                " (Beast cannot hold a header field of 64 KiB)");
  }
  impl_ = std::make_shared<Impl>(ioc, std::move(handler), limits);
}

HttpServer::~HttpServer() { impl_->stop(false); }

void HttpServer::listen(const std::string& host, std::uint16_t port) { impl_->listen(host, port); }

std::uint16_t HttpServer::port() const { return impl_->port(); }

void HttpServer::stop() { impl_->stop(false); }

void HttpServer::stop_keeping_listener() { impl_->stop(true); }

int HttpServer::release_listener() { return impl_->release_listener(); }

void HttpServer::listen_on(int fd) { impl_->listen_on(fd); }

HttpServer::Stats HttpServer::stats() const { return impl_->stats(); }

}  // namespace backout::agent::http
