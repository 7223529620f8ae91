// How an HTTP exchange with a notification endpoint turns into a delivery outcome. Pure;
// thread-safe. Time: a Retry-After date is read against the response's own Date header, so no
// clock is needed; without a Date header only the delta-seconds form is used.
//
//   2xx                                   -> kDelivered  "HTTP 200"
//   429, 5xx, 408                         -> kRetry      "HTTP 503: <body excerpt>", Retry-After
//   other 4xx, 3xx (redirects are not followed: a moved webhook is a configuration error)
//                                         -> kDrop       "HTTP 400: invalid_payload"
//   transport error (resolve, connect, TLS, timeout, protocol, too large, cancelled)
//                                         -> kRetry      "connect 127.0.0.1:9: Connection refused"
//   a URL the client cannot parse         -> kDrop
// Details never contain a URL: webhook URLs are secrets (the path authorises posting), so any
// http(s):// token in an error message or a response body is replaced by "<url>".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "backout/alerting/channel.h"
#include "backout/net/http_client.h"

namespace backout::alerting {

/// The outcome of one POST.
DeliveryResult delivery_verdict(const net::FetchError& error,
                                const net::HttpClientResponse& response);

/// Retry-After: delta-seconds ("120") or an HTTP date read against `date` (the response's Date
/// header). nullopt when absent, unreadable or not in the future.
std::optional<Duration> parse_retry_after(std::string_view value, std::string_view date = {});

/// Replaces every http:// or https:// token with "<url>".
std::string redact_urls(std::string_view text);

/// At most `max_bytes` of `body` on one line, control characters as spaces, URLs redacted.
std::string body_excerpt(std::string_view body, std::size_t max_bytes = 200);

}  // namespace backout::alerting
