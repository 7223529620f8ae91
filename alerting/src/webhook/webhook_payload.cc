#include "backout/alerting/webhook_payload.h"

#include <boost/json.hpp>
#include <map>

#include "backout/alerting/chat_message.h"
#include "render/page_view.h"

namespace backout::alerting {

namespace {

namespace json = boost::json;

json::value optional_time(const MessageContext& ctx, const std::optional<TimePoint>& t) {
  return t ? json::value(render::timestamp(ctx, *t)) : json::value(nullptr);
}

json::value optional_number(const std::optional<double>& v) {
  return v ? render::json_number(*v) : json::value(nullptr);
}

json::value person(const rules::Plan& plan, const std::string& role) {
  if (role.empty()) {
    return nullptr;
  }
  rules::Contact fallback;
  fallback.role = role;
  const rules::Contact* c = plan.contact(role);
  if (c == nullptr) {
    c = &fallback;
  }
  return json::object{
      {"role", role}, {"title", c->role_title()}, {"name", c->name}, {"chat", c->chat}};
}

json::object trigger_object(const MessageContext& ctx, const render::TriggerView& v) {
  json::object t;
  t["id"] = v.id;
  t["name"] = v.name;
  t["state"] = v.status != nullptr ? std::string(rules::to_string(v.status->state))
                                   : std::string(v.raise != nullptr ? "breached" : "ok");
  t["severity"] =
      v.severity ? json::value(std::string(rules::to_string(*v.severity))) : json::value(nullptr);
  t["value"] = v.status != nullptr ? optional_number(v.status->value) : json::value(nullptr);
  t["value_text"] = v.value_text;
  t["threshold"] =
      v.status != nullptr ? optional_number(v.status->threshold) : json::value(nullptr);
  t["condition"] = v.condition;
  t["window"] = v.window;
  t["path"] = v.early ? "early" : "average";
  t["evidence"] = v.evidence;
  if (v.episode != nullptr) {
    t["episode"] = v.episode->key();
    t["opened_at"] = render::timestamp(ctx, v.episode->opened_at);
    t["resolved_at"] = optional_time(ctx, v.episode->resolved_at);
    t["acknowledged_at"] = optional_time(ctx, v.episode->acked_at);
    t["acknowledged_by"] =
        v.episode->acked_at ? json::value(v.episode->acked_by) : json::value(nullptr);
  } else {
    t["episode"] = nullptr;
    t["opened_at"] = nullptr;
    t["resolved_at"] = nullptr;
    t["acknowledged_at"] = nullptr;
    t["acknowledged_by"] = nullptr;
  }
  return t;
}

json::value night(const MessageContext& ctx) {
  if (ctx.page.kind != rules::PageKind::kFinal) {
    return nullptr;
  }
  std::map<std::string, std::int64_t> by_severity;
  std::int64_t pages = 0;
  std::int64_t acked = 0;
  for (const rules::Episode& e : ctx.episodes) {
    ++by_severity[std::string(rules::to_string(e.severity))];
    pages += e.pages;
    acked += e.acked_at ? 1 : 0;
  }
  json::object sev;
  for (const auto& [name, n] : by_severity) {
    sev[name] = n;
  }
  json::array decisions;
  for (const rules::HumanDecision& d : ctx.acts.decisions) {
    decisions.push_back(json::object{{"kind", rules::to_string(d.kind)},
                                     {"by", d.by},
                                     {"at", render::timestamp(ctx, d.at)},
                                     {"note", d.note}});
  }
  return json::object{{"breaches", static_cast<std::int64_t>(ctx.episodes.size())},
                      {"by_severity", std::move(sev)},
                      {"pages", pages},
                      {"acknowledged", acked},
                      {"fix_forwards", static_cast<std::int64_t>(ctx.acts.fix_forwards.size())},
                      {"decisions", std::move(decisions)}};
}

}  // namespace

std::string webhook_payload(const MessageContext& ctx) {
  const rules::Plan& plan = *ctx.plan;
  const rules::Page& page = ctx.page;
  const ChatMessage m = compose_message(ctx);
  const TimePoint pnr = plan.window.point_of_no_return();

  json::array triggers;
  for (const render::TriggerView& v : render::page_triggers(ctx)) {
    triggers.push_back(trigger_object(ctx, v));
  }
  json::array mention;
  for (const std::string& h : page.mention) {
    mention.push_back(json::value(h));
  }
  json::object o;
  o["version"] = 1;
  o["kind"] = rules::to_string(page.kind);
  o["key"] = page.key;
  o["at"] = render::timestamp(ctx, page.at);
  o["release"] = json::object{{"project", plan.header.project}, {"release", plan.header.release}};
  o["recommendation"] = rules::to_string(page.recommendation);
  o["reason"] = page.reason;
  o["severity"] = page.severity ? json::value(std::string(rules::to_string(*page.severity)))
                                : json::value(nullptr);
  o["triggers"] = std::move(triggers);
  o["decides"] = person(plan, page.decides);
  o["escalated_from"] = person(plan, page.escalated_from);
  o["mention"] = std::move(mention);
  o["point_of_no_return"] = render::timestamp(ctx, pnr);
  o["seconds_to_point_of_no_return"] =
      std::chrono::duration_cast<std::chrono::seconds>(pnr - page.at).count();
  o["backout_duration_seconds"] =
      std::chrono::duration_cast<std::chrono::seconds>(plan.window.backout_duration).count();
  o["phase"] = rules::to_string(page.phase);
  o["title"] = m.title.plain();
  o["text"] = m.plain_text();
  o["night"] = night(ctx);
  return json::serialize(o);
}

}  // namespace backout::alerting
