// Source kind `http`: one synthetic request per attempt through the shared HTTP client, judged by
// its status (`expect_status`, default any 2xx) and body (`expect_body`, a regex search). Every
// attempt delivers `status` (0 without a response), `up` and `duration` (to the complete
// response; a timed-out attempt counts its whole timeout).
//
// expect_body runs on Boost.Regex rather than std::regex: libstdc++'s matcher recurses once per
// character, so `.*ok` over a 100 KB one-line body overflows the stack and kills the agent, and
// a target's body is not ours to trust. Boost.Regex matches without recursion and throws when a
// match gets too costly, which here makes the attempt down with a reason.
#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/regex.hpp>
#include <exception>

#include "backout/net/http_client.h"
#include "http/http_kind.h"
#include "periodic_runner.h"

namespace backout::collectors {
namespace {

// "200", "200 or 204", "200, 201 or 204".
std::string format_statuses(const std::vector<int>& codes) {
  std::string out;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    if (i > 0) {
      out += i + 1 == codes.size() ? " or " : ", ";
    }
    out += std::to_string(codes[i]);
  }
  return out;
}

class HttpProbe final : public PeriodicRunner {
 public:
  HttpProbe(const CollectorContext& ctx, Duration every, net::HttpClientRequest request,
            std::vector<int> expect_status, std::optional<boost::regex> expect_body)
      : PeriodicRunner(ctx.executor, ctx.sink, every, ctx.time),
        http_(ctx.http),
        request_(std::move(request)),
        expect_status_(std::move(expect_status)),
        expect_body_(std::move(expect_body)) {}

 private:
  void begin_attempt(std::uint64_t id) override {
    auto self = this->self<HttpProbe>();
    request_id_ = http_->fetch(
        request_, [self, id](const net::FetchError& error, net::HttpClientResponse response) {
          // The client calls back on its own strand; the sink is only called from ours.
          boost::asio::dispatch(self->strand(),
                                [self, id, error, response = std::move(response)]() mutable {
                                  self->on_response(id, error, response);
                                });
        });
  }

  void cancel_attempt() override { http_->cancel(request_id_); }

  void on_response(std::uint64_t id, const net::FetchError& error,
                   const net::HttpClientResponse& response) {
    if (!current(id)) {
      return;
    }
    AttemptOutcome outcome;
    outcome.duration = error.kind == net::FetchError::Kind::kTimeout ? Duration(request_.timeout)
                                                                     : Duration(response.duration);
    const int status = error ? 0 : response.status;
    record(id, "status", {}, status);
    outcome.samples = 3;  // status, up, duration
    if (error) {
      outcome.error = error.reason;
    } else {
      outcome.error = judge(response);
      outcome.up = outcome.error.empty();
    }
    finish(id, std::move(outcome));
  }

  // Why the response does not count as up, or "".
  std::string judge(const net::HttpClientResponse& response) const {
    if (expect_status_.empty()) {
      if (response.status < 200 || response.status > 299) {
        return "HTTP " + std::to_string(response.status) + ", expected 2xx";
      }
    } else if (std::find(expect_status_.begin(), expect_status_.end(), response.status) ==
               expect_status_.end()) {
      return "HTTP " + std::to_string(response.status) + ", expected " +
             format_statuses(expect_status_);
    }
    if (expect_body_) {
      try {
        if (!boost::regex_search(response.body, *expect_body_)) {
          return "body does not match expect_body";
        }
      } catch (const std::exception&) {
        // Too costly to match (catastrophic backtracking on this body): the probe cannot tell
        // whether the body would have matched, so it does not count as up.
        return "expect_body is too costly to match on this body";
      }
    }
    return {};
  }

  net::HttpClient* http_;
  const net::HttpClientRequest request_;
  const std::vector<int> expect_status_;
  const std::optional<boost::regex> expect_body_;
  net::HttpClient::RequestId request_id_ = 0;
};

}  // namespace

Result<std::unique_ptr<Collector>> create_http_collector(const Source& source,
                                                         CollectorContext ctx) {
  if (auto problem = check_context(source, ctx, true)) {
    return Error{*problem};
  }
  const KindOptions& o = source.options;
  auto token = resolve_bearer_token(source, ctx);
  if (!token) {
    return Error{token.error()};
  }

  net::HttpClientRequest request;
  request.method = o.string("method", "GET");
  request.url = o.string("url");
  request.timeout = to_millis(o.duration("timeout", std::chrono::seconds{5}));
  request.ca_file = o.string("ca_file");
  request.follow_redirects = o.boolean("follow_redirects", false);
  request.max_redirects = 5;
  request.accept_gzip = true;
  if (request.method == "POST") {
    request.body = o.string("body");
  }
  for (const auto& [name, value] : o.string_map("headers")) {
    request.headers.emplace_back(name, value);
  }
  if (token->has_value()) {
    request.headers.emplace_back("Authorization", "Bearer " + **token);
  }

  std::vector<int> expect_status;
  for (std::int64_t code : o.integers("expect_status")) {
    expect_status.push_back(static_cast<int>(code));
  }
  std::optional<boost::regex> expect_body;
  if (const std::string pattern = o.string("expect_body"); !pattern.empty()) {
    try {
      expect_body.emplace(pattern, boost::regex::ECMAScript);
    } catch (const std::exception& e) {
      // The plan loader compiled it with std::regex; the two ECMAScript dialects differ only at
      // the edges, so this mostly happens to plans built in code.
      return Error{"source '" + source.id +
                   "': expect_body is not a valid regular expression: " + e.what()};
    }
  }
  auto runner = std::make_shared<HttpProbe>(ctx, o.duration("every", std::chrono::seconds{5}),
                                            std::move(request), std::move(expect_status),
                                            std::move(expect_body));
  return make_periodic_collector(std::move(runner));
}

}  // namespace backout::collectors
