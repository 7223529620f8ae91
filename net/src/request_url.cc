#include "request_url.h"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <exception>
#include <system_error>

namespace backout::net {
namespace {

namespace urls = boost::urls;

std::optional<RequestUrl> from_view(const urls::url_view_base& u, bool redact_path,
                                    std::string* why) {
  RequestUrl out;
  if (u.scheme_id() == urls::scheme::https) {
    out.tls = true;
  } else if (u.scheme_id() != urls::scheme::http) {
    *why = "not an http:// or https:// URL";
    return std::nullopt;
  }
  if (u.has_userinfo()) {
    // Basic credentials in a URL leak into logs, proxies and redirects; the plan gives tokens
    // through bearer_token_env / _file instead.
    *why = "credentials in the URL are not supported; give a bearer token instead";
    return std::nullopt;
  }
  out.host = u.host_address();
  if (out.host.empty()) {
    *why = "the URL has no host";
    return std::nullopt;
  }
  const urls::host_type type = u.host_type();
  if (type == urls::host_type::ipvfuture) {
    *why = "IPvFuture hosts are not supported";
    return std::nullopt;
  }
  out.host_is_ip = type == urls::host_type::ipv4 || type == urls::host_type::ipv6;
  const std::string default_port = out.tls ? "443" : "80";
  out.port = default_port;
  if (u.has_port() && !u.port().empty()) {
    // Parsed here: Boost.URL 1.81 wraps ports above 65535 instead of rejecting them.
    const std::string digits(u.port());
    unsigned long number = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
    if (ec != std::errc() || end != digits.data() + digits.size() || number == 0 ||
        number > 65535) {
      *why = "bad port '" + digits + "'";
      return std::nullopt;
    }
    out.port = std::to_string(number);
  }
  const std::string bracketed = type == urls::host_type::ipv6 ? "[" + out.host + "]" : out.host;
  out.host_header = out.port == default_port ? bracketed : bracketed + ":" + out.port;
  out.authority = bracketed + ":" + out.port;

  out.target = std::string(u.encoded_path());
  if (out.target.empty()) {
    out.target = "/";
  } else if (out.target.front() != '/') {
    *why = "the URL's path is not absolute";
    return std::nullopt;
  }
  if (u.has_query()) {
    out.target += "?";
    out.target += std::string(u.encoded_query());
  }

  const std::string scheme = out.tls ? "https://" : "http://";
  out.display = scheme + out.host_header;
  if (!redact_path) {
    out.display += std::string(u.encoded_path());
  }
  return out;
}

}  // namespace

std::optional<RequestUrl> parse_request_url(std::string_view url, bool redact_path,
                                            std::string* why) {
  try {
    auto parsed = urls::parse_absolute_uri(urls::string_view(url.data(), url.size()));
    if (!parsed) {
      // Fragments are legal in a URL we are given but not in an absolute-URI; retry without.
      const auto hash = url.find('#');
      if (hash != std::string_view::npos) {
        return parse_request_url(url.substr(0, hash), redact_path, why);
      }
      *why = "not a valid URL";
      return std::nullopt;
    }
    auto out = from_view(*parsed, redact_path, why);
    if (out) {
      out->full = std::string(url);
    }
    return out;
  } catch (const std::exception& e) {
    *why = std::string("not a valid URL: ") + e.what();
    return std::nullopt;
  }
}

std::optional<RequestUrl> resolve_redirect(const RequestUrl& from, std::string_view location,
                                           bool redact_path, std::string* why) {
  try {
    auto base = urls::parse_uri(from.full);
    auto ref = urls::parse_uri_reference(urls::string_view(location.data(), location.size()));
    if (!base || !ref) {
      *why = "redirect with an invalid Location";
      return std::nullopt;
    }
    urls::url resolved;
    if (!urls::resolve(*base, *ref, resolved)) {
      *why = "redirect with an invalid Location";
      return std::nullopt;
    }
    resolved.remove_fragment();
    auto out = from_view(resolved, redact_path, why);
    if (!out) {
      *why = "redirect to a URL that cannot be followed: " + *why;
      return std::nullopt;
    }
    out->full = std::string(resolved.buffer());
    return out;
  } catch (const std::exception& e) {
    *why = std::string("redirect with an invalid Location: ") + e.what();
    return std::nullopt;
  }
}

}  // namespace backout::net
