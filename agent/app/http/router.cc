#include "app/http/router.h"

#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace backout::agent::http {
namespace {

// "/a/b" -> {"a", "b"}; "/" -> {""}; "/a/" -> {"a", ""}. The input starts with '/'.
std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (true) {
    const std::size_t slash = path.find('/', start);
    out.emplace_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
  }
  return out;
}

bool is_method_token(std::string_view m) {
  if (m.empty()) {
    return false;
  }
  for (char c : m) {
    if (!((c >= 'A' && c <= 'Z') || c == '-' || c == '_')) {
      return false;
    }
  }
  return true;
}

bool is_param_name(std::string_view n) {
  if (n.empty()) {
    return false;
  }
  for (char c : n) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-')) {
      return false;
    }
  }
  return true;
}

// The path as it may appear in a JSON message: printable ASCII, bounded.
std::string printable(std::string_view path) {
  constexpr std::size_t kMax = 200;
  std::string out;
  for (char c : path.substr(0, kMax)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  if (path.size() > kMax) {
    out += "...";
  }
  return out;
}

// Compares two routes matching the same path: < 0 when `a` is more specific.
template <typename Segments>
int compare_specificity(const Segments& a, const Segments& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i].is_param != b[i].is_param) {
      return a[i].is_param ? 1 : -1;
    }
  }
  return 0;
}

HttpResponse call(const Handler& handler, const HttpRequest& req, const PathParams& params) {
  try {
    return handler(req, params);
  } catch (...) {
    // A handler bug must cost one request, never the server. Nothing about the exception goes
    // to the client.
    return json_error(500, "internal error");
  }
}

}  // namespace

void Router::add(std::string method, std::string path_pattern, Handler handler) {
  if (!is_method_token(method)) {
    throw std::invalid_argument("route method '" + method + "' must be an upper-case token");
  }
  if (!handler) {
    throw std::invalid_argument("route " + method + " " + path_pattern + " has no handler");
  }
  if (path_pattern.empty() || path_pattern.front() != '/') {
    throw std::invalid_argument("route pattern '" + path_pattern + "' must start with '/'");
  }
  std::vector<Segment> segments;
  std::vector<std::string> names;
  for (std::string& part : split_path(path_pattern)) {
    Segment seg;
    if (!part.empty() && part.front() == '{') {
      if (part.back() != '}' || !is_param_name(std::string_view(part).substr(1, part.size() - 2))) {
        throw std::invalid_argument("route pattern '" + path_pattern + "': bad parameter '" + part +
                                    "' (expected {name} as a whole segment)");
      }
      seg.text = part.substr(1, part.size() - 2);
      seg.is_param = true;
      for (const std::string& n : names) {
        if (n == seg.text) {
          throw std::invalid_argument("route pattern '" + path_pattern + "': parameter '" + n +
                                      "' appears twice");
        }
      }
      names.push_back(seg.text);
    } else {
      if (part.find_first_of("{}") != std::string::npos) {
        throw std::invalid_argument("route pattern '" + path_pattern + "': bad segment '" + part +
                                    "' (a parameter is a whole segment {name})");
      }
      seg.text = std::move(part);
    }
    segments.push_back(std::move(seg));
  }

  for (Route& route : routes_) {
    bool same_shape = route.segments.size() == segments.size();
    bool same_names = same_shape;
    for (std::size_t i = 0; same_shape && i < segments.size(); ++i) {
      const Segment& a = route.segments[i];
      const Segment& b = segments[i];
      if (a.is_param != b.is_param || (!a.is_param && a.text != b.text)) {
        same_shape = false;
      } else if (a.is_param && a.text != b.text) {
        same_names = false;
      }
    }
    if (!same_shape) {
      continue;
    }
    if (!same_names) {
      throw std::invalid_argument("route pattern '" + path_pattern + "' conflicts with '" +
                                  route.pattern + "' (same path, other parameter names)");
    }
    if (!route.handlers.emplace(method, std::move(handler)).second) {
      throw std::invalid_argument("route " + method + " " + path_pattern + " is defined twice");
    }
    return;
  }
  Route route;
  route.pattern = std::move(path_pattern);
  route.segments = std::move(segments);
  route.handlers.emplace(std::move(method), std::move(handler));
  routes_.push_back(std::move(route));
}

const Router::Route* Router::match(const std::vector<std::string>& path_segments,
                                   PathParams& params) const {
  const Route* best = nullptr;
  for (const Route& route : routes_) {
    if (route.segments.size() != path_segments.size()) {
      continue;
    }
    bool ok = true;
    for (std::size_t i = 0; ok && i < path_segments.size(); ++i) {
      const Segment& seg = route.segments[i];
      ok = seg.is_param ? !path_segments[i].empty() : seg.text == path_segments[i];
    }
    if (ok && (best == nullptr || compare_specificity(route.segments, best->segments) < 0)) {
      best = &route;
    }
  }
  if (best != nullptr) {
    for (std::size_t i = 0; i < path_segments.size(); ++i) {
      if (best->segments[i].is_param) {
        params[best->segments[i].text] = path_segments[i];
      }
    }
  }
  return best;
}

HttpResponse Router::dispatch(const HttpRequest& req) const {
  if (req.path.empty() || req.path.front() != '/') {
    return json_error(404, "no route for '" + printable(req.path) + "'");
  }
  PathParams params;
  const Route* route = match(split_path(req.path), params);
  if (route == nullptr) {
    return json_error(404, "no route for '" + printable(req.path) + "'");
  }
  const bool head = req.method == "HEAD";
  auto it = route->handlers.find(req.method);
  if (it == route->handlers.end() && head) {
    it = route->handlers.find("GET");
  }
  if (it == route->handlers.end()) {
    std::string allow;
    const bool has_get = route->handlers.count("GET") != 0;
    const bool has_head = route->handlers.count("HEAD") != 0;
    for (const auto& [method, unused] : route->handlers) {  // sorted by the map
      if (method == "HEAD") {
        continue;  // placed after GET below
      }
      allow += allow.empty() ? "" : ", ";
      allow += method;
      if (method == "GET") {
        allow += ", HEAD";
      }
    }
    if (has_head && !has_get) {
      allow += allow.empty() ? "HEAD" : ", HEAD";
    }
    HttpResponse res = json_error(
        405, "method " + printable(req.method) + " not allowed for '" + printable(req.path) + "'");
    res.headers["Allow"] = allow;
    return res;
  }
  HttpResponse res = call(it->second, req, params);
  if (head && (!res.body.empty() || res.headers.count("Content-Length") == 0)) {
    res.headers["Content-Length"] = std::to_string(res.body.size());
    res.body.clear();
  }
  return res;
}

}  // namespace backout::agent::http
