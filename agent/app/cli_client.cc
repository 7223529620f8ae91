#include "app/cli_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <exception>

#include "backout/core/time.h"
#include "version.h"

namespace backout::agent {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr std::size_t kMaxBody = 1 << 20;

}  // namespace

CliHttpResult http_exchange(const CliHttpRequest& request) {
  CliHttpResult result;
  auto parsed = boost::urls::parse_uri(request.url);
  if (!parsed || parsed->scheme_id() != boost::urls::scheme::http || !parsed->has_authority() ||
      parsed->host_address().empty()) {
    result.bad_url = true;
    result.error = "'" + request.url + "' is not an http:// URL (e.g. http://127.0.0.1:9750)" +
                   (parsed && parsed->scheme_id() == boost::urls::scheme::https
                        ? "; the command line speaks plain HTTP to the agent, which listens on "
                          "loopback"
                        : "");
    return result;
  }
  const std::string host = parsed->host_address();
  const std::string port = parsed->has_port() ? std::string(parsed->port()) : "80";
  std::string target = std::string(parsed->encoded_path());
  if (target.empty()) {
    target = "/";
  }
  if (parsed->has_query()) {
    target += "?" + std::string(parsed->encoded_query());
  }
  const std::string where = std::string(parsed->encoded_host_and_port());

  bhttp::request<bhttp::string_body> req;
  try {
    req.method(bhttp::string_to_verb(request.method));
    req.target(target);
    req.version(11);
    req.set(bhttp::field::host, where);
    req.set(bhttp::field::user_agent, std::string("backout-agent/") + BACKOUT_AGENT_VERSION);
    req.set(bhttp::field::connection, "close");
    for (const auto& [name, value] : request.headers) {
      req.set(name, value);
    }
    req.body() = request.body;
    req.prepare_payload();
  } catch (const std::exception& e) {
    // Beast refuses header values with line breaks: the caller's input, not the network.
    result.bad_url = true;
    result.error = std::string("cannot build the request: ") + e.what();
    return result;
  }

  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  asio::steady_timer deadline(ioc);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kMaxBody);
  bool timed_out = false;
  bool finished = false;

  auto fail = [&](const std::string& what, const error_code& ec) {
    if (finished) {
      return;
    }
    finished = true;
    deadline.cancel();
    result.error = timed_out ? what + ": no answer within " + format_span(request.timeout)
                             : what + ": " + ec.message();
  };

  deadline.expires_after(request.timeout);
  deadline.async_wait([&](const error_code& ec) {
    if (!ec && !finished) {
      timed_out = true;
      resolver.cancel();
      error_code ignored;
      stream.socket().close(ignored);
    }
  });
  // Nested completions (resolve, connect, write, read): each names its own error code.
  resolver.async_resolve(host, port, [&](const error_code& rec, tcp::resolver::results_type hosts) {
    if (rec) {
      return fail("cannot resolve " + host, rec);
    }
    stream.async_connect(hosts, [&](const error_code& cec, const tcp::endpoint&) {
      if (cec) {
        return fail("cannot connect to " + where, cec);
      }
      bhttp::async_write(stream, req, [&](const error_code& wec, std::size_t) {
        if (wec) {
          return fail("sending the request to " + where + " failed", wec);
        }
        bhttp::async_read(stream, buffer, parser, [&](const error_code& ec, std::size_t) {
          if (ec) {
            return fail("no answer from " + where, ec);
          }
          finished = true;
          deadline.cancel();
          const auto& res = parser.get();
          CliHttpResponse r;
          r.status = static_cast<int>(res.result_int());
          r.content_type = std::string(res[bhttp::field::content_type]);
          r.body = res.body();
          result.response = std::move(r);
          error_code ignored;
          stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        });
      });
    });
  });
  ioc.run();
  if (!result.response && result.error.empty()) {
    result.error = "no answer from " + where;
  }
  return result;
}

}  // namespace backout::agent
