// The plan file's `deployment` and `backout` sections (DESIGN section 9): the deployment's
// planned duration and the triggers it is expected to breach, the backout procedure's steps, and
// how the reversal is verified. Read after `contacts` (owners are roles) and `triggers`
// (expect_outage names them); checks are in the trigger language and are checked by its code.
//
// `backout` needs `steps`: without them a backout decision starts no procedure (the phase stays
// in_window), so its expect_outage and verify would never apply. `verify` is optional (defaults:
// hold 5m, timeout 30m, no checks beyond the triggers themselves).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>

#include "backout/core/text.h"
#include "plan/loader.h"

namespace backout::plan::detail {

const KeyList kDeploymentKeys = {"duration", "expect_outage"};
const KeyList kBackoutKeys = {"expect_outage", "steps", "verify", "data_at_risk"};
const KeyList kStepKeys = {"id", "action", "owner", "duration", "verify", "check"};
const KeyList kStepCheckKeys = {"measure", "when", "over"};
const KeyList kVerifyKeys = {"hold", "timeout", "checks"};
const KeyList kVerifyCheckKeys = {"name", "measure", "when", "over"};

namespace {

// Where key `key` of a map is written, if it is.
std::optional<Pos> key_in(const YAML::Node& map, std::string_view key) {
  if (is_null(map) || !map.IsMap()) {
    return std::nullopt;
  }
  for (const auto& kv : map) {
    const YAML::Node k = kv.first;
    if (k.IsScalar() && k.Scalar() == key) {
      return YamlCursor::pos(k);
    }
  }
  return std::nullopt;
}

}  // namespace

std::string Loader::item_path(const YAML::Node& node, std::size_t index,
                              const std::string& list) const {
  for (const auto& kv : node) {
    const YAML::Node key = kv.first;
    const YAML::Node value = kv.second;
    if (key.IsScalar() && key.Scalar() == "id" && !is_null(value) && value.IsScalar() &&
        is_identifier(value.Scalar()) && item_pos_.count(value.Scalar()) == 0) {
      return list + "." + value.Scalar();
    }
  }
  return list + "[" + std::to_string(index + 1) + "]";
}

// --- deployment -------------------------------------------------------------------------------

void Loader::load_deployment(const Entry& e) {
  const std::size_t errors_before = diag_.error_count();
  Entries es = entries(e.value, e.key_pos, "deployment", kDeploymentKeys,
                       "a map { duration, expect_outage }");
  if (!is_null(e.value) && !e.value.IsMap()) {
    return;  // entries() said what it must be
  }
  anchor("deployment", e.key_pos);
  rules::Deployment d;
  if (require(es, "duration", e.key_pos, "deployment",
              "the planned time from window.start to go-live, e.g. duration: 30m")) {
    const Entry& x = *find(es, "duration");
    if (auto v = duration(x, "deployment.duration", std::chrono::seconds{1})) {
      d.duration = *v;
      anchor("deployment.duration", x.key_pos);
    }
  }
  if (const Entry* x = find(es, "expect_outage")) {
    d.expect_outage = expect_outage(*x, "deployment.expect_outage");
  }
  if (diag_.error_count() == errors_before) {
    plan_.deployment = std::move(d);
  }
}

// --- expected outages -------------------------------------------------------------------------

std::vector<std::string> Loader::expect_outage(const Entry& e, const std::string& path) {
  std::vector<std::string> ids;
  if (is_null(e.value)) {
    return ids;
  }
  Entries items;
  if (e.value.IsScalar()) {
    items.push_back(e);
  } else if (e.value.IsSequence()) {
    for (std::size_t i = 0; i < e.value.size(); ++i) {
      items.push_back({e.key, e.value[i], pos(e.value[i])});
    }
  } else {
    error(pos(e.value), path +
                            ": expected a list of trigger ids, e.g. [system_unavailable, "
                            "error_rate], not a map");
    return ids;
  }
  for (const Entry& item : items) {
    auto id = trigger_ref(item, path);
    if (!id) {
      continue;
    }
    if (std::find(ids.begin(), ids.end(), *id) != ids.end()) {
      warning(value_pos(item), path + ": '" + *id + "' is listed twice");
      continue;
    }
    ids.push_back(*id);
  }
  return ids;
}

std::optional<std::string> Loader::trigger_ref(const Entry& e, const std::string& path) {
  auto s = scalar(e, path, "a trigger id");
  if (!s) {
    return std::nullopt;
  }
  if (trigger_pos_.count(*s) != 0) {
    return s;
  }
  // In file order, as the operator wrote them (broken triggers included: their ids are known).
  std::vector<std::pair<Pos, std::string>> written;
  for (const auto& [id, p] : trigger_pos_) {
    written.emplace_back(p, id);
  }
  std::sort(written.begin(), written.end(), [](const auto& a, const auto& b) {
    return a.first.line != b.first.line ? a.first.line < b.first.line : a.first.col < b.first.col;
  });
  std::vector<std::string> ids;
  for (auto& w : written) {
    ids.push_back(std::move(w.second));
  }
  std::string msg = path + ": unknown trigger '" + *s + "'";
  if (auto near = suggest(*s, ids)) {
    msg += "; did you mean '" + *near + "'?";
  } else if (!ids.empty()) {
    msg += "; triggers are " + list_some(ids);
  } else {
    msg += "; the plan has no valid trigger";
  }
  error(value_pos(e), msg);
  return std::nullopt;
}

// --- backout ----------------------------------------------------------------------------------

void Loader::load_backout(const Entry& e) {
  const std::size_t errors_before = diag_.error_count();
  Entries es = entries(e.value, e.key_pos, "backout", kBackoutKeys,
                       "a map { expect_outage, steps, verify, data_at_risk }");
  if (!is_null(e.value) && !e.value.IsMap()) {
    return;  // entries() said what it must be
  }
  anchor("backout", e.key_pos);
  rules::Backout b;
  if (const Entry* x = find(es, "expect_outage")) {
    b.expect_outage = expect_outage(*x, "backout.expect_outage");
  }
  if (require(es, "steps", e.key_pos, "backout",
              "the procedure in order, each '- { id, action, owner, duration }'; without steps "
              "a backout decision starts no procedure and verify never begins")) {
    load_steps(*find(es, "steps"), b);
  }
  if (const Entry* x = find(es, "verify")) {
    load_verify(*x, b);
  }
  if (const Entry* x = find(es, "data_at_risk")) {
    load_data_at_risk(*x, b);
  }
  if (diag_.error_count() == errors_before) {
    plan_.backout = std::move(b);
  }
}

void Loader::load_steps(const Entry& e, rules::Backout& b) {
  anchor("backout.steps", e.key_pos);
  if (is_null(e.value) || (e.value.IsSequence() && e.value.size() == 0)) {
    error(e.key_pos,
          "backout.steps: no step; list the procedure in order, each item starting with "
          "'- id: ...'");
    return;
  }
  if (!e.value.IsSequence()) {
    error(pos(e.value), "backout.steps must be a list, each item starting with '- id: ...'");
    return;
  }
  for (std::size_t i = 0; i < e.value.size(); ++i) {
    if (auto step = load_step(e.value[i], i)) {
      b.steps.push_back(std::move(*step));
    }
  }
}

bool Loader::load_item_id(const Entries& es, Pos where, const std::string& path, std::string& id) {
  if (!require(es, "id", where, path, "a short name such as stop_traffic; `done ID` names it")) {
    return false;
  }
  const Entry& x = *find(es, "id");
  auto s = scalar(x, path + ".id", "an identifier such as stop_traffic");
  if (!s) {
    return false;
  }
  if (!is_identifier(*s)) {
    error(value_pos(x), path + ".id: '" + *s + "' is not an identifier ([A-Za-z_][A-Za-z0-9_]*)");
    return false;
  }
  if (auto prev = item_pos_.find(*s); prev != item_pos_.end()) {
    error(value_pos(x), path + ".id: duplicate id '" + *s + "' (first at line " +
                            std::to_string(prev->second.line) +
                            "); give each item its own id, `done ID` names one");
    return false;
  }
  item_pos_[*s] = value_pos(x);
  id = *s;
  return true;
}

std::optional<rules::BackoutStep> Loader::load_step(const YAML::Node& node, std::size_t index) {
  const Pos where = pos(node);
  if (!node.IsMap()) {
    error(where, "backout.steps[" + std::to_string(index + 1) +
                     "] must be a map with id, action, owner, duration and optionally verify "
                     "and check");
    return std::nullopt;
  }
  const std::string path = item_path(node, index, "backout.steps");
  const std::size_t errors_before = diag_.error_count();
  Entries es = entries(node, where, path, kStepKeys, "a map");
  rules::BackoutStep s;
  load_item_id(es, where, path, s.id);
  if (require(es, "action", where, path, "what is done, e.g. action: Stop incoming traffic")) {
    if (auto v = scalar(*find(es, "action"), path + ".action", "text")) {
      s.action = *v;
    }
  }
  if (require(es, "owner", where, path, "the role from contacts who carries the step out")) {
    if (auto r = role(*find(es, "owner"), path + ".owner")) {
      s.owner = *r;
    }
  }
  if (require(es, "duration", where, path, "the step's planned time, e.g. duration: 5m")) {
    if (auto d = duration(*find(es, "duration"), path + ".duration", std::chrono::seconds{1})) {
      s.duration = *d;
    }
  }
  if (const Entry* x = find(es, "verify")) {
    if (auto v = scalar(*x, path + ".verify", "text: how the owner verifies the step")) {
      s.verify = *v;
    }
  }
  if (const Entry* x = find(es, "check")) {
    s.check = load_step_check(*x, path + ".check", s.id);
  }
  if (diag_.error_count() != errors_before) {
    return std::nullopt;
  }
  return s;
}

std::optional<rules::MeasureCheck> Loader::load_step_check(const Entry& e, const std::string& path,
                                                           const std::string& name) {
  // `check: { file: ... }` is the preflight's kind of check (a backup on disk); a step is checked
  // by what the agent measures once it is done.
  if (auto file = key_in(e.value, "file")) {
    error(*file, path +
                     ": file checks are only for preflight items; a backout step's check is a "
                     "measure, e.g. check: { measure: value(db_version), when: \"> 0\" }");
    return std::nullopt;
  }
  Entries es = entries(e.value, e.key_pos, path, kStepCheckKeys, "a map { measure, when, over }");
  if (!is_null(e.value) && !e.value.IsMap()) {
    return std::nullopt;
  }
  rules::MeasureCheck c;
  c.name = name;
  return load_measure_check(es, e.key_pos, path, std::move(c));
}

// --- verify -----------------------------------------------------------------------------------

void Loader::load_verify(const Entry& e, rules::Backout& b) {
  const std::string path = "backout.verify";
  Entries es = entries(e.value, e.key_pos, path, kVerifyKeys, "a map { hold, timeout, checks }");
  if (!is_null(e.value) && !e.value.IsMap()) {
    return;
  }
  const Entry* hold = find(es, "hold");
  const Entry* timeout = find(es, "timeout");
  bool times_ok = true;
  if (hold != nullptr) {
    auto d = duration(*hold, path + ".hold");
    times_ok = d.has_value();
    b.hold = d.value_or(b.hold);
  }
  if (timeout != nullptr) {
    auto d = duration(*timeout, path + ".timeout", std::chrono::seconds{1});
    times_ok = d.has_value() && times_ok;
    b.timeout = d.value_or(b.timeout);
  }
  if (times_ok && b.timeout <= b.hold) {
    if (timeout != nullptr) {
      error(value_pos(*timeout), path + ".timeout: " + format_duration(b.timeout) +
                                     " is not longer than hold (" + format_duration(b.hold) +
                                     (hold == nullptr ? " by default" : "") +
                                     "); the reversal would be declared incomplete before it "
                                     "could be verified; make timeout longer than hold");
    } else {
      error(value_pos(*hold), path + ".hold: " + format_duration(b.hold) +
                                  " is not shorter than timeout (30m by default); shorten hold "
                                  "or set a longer timeout");
    }
  }
  if (const Entry* x = find(es, "checks")) {
    load_verify_checks(*x, b);
  }
}

void Loader::load_verify_checks(const Entry& e, rules::Backout& b) {
  if (is_null(e.value)) {
    return;
  }
  if (!e.value.IsSequence()) {
    error(pos(e.value),
          "backout.verify.checks must be a list, each item starting with '- name: ...'");
    return;
  }
  for (std::size_t i = 0; i < e.value.size(); ++i) {
    const YAML::Node node = e.value[i];
    const std::string path = "backout.verify.checks[" + std::to_string(i + 1) + "]";
    const Pos where = pos(node);
    if (!node.IsMap()) {
      error(where, path + " must be a map with name, measure, when and optionally over");
      continue;
    }
    Entries es = entries(node, where, path, kVerifyCheckKeys, "a map");
    rules::MeasureCheck c;
    if (require(es, "name", where, path,
                "what is checked, in words; a failing check is named by it")) {
      if (auto s = scalar(*find(es, "name"), path + ".name", "text")) {
        c.name = *s;
      }
    }
    if (auto check = load_measure_check(es, where, path, std::move(c))) {
      b.checks.push_back(std::move(*check));
    }
  }
}

std::optional<rules::MeasureCheck> Loader::load_measure_check(const Entries& es, Pos where,
                                                              const std::string& path,
                                                              rules::MeasureCheck c) {
  bool ok = true;
  std::optional<rules::Measure> m;
  if (require(es, "measure", where, path, "what is measured, e.g. measure: value(db_version)")) {
    m = read_measure(*find(es, "measure"), path + ".measure");
    ok = m.has_value();
  } else {
    ok = false;
  }
  if (require(es, "when", where, path, "the condition under which it passes, e.g. when: \"> 0\"")) {
    const Entry& x = *find(es, "when");
    if (auto cond = read_condition(x, path + ".when")) {
      if (m) {
        check_condition(*m, *cond, x, path + ".when");
      }
      c.when = std::move(*cond);
    } else {
      ok = false;
    }
  } else {
    ok = false;
  }
  if (const Entry* x = find(es, "over")) {
    if (auto d = duration(*x, path + ".over", std::chrono::seconds{1})) {
      c.over = *d;
    } else {
      ok = false;
    }
  }
  if (!ok) {
    return std::nullopt;
  }
  c.measure = std::move(*m);
  return c;
}

}  // namespace backout::plan::detail
