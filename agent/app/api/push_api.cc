#include "app/api/push_api.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <cctype>
#include <cmath>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "app/api/api.h"
#include "backout/collectors/statsd.h"
#include "backout/core/prometheus_text.h"
#include "backout/core/result.h"
#include "backout/core/text.h"

namespace backout::agent {
namespace {

namespace json = boost::json;
using collectors::PushedSample;
using http::HttpRequest;
using http::HttpResponse;
using http::json_error;
using Samples = std::vector<PushedSample>;

struct PushContext {
  collectors::PushHub* hub = nullptr;
  std::optional<std::string> token;
};

// "application/json; charset=utf-8" -> "application/json".
std::string media_type(const HttpRequest& req) {
  auto it = req.headers.find("Content-Type");
  if (it == req.headers.end()) {
    return {};
  }
  std::string_view v = it->second;
  v = v.substr(0, v.find(';'));
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
    v.remove_suffix(1);
  }
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
    v.remove_prefix(1);
  }
  std::string out(v);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

constexpr std::string_view kSampleExample =
    R"({"metric": "logins", "labels": {"region": "eu"}, "value": 1, "type": "counter"})";
constexpr std::string_view kJsonExample =
    R"({"samples": [{"metric": "logins", "labels": {"region": "eu"}, "value": 1, "type": "counter"}]})";

Result<PushedSample> json_sample(const json::value& v, const std::string& where) {
  const json::object* o = v.if_object();
  if (o == nullptr) {
    return Error{where + " is not an object like " + std::string(kSampleExample)};
  }
  PushedSample s;
  bool has_metric = false;
  bool has_value = false;
  bool has_type = false;
  for (const auto& kv : *o) {
    const std::string key(kv.key());
    const json::value& f = kv.value();
    if (key == "metric") {
      if (!f.is_string() || !is_identifier(f.get_string())) {
        return Error{where + ".metric must be a name like login_failures ([A-Za-z_][A-Za-z0-9_]*)"};
      }
      s.metric = std::string(f.get_string());
      has_metric = true;
    } else if (key == "labels") {
      if (!f.is_object()) {
        return Error{where + ".labels must be an object of strings, e.g. {\"region\": \"eu\"}"};
      }
      for (const auto& label : f.get_object()) {
        const std::string name(label.key());
        if (!is_identifier(name) || name.starts_with("__")) {
          return Error{where + ".labels: '" + name +
                       "' is not a label name ([A-Za-z_][A-Za-z0-9_]*, not starting with __)"};
        }
        if (!label.value().is_string()) {
          return Error{where + ".labels." + name + " must be a string"};
        }
        s.labels.push_back({name, std::string(label.value().get_string())});
      }
    } else if (key == "value") {
      if (!f.is_number() || !std::isfinite(f.to_number<double>())) {
        return Error{where + ".value must be a finite number"};
      }
      s.value = f.to_number<double>();
      has_value = true;
    } else if (key == "type") {
      const json::string* t = f.if_string();
      if (t != nullptr && *t == "counter") {
        s.type = PushedSample::Type::kCounter;
      } else if (t != nullptr && *t == "gauge") {
        s.type = PushedSample::Type::kGauge;
      } else if (t != nullptr && *t == "observation") {
        s.type = PushedSample::Type::kObservation;
      } else {
        return Error{where +
                     ".type must be \"counter\" (an increment), \"gauge\" or "
                     "\"observation\" (seconds)"};
      }
      has_type = true;
    } else {
      return Error{where + ": unknown key '" + key + "' (expected metric, labels, value, type)"};
    }
  }
  if (!has_metric || !has_value || !has_type) {
    return Error{where + " needs metric, value and type, e.g. " + std::string(kSampleExample)};
  }
  if (s.type != PushedSample::Type::kGauge && s.value < 0) {
    return Error{where + ".value must be >= 0 for " +
                 (s.type == PushedSample::Type::kCounter ? "a counter (an increment)"
                                                         : "an observation (seconds)")};
  }
  return s;
}

Result<Samples> parse_json_body(std::string_view body) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec) {
    return Error{"the body is not JSON (" + ec.message() + "); send " + std::string(kJsonExample)};
  }
  const json::object* o = doc.if_object();
  const json::value* list = o ? o->if_contains("samples") : nullptr;
  if (list == nullptr || !list->is_array()) {
    return Error{"the body must be an object with a 'samples' array, e.g. " +
                 std::string(kJsonExample)};
  }
  if (o->size() != 1) {
    for (const auto& kv : *o) {
      if (kv.key() != "samples") {
        return Error{"unknown key '" + std::string(kv.key()) + "' (expected only 'samples')"};
      }
    }
  }
  Samples out;
  out.reserve(list->get_array().size());
  std::size_t i = 0;
  for (const json::value& v : list->get_array()) {
    auto s = json_sample(v, "samples[" + std::to_string(i++) + "]");
    if (!s) {
      return Error{s.error()};
    }
    out.push_back(std::move(s).value());
  }
  return out;
}

// Cumulative parts of a family: pushed as absolute counter values.
bool is_cumulative(const PrometheusSample& s) {
  if (s.name.ends_with("_created")) {
    return false;  // a timestamp, not a count
  }
  switch (s.type) {
    case MetricType::kCounter:
    case MetricType::kHistogram:  // _bucket, _sum, _count
      return true;
    case MetricType::kSummary:
      for (const PrometheusLabel& l : s.labels) {
        if (l.name == "quantile") {
          return false;
        }
      }
      return true;  // _sum, _count
    default:
      return false;
  }
}

Result<Samples> parse_text_body(std::string_view body, std::size_t& dropped) {
  Samples out;
  PrometheusParseLimits limits;
  limits.max_series = 100000;
  const PrometheusParseStats stats = parse_prometheus_text(body, limits, [&](const auto& s) {
    PushedSample p;
    p.metric.assign(s.name);
    p.labels.reserve(s.labels.size());
    for (const PrometheusLabel& l : s.labels) {
      p.labels.push_back({std::string(l.name), std::string(l.value)});
    }
    p.value = s.value;
    p.type = is_cumulative(s) ? PushedSample::Type::kCounterTotal : PushedSample::Type::kGauge;
    out.push_back(std::move(p));
  });
  if (stats.malformed > 0) {
    return Error{"Prometheus text format: " + stats.first_error};
  }
  for (const PushedSample& p : out) {
    if (p.type == PushedSample::Type::kCounterTotal && !(std::isfinite(p.value) && p.value >= 0)) {
      return Error{"Prometheus text format: counter " + p.metric + " is " + format_number(p.value) +
                   "; a cumulative value is a finite number >= 0"};
    }
  }
  dropped = stats.dropped;
  return out;
}

Result<Samples> parse_statsd_body(std::string_view body) {
  Samples out;
  const collectors::StatsdParseStats stats = collectors::parse_statsd(body, out);
  if (stats.malformed > 0) {
    return Error{"StatsD: " + stats.first_error};
  }
  return out;
}

HttpResponse handle_push(const PushContext& ctx, const HttpRequest& req,
                         const std::string& source) {
  if (auto err = refuse_unauthorized(ctx.token, req)) {
    return *err;
  }
  const std::string not_push =
      "'" + source + "' is not a push source of this plan (or it has not started)";
  if (!ctx.hub->has(source)) {
    return json_error(404, not_push);
  }
  const std::string type = media_type(req);
  Result<Samples> samples = Error{""};
  std::size_t dropped_by_parser = 0;
  if (type == "application/json") {
    samples = parse_json_body(req.body);
  } else if (type == "text/plain" || type == "application/openmetrics-text") {
    samples = parse_text_body(req.body, dropped_by_parser);
  } else if (type == "text/x-statsd") {
    samples = parse_statsd_body(req.body);
  } else {
    return json_error(
        415, "Content-Type " +
                 (type.empty() ? std::string("missing") : "'" + type + "' is not supported") +
                 ": send application/json ({\"samples\": [...]}), text/plain "
                 "(Prometheus text format) or text/x-statsd (StatsD lines)");
  }
  if (!samples) {
    return json_error(400, samples.error());
  }
  collectors::PushReceipt receipt;
  if (!ctx.hub->deliver(source, std::move(samples).value(), &receipt)) {
    return json_error(404, not_push);
  }
  HttpResponse r;
  r.status = 202;
  r.content_type = std::string(http::kJsonContentType);
  r.body = json::serialize(json::object{{"accepted", receipt.accepted},
                                        {"dropped", receipt.dropped + dropped_by_parser}});
  return r;
}

}  // namespace

void register_push_api(http::Router& router, collectors::PushHub& hub,
                       std::optional<std::string> token) {
  auto ctx = std::make_shared<const PushContext>(PushContext{&hub, std::move(token)});
  router.add("POST", "/api/v1/push/{source}",
             [ctx](const HttpRequest& req, const http::PathParams& params) {
               return handle_push(*ctx, req, params.at("source"));
             });
}

}  // namespace backout::agent
