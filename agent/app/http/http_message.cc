#include "app/http/http_message.h"

#include <algorithm>
#include <cstddef>

#include "backout/core/text.h"

namespace backout::agent::http {
namespace {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

bool starts_with_ignoring_case(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) {
    return false;
  }
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (ascii_lower(s[i]) != prefix[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const noexcept {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return static_cast<unsigned char>(ascii_lower(x)) < static_cast<unsigned char>(ascii_lower(y));
  });
}

std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) {
        return std::nullopt;
      }
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) {
        return std::nullopt;
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

bool parse_request_target(std::string_view target, HttpRequest& req) {
  // Absolute form (RFC 9112 3.2.2): drop the scheme and authority, keep path and query; an
  // empty path there means "/".
  bool absolute = false;
  for (std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
    if (starts_with_ignoring_case(target, scheme)) {
      target.remove_prefix(scheme.size());
      const std::size_t end = target.find_first_of("/?#");
      target.remove_prefix(end == std::string_view::npos ? target.size() : end);
      absolute = true;
      break;
    }
  }
  if (!absolute && (target.empty() || target.front() != '/')) {
    return false;  // "*", authority form, or garbage
  }
  // A fragment never belongs to a request; ignore one if a client sends it anyway.
  target = target.substr(0, target.find('#'));

  const std::size_t qmark = target.find('?');
  const std::string_view raw_path = target.substr(0, qmark);
  auto path = percent_decode(raw_path, /*plus_is_space=*/false);
  if (!path || path->find('\0') != std::string::npos) {
    return false;
  }
  req.path = path->empty() ? std::string("/") : std::move(*path);
  req.query.clear();
  if (qmark == std::string_view::npos) {
    return true;
  }
  std::string_view rest = target.substr(qmark + 1);
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest.remove_prefix(amp == std::string_view::npos ? rest.size() : amp + 1);
    if (pair.empty()) {
      continue;
    }
    const std::size_t eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), /*plus_is_space=*/true);
    auto value = percent_decode(
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!key || !value) {
      return false;
    }
    req.query.emplace(std::move(*key), std::move(*value));  // the first occurrence wins
  }
  return true;
}

HttpResponse json_error(int status, std::string_view message) {
  HttpResponse res;
  res.status = status;
  res.content_type = std::string(kJsonContentType);
  res.body = "{\"error\": " + json_quote(message) + "}";
  return res;
}

}  // namespace backout::agent::http
