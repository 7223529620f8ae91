#include "backout/alerting/delivery_verdict.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "render/page_view.h"

namespace backout::alerting {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_space(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) {
    return false;
  }
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) {
      return false;
    }
  }
  return true;
}

// IMF-fixdate (RFC 9110 5.6.7), the form servers send: "Sun, 06 Nov 1994 08:49:37 GMT".
std::optional<TimePoint> parse_http_date(std::string_view s) {
  s = trim(s);
  if (s.size() != 29 || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  std::string text(s);
  char month_name[4] = {};
  int day = 0;
  int year = 0;
  int hh = 0;
  int mm = 0;
  int ss = 0;
  if (std::sscanf(text.c_str() + 5, "%2d %3c %4d %2d:%2d:%2d", &day, month_name, &year, &hh, &mm,
                  &ss) != 6) {
    return std::nullopt;
  }
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  unsigned month = 0;
  for (unsigned i = 0; i < 12; ++i) {
    if (std::strncmp(kMonths[i], month_name, 3) == 0) {
      month = i + 1;
    }
  }
  if (month == 0 || hh > 23 || mm > 59 || ss > 60) {
    return std::nullopt;
  }
  std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{month},
                                  std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) {
    return std::nullopt;
  }
  return TimePoint{std::chrono::sys_days{ymd}.time_since_epoch() + std::chrono::hours{hh} +
                   std::chrono::minutes{mm} + std::chrono::seconds{ss}};
}

std::string_view kind_name(net::FetchError::Kind k) {
  using K = net::FetchError::Kind;
  switch (k) {
    case K::kNone:
      return "ok";
    case K::kBadUrl:
      return "bad URL";
    case K::kResolve:
      return "resolve";
    case K::kConnect:
      return "connect";
    case K::kTls:
      return "TLS";
    case K::kTimeout:
      return "timeout";
    case K::kProtocol:
      return "protocol";
    case K::kTooLarge:
      return "response too large";
    case K::kCancelled:
      return "cancelled";
  }
  return "error";
}

}  // namespace

std::string redact_urls(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::string_view rest = text.substr(i);
    if (starts_with_ci(rest, "http://") || starts_with_ci(rest, "https://")) {
      std::size_t end = i;
      while (end < text.size() && !is_space(text[end]) && text[end] != '"' && text[end] != '\'' &&
             text[end] != '<' && text[end] != '>') {
        ++end;
      }
      // Punctuation after a URL belongs to the sentence ("POST http://h/x: connect: ...").
      while (end > i && std::strchr(":,.;)]}", text[end - 1]) != nullptr) {
        --end;
      }
      out += "<url>";
      i = end;
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::string body_excerpt(std::string_view body, std::size_t max_bytes) {
  std::string flat;
  flat.reserve(std::min(body.size(), max_bytes * 2));
  for (char c : body.substr(0, max_bytes * 4)) {
    const auto u = static_cast<unsigned char>(c);
    const bool control = u < 0x20 || u == 0x7F;
    if (control || c == ' ') {
      if (!flat.empty() && flat.back() != ' ') {
        flat += ' ';
      }
    } else {
      flat += c;
    }
  }
  return render::truncate_utf8(std::string(trim(redact_urls(flat))), max_bytes);
}

std::optional<Duration> parse_retry_after(std::string_view value, std::string_view date) {
  value = trim(value);
  if (value.empty()) {
    return std::nullopt;
  }
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    if (value.size() > 7) {
      return std::chrono::seconds{9'999'999};  // absurd, but the server asked for a long wait
    }
    return std::chrono::seconds{std::stol(std::string(value))};
  }
  auto when = parse_http_date(value);
  auto now = parse_http_date(date);
  if (!when || !now || *when <= *now) {
    return std::nullopt;
  }
  return *when - *now;
}

DeliveryResult delivery_verdict(const net::FetchError& error,
                                const net::HttpClientResponse& response) {
  DeliveryResult r;
  if (error) {
    // A URL the client cannot even parse will not get better by retrying.
    r.outcome = error.kind == net::FetchError::Kind::kBadUrl ? Delivery::kDrop : Delivery::kRetry;
    // `reason` leaves out the request (the channel's name says which endpoint failed).
    std::string message = redact_urls(error.reason.empty() ? error.message : error.reason);
    r.detail = message.empty() ? std::string(kind_name(error.kind)) : message;
    return r;
  }
  const int status = response.status;
  r.detail = "HTTP " + std::to_string(status);
  std::string excerpt = body_excerpt(response.body);
  if (status >= 200 && status < 300) {
    r.outcome = Delivery::kDelivered;
    return r;
  }
  if (!excerpt.empty()) {
    r.detail += ": " + excerpt;
  }
  if (status == 429 || status == 408 || (status >= 500 && status < 600) || status < 200 ||
      status >= 600) {
    r.outcome = Delivery::kRetry;
    auto it = response.headers.find("Retry-After");
    if (it != response.headers.end()) {
      auto date = response.headers.find("Date");
      r.retry_after = parse_retry_after(
          it->second, date != response.headers.end() ? std::string_view(date->second) : "");
    }
    return r;
  }
  r.outcome = Delivery::kDrop;
  if (status >= 300 && status < 400) {
    r.detail =
        "HTTP " + std::to_string(status) + ": redirects are not followed; check the endpoint URL";
  }
  return r;
}

}  // namespace backout::alerting
