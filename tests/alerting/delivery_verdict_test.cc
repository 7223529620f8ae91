// How HTTP outcomes become Delivered / Retry / Drop, and that details never carry a URL.
#include "backout/alerting/delivery_verdict.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace backout::alerting {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

net::HttpClientResponse response(int status, std::string body = {},
                                 std::vector<std::pair<std::string, std::string>> headers = {}) {
  net::HttpClientResponse r;
  r.status = status;
  r.body = std::move(body);
  for (auto& [k, v] : headers) {
    r.headers[k] = v;
  }
  return r;
}

DeliveryResult verdict(const net::HttpClientResponse& r) { return delivery_verdict({}, r); }

TEST(DeliveryVerdict, TwoHundredsAreDelivered) {
  for (int status : {200, 202, 204}) {
    DeliveryResult r = verdict(response(status, "ok"));
    EXPECT_EQ(r.outcome, Delivery::kDelivered) << status;
    EXPECT_EQ(r.detail, "HTTP " + std::to_string(status));
  }
}

TEST(DeliveryVerdict, RateLimitsAndServerErrorsAreRetriedWithRetryAfter) {
  DeliveryResult r = verdict(response(429, "rate_limited", {{"retry-after", "7"}}));
  EXPECT_EQ(r.outcome, Delivery::kRetry);
  ASSERT_TRUE(r.retry_after.has_value());
  EXPECT_EQ(*r.retry_after, std::chrono::seconds{7});
  EXPECT_EQ(r.detail, "HTTP 429: rate_limited");

  for (int status : {500, 502, 503, 504, 408}) {
    DeliveryResult s = verdict(response(status));
    EXPECT_EQ(s.outcome, Delivery::kRetry) << status;
    EXPECT_FALSE(s.retry_after.has_value());
  }
}

TEST(DeliveryVerdict, RetryAfterAsAnHttpDateIsReadAgainstTheDateHeader) {
  DeliveryResult r = verdict(response(503, "",
                                      {{"Retry-After", "Sun, 07 Jun 2026 01:02:30 GMT"},
                                       {"Date", "Sun, 07 Jun 2026 01:02:00 GMT"}}));
  ASSERT_TRUE(r.retry_after.has_value());
  EXPECT_EQ(*r.retry_after, std::chrono::seconds{30});
  EXPECT_FALSE(parse_retry_after("Sun, 07 Jun 2026 01:02:30 GMT").has_value());  // no Date
  EXPECT_FALSE(parse_retry_after("soon").has_value());
  EXPECT_FALSE(parse_retry_after("").has_value());
  EXPECT_EQ(parse_retry_after(" 120 "), std::chrono::seconds{120});
}

TEST(DeliveryVerdict, OtherClientErrorsAreDroppedWithAnExcerpt) {
  DeliveryResult r = verdict(response(400, "invalid_payload\n"));
  EXPECT_EQ(r.outcome, Delivery::kDrop);
  EXPECT_EQ(r.detail, "HTTP 400: invalid_payload");
  EXPECT_EQ(verdict(response(404, "no_service")).outcome, Delivery::kDrop);
  EXPECT_EQ(verdict(response(410, "channel_is_archived")).outcome, Delivery::kDrop);
  DeliveryResult moved = verdict(response(301, "", {{"Location", "https://x/y"}}));
  EXPECT_EQ(moved.outcome, Delivery::kDrop);
  EXPECT_THAT(moved.detail, HasSubstr("redirects are not followed"));
}

TEST(DeliveryVerdict, TransportErrorsAreRetriedWithoutTheUrl) {
  net::FetchError e;
  e.kind = net::FetchError::Kind::kConnect;
  e.message = "POST https://hooks.slack.com/services/T0/B0/SECRET: connect: Connection refused";
  DeliveryResult r = delivery_verdict(e, {});
  EXPECT_EQ(r.outcome, Delivery::kRetry);
  EXPECT_THAT(r.detail, Not(HasSubstr("SECRET")));
  EXPECT_THAT(r.detail, HasSubstr("Connection refused"));

  e.reason = "connect 127.0.0.1:9: Connection refused";
  EXPECT_EQ(delivery_verdict(e, {}).detail, "connect 127.0.0.1:9: Connection refused");

  e.kind = net::FetchError::Kind::kTimeout;
  e.reason.clear();
  e.message.clear();
  EXPECT_EQ(delivery_verdict(e, {}).detail, "timeout");
  EXPECT_EQ(delivery_verdict(e, {}).outcome, Delivery::kRetry);

  e.kind = net::FetchError::Kind::kBadUrl;
  EXPECT_EQ(delivery_verdict(e, {}).outcome, Delivery::kDrop);
}

TEST(DeliveryVerdict, BodyExcerptsAreShortSingleLineAndRedacted) {
  std::string body =
      "error:\r\n  see https://example.com/hooks/SECRET for details\t" + std::string(1000, 'x');
  std::string ex = body_excerpt(body);
  EXPECT_LE(ex.size(), 200u);
  EXPECT_THAT(ex, Not(HasSubstr("SECRET")));
  EXPECT_THAT(ex, Not(HasSubstr("\n")));
  EXPECT_THAT(ex, HasSubstr("error: see <url> for details x"));
}

TEST(DeliveryVerdict, RedactsEveryUrlButKeepsTheSentence) {
  EXPECT_EQ(redact_urls("POST http://127.0.0.1:80/a/b?c=d: connect: refused"),
            "POST <url>: connect: refused");
  EXPECT_EQ(redact_urls("see HTTPS://X/Y, then"), "see <url>, then");
  EXPECT_EQ(redact_urls("no url here"), "no url here");
}

}  // namespace
}  // namespace backout::alerting
