// HTTP request and response as plain values, so handlers, the router and their tests never
// include Beast; plus the pure helpers that fill them (target parsing, percent-decoding, JSON
// error bodies). Value types and stateless functions: thread-safe as values are. No time.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace backout::agent::http {

/// Orders strings ignoring ASCII case, for header names. Transparent: lookups take string_view.
struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept;
};

/// One request as the handler sees it. `path` and `query` are percent-decoded from `target`
/// (`+` is a space in the query only; an encoded slash %2F becomes a '/' that separates path
/// segments like any other); a query key given twice keeps its first value, a key without `=`
/// has an empty value. Repeated header fields are joined with ", ".
struct HttpRequest {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // as sent, e.g. "/api/v1/push/a%20b?x=1"
  std::string path;    // decoded, e.g. "/api/v1/push/a b"
  std::map<std::string, std::string> query;
  std::map<std::string, std::string, CaseInsensitiveLess> headers;
  std::string body;
  std::string remote_address;  // peer IP address, e.g. "127.0.0.1" (no port)
};

/// One response as a handler returns it. The server adds `Server`, `Content-Length`,
/// `Connection`, and `Cache-Control: no-store` unless `headers` sets a Cache-Control; it ignores
/// hop-by-hop fields in `headers`. `headers` may carry `Content-Length` only for a response to
/// HEAD (the length the GET would have had). Header names compare case-sensitively here: use the
/// canonical spelling ("Cache-Control").
struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::map<std::string, std::string> headers;
  std::string body;
};

/// Content type of the JSON bodies built here.
inline constexpr std::string_view kJsonContentType = "application/json";

/// Decodes %XX escapes; with `plus_is_space`, '+' becomes ' '. nullopt on a malformed escape
/// ("%zz", a trailing "%4").
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space);

/// Splits a request target (origin form "/p?q", or absolute form "http://host/p?q") into the
/// decoded path and query of `req`. False when the target is not of those forms, has a
/// malformed escape, or its path decodes to a NUL byte; `req` is then left partly filled.
bool parse_request_target(std::string_view target, HttpRequest& req);

/// `{"error": message}` with the given status and a JSON content type.
HttpResponse json_error(int status, std::string_view message);

}  // namespace backout::agent::http
