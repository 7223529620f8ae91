// Raw Asio sessions with Beast's request parser: one request per connection, then the response
// as bytes we build ourselves, so that misbehaviours (trickling, never answering, raw bytes) are
// easy to produce. Compiled into backout_test_support; Beast, OpenSSL and zlib stay here.
#include "support/test_http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <system_error>

namespace backout::testing {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string compress(const std::string& body, int window_bits) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::string out;
  std::string chunk(64 * 1024, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  zs.avail_in = static_cast<uInt>(body.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
    zs.avail_out = static_cast<uInt>(chunk.size());
    rc = deflate(&zs, Z_FINISH);
    if (rc == Z_STREAM_ERROR) {
      deflateEnd(&zs);
      throw std::runtime_error("deflate failed");
    }
    out.append(chunk.data(), chunk.size() - zs.avail_out);
  }
  deflateEnd(&zs);
  return out;
}

std::string build_response(const TestRequest& req, const TestResponse& r) {
  if (!r.raw.empty()) {
    return r.raw;
  }
  std::string body = r.body;
  std::string coding;
  if (r.encoding == TestResponse::Encoding::kGzip) {
    body = compress(r.body, 15 + 16);
    coding = "gzip";
  } else if (r.encoding == TestResponse::Encoding::kDeflate) {
    body = compress(r.body, 15);
    coding = "deflate";
  }
  const auto reason = bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(r.status)));
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " +
                    std::string(reason.data(), reason.size()) + "\r\n";
  bool has_length = false;
  for (const auto& [name, value] : r.headers) {
    has_length = has_length || lower(name) == "content-length";
    out += name + ": " + value + "\r\n";
  }
  if (!coding.empty()) {
    out += "Content-Encoding: " + coding + "\r\n";
  }
  if (!has_length) {
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += "Connection: close\r\n\r\n";
  if (req.method != "HEAD") {
    out += body;
  }
  return out;
}

tcp::socket& raw_socket(tcp::socket& s) { return s; }
tcp::socket& raw_socket(ssl::stream<tcp::socket>& s) { return s.next_layer(); }

// A temporary directory removed when the process ends.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "backout-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) {
      path_ = pattern;
    }
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TestCertificate make_certificate(const std::string& name, const std::string& key_args,
                                 const std::string& subject, const std::string& san) {
  static TempDir dir;
  if (dir.path().empty()) {
    ADD_FAILURE() << "cannot create a temporary directory for test certificates";
    return {};
  }
  TestCertificate c{dir.path() + "/" + name + ".crt", dir.path() + "/" + name + ".key"};
  const std::string command = "openssl req -x509 " + key_args + " -nodes -days 1 -subj " + subject +
                              " -addext subjectAltName=" + san + " -keyout " + c.key_file +
                              " -out " + c.cert_file + " >" + dir.path() + "/" + name + ".log 2>&1";
  if (std::system(command.c_str()) != 0) {
    ADD_FAILURE() << "cannot make a test certificate; is openssl installed? ran: " << command;
    return {};
  }
  return c;
}

}  // namespace

std::string TestRequest::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

const TestCertificate& localhost_certificate() {
  static const TestCertificate c = make_certificate("localhost", "-newkey rsa:2048",
                                                    "/CN=localhost", "IP:127.0.0.1,DNS:localhost");
  return c;
}

const TestCertificate& other_host_certificate() {
  // EC keys take milliseconds where RSA takes up to a second.
  static const TestCertificate c =
      make_certificate("other", "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1",
                       "/CN=other.example", "DNS:other.example");
  return c;
}

std::string gzip(const std::string& body) { return compress(body, 15 + 16); }

struct TestHttpServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, TestHandler h, Options o)
      : ioc(io), acceptor(io), handler(std::move(h)), options(std::move(o)) {}

  class SessionBase {
   public:
    virtual ~SessionBase() = default;
    virtual void close() = 0;
  };

  template <typename Stream>
  class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
   public:
    template <typename... Args>
    Session(std::shared_ptr<Impl> server, Args&&... args)
        : server_(std::move(server)), stream_(std::forward<Args>(args)...), timer_(server_->ioc) {}

    void start() {
      if constexpr (std::is_same_v<Stream, tcp::socket>) {
        read();
      } else {
        stream_.async_handshake(ssl::stream_base::server,
                                [self = this->shared_from_this()](error_code ec) {
                                  if (ec) {
                                    return self->close();
                                  }
                                  self->read();
                                });
      }
    }

    void close() override {
      if (closed_) {
        return;
      }
      closed_ = true;
      timer_.cancel();
      error_code ec;
      raw_socket(stream_).shutdown(tcp::socket::shutdown_both, ec);
      raw_socket(stream_).close(ec);
      --server_->open;
      ++server_->closed;
    }

   private:
    void read() {
      parser_.emplace();
      parser_->body_limit(256u << 20);
      bhttp::async_read(stream_, buffer_, *parser_,
                        [self = this->shared_from_this()](error_code ec, std::size_t) {
                          if (ec) {
                            return self->close();
                          }
                          self->respond();
                        });
    }

    void respond() {
      auto& msg = parser_->get();
      TestRequest req;
      req.method = std::string(msg.method_string());
      req.target = std::string(msg.target());
      for (const auto& f : msg) {
        req.headers[lower(std::string(f.name_string()))] = std::string(f.value());
      }
      req.body = msg.body();
      server_->requests.push_back(req);
      const TestHandler handler = server_->handler;  // a handler may replace itself
      TestResponse res = handler ? handler(req) : TestResponse{};
      out_ = build_response(req, res);
      switch (res.mode) {
        case TestResponse::Mode::kNormal:
          asio::async_write(
              stream_, asio::buffer(out_),
              [self = this->shared_from_this()](error_code, std::size_t) { self->close(); });
          break;
        case TestResponse::Mode::kNeverAnswer:
          // Wait for the client to give up; its close ends the read.
          asio::async_read(
              stream_, asio::buffer(sink_),
              [self = this->shared_from_this()](error_code, std::size_t) { self->close(); });
          break;
        case TestResponse::Mode::kTrickle:
          trickle(0);
          break;
      }
    }

    void trickle(std::size_t at) {
      if (closed_ || at >= out_.size()) {
        return close();
      }
      asio::async_write(stream_, asio::buffer(out_.data() + at, 1),
                        [self = this->shared_from_this(), at](error_code ec, std::size_t) {
                          if (ec) {
                            return self->close();
                          }
                          self->timer_.expires_after(self->server_->options.trickle_interval);
                          self->timer_.async_wait([self, at](error_code e) {
                            if (e) {
                              return self->close();
                            }
                            self->trickle(at + 1);
                          });
                        });
    }

    std::shared_ptr<Impl> server_;
    Stream stream_;
    asio::steady_timer timer_;
    boost::beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    std::string out_;
    std::array<char, 1024> sink_{};
    bool closed_ = false;
  };

  void listen() {
    if (options.tls) {
      if (options.certificate.cert_file.empty()) {
        options.certificate = localhost_certificate();
      }
      tls.emplace(ssl::context::tls_server);
      tls->use_certificate_chain_file(options.certificate.cert_file);
      tls->use_private_key_file(options.certificate.key_file, ssl::context::pem);
    }
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor.open(ep.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen();
    port = acceptor.local_endpoint().port();
    accept();
  }

  void accept() {
    acceptor.async_accept([self = shared_from_this()](error_code ec, tcp::socket socket) {
      if (self->stopped) {
        return;
      }
      if (!ec) {
        self->admit(std::move(socket));
      }
      self->accept();
    });
  }

  void admit(tcp::socket socket) {
    ++accepted;
    ++open;
    max_open = std::max(max_open, open);
    std::shared_ptr<SessionBase> session;
    if (tls) {
      auto s = std::make_shared<Session<ssl::stream<tcp::socket>>>(shared_from_this(),
                                                                   std::move(socket), *tls);
      s->start();
      session = s;
    } else {
      auto s = std::make_shared<Session<tcp::socket>>(shared_from_this(), std::move(socket));
      s->start();
      session = s;
    }
    sessions.push_back(session);
  }

  void stop() {
    if (stopped) {
      return;
    }
    stopped = true;
    error_code ec;
    acceptor.close(ec);
    for (auto& weak : sessions) {
      if (auto s = weak.lock()) {
        s->close();
      }
    }
    sessions.clear();
  }

  asio::io_context& ioc;
  tcp::acceptor acceptor;
  TestHandler handler;
  Options options;
  std::optional<ssl::context> tls;
  std::vector<std::weak_ptr<SessionBase>> sessions;
  std::vector<TestRequest> requests;
  std::uint16_t port = 0;
  std::size_t accepted = 0;
  std::size_t open = 0;
  std::size_t closed = 0;
  std::size_t max_open = 0;
  bool stopped = false;
};

TestHttpServer::TestHttpServer(boost::asio::io_context& ioc, TestHandler handler)
    : TestHttpServer(ioc, std::move(handler), Options{}) {}

TestHttpServer::TestHttpServer(boost::asio::io_context& ioc, TestHandler handler, Options options)
    : impl_(std::make_shared<Impl>(ioc, std::move(handler), std::move(options))) {
  try {
    impl_->listen();
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("test server: ") + e.what());
  }
}

TestHttpServer::~TestHttpServer() { stop(); }

std::uint16_t TestHttpServer::port() const { return impl_->port; }

std::string TestHttpServer::url(const std::string& path) const {
  return std::string(impl_->tls ? "https" : "http") +
         "://127.0.0.1:" + std::to_string(impl_->port) + path;
}

void TestHttpServer::set_handler(TestHandler handler) { impl_->handler = std::move(handler); }

const std::vector<TestRequest>& TestHttpServer::requests() const { return impl_->requests; }
std::size_t TestHttpServer::connections_accepted() const { return impl_->accepted; }
std::size_t TestHttpServer::connections_closed() const { return impl_->closed; }
std::size_t TestHttpServer::max_concurrent_connections() const { return impl_->max_open; }

void TestHttpServer::stop() { impl_->stop(); }

std::uint16_t unused_loopback_port() {
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

StalledListener::StalledListener() {
  // Plain sockets: Asio's synchronous connect would block on exactly what we set up here.
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  auto* sa = reinterpret_cast<sockaddr*>(&addr);
  if (listen_fd_ < 0 || ::bind(listen_fd_, sa, len) != 0 || ::listen(listen_fd_, 0) != 0 ||
      ::getsockname(listen_fd_, sa, &len) != 0) {
    throw std::runtime_error("stalled listener: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
  // Backlog 0 still queues one connection; the second one's SYN is already dropped.
  for (int i = 0; i < 2; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd >= 0) {
      [[maybe_unused]] const int rc = ::connect(fd, sa, len);
      filler_fds_.push_back(fd);
    }
  }
}

StalledListener::~StalledListener() {
  for (int fd : filler_fds_) {
    ::close(fd);
  }
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
  }
}

bool run_until(boost::asio::io_context& ioc, const std::function<bool()>& done,
               std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    if (ioc.stopped()) {
      ioc.restart();
    }
    if (ioc.run_one_until(deadline) == 0 && ioc.stopped()) {
      return done();  // no work left: nothing can change any more
    }
  }
  return true;
}

bool run_until_idle(boost::asio::io_context& ioc, std::chrono::milliseconds limit) {
  if (ioc.stopped()) {
    ioc.restart();
  }
  ioc.run_for(limit);
  return ioc.stopped();
}

}  // namespace backout::testing
