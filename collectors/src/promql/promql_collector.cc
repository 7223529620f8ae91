// Source kind `promql`: every `every`, evaluates each named query of `queries` as an instant
// query (GET <url>/api/v1/query?query=...) on a Prometheus-compatible server, all queries of an
// attempt at once, each within `timeout`. A vector result gives one sample per element (series =
// the query's name, labels = the element's labels without __name__), a scalar one sample without
// labels; the values are gauges, read by value(SRC.name). Then `up` and `duration`.
//
// An attempt is up when every query answered `"status": "success"` with a vector or a scalar.
// Otherwise it is down, and its error names the first failed query with the server's own error
// text ("query 'errors': HTTP 400: bad_data: 1:5: parse error: ..."); the results of the queries
// that did succeed are still recorded, since they are as fresh as any. An empty vector records
// nothing for its query (write `... or vector(0)` where "no series" means zero).
#include <boost/asio/dispatch.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <exception>
#include <limits>
#include <map>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "backout/net/http_client.h"
#include "promql/promql_kind.h"
#include "periodic_runner.h"

namespace backout::collectors {
namespace {

namespace json = boost::json;

// Samples of one query beyond this are dropped and counted: a query that suddenly returns a
// series per request id must not flood the windows.
constexpr std::size_t kMaxSeriesPerQuery = 10000;
// How much of a non-JSON error body an outcome quotes.
constexpr std::size_t kMaxQuotedBody = 200;

struct Query {
  std::string name;
  net::HttpClientRequest request;
};

/// What one query of an attempt gave.
struct QueryResult {
  bool done = false;
  std::string error;  // empty when it succeeded
  std::vector<std::pair<Labels, double>> samples;
  std::size_t malformed = 0;
  std::size_t dropped = 0;
  Duration duration{0};
};

// RFC 3986 unreserved characters stay; everything else is %XX. Stricter than Boost.URL's query
// encoding on purpose: a '+' left as is would reach the server as a space.
std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

// A sample value as the Prometheus API writes it: "1.5", "1e-3", "NaN", "+Inf", "-Inf".
std::optional<double> parse_value(const json::value& v) {
  if (!v.is_string()) {
    return std::nullopt;
  }
  std::string_view s = v.get_string();
  if (s == "NaN") {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (s == "+Inf" || s == "Inf") {
    return std::numeric_limits<double>::infinity();
  }
  if (s == "-Inf") {
    return -std::numeric_limits<double>::infinity();
  }
  double out = 0;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, out, std::chars_format::general);
  if (s.empty() || ec != std::errc() || ptr != end) {
    return std::nullopt;
  }
  return out;
}

// [timestamp, "value"] -> value.
std::optional<double> parse_pair(const json::value* v) {
  if (v == nullptr || !v->is_array() || v->get_array().size() != 2) {
    return std::nullopt;
  }
  return parse_value(v->get_array()[1]);
}

// Control characters and overlong text kept out of messages and logs.
std::string quote_body(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, kMaxQuotedBody)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  }
  while (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  return body.size() > kMaxQuotedBody ? out + "..." : out;
}

// "bad_data: 1:5: parse error: ..." from a Prometheus error answer; empty if it is not one.
std::string api_error(const json::value& doc) {
  const json::object* o = doc.if_object();
  if (o == nullptr) {
    return {};
  }
  const json::value* error = o->if_contains("error");
  if (error == nullptr || !error->is_string()) {
    return {};
  }
  std::string text(error->get_string());
  if (const json::value* type = o->if_contains("errorType"); type && type->is_string()) {
    text = std::string(type->get_string()) + ": " + text;
  }
  return quote_body(text);
}

// Reads a complete answer (any status) into `r`.
void read_answer(int status, std::string_view body, QueryResult& r) {
  json::parse_options options;
  options.allow_invalid_utf8 = true;  // label values are bytes to us
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec, {}, options);
  const bool ok_status = status >= 200 && status <= 299;
  if (!ok_status) {
    r.error = "HTTP " + std::to_string(status);
    std::string why = ec ? quote_body(body) : api_error(doc);
    r.error += why.empty() ? ", expected 2xx" : ": " + why;
    return;
  }
  if (ec || !doc.is_object()) {
    r.error = "the answer is not a JSON object (" +
              (ec ? ec.message() : "a JSON " + std::string(json::to_string(doc.kind()))) + ")";
    return;
  }
  const json::object& o = doc.get_object();
  const json::value* status_field = o.if_contains("status");
  if (status_field == nullptr || !status_field->is_string() ||
      status_field->get_string() != "success") {
    std::string why = api_error(doc);
    r.error = why.empty() ? "the answer's status is not \"success\"" : why;
    return;
  }
  const json::value* data = o.if_contains("data");
  const json::object* d = data ? data->if_object() : nullptr;
  const json::value* type = d ? d->if_contains("resultType") : nullptr;
  const json::value* result = d ? d->if_contains("result") : nullptr;
  if (type == nullptr || !type->is_string() || result == nullptr) {
    r.error = "the answer has no data.resultType and data.result";
    return;
  }
  const json::string& kind = type->get_string();
  if (kind == "scalar") {
    if (auto v = parse_pair(result)) {
      r.samples.push_back({{}, *v});
    } else {
      r.error = "the scalar result is not [time, \"value\"]";
    }
    return;
  }
  if (kind != "vector") {
    r.error = "the result is a " + std::string(kind) +
              "; give an expression that yields an instant vector or a scalar";
    return;
  }
  if (!result->is_array()) {
    r.error = "the vector result is not an array";
    return;
  }
  for (const json::value& element : result->get_array()) {
    const json::object* e = element.if_object();
    const json::value* metric = e ? e->if_contains("metric") : nullptr;
    // Native histograms come as "histogram" instead of "value": not a number, skipped.
    std::optional<double> v = e ? parse_pair(e->if_contains("value")) : std::nullopt;
    if (metric == nullptr || !metric->is_object() || !v) {
      ++r.malformed;
      continue;
    }
    Labels labels;
    bool good = true;
    for (const auto& kv : metric->get_object()) {
      if (kv.key() == "__name__") {
        continue;
      }
      if (!kv.value().is_string()) {
        good = false;
        break;
      }
      labels.push_back({std::string(kv.key()), std::string(kv.value().get_string())});
    }
    if (!good) {
      ++r.malformed;
    } else if (r.samples.size() >= kMaxSeriesPerQuery) {
      ++r.dropped;
    } else {
      r.samples.push_back({std::move(labels), *v});
    }
  }
}

class PromqlRunner final : public PeriodicRunner {
 public:
  PromqlRunner(const CollectorContext& ctx, Duration every, std::chrono::milliseconds timeout,
               std::vector<Query> queries)
      : PeriodicRunner(ctx.executor, ctx.sink, every, ctx.time),
        http_(ctx.http),
        timeout_(timeout),
        queries_(std::move(queries)) {}

 private:
  void begin_attempt(std::uint64_t id) override {
    results_.assign(queries_.size(), QueryResult{});
    request_ids_.assign(queries_.size(), 0);
    pending_ = queries_.size();
    auto self = this->self<PromqlRunner>();
    for (std::size_t i = 0; i < queries_.size(); ++i) {
      request_ids_[i] = http_->fetch(
          queries_[i].request,
          [self, id, i](const net::FetchError& error, net::HttpClientResponse response) {
            // The client calls back on its own strand; the sink is only called from ours.
            boost::asio::dispatch(self->strand(),
                                  [self, id, i, error, response = std::move(response)]() mutable {
                                    self->on_response(id, i, error, std::move(response));
                                  });
          });
    }
  }

  void cancel_attempt() override {
    for (net::HttpClient::RequestId rid : request_ids_) {
      http_->cancel(rid);
    }
  }

  void on_response(std::uint64_t id, std::size_t i, const net::FetchError& error,
                   net::HttpClientResponse response) {
    if (!current(id) || results_[i].done) {
      return;
    }
    QueryResult& r = results_[i];
    r.done = true;
    // A timed-out query took its whole timeout, whatever the clock says about the callback.
    r.duration = error.kind == net::FetchError::Kind::kTimeout ? Duration(timeout_)
                                                               : Duration(response.duration);
    if (error) {
      r.error = error.reason;
    } else {
      try {
        read_answer(response.status, response.body, r);
      } catch (const std::exception& e) {
        r = {.done = true, .error = std::string("internal error: ") + e.what()};
      }
    }
    if (--pending_ == 0) {
      complete(id);
    }
  }

  // Every query answered: record in the order of `queries` (not of arrival), then finish.
  void complete(std::uint64_t id) {
    AttemptOutcome outcome{.up = true};
    std::size_t failed = 0;
    for (std::size_t i = 0; i < queries_.size(); ++i) {
      const QueryResult& r = results_[i];
      outcome.duration = std::max(outcome.duration, r.duration);
      for (const auto& [labels, value] : r.samples) {
        record(id, queries_[i].name, labels, value);
      }
      outcome.samples += r.samples.size();
      outcome.malformed += r.malformed;
      outcome.dropped += r.dropped;
      if (!r.error.empty()) {
        if (failed++ == 0) {
          outcome.error = "query '" + queries_[i].name + "': " + r.error;
        }
      }
    }
    if (failed > 1) {
      outcome.error += " (and " + std::to_string(failed - 1) + " more " +
                       (failed == 2 ? "query" : "queries") + " failed)";
    }
    outcome.up = failed == 0;
    results_.clear();
    finish(id, std::move(outcome));
  }

  net::HttpClient* http_;
  const std::chrono::milliseconds timeout_;
  const std::vector<Query> queries_;
  std::vector<QueryResult> results_;
  std::vector<net::HttpClient::RequestId> request_ids_;
  std::size_t pending_ = 0;
};

}  // namespace

Result<std::unique_ptr<Collector>> create_promql_collector(const Source& source,
                                                           CollectorContext ctx) {
  if (auto problem = check_context(source, ctx, true)) {
    return Error{*problem};
  }
  const KindOptions& o = source.options;
  auto token = resolve_bearer_token(source, ctx);
  if (!token) {
    return Error{token.error()};
  }
  std::string base = o.string("url");
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  const auto timeout = to_millis(o.duration("timeout", std::chrono::seconds{5}));
  std::vector<Query> queries;
  for (const auto& [name, expr] : o.string_map("queries")) {
    net::HttpClientRequest request;
    request.method = "GET";
    // Without `time`: the server evaluates at its own now, which is what a watch wants.
    request.url = base + "/api/v1/query?query=" + percent_encode(expr);
    request.timeout = timeout;
    request.max_body_bytes = 16u << 20;
    request.ca_file = o.string("ca_file");
    request.accept_gzip = true;
    request.headers.emplace_back("Accept", "application/json");
    if (token->has_value()) {
      request.headers.emplace_back("Authorization", "Bearer " + **token);
    }
    queries.push_back({name, std::move(request)});
  }
  if (queries.empty()) {
    // The plan loader requires `queries`; a source without any would never finish an attempt.
    return Error{"source '" + source.id + "': no queries"};
  }
  auto runner = std::make_shared<PromqlRunner>(ctx, o.duration("every", std::chrono::seconds{5}),
                                               timeout, std::move(queries));
  return make_periodic_collector(std::move(runner));
}

}  // namespace backout::collectors
