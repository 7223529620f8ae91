#include "app/runtime/status_json.h"

#include <boost/json.hpp>

#include <cmath>

#include "backout/core/text.h"

namespace backout::agent {
namespace {

namespace json = boost::json;

json::value number_or_null(const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) {
    return nullptr;
  }
  return *v;
}

json::value person(const rules::Plan& plan, const std::string& role) {
  if (role.empty()) {
    return nullptr;
  }
  json::object o;
  o["role"] = role;
  if (const rules::Contact* c = plan.contact(role)) {
    o["title"] = c->role_title();
    o["name"] = c->name;
    o["chat"] = c->chat;
  }
  return o;
}

}  // namespace

namespace {

// DESIGN section 9: the night's phase, go-live, the backout's steps with the projection, and
// the verification's checks (preflight and after_backout come with their keys).
json::object lifecycle_json(const rules::Watch& watch, TimePoint now) {
  const rules::Plan& plan = watch.plan();
  const rules::Lifecycle& life = watch.lifecycle();
  const auto off = plan.window.offset();
  auto ts = [&](const std::optional<TimePoint>& t) {
    return t ? json::value(format_rfc3339(*t, off)) : json::value(nullptr);
  };
  json::object l;
  l["phase"] = std::string(rules::to_string(life.phase()));
  l["deployed_at"] = ts(life.deployed_at());
  if (plan.backout) {
    json::object b;
    b["started_at"] = ts(life.backout_started_at());
    const std::optional<std::size_t> current = life.current_step();
    b["current"] = current ? json::value(plan.backout->steps[*current].id) : json::value(nullptr);
    const std::optional<TimePoint> end = life.projected_end(now);
    b["projected_end"] = ts(end);
    const TimePoint window_end = watch.decision().window_end;
    b["behind_seconds"] =
        end ? json::value(to_seconds(std::max(Duration{0}, *end - window_end))) : json::value(nullptr);
    json::array steps;
    for (std::size_t i = 0; i < plan.backout->steps.size(); ++i) {
      const rules::BackoutStep& p = plan.backout->steps[i];
      const rules::StepStatus& st = life.steps()[i];
      json::object o;
      o["id"] = p.id;
      o["action"] = p.action;
      o["owner"] = p.owner;
      o["planned_seconds"] = to_seconds(p.duration);
      o["started_at"] = ts(st.started_at);
      o["done_at"] = ts(st.done_at);
      o["state"] = std::string(rules::to_string(st.state));
      o["verified"] = st.verified ? json::value(*st.verified) : json::value(nullptr);
      if (!st.done_by.empty()) {
        o["done_by"] = st.done_by;
      }
      if (!st.note.empty()) {
        o["note"] = st.note;
      }
      steps.push_back(std::move(o));
    }
    b["steps"] = std::move(steps);
    l["backout"] = std::move(b);
    json::object v;
    v["since"] = ts(life.verify_since());
    json::array checks;
    const auto& readings = watch.verify_readings();
    for (std::size_t i = 0; i < plan.backout->checks.size(); ++i) {
      const rules::MeasureCheck& c = plan.backout->checks[i];
      json::object o;
      o["name"] = c.name;
      const bool read = i < readings.size() && life.verify_since();
      o["ok"] = read && readings[i].ok ? json::value(*readings[i].ok) : json::value(nullptr);
      o["value"] = read ? number_or_null(readings[i].value) : json::value(nullptr);
      checks.push_back(std::move(o));
    }
    v["checks"] = std::move(checks);
    v["verified_at"] = ts(life.verified_at());
    l["verify"] = std::move(v);
  } else {
    l["backout"] = nullptr;
    l["verify"] = nullptr;
  }
  return l;
}

}  // namespace

std::string status_json(const rules::Watch& watch, const std::vector<SourceState>& sources,
                        TimePoint now, const ClockState& clock) {
  const rules::Plan& plan = watch.plan();
  const auto off = plan.window.offset();
  auto ts = [&](TimePoint t) { return json::value(format_rfc3339(t, off)); };
  json::object root;
  root["now"] = ts(now);
  json::object p;
  p["project"] = plan.header.project;
  p["release"] = plan.header.release;
  p["owner"] = plan.header.owner;
  p["revision"] = plan.header.revision;
  p["status"] = plan.header.approved ? "approved" : "draft";
  p["path"] = plan.path;
  root["plan"] = std::move(p);
  json::object w;
  w["start"] = ts(plan.window.start.at);
  w["end"] = ts(plan.window.end.at);
  w["backout_duration_seconds"] = to_seconds(plan.window.backout_duration);
  w["warn_at"] = ts(plan.window.point_of_no_return() - plan.window.warn_before_pnr);
  root["window"] = std::move(w);
  const rules::DecisionOutput& d = watch.decision();
  root["phase"] = std::string(rules::to_string(d.phase));
  root["point_of_no_return"] = ts(plan.window.point_of_no_return());
  root["seconds_to_point_of_no_return"] = to_seconds(plan.window.point_of_no_return() - now);
  json::object rec;
  rec["recommendation"] = std::string(rules::to_string(d.recommendation));
  rec["headline"] = std::string(rules::headline(d.recommendation));
  rec["reason"] = d.reason;
  rec["severity"] = d.severity ? json::value(std::string(rules::to_string(*d.severity)))
                               : json::value(nullptr);
  json::array driving;
  for (const std::string& id : d.triggers) {
    driving.push_back(json::value(id));
  }
  rec["triggers"] = std::move(driving);
  rec["decides"] = person(plan, d.decides);
  root["recommendation"] = std::string(rules::to_string(d.recommendation));
  root["decision"] = std::move(rec);

  json::array triggers;
  const auto& statuses = watch.evaluator().statuses();
  for (std::size_t i = 0; i < plan.triggers.size() && i < statuses.size(); ++i) {
    const rules::Trigger& t = plan.triggers[i];
    const rules::TriggerStatus& st = statuses[i];
    json::object o;
    o["id"] = t.id;
    o["name"] = t.name;
    o["measure"] = t.measure.text();
    o["over"] = format_duration(t.over);
    o["state"] = std::string(rules::to_string(st.state));
    o["severity"] = st.severity ? json::value(std::string(rules::to_string(*st.severity)))
                                : json::value(nullptr);
    o["since"] = ts(st.since);
    o["value"] = number_or_null(st.value);
    o["value_text"] = st.value ? rules::format_measure_value(t.measure, *st.value) : "";
    o["threshold"] = number_or_null(st.threshold);
    o["condition"] = st.condition;
    o["observations"] = st.count;
    o["evidence"] = st.evidence;
    if (st.state == rules::TriggerState::kBreached) {
      o["path"] = std::string(rules::to_string(st.path));
    }
    if (!st.reason.empty()) {
      o["reason"] = st.reason;
    }
    o["baseline"] = number_or_null(st.baseline);
    o["expected"] = watch.expected(i);
    const std::optional<TimePoint> blind = watch.blind_since(i);
    o["blind_since"] = blind ? ts(*blind) : json::value(nullptr);
    json::array levels;
    for (std::size_t l = 0; l < t.levels.size(); ++l) {
      json::object lv;
      lv["severity"] = std::string(rules::to_string(t.levels[l].severity));
      lv["condition"] = t.levels[l].condition.text;
      lv["threshold"] = number_or_null(l < st.thresholds.size() ? st.thresholds[l]
                                                                : std::optional<double>());
      levels.push_back(std::move(lv));
    }
    o["levels"] = std::move(levels);
    triggers.push_back(std::move(o));
  }
  root["triggers"] = std::move(triggers);

  json::array episodes;
  for (const rules::Episode& e : watch.paging().episodes()) {
    if (!e.open()) {
      continue;
    }
    json::object o;
    o["trigger"] = e.trigger;
    o["episode"] = e.key();
    o["severity"] = std::string(rules::to_string(e.severity));
    o["opened_at"] = ts(e.opened_at);
    o["paged_at"] = e.paged_at ? ts(*e.paged_at) : json::value(nullptr);
    o["pages"] = e.pages;
    o["acknowledged_by"] = e.acked_at ? json::value(e.acked_by) : json::value(nullptr);
    o["acknowledged_at"] = e.acked_at ? ts(*e.acked_at) : json::value(nullptr);
    o["escalated"] = e.escalated;
    episodes.push_back(std::move(o));
  }
  root["open_breaches"] = std::move(episodes);

  json::array ffs;
  for (const rules::FixForward& f : watch.acts().fix_forwards) {
    json::object o;
    o["trigger"] = f.trigger;
    o["eta"] = ts(f.eta);
    o["by"] = f.by;
    o["declared_at"] = ts(f.declared_at);
    o["honoured"] = rules::fix_forward_honoured(rules::effective_window(plan, watch.acts(), now), f, now);
    ffs.push_back(std::move(o));
  }
  root["fix_forwards"] = std::move(ffs);
  json::array raises;
  for (const rules::ManualRaise& r : watch.acts().raises) {
    json::object o;
    o["id"] = r.id;
    o["severity"] = std::string(rules::to_string(r.severity));
    o["reason"] = r.reason;
    o["by"] = r.by;
    o["at"] = ts(r.at);
    o["cleared"] = r.cleared;
    raises.push_back(std::move(o));
  }
  root["raises"] = std::move(raises);
  json::array decisions;
  for (const rules::HumanDecision& h : watch.acts().decisions) {
    json::object o;
    o["decision"] = std::string(rules::to_string(h.kind));
    o["by"] = h.by;
    o["note"] = h.note;
    o["at"] = ts(h.at);
    decisions.push_back(std::move(o));
  }
  root["decisions"] = std::move(decisions);
  root["lifecycle"] = lifecycle_json(watch, now);

  json::array srcs;
  for (const SourceState& s : sources) {
    json::object o;
    o["id"] = s.id;
    o["kind"] = s.kind;
    o["up"] = s.up ? json::value(*s.up) : json::value(nullptr);
    o["last_attempt"] = s.attempts > 0 ? ts(s.last_attempt) : json::value(nullptr);
    o["duration_seconds"] = to_seconds(s.last_duration);
    o["attempts"] = s.attempts;
    o["failures"] = s.failures;
    o["last_error"] = s.last_error.empty() ? json::value(nullptr) : json::value(s.last_error);
    o["last_error_at"] = s.last_error.empty() ? json::value(nullptr) : ts(s.last_error_at);
    if (!s.start_error.empty()) {
      o["start_error"] = s.start_error;
    }
    srcs.push_back(std::move(o));
  }
  root["sources"] = std::move(srcs);

  json::object c;
  c["pending_step_seconds"] =
      clock.pending ? json::value(to_seconds(*clock.pending)) : json::value(nullptr);
  c["steps"] = clock.steps;
  if (clock.last) {
    c["last_step"] = json::object{{"outcome", std::string(to_string(clock.last->outcome))},
                                  {"by_seconds", to_seconds(clock.last->by)},
                                  {"wall", ts(clock.last->wall)}};
  } else {
    c["last_step"] = nullptr;
  }
  root["clock"] = std::move(c);
  return json::serialize(root);
}

}  // namespace backout::agent
