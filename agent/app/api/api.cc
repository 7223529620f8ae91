#include "app/api/api.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdint>

#include "backout/core/text.h"

namespace backout::agent {
namespace {

namespace json = boost::json;
using http::HttpRequest;
using http::HttpResponse;
using http::json_error;

// When the watch does not get to a request in time (a tick stalled, or the agent stopping).
constexpr const char* kWatchBusy =
    "the watch did not get to this request in time (it is stalled or stopping); nothing was "
    "applied: try again, and check /healthz and the agent's log";

HttpResponse json_ok(const json::value& v, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.content_type = std::string(http::kJsonContentType);
  r.body = json::serialize(v);
  return r;
}

// Parses a JSON object body; sets `error` on failure.
std::optional<json::object> body_object(const HttpRequest& req, std::optional<HttpResponse>& err) {
  // Boost.JSON's defaults bound what a hostile body can cost: nesting at most 32 deep, UTF-8
  // validated (issue 14, item 12).
  boost::system::error_code ec;
  json::value v = json::parse(req.body, ec);
  if (ec) {
    err = json_error(400, "the body is not valid JSON (" + ec.message() +
                              "); send an object, e.g. {\"by\": \"@jane.doe\"}");
    return std::nullopt;
  }
  if (!v.is_object()) {
    err = json_error(400, "the body must be a JSON object, e.g. {\"by\": \"@jane.doe\"}");
    return std::nullopt;
  }
  return v.as_object();
}

std::string string_field(const json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) {
    return {};
  }
  return std::string(it->value().as_string());
}

// "2026-06-07T03:40:00+01:00" or a duration from now ("30m").
std::optional<TimePoint> time_field(const std::string& text, TimePoint now, std::string* why) {
  if (auto z = parse_rfc3339(text)) {
    return z->at;
  }
  if (auto d = parse_duration(text)) {
    return now + *d;
  }
  *why = "'" + text +
         "' is neither an RFC 3339 time (2026-06-07T03:40:00+01:00) nor a duration "
         "from now (30m)";
  return std::nullopt;
}

// The record of an act at `at`, in the plan window's offset.
record::TimelineEvent event(const rules::Plan& plan, TimePoint at, record::EventBody body) {
  return {{at, plan.window.offset()}, std::move(body)};
}

// Requests refused by refuse_unauthorized, since start (all agents of the process).
std::atomic<std::uint64_t> g_unauthorized{0};

}  // namespace

std::uint64_t unauthorized_refusals() { return g_unauthorized.load(); }

std::optional<HttpResponse> refuse_unauthorized(const std::optional<std::string>& token,
                                                const HttpRequest& req) {
  std::optional<HttpResponse> refusal;
  auto it = req.headers.find("Authorization");
  if (!token) {
    refusal = json_error(403,
                         "POST endpoints are disabled: set server.token_env (or token_file) "
                         "in the plan and restart the agent");
  } else {
    std::string given;
    if (it != req.headers.end() && it->second.size() > 7 &&
        (it->second.rfind("Bearer ", 0) == 0 || it->second.rfind("bearer ", 0) == 0)) {
      given = it->second.substr(7);
    }
    if (given.empty() || !constant_time_equal(given, *token)) {
      refusal = json_error(
          401, it == req.headers.end() ? "missing 'Authorization: Bearer <token>'" : "wrong token");
      refusal->headers["WWW-Authenticate"] = "Bearer realm=\"backout-agent\"";
    }
  }
  if (refusal) {
    // Logged at the 1st, 2nd, 4th, 8th ... refusal: a flood of them cannot drown the journal.
    const std::uint64_t n = ++g_unauthorized;
    if ((n & (n - 1)) == 0) {
      spdlog::warn("refused {} {} from {}: {} ({} refused so far; logged at 1, 2, 4, 8, ...)",
                   req.method, req.path, req.remote_address,
                   refusal->status == 401 ? "no valid token" : "POSTs disabled", n);
    }
  }
  return refusal;
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  // Every byte of the longer string is visited; the result depends on all of them.
  const std::size_t n = std::max(a.size(), b.size());
  unsigned diff = static_cast<unsigned>(a.size() ^ b.size());
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

void register_api(http::Router& router, ApiContext ctx) {
  auto shared = std::make_shared<ApiContext>(std::move(ctx));

  router.add("GET", "/metrics", [shared](const HttpRequest&, const http::PathParams&) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = shared->metrics->serialize();
    return r;
  });
  router.add("GET", "/healthz", [shared](const HttpRequest&, const http::PathParams&) {
    HttpResponse r;
    if (shared->live && !shared->live()) {
      r.status = 503;
      r.body = "scheduler stalled: no evaluation for several ticks\n";
    } else {
      r.body = "ok\n";
    }
    return r;
  });
  router.add("GET", "/readyz", [shared](const HttpRequest&, const http::PathParams&) {
    HttpResponse r;
    if (shared->ready && !shared->ready()) {
      r.status = 503;
      r.body = "starting: sources not started yet\n";
    } else {
      r.body = "ready\n";
    }
    return r;
  });
  router.add("GET", "/api/v1/status", [shared](const HttpRequest&, const http::PathParams&) {
    HttpResponse r;
    r.content_type = std::string(http::kJsonContentType);
    if (!shared->on_watch([&] { r.body = shared->status(); })) {
      return json_error(503, kWatchBusy);
    }
    return r;
  });
  router.add("GET", "/api/v1/timeline", [shared](const HttpRequest& req, const http::PathParams&) {
    std::size_t from = 0;
    std::size_t limit = 1000;
    // Whole numbers only: stoul read "-1" as 2^64 - 1.
    constexpr std::uint64_t kMaxFrom = std::uint64_t{1} << 53;
    if (auto it = req.query.find("from"); it != req.query.end()) {
      auto v = parse_whole_number(it->second, kMaxFrom);
      if (!v) {
        return json_error(400, "from and limit are whole numbers");
      }
      from = static_cast<std::size_t>(*v);
    }
    if (auto it = req.query.find("limit"); it != req.query.end()) {
      auto v = parse_whole_number(it->second, kMaxFrom);
      if (!v) {
        return json_error(400, "from and limit are whole numbers");
      }
      limit = static_cast<std::size_t>(std::min<std::uint64_t>(*v, 10000));
    }
    std::vector<std::string> events = shared->timeline->read(from, limit);
    HttpResponse r;
    r.content_type = std::string(http::kJsonContentType);
    r.body = record::encode_timeline_page(from, events);
    return r;
  });
  if (!shared->dashboard_html.empty()) {
    router.add("GET", "/", [shared](const HttpRequest&, const http::PathParams&) {
      HttpResponse r;
      r.content_type = "text/html; charset=utf-8";
      r.body = shared->dashboard_html;
      return r;
    });
  }

  // Human acts. Each: authorise, parse, then where the watch lives: apply, record, echo.
  auto act = [shared](const HttpRequest& req,
                      const std::function<HttpResponse(
                          const json::object&, TimePoint,
                          std::optional<record::TimelineEvent>& event_out)>& apply) {
    if (auto err = refuse_unauthorized(shared->token, req)) {
      return *err;
    }
    std::optional<HttpResponse> err;
    auto body = body_object(req, err);
    if (!body) {
      return *err;
    }
    HttpResponse r;
    const bool ran = shared->on_watch([&] {
      const TimePoint now = shared->clock->now();
      std::optional<record::TimelineEvent> ev;
      r = apply(*body, now, ev);
      if (r.status / 100 == 2 && ev) {
        shared->timeline->append(*ev);
        if (shared->on_act) {
          shared->on_act(*ev);
        }
      }
    });
    if (!ran) {
      return json_error(503, kWatchBusy);
    }
    return r;
  };

  router.add("POST", "/api/v1/ack", [shared, act](const HttpRequest& req, const http::PathParams&) {
    return act(req, [&](const json::object& b, TimePoint now,
                                  std::optional<record::TimelineEvent>& ev) {
      std::string trigger = string_field(b, "trigger");
      std::string by = string_field(b, "by");
      auto r = shared->watch->acknowledge(trigger, by, now);
      if (!r.ok()) {
        return json_error(r.error().find("no open breach") != std::string::npos ? 409 : 400,
                          r.error());
      }
      json::array ids;
      for (const std::string& id : *r) {
        ids.push_back(json::value(id));
      }
      ev = event(shared->watch->plan(), now, record::Acknowledged{*r, by});
      spdlog::info("acknowledged by {}: {}", by, join(*r, ", "));
      return json_ok(json::object{{"acknowledged", ids}, {"by", by}});
    });
  });
  router.add("POST", "/api/v1/fix-forward",
             [shared, act](const HttpRequest& req, const http::PathParams&) {
               return act(req, [&](const json::object& b, TimePoint now,
                                  std::optional<record::TimelineEvent>& ev) {
                 std::string trigger = string_field(b, "trigger");
                 std::string by = string_field(b, "by");
                 std::string eta_text = string_field(b, "eta");
                 if (trigger.empty() || eta_text.empty()) {
                   return json_error(400,
                                     "give trigger, eta and by, e.g. {\"trigger\": "
                                     "\"login_failure_rate\", \"eta\": \"30m\", \"by\": "
                                     "\"@john.smith\"}");
                 }
                 std::string why;
                 auto eta = time_field(eta_text, now, &why);
                 if (!eta) {
                   return json_error(400, "eta: " + why);
                 }
                 Status s = shared->watch->declare_fix_forward(trigger, *eta, by, now);
                 if (!s.ok()) {
                   return json_error(400, s.error());
                 }
                 const auto off = shared->watch->plan().window.offset();
                 const rules::Window w =
                     rules::effective_window(shared->watch->plan(), shared->watch->acts(), now);
                 bool honoured = *eta <= w.point_of_no_return();
                 ev = event(shared->watch->plan(), now,
                            record::FixForwardDeclared{trigger, {*eta, off}, by, honoured});
                 spdlog::info("fix-forward for {} declared by {}, ETA {}{}", trigger,
                              by,
                              format_clock(*eta, off),
                              honoured ? "" : " (after the point of no return: not honoured)");
                 return json_ok(json::object{{"trigger", trigger},
                                             {"eta", format_rfc3339(*eta, off)},
                                             {"honoured", honoured},
                                             {"note", honoured ? ""
                                                               : "the ETA is after the point "
                                                                 "of no return: the "
                                                                 "recommendation stays "
                                                                 "backout"}});
               });
             });
  router.add("POST", "/api/v1/decision",
             [shared, act](const HttpRequest& req, const http::PathParams&) {
               return act(req, [&](const json::object& b, TimePoint now,
                                  std::optional<record::TimelineEvent>& ev) {
                 std::string what = string_field(b, "decision");
                 std::string by = string_field(b, "by");
                 std::string note = string_field(b, "note");
                 rules::HumanDecision::Kind kind;
                 if (what == "backout") {
                   kind = rules::HumanDecision::Kind::kBackout;
                 } else if (what == "go") {
                   kind = rules::HumanDecision::Kind::kGo;
                 } else if (what == "extend") {
                   kind = rules::HumanDecision::Kind::kExtend;
                 } else {
                   return json_error(400, "decision must be backout, go or extend");
                 }
                 std::optional<TimePoint> until;
                 const auto off = shared->watch->plan().window.offset();
                 if (kind == rules::HumanDecision::Kind::kExtend) {
                   std::string why;
                   std::string text = string_field(b, "until");
                   if (text.empty()) {
                     return json_error(400, "extend needs 'until': the new window end");
                   }
                   until = time_field(text, now, &why);
                   if (!until) {
                     return json_error(400, "until: " + why);
                   }
                 }
                 Status s = shared->watch->decide(kind, by, note, now, until);
                 if (!s.ok()) {
                   return json_error(400, s.error());
                 }
                 json::object f{{"decision", what}, {"by", by}, {"note", note}};
                 if (until) {
                   f["until"] = format_rfc3339(*until, off);
                 }
                 if (kind == rules::HumanDecision::Kind::kGo) {
                   json::array accepted;
                   for (const std::string& a : shared->watch->acts().decisions.back().accepted) {
                     accepted.push_back(json::value(a));
                   }
                   f["accepted"] = std::move(accepted);
                 }
                 record::Decided d{kind, by, note, std::nullopt, std::nullopt};
                 if (until) {
                   d.until = ZonedTime{*until, off};
                 }
                 if (kind == rules::HumanDecision::Kind::kGo) {
                   d.accepted = shared->watch->acts().decisions.back().accepted;
                 }
                 ev = event(shared->watch->plan(), now, std::move(d));
                 spdlog::warn("decision {} by {}{}", what, by,
                              note.empty() ? "" : ": " + note);
                 return json_ok(f);
               });
             });
  // The night's acts (DESIGN section 9): a refusal is a conflict with the night's state (wrong
  // phase, not the current step, unknown item): 409 with the reason.
  router.add("POST", "/api/v1/deployed",
             [shared, act](const HttpRequest& req, const http::PathParams&) {
               return act(req, [&](const json::object& b, TimePoint now,
                                  std::optional<record::TimelineEvent>& ev) {
                 std::string by = string_field(b, "by");
                 if (by.empty()) {
                   return json_error(400, "say who declares go-live ('by')");
                 }
                 Status s = shared->watch->deployed(by, now);
                 if (!s.ok()) {
                   return json_error(409, s.error());
                 }
                 ev = event(shared->watch->plan(), now, record::GoLiveDeclared{by, false});
                 spdlog::warn("go-live declared by {}", by);
                 return json_ok(json::object{
                     {"deployed_at", format_rfc3339(now, shared->watch->plan().window.offset())},
                     {"by", by}});
               });
             });
  router.add("POST", "/api/v1/done",
             [shared, act](const HttpRequest& req, const http::PathParams&) {
               return act(req, [&](const json::object& b, TimePoint now,
                                  std::optional<record::TimelineEvent>& ev) {
                 std::string item = string_field(b, "item");
                 std::string by = string_field(b, "by");
                 std::string note = string_field(b, "note");
                 const json::value* failed_v = b.if_contains("failed");
                 if (failed_v != nullptr && !failed_v->is_bool() && !failed_v->is_null()) {
                   return json_error(400, "'failed' must be true or false");
                 }
                 const bool failed = failed_v != nullptr && failed_v->is_bool() &&
                                     failed_v->as_bool();
                 if (item.empty()) {
                   return json_error(400, "say which item is done ('item'), e.g. restore_db");
                 }
                 if (by.empty()) {
                   return json_error(400, "say who has done it ('by')");
                 }
                 Status s = shared->watch->done(item, by, note, failed, now);
                 if (!s.ok()) {
                   return json_error(409, s.error());
                 }
                 ev = event(shared->watch->plan(), now,
                            record::ItemDoneRecorded{item, by, note, failed});
                 spdlog::warn("{} {} by {}{}", item, failed ? "failed" : "done", by,
                              note.empty() ? "" : ": " + note);
                 const rules::Lifecycle& life = shared->watch->lifecycle();
                 json::object out{{"item", item},
                                  {"failed", failed},
                                  {"phase", std::string(rules::to_string(life.phase()))}};
                 if (auto next = life.current_step()) {
                   out["next"] = shared->watch->plan().backout->steps[*next].id;
                 }
                 return json_ok(out);
               });
             });
  router.add("POST", "/api/v1/raise",
             [shared, act](const HttpRequest& req, const http::PathParams&) {
               return act(req, [&](const json::object& b, TimePoint now,
                                  std::optional<record::TimelineEvent>& ev) {
                 if (std::string id = string_field(b, "clear"); !id.empty()) {
                   std::string by = string_field(b, "by");
                   Status s = shared->watch->clear_raise(id, by, now);
                   if (!s.ok()) {
                     return json_error(400, s.error());
                   }
                   ev = event(shared->watch->plan(), now, record::RaiseCleared{id, by});
                   spdlog::warn("{} cleared by {}", id, by);
                   return json_ok(json::object{{"cleared", id}});
                 }
                 std::string sev_text = string_field(b, "severity");
                 std::string reason = string_field(b, "reason");
                 std::string by = string_field(b, "by");
                 auto sev = rules::parse_severity(sev_text);
                 if (!sev || *sev == rules::Severity::kMinor) {
                   return json_error(400, "severity must be critical, major or discretionary");
                 }
                 auto r = shared->watch->raise(*sev, reason, by, now);
                 if (!r.ok()) {
                   return json_error(400, r.error());
                 }
                 ev = event(shared->watch->plan(), now, record::Raised{*r, *sev, reason, by});
                 spdlog::warn("{} raised by {} ({}): {}", sev_text, by, *r,
                              reason);
                 return json_ok(json::object{{"id", *r}, {"severity", sev_text}});
               });
             });
}

}  // namespace backout::agent
