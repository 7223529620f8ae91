// Routes a request to a handler by method and path pattern ("/api/v1/push/{source}"), with the
// 404 / 405 / HEAD / 500 answers every route would otherwise repeat. Pure: no I/O, no time.
// Thread-safety: add() only during set-up, from one thread; afterwards dispatch() is const and
// safe to call concurrently (handlers must then be thread-safe themselves).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "app/http/http_message.h"

namespace backout::agent::http {

/// Captured `{name}` segments of the matched pattern, percent-decoded: {"source": "checkout"}.
using PathParams = std::map<std::string, std::string>;

/// A route's handler. It may throw: dispatch() turns that into a 500.
using Handler = std::function<HttpResponse(const HttpRequest&, const PathParams&)>;

class Router {
 public:
  /// Registers `handler` for `method` (upper case, e.g. "GET") on `path_pattern`: a '/'-separated
  /// path whose segments are literals or whole-segment parameters `{name}`. Literal segments
  /// are matched exactly against the decoded path; a parameter matches one non-empty segment.
  /// Where two patterns match a path, the one with a literal at the first place they differ
  /// wins ("/push/status" over "/push/{source}"). Throws std::invalid_argument on a malformed
  /// pattern or method, a repeated (method, pattern), or a pattern that differs from an existing
  /// one only in parameter names.
  void add(std::string method, std::string path_pattern, Handler handler);

  /// Answers one request:
  /// - the handler of the most specific pattern matching `req.path` for `req.method`;
  /// - HEAD without its own handler is served by GET, without the body: the response carries
  ///   `Content-Length` of the body GET would have sent (any HEAD response loses its body);
  /// - 404 {"error": ...} when no pattern matches the path;
  /// - 405 {"error": ...} with `Allow: GET, HEAD, ...` when the pattern has no such method;
  /// - 500 {"error": "internal error"} when the handler throws.
  HttpResponse dispatch(const HttpRequest& req) const;

 private:
  struct Segment {
    std::string text;  // the literal, or the parameter's name
    bool is_param = false;
  };
  struct Route {
    std::string pattern;
    std::vector<Segment> segments;
    std::map<std::string, Handler> handlers;  // by method
  };

  // The most specific route matching `path_segments`, with its captured params; null if none.
  const Route* match(const std::vector<std::string>& path_segments, PathParams& params) const;

  std::vector<Route> routes_;
};

}  // namespace backout::agent::http
