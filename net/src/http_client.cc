// HttpClient on Beast: one Exchange per fetch, on its own strand, with one deadline timer for the
// whole exchange. Errors on the I/O path are error_codes turned into a FetchError; nothing throws
// across a completion handler, and every exit goes through finish(), which runs the callback
// exactly once.
//
// Exchange life:
//   parse URL -> resolve -> connect -> [TLS handshake] -> write -> read (header and body limits)
//     -> 3xx with follow_redirects: the next hop starts again at resolve (same deadline)
//     -> decode gzip / deflate (decoded size capped) -> callback
//   The deadline or a cancel at any point finishes the exchange and closes the socket; the
//   operation still pending then completes with an error, sees the exchange finished and stops.
#include "backout/net/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>
#include <exception>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "backout/core/time.h"
#include "content_decoding.h"
#include "request_url.h"

namespace backout::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;
using Kind = FetchError::Kind;

constexpr std::uint32_t kMaxHeaderBytes = 64 * 1024;
constexpr char kUserAgent[] = "backout-agent";

std::string format_bytes(std::size_t n) {
  constexpr std::size_t kKiB = 1024;
  constexpr std::size_t kMiB = 1024 * 1024;
  if (n >= kMiB && n % kMiB == 0) {
    return std::to_string(n / kMiB) + " MiB";
  }
  if (n >= kKiB && n % kKiB == 0) {
    return std::to_string(n / kKiB) + " KiB";
  }
  return std::to_string(n) + " bytes";
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

bool is_token(std::string_view s) {
  static constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || kSpecials.find(static_cast<char>(c)) != std::string_view::npos;
  });
}

bool is_field_value(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == 0; });
}

bool is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// The compressed body may be slightly larger than what it decodes to (incompressible data gains
// a few bytes per 16 KiB block), so the wire limit leaves room before the decoded size decides.
std::uint64_t wire_limit(std::size_t max_body) {
  return static_cast<std::uint64_t>(max_body) + max_body / 64 + 4096;
}

// "TLS: certificate verify failed (self-signed certificate)": OpenSSL's reason without the
// library name Asio appends, and the verification result when that is what failed.
std::string tls_reason(const error_code& ec, SSL* ssl) {
  std::string reason;
  if (ec.category() == asio::error::get_ssl_category()) {
    const char* r = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    reason = r != nullptr ? r : ec.message();
  } else if (ec == asio::error::eof || ec == ssl::error::stream_truncated) {
    reason = "the server closed the connection during the handshake";
  } else {
    reason = ec.message();
  }
  if (ssl != nullptr) {
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      reason += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
    }
  }
  return "TLS: " + reason;
}

class Exchange;

// What the client and its exchanges share: the exchanges in flight (for cancel) and the TLS
// contexts, built once per CA file because loading a CA bundle costs milliseconds.
class Shared {
 public:
  HttpClient::RequestId next_id() {
    std::lock_guard lock(mu_);
    return next_id_++;
  }
  void add(HttpClient::RequestId id, const std::shared_ptr<Exchange>& ex) {
    std::lock_guard lock(mu_);
    live_[id] = ex;
  }
  void remove(HttpClient::RequestId id) {
    std::lock_guard lock(mu_);
    live_.erase(id);
  }
  std::vector<std::shared_ptr<Exchange>> find(std::optional<HttpClient::RequestId> id) {
    std::lock_guard lock(mu_);
    std::vector<std::shared_ptr<Exchange>> out;
    for (const auto& [key, weak] : live_) {
      if (!id || *id == key) {
        if (auto ex = weak.lock()) {
          out.push_back(std::move(ex));
        }
      }
    }
    return out;
  }

  // A context that verifies peers with `ca_file` (or the system's CAs). Only successes are
  // cached, so a CA file that appears later is picked up by the next request.
  std::shared_ptr<ssl::context> tls_context(const std::string& ca_file, std::string* why) {
    std::lock_guard lock(mu_);
    if (auto it = tls_.find(ca_file); it != tls_.end()) {
      return it->second;
    }
    try {
      auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
      ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      error_code ec;
      if (ca_file.empty()) {
        ctx->set_default_verify_paths(ec);
      } else {
        ctx->load_verify_file(ca_file, ec);
      }
      if (ec) {
        *why = (ca_file.empty() ? std::string("cannot load the system's CA certificates")
                                : "cannot load ca_file " + ca_file) +
               ": " + ec.message();
        return nullptr;
      }
      ctx->set_verify_mode(ssl::verify_peer);
      tls_.emplace(ca_file, ctx);
      return ctx;
    } catch (const std::exception& e) {
      *why = std::string("cannot set up TLS: ") + e.what();
      return nullptr;
    }
  }

 private:
  std::mutex mu_;
  HttpClient::RequestId next_id_ = 1;
  std::unordered_map<HttpClient::RequestId, std::weak_ptr<Exchange>> live_;
  std::unordered_map<std::string, std::shared_ptr<ssl::context>> tls_;
};

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(std::shared_ptr<Shared> shared, HttpClient::RequestId id,
           const asio::any_io_executor& executor, HttpClientRequest request, FetchCallback& done)
      : shared_(std::move(shared)),
        id_(id),
        strand_(asio::make_strand(executor)),
        timer_(strand_),
        resolver_(strand_),
        request_(std::move(request)),
        done_cb_(std::move(done)) {}

  const asio::strand<asio::any_io_executor>& strand() const { return strand_; }

  void start() {
    guarded([&] { begin(); });
  }

  void cancel() { fail(Kind::kCancelled, "cancelled"); }

 private:
  // Handlers run through here: an exception (allocation, mostly) fails the exchange instead of
  // unwinding the io_context's run().
  template <typename F>
  void guarded(F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      fail(Kind::kProtocol, std::string("internal error: ") + e.what());
    } catch (...) {
      fail(Kind::kProtocol, "internal error");
    }
  }

  void begin() {
    start_ = SteadyClock::now();
    method_ = request_.method.empty() ? "GET" : request_.method;
    body_ = request_.body;
    timer_.expires_after(std::max(request_.timeout, std::chrono::milliseconds{1}));
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) {
        self->guarded([&] {
          self->fail(Kind::kTimeout, "timeout after " + format_duration(self->request_.timeout));
        });
      }
    });
    std::string why;
    auto url = parse_request_url(request_.url, request_.redact_path, &why);
    if (!url) {
      return fail(Kind::kBadUrl, "bad URL: " + why);
    }
    url_ = std::move(*url);
    if (!is_token(method_)) {
      return fail(Kind::kProtocol, "bad request method");
    }
    for (const auto& [name, value] : request_.headers) {
      if (!is_token(name) || !is_field_value(value)) {
        return fail(Kind::kProtocol, "bad request header '" + name + "'");
      }
    }
    start_hop();
  }

  // One request-response on a fresh connection: the first, or the next after a redirect.
  void start_hop() {
    plain_.reset();
    tls_.reset();
    buffer_.clear();
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(boost::none);  // set in on_header, once the coding is known
    parser_->skip(method_ == "HEAD");
    build_request();

    if (url_.tls) {
      std::string why;
      tls_ctx_ = shared_->tls_context(request_.ca_file, &why);
      if (!tls_ctx_) {
        return fail(Kind::kTls, "TLS: " + why);
      }
      tls_.emplace(strand_, *tls_ctx_);
      if (!configure_tls(tls_->native_handle())) {
        return fail(Kind::kTls, "TLS: cannot set up verification for " + url_.host);
      }
    } else {
      plain_.emplace(strand_);
    }
    resolver_.async_resolve(
        url_.host, url_.port,
        [self = shared_from_this()](error_code ec, const tcp::resolver::results_type& results) {
          self->guarded([&] { self->on_resolve(ec, results); });
        });
  }

  // SNI for names (RFC 6066 forbids it for addresses) and host name verification by OpenSSL
  // itself, so that a mismatch is reported as "hostname mismatch" in the verify result.
  bool configure_tls(SSL* ssl) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (url_.host_is_ip) {
      return X509_VERIFY_PARAM_set1_ip_asc(param, url_.host.c_str()) == 1;
    }
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    // SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.
    if (SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(url_.host.c_str())) != 1) {
      return false;
    }
    return SSL_set1_host(ssl, url_.host.c_str()) == 1;
  }

  void build_request() {
    req_ = {};
    req_.version(11);
    req_.method_string(method_);
    req_.target(url_.target);
    req_.set(bhttp::field::host, url_.host_header);
    req_.set(bhttp::field::user_agent, kUserAgent);
    if (request_.accept_gzip) {
      req_.set(bhttp::field::accept_encoding, "gzip, deflate");
    }
    // One request per connection: no pool to manage, and the server closes promptly.
    req_.set(bhttp::field::connection, "close");
    for (const auto& [name, value] : request_.headers) {
      // Credentials were meant for the origin the plan names, not for wherever it redirects.
      if (cross_origin_ && (iequals(name, "authorization") || iequals(name, "cookie"))) {
        continue;
      }
      req_.set(name, value);
    }
    if (!body_.empty() || method_ == "POST" || method_ == "PUT" || method_ == "PATCH") {
      req_.body() = body_;
      req_.prepare_payload();
    }
  }

  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  void on_resolve(error_code ec, const tcp::resolver::results_type& results) {
    if (finished_) {
      return;
    }
    if (ec) {
      return fail(Kind::kResolve, "resolve " + url_.host + ": " + ec.message());
    }
    lowest().async_connect(results,
                           [self = shared_from_this()](error_code e, const tcp::endpoint&) {
                             self->guarded([&] { self->on_connect(e); });
                           });
  }

  void on_connect(error_code ec) {
    if (finished_) {
      return;
    }
    if (ec) {
      return fail(Kind::kConnect, "connect " + url_.authority + ": " + ec.message());
    }
    if (!tls_) {
      return write();
    }
    tls_->async_handshake(ssl::stream_base::client, [self = shared_from_this()](error_code e) {
      self->guarded([&] { self->on_handshake(e); });
    });
  }

  void on_handshake(error_code ec) {
    if (finished_) {
      return;
    }
    if (ec) {
      return fail(Kind::kTls, tls_reason(ec, tls_->native_handle()));
    }
    write();
  }

  void write() {
    auto on_write = [self = shared_from_this()](error_code e, std::size_t) {
      self->guarded([&] { self->on_write(e); });
    };
    if (tls_) {
      bhttp::async_write(*tls_, req_, std::move(on_write));
    } else {
      bhttp::async_write(*plain_, req_, std::move(on_write));
    }
  }

  void on_write(error_code ec) {
    if (finished_) {
      return;
    }
    if (ec) {
      return fail(Kind::kConnect, "send: " + ec.message());
    }
    auto on_header = [self = shared_from_this()](error_code e, std::size_t) {
      self->guarded([&] { self->on_header(e); });
    };
    if (tls_) {
      bhttp::async_read_header(*tls_, buffer_, *parser_, std::move(on_header));
    } else {
      bhttp::async_read_header(*plain_, buffer_, *parser_, std::move(on_header));
    }
  }

  // The header is in, and with it the body's coding: a plain body may be max_body_bytes on the
  // wire, a compressed one a little more (wire_limit; its decoded size is checked when it is
  // decoded). A body whose Content-Length is over that is refused here, before a byte of it is
  // read; one of unknown length (chunked, or to the end of the connection) when it gets there.
  void on_header(error_code ec) {
    if (finished_ || failed_read(ec)) {
      return;
    }
    const auto coding_header = parser_->get()[bhttp::field::content_encoding];
    const bool plain =
        parse_content_coding(std::string_view(coding_header.data(), coding_header.size())) ==
        ContentCoding::kIdentity;
    const std::uint64_t limit =
        plain ? std::uint64_t{request_.max_body_bytes} : wire_limit(request_.max_body_bytes);
    // A response without a body (HEAD, 1xx, 204, 304) may still announce the resource's length.
    if (const auto length = parser_->content_length();
        length && *length > limit && !parser_->is_done()) {
      return fail(Kind::kTooLarge, "response body over " + format_bytes(request_.max_body_bytes) +
                                       " (" + (plain ? "" : "compressed, ") + "Content-Length " +
                                       std::to_string(*length) + ")");
    }
    parser_->body_limit(limit);
    if (parser_->is_done()) {
      return on_read({});
    }
    auto on_read = [self = shared_from_this()](error_code e, std::size_t) {
      self->guarded([&] { self->on_read(e); });
    };
    if (tls_) {
      bhttp::async_read(*tls_, buffer_, *parser_, std::move(on_read));
    } else {
      bhttp::async_read(*plain_, buffer_, *parser_, std::move(on_read));
    }
  }

  // Ends the request when reading failed; false when `ec` is no failure.
  bool failed_read(error_code ec) {
    // Many TLS servers close without close_notify; for a body that ends at the close this is
    // the normal end, as it is for curl and browsers. A body with a length is still checked.
    if (ec == ssl::error::stream_truncated && parser_->is_header_done() && !parser_->is_done() &&
        parser_->need_eof()) {
      error_code eof_ec;
      parser_->put_eof(eof_ec);
      ec = eof_ec;
    }
    if (ec == bhttp::error::body_limit) {
      fail(Kind::kTooLarge, "response body over " + format_bytes(request_.max_body_bytes));
    } else if (ec == bhttp::error::header_limit) {
      fail(Kind::kProtocol, "response header over " + format_bytes(kMaxHeaderBytes));
    } else if (ec == bhttp::error::end_of_stream) {
      fail(Kind::kConnect, "connection closed before the response");
    } else if (ec == bhttp::error::partial_message || ec == ssl::error::stream_truncated) {
      fail(Kind::kConnect, "connection closed in the middle of the response");
    } else if (ec &&
               ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category()) {
      fail(Kind::kProtocol, "not a valid HTTP response: " + ec.message());
    } else if (ec) {
      fail(Kind::kConnect, "receive: " + ec.message());
    } else {
      return false;
    }
    return true;
  }

  void on_read(error_code ec) {
    if (finished_ || failed_read(ec)) {
      return;
    }

    auto& res = parser_->get();
    const unsigned status = res.result_int();
    if (request_.follow_redirects && is_redirect(status)) {
      const auto location = res[bhttp::field::location];
      if (!location.empty()) {
        return redirect(status, std::string_view(location.data(), location.size()));
      }
    }

    HttpClientResponse out;
    out.status = static_cast<int>(status);
    for (const auto& field : res) {
      const std::string name(field.name_string());
      const std::string value(field.value());
      auto [it, inserted] = out.headers.emplace(name, value);
      if (!inserted) {
        it->second += ", " + value;  // repeated fields are a list (RFC 9110 5.3)
      }
    }
    const auto coding_header = res[bhttp::field::content_encoding];
    const ContentCoding coding =
        parse_content_coding(std::string_view(coding_header.data(), coding_header.size()));
    if (coding == ContentCoding::kIdentity) {
      if (res.body().size() > request_.max_body_bytes) {
        return fail(Kind::kTooLarge, "response body over " + format_bytes(request_.max_body_bytes));
      }
      out.body = std::move(res.body());
    } else if (coding == ContentCoding::kUnsupported) {
      return fail(Kind::kProtocol,
                  "unsupported Content-Encoding '" + std::string(coding_header) + "'");
    } else {
      std::string why;
      const DecodeStatus s =
          decode_body(res.body(), coding, request_.max_body_bytes, &out.body, &why);
      if (s == DecodeStatus::kTooLarge) {
        return fail(Kind::kTooLarge,
                    "response body over " + format_bytes(request_.max_body_bytes) + " decoded");
      }
      if (s == DecodeStatus::kCorrupt) {
        return fail(Kind::kProtocol, why);
      }
      // The headers describe the body we hand over, which is no longer encoded.
      out.headers.erase("Content-Encoding");
      out.headers.erase("Content-Length");
    }
    finish({}, std::move(out));
  }

  void redirect(unsigned status, std::string_view location) {
    if (redirects_ >= request_.max_redirects) {
      return fail(Kind::kProtocol,
                  "more than " + std::to_string(request_.max_redirects) + " redirects");
    }
    std::string why;
    auto next = resolve_redirect(url_, location, request_.redact_path, &why);
    if (!next) {
      return fail(Kind::kProtocol, why);
    }
    // What browsers and curl do: 303 always, and 301/302 after a POST, continue with a GET.
    if ((status == 303 && method_ != "HEAD") ||
        ((status == 301 || status == 302) && method_ == "POST")) {
      method_ = "GET";
      body_.clear();
    }
    if (next->tls != url_.tls || next->authority != url_.authority) {
      cross_origin_ = true;
    }
    ++redirects_;
    lowest().close();
    url_ = std::move(*next);
    start_hop();
  }

  void fail(Kind kind, std::string reason) {
    FetchError error;
    error.kind = kind;
    error.message = method_ + " " +
                    (url_.display.empty() ? std::string("(invalid URL)") : url_.display) + ": " +
                    reason;
    error.reason = std::move(reason);
    finish(error, {});
  }

  void finish(const FetchError& error, HttpClientResponse response) {
    if (finished_) {
      return;
    }
    finished_ = true;
    response.duration =
        std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - start_);
    timer_.cancel();
    resolver_.cancel();
    if (plain_ || tls_) {
      lowest().close();
    }
    shared_->remove(id_);
    FetchCallback done = std::move(done_cb_);
    done_cb_ = nullptr;
    if (!done) {
      return;
    }
    try {
      done(error, std::move(response));
    } catch (...) {
      // The contract says callbacks do not throw; one that does must not unwind the io
      // threads' run() and take every other collector and notifier down with it.
    }
  }

  const std::shared_ptr<Shared> shared_;
  const HttpClient::RequestId id_;
  asio::strand<asio::any_io_executor> strand_;
  asio::steady_timer timer_;
  tcp::resolver resolver_;
  const HttpClientRequest request_;
  FetchCallback done_cb_;

  SteadyClock::time_point start_{};
  std::string method_ = "GET";
  std::string body_;
  RequestUrl url_;
  int redirects_ = 0;
  bool cross_origin_ = false;
  bool finished_ = false;

  std::shared_ptr<ssl::context> tls_ctx_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<ssl::stream<beast::tcp_stream>> tls_;
  bhttp::request<bhttp::string_body> req_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
};

}  // namespace

struct HttpClient::Impl {
  asio::any_io_executor executor;
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
};

HttpClient::HttpClient(boost::asio::any_io_executor executor) : impl_(std::make_shared<Impl>()) {
  impl_->executor = std::move(executor);
}

HttpClient::~HttpClient() { cancel_all(); }

HttpClient::RequestId HttpClient::fetch(HttpClientRequest request, FetchCallback done) {
  HttpClient::RequestId id = 0;
  try {
    id = impl_->shared->next_id();
    auto ex =
        std::make_shared<Exchange>(impl_->shared, id, impl_->executor, std::move(request), done);
    impl_->shared->add(id, ex);
    asio::post(ex->strand(), [ex] { ex->start(); });
    return id;
  } catch (const std::exception& e) {
    // Out of memory, most likely. The callback is still owed its one call; if it was already
    // moved into the exchange, the exchange is gone with it and there is nobody left to tell.
    impl_->shared->remove(id);
    if (done) {
      FetchError error{Kind::kProtocol, std::string("internal error: ") + e.what(),
                       std::string("internal error: ") + e.what()};
      try {
        asio::post(impl_->executor, [done = std::move(done), error] { done(error, {}); });
      } catch (...) {
      }
    }
    return id;
  }
}

void HttpClient::cancel(RequestId id) {
  for (auto& ex : impl_->shared->find(id)) {
    try {
      asio::post(ex->strand(), [ex] { ex->cancel(); });
    } catch (...) {
    }
  }
}

void HttpClient::cancel_all() {
  for (auto& ex : impl_->shared->find(std::nullopt)) {
    try {
      asio::post(ex->strand(), [ex] { ex->cancel(); });
    } catch (...) {
    }
  }
}

}  // namespace backout::net
