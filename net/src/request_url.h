// A request URL split into what the client needs to connect and to say where it went. Pure
// functions over strings; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace backout::net {

struct RequestUrl {
  bool tls = false;         // https
  std::string host;         // name or address, without IPv6 brackets ("::1", "example.com")
  bool host_is_ip = false;  // a literal address: no SNI, verified against IP SANs
  std::string port;         // always set: "80", "443" or the URL's
  std::string target;       // origin-form request target: "/metrics?x=1" (never empty)
  std::string host_header;  // "example.com", "example.com:8080", "[::1]:8080"
  std::string authority;    // "example.com:443": for messages and same-origin checks
  /// "https://example.com:8443/metrics": no userinfo, query or fragment, so it is safe to log;
  /// with `redact_path`, only "https://example.com:8443".
  std::string display;
  std::string full;  // the URL as given (or as resolved from a redirect): never logged
};

/// Parses an absolute http:// or https:// URL. Credentials in the URL (userinfo) are refused:
/// they would end up in logs and redirects. On failure returns nullopt and sets `*why` to a
/// reason that does not repeat the URL (it may hold a secret).
std::optional<RequestUrl> parse_request_url(std::string_view url, bool redact_path,
                                            std::string* why);

/// Resolves a redirect's Location (absolute or relative) against the URL it came from.
std::optional<RequestUrl> resolve_redirect(const RequestUrl& from, std::string_view location,
                                           bool redact_path, std::string* why);

}  // namespace backout::net
