#include "backout/alerting/pagerduty_payload.h"

#include <boost/json.hpp>

#include "backout/alerting/chat_message.h"
#include "render/night_message.h"
#include "render/page_view.h"

namespace backout::alerting {

namespace {

namespace json = boost::json;

constexpr std::size_t kSummaryMax = 1024;

json::object event_head(const PagerDutyOptions& options, std::string_view action,
                        const std::string& dedup_key) {
  json::object e;
  if (!options.routing_key.empty()) {
    e["routing_key"] = options.routing_key;
  }
  e["event_action"] = action;
  e["dedup_key"] = dedup_key;
  return e;
}

std::string dedup_key(const render::TriggerView& v) {
  return v.episode != nullptr ? v.episode->key() : v.id;
}

std::string pack(json::array events) {
  if (events.size() == 1) {
    return json::serialize(events.front());
  }
  return json::serialize(events);
}

std::string component_of(const render::TriggerView& v) {
  if (v.trigger != nullptr && !v.trigger->measure.args.empty()) {
    return v.trigger->measure.args.front().source;
  }
  return v.raise != nullptr ? "manual" : "";
}

}  // namespace

bool pagerduty_wants(const rules::Page& page) {
  // The night's pages (a step, a blind trigger) are for chat: they are no trigger's incident.
  if (page.kind == rules::PageKind::kFinal || page.kind == rules::PageKind::kAct ||
      render::is_night(page.kind) || page.triggers.empty()) {
    return false;
  }
  // A resolve always goes: an episode may have been paged at a higher severity than it ends with.
  if (page.kind == rules::PageKind::kResolve) {
    return true;
  }
  return page.severity && *page.severity != rules::Severity::kMinor;
}

std::string_view pagerduty_severity(rules::Severity s) {
  switch (s) {
    case rules::Severity::kCritical:
      return "critical";
    case rules::Severity::kMajor:
      return "error";
    case rules::Severity::kDiscretionary:
      return "warning";
    case rules::Severity::kMinor:
      return "info";
  }
  return "error";
}

std::string pagerduty_payload(const MessageContext& ctx, const PagerDutyOptions& options) {
  const rules::Plan& plan = *ctx.plan;
  const rules::Page& page = ctx.page;
  json::array events;
  const std::vector<render::TriggerView> views = render::page_triggers(ctx);
  if (page.kind == rules::PageKind::kResolve) {
    for (const render::TriggerView& v : views) {
      events.push_back(event_head(options, "resolve", dedup_key(v)));
    }
    return pack(std::move(events));
  }
  const ChatMessage m = compose_message(ctx);
  const std::string lead(page.recommendation == rules::Recommendation::kBackout
                             ? "BACKOUT recommended"
                             : rules::headline(page.recommendation));
  const TimePoint pnr = plan.window.point_of_no_return();
  for (const render::TriggerView& v : views) {
    // Minor breaches page nobody; in a grouped page only the others go to PagerDuty.
    if (views.size() > 1 && v.severity == rules::Severity::kMinor) {
      continue;
    }
    const rules::Severity sev =
        v.severity.value_or(page.severity.value_or(rules::Severity::kMajor));
    std::string summary = lead + " \xE2\x80\x94 " + render::release_name(plan) + " \xE2\x80\x94 " +
                          std::string(rules::to_string(sev)) + ": " + v.name;
    if (!v.evidence.empty()) {
      summary += ": " + v.evidence;
    }
    json::array mention;
    for (const std::string& h : page.mention) {
      mention.push_back(json::value(h));
    }
    json::object details{
        {"recommendation", rules::to_string(page.recommendation)},
        {"reason", page.reason},
        {"evidence", v.evidence},
        {"value", v.value_text},
        {"threshold", v.condition},
        {"window", v.window},
        {"decides", page.decides.empty() ? std::string() : render::who(plan, page.decides)},
        {"mention", std::move(mention)},
        {"point_of_no_return",
         render::clock(ctx, pnr) +
             (page.at < pnr ? " (in " + format_span(pnr - page.at) + ")" : " (passed)")},
        {"page", rules::to_string(page.kind)},
        {"phase", rules::to_string(page.phase)},
        {"message", m.plain_text()}};
    json::object payload{{"summary", render::truncate_utf8(summary, kSummaryMax)},
                         {"source", render::release_name(plan)},
                         {"severity", pagerduty_severity(sev)},
                         {"timestamp", render::timestamp(ctx, page.at)},
                         {"group", plan.header.project},
                         {"class", v.id}};
    if (std::string c = component_of(v); !c.empty()) {
      payload["component"] = c;
    }
    payload["custom_details"] = std::move(details);
    json::object e = event_head(options, "trigger", dedup_key(v));
    e["client"] = "backout-agent";
    if (!options.client_url.empty()) {
      e["client_url"] = options.client_url;
    }
    e["payload"] = std::move(payload);
    events.push_back(std::move(e));
  }
  return pack(std::move(events));
}

std::optional<std::string> pagerduty_acknowledge_payload(const MessageContext& ctx,
                                                         const PagerDutyOptions& options) {
  json::array events;
  for (const render::TriggerView& v : render::page_triggers(ctx)) {
    if (v.episode != nullptr && v.episode->acked_at && v.episode->open()) {
      events.push_back(event_head(options, "acknowledge", v.episode->key()));
    }
  }
  if (events.empty()) {
    return std::nullopt;
  }
  return pack(std::move(events));
}

Result<std::vector<std::string>> pagerduty_bodies(std::string_view payload,
                                                  const std::string& routing_key) {
  boost::system::error_code ec;
  json::value v = json::parse(payload, ec);
  if (ec) {
    return Error{"the stored PagerDuty payload is not JSON: " + ec.message()};
  }
  std::vector<const json::object*> events;
  if (v.is_object()) {
    events.push_back(&v.as_object());
  } else if (v.is_array()) {
    for (const json::value& e : v.as_array()) {
      if (!e.is_object()) {
        return Error{"the stored PagerDuty payload holds a non-object event"};
      }
      events.push_back(&e.as_object());
    }
  } else {
    return Error{"the stored PagerDuty payload is neither an event nor an array of events"};
  }
  std::vector<std::string> bodies;
  for (const json::object* e : events) {
    json::object out;
    out["routing_key"] = routing_key;  // first, as in PagerDuty's examples
    for (const auto& kv : *e) {
      if (kv.key() != "routing_key") {
        out[kv.key()] = kv.value();
      }
    }
    bodies.push_back(json::serialize(out));
  }
  return bodies;
}

}  // namespace backout::alerting
