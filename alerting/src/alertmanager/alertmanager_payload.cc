#include "backout/alerting/alertmanager_payload.h"

#include <algorithm>
#include <boost/json.hpp>

#include "render/night_message.h"
#include "render/page_view.h"

namespace backout::alerting {

namespace {

namespace json = boost::json;

std::string title_of(const MessageContext& ctx, const render::TriggerView& v) {
  std::string lead = ctx.page.kind == rules::PageKind::kResolve
                         ? std::string("Resolved")
                         : std::string(rules::headline(ctx.page.recommendation));
  std::string out = lead + " \xE2\x80\x94 " + render::release_name(*ctx.plan) + " \xE2\x80\x94 ";
  if (v.severity) {
    out += std::string(rules::to_string(*v.severity)) + ": ";
  }
  return out + v.name;
}

}  // namespace

bool alertmanager_wants(const rules::Page& page) {
  // The night's pages (a step, a blind trigger) are for chat: they are no trigger's alert.
  return page.kind != rules::PageKind::kFinal && page.kind != rules::PageKind::kAct &&
         !render::is_night(page.kind) && !page.triggers.empty();
}

std::string alertmanager_payload(const MessageContext& ctx, const AlertmanagerOptions& options) {
  const rules::Plan& plan = *ctx.plan;
  const rules::Page& page = ctx.page;
  const bool firing = page.kind != rules::PageKind::kResolve;
  json::array alerts;
  for (const render::TriggerView& v : render::page_triggers(ctx)) {
    // Every severity the trigger can have: the current one fires, the others are resolved, so
    // that a change of severity does not leave the old one firing until it times out.
    std::vector<rules::Severity> severities;
    if (v.trigger != nullptr) {
      for (const rules::Level& l : v.trigger->levels) {
        severities.push_back(l.severity);
      }
    }
    if (v.severity &&
        std::find(severities.begin(), severities.end(), *v.severity) == severities.end()) {
      severities.insert(severities.begin(), *v.severity);
    }
    const TimePoint starts = v.episode != nullptr ? v.episode->opened_at : page.at;
    for (rules::Severity s : severities) {
      const bool fires = firing && v.severity == s;
      TimePoint ends = fires ? ctx.now + options.ttl : page.at;
      ends = std::max(ends, starts);
      json::object labels{{"alertname", "BackoutTrigger"},
                          {"trigger", v.id},
                          {"severity", rules::to_string(s)},
                          {"release", plan.header.release},
                          {"project", plan.header.project}};
      json::object annotations{{"summary", title_of(ctx, v)},
                               {"description", v.evidence},
                               {"recommendation", rules::to_string(page.recommendation)},
                               {"reason", page.reason}};
      if (!page.decides.empty()) {
        annotations["decides"] = render::who(plan, page.decides);
      }
      if (v.episode != nullptr) {
        annotations["episode"] = v.episode->key();
      }
      if (!v.value_text.empty()) {
        annotations["value"] = v.value_text;
      }
      if (!v.condition.empty()) {
        annotations["threshold"] = v.condition;
      }
      annotations["point_of_no_return"] = render::clock(ctx, plan.window.point_of_no_return());
      json::object alert{{"labels", std::move(labels)},
                         {"annotations", std::move(annotations)},
                         {"startsAt", render::timestamp(ctx, starts)},
                         {"endsAt", render::timestamp(ctx, ends)}};
      if (!options.generator_url.empty()) {
        alert["generatorURL"] = options.generator_url;
      }
      alerts.push_back(std::move(alert));
    }
  }
  return json::serialize(alerts);
}

std::vector<rules::Page> alertmanager_reposts(const std::vector<rules::Episode>& episodes,
                                              const rules::DecisionOutput& decision,
                                              TimePoint now) {
  std::vector<rules::Page> pages;
  for (const rules::Episode& e : episodes) {
    if (!e.open() || !e.paged_at) {
      continue;
    }
    rules::Page p;
    p.kind = rules::PageKind::kRepeat;
    p.at = now;
    p.triggers = {e.trigger};
    p.severity = e.severity;
    p.recommendation = decision.recommendation;
    p.reason = decision.reason;
    p.phase = decision.phase;
    p.key = "refresh:" + e.key() + ":" + std::to_string(now.time_since_epoch().count());
    pages.push_back(std::move(p));
  }
  return pages;
}

}  // namespace backout::alerting
