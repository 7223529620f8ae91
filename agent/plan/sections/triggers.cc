// The plan file's `triggers` section: measure, window, levels (`when`), severity, `for`,
// `min_count`, `clear_after` and early detection, each checked against its sources.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <regex>
#include <string>

#include "backout/core/text.h"
#include "backout/rules/expression_parser.h"
#include "plan/loader.h"

namespace backout::plan::detail {

const KeyList kTriggerKeys = {"id",       "name", "measure",   "over",  "when",
                              "severity", "for",  "min_count", "early", "clear_after"};

void Loader::load_triggers(const Entry& e) {
  if (is_null(e.value) || (e.value.IsSequence() && e.value.size() == 0)) {
    error(e.key_pos, "triggers: no trigger; the plan would watch nothing");
    return;
  }
  if (!e.value.IsSequence()) {
    error(pos(e.value), "triggers must be a list, each item starting with '- id: ...'");
    return;
  }
  for (std::size_t i = 0; i < e.value.size(); ++i) {
    load_trigger(e.value[i], i);
  }
}

std::string Loader::trigger_path(const YAML::Node& node, std::size_t index) const {
  // Name the trigger by its id in every message about it (`triggers.error_rate.when`), also for
  // the key checks, which run before the id itself is validated.
  for (const auto& kv : node) {
    const YAML::Node key = kv.first;
    const YAML::Node value = kv.second;
    if (key.IsScalar() && key.Scalar() == "id" && !is_null(value) && value.IsScalar() &&
        is_identifier(value.Scalar()) && trigger_pos_.count(value.Scalar()) == 0) {
      return "triggers." + value.Scalar();
    }
  }
  return "triggers[" + std::to_string(index + 1) + "]";
}

bool Loader::load_trigger_id(const Entries& es, Pos where, const std::string& path,
                             rules::Trigger& t) {
  bool ok = true;
  if (const Entry* id = find(es, "id")) {
    if (auto s = scalar(*id, path + ".id", "an identifier such as login_failure_rate")) {
      if (!is_identifier(*s)) {
        error(value_pos(*id),
              path + ".id: '" + *s + "' is not an identifier ([A-Za-z_][A-Za-z0-9_]*)");
        ok = false;
      } else if (auto prev = trigger_pos_.find(*s); prev != trigger_pos_.end()) {
        error(value_pos(*id), path + ".id: duplicate trigger id '" + *s + "' (first at line " +
                                  std::to_string(prev->second.line) + ")");
        ok = false;
      } else {
        t.id = *s;
        trigger_pos_[*s] = value_pos(*id);
      }
    } else {
      ok = false;
    }
  } else {
    if (!was_offered(path, "id")) {
      error(where, path + ": missing 'id' (a short name such as login_failure_rate)");
    }
    ok = false;
  }
  return ok;
}

bool Loader::load_trigger_timing(const Entries& es, const std::string& path, rules::Trigger& t) {
  bool ok = true;
  t.name = t.id;
  if (const Entry* x = find(es, "name")) {
    if (auto s = scalar(*x, path + ".name", "text")) {
      t.name = *s;
    }
  }
  t.over = std::chrono::minutes{5};
  if (const Entry* x = find(es, "over")) {
    if (auto d = duration(*x, path + ".over", std::chrono::seconds{1})) {
      t.over = *d;
    } else {
      ok = false;
    }
  }
  if (const Entry* x = find(es, "for")) {
    if (auto d = duration(*x, path + ".for")) {
      t.for_duration = *d;
    } else {
      ok = false;
    }
  }
  t.clear_after = std::max<Duration>(t.for_duration, std::chrono::seconds{30});
  if (const Entry* x = find(es, "clear_after")) {
    if (auto d = duration(*x, path + ".clear_after")) {
      t.clear_after = *d;
    } else {
      ok = false;
    }
  }
  return ok;
}

bool Loader::load_trigger_measure(const Entries& es, Pos where, const std::string& path,
                                  rules::Trigger& t, bool& ok) {
  const Entry* measure = find(es, "measure");
  if (measure == nullptr) {
    if (!was_offered(path, "measure")) {
      error(where, path +
                       ": missing 'measure' (e.g. measure: ratio(portal.failed_total, "
                       "portal.requests_total))");
    }
    ok = false;
    return false;
  }
  auto m = read_measure(*measure, path + ".measure");
  if (!m) {
    ok = false;
    return false;
  }
  t.measure = std::move(*m);
  return true;
}

std::optional<rules::Measure> Loader::read_measure(const Entry& e, const std::string& path) {
  auto s = scalar(e, path, "a measure such as ratio(a, b) or p95(s)");
  if (!s) {
    return std::nullopt;
  }
  auto parsed = rules::parse_measure(*s);
  if (auto* err = std::get_if<rules::ParseError>(&parsed)) {
    error(inner_pos(e, err->pos), path + ": " + err->message);
    return std::nullopt;
  }
  rules::Measure m = std::get<rules::Measure>(std::move(parsed));
  // A measure on an unknown source or series is reported here but still returned: what depends
  // on its kind (the condition's unit) is checked too.
  check_measure(m, e, path);
  return m;
}

std::optional<rules::Condition> Loader::read_condition(const Entry& e, const std::string& path) {
  auto s = scalar(e, path, "a condition such as \"> 5%\"");
  if (!s) {
    return std::nullopt;
  }
  auto parsed = rules::parse_condition(*s);
  if (auto* err = std::get_if<rules::ParseError>(&parsed)) {
    error(inner_pos(e, err->pos), path + ": " + err->message);
    return std::nullopt;
  }
  return std::get<rules::Condition>(std::move(parsed));
}

bool Loader::load_trigger_levels(const Entries& es, Pos where, const std::string& path,
                                 bool measure_ok, rules::Trigger& t) {
  bool ok = true;
  // when + severity: either one condition and its `severity`, or a map severity -> condition.
  // Both halves are checked even when the other is wrong, so that every mistake is reported.
  const Entry* when = find(es, "when");
  const Entry* severity = find(es, "severity");
  const bool per_severity = when != nullptr && !is_null(when->value) && when->value.IsMap();
  std::optional<Severity> sev;
  if (when == nullptr) {
    if (!was_offered(path, "when")) {
      error(where, path + ": missing 'when' (the breach condition, e.g. when: \"> 5%\")");
    }
    ok = false;
  }
  if (!per_severity) {
    if (severity == nullptr) {
      if (!was_offered(path, "severity")) {
        error(where, path +
                         ": missing 'severity' (critical, major, minor or discretionary), "
                         "e.g. severity: major");
      }
      ok = false;
    } else if (auto sv = scalar(*severity, path + ".severity",
                                "critical, major, minor or discretionary")) {
      sev = rules::parse_severity(*sv);
      if (sev) {
        used_severities_.emplace_back(*sev, value_pos(*severity));
      } else {
        std::string msg = path + ".severity: '" + *sv + "' is not a severity";
        if (auto near = closest_match(*sv, {"critical", "major", "minor", "discretionary"})) {
          msg += "; did you mean '" + *near + "'?";
        } else {
          msg += "; use critical, major, minor or discretionary";
        }
        error(value_pos(*severity), msg);
        ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (per_severity) {
    if (severity != nullptr) {
      error(severity->key_pos, path +
                                   ".severity: with a 'when' per severity, the severities are "
                                   "its keys; remove 'severity'");
      ok = false;
    }
    Entries levels = entries(when->value, when->key_pos, path + ".when",
                             {"critical", "major", "discretionary", "minor"},
                             "a condition or a map severity: condition");
    if (levels.empty()) {
      error(when->key_pos, path +
                               ".when: no condition; e.g. when: { critical: \"> 25%\", "
                               "major: \"> 1%\" }");
      ok = false;
    }
    for (const Entry& l : levels) {
      rules::Level level;
      level.severity = *rules::parse_severity(l.key);
      auto c = read_condition(l, path + ".when." + l.key);
      if (!c) {
        ok = false;
        continue;
      }
      level.condition = std::move(*c);
      if (measure_ok) {
        check_condition(t.measure, level.condition, l, path + ".when." + l.key);
        check_breach_direction(t.measure, level.condition, l, path + ".when." + l.key);
      }
      used_severities_.emplace_back(level.severity, l.key_pos);
      t.levels.push_back(std::move(level));
    }
    std::stable_sort(
        t.levels.begin(), t.levels.end(),
        [](const rules::Level& a, const rules::Level& b) { return a.severity > b.severity; });
  } else if (when != nullptr) {
    if (auto c = read_condition(*when, path + ".when")) {
      rules::Level level;
      level.condition = std::move(*c);
      level.severity = sev.value_or(Severity::kMajor);
      if (measure_ok) {
        check_condition(t.measure, level.condition, *when, path + ".when");
        check_breach_direction(t.measure, level.condition, *when, path + ".when");
      }
      t.levels.push_back(std::move(level));
    } else {
      ok = false;
    }
  }
  return ok;
}

void Loader::load_trigger(const YAML::Node& node, std::size_t index) {
  Pos where = pos(node);
  if (!node.IsMap()) {
    error(where, "triggers[" + std::to_string(index + 1) +
                     "] must be a map with id, name, measure, over, when, severity, ...");
    return;
  }
  const std::string path = trigger_path(node, index);
  const std::size_t errors_before = diag_.error_count();
  Entries es = entries(node, where, path, kTriggerKeys, "a map");
  // An unknown or duplicate key (say `min_cout`) makes the advice below about missing keys noise.
  const bool keys_ok = diag_.error_count() == errors_before;
  rules::Trigger t;
  // Every part is read even when an earlier one is wrong, so that every mistake is reported.
  bool ok = load_trigger_id(es, where, path, t) && keys_ok;
  ok = load_trigger_timing(es, path, t) && ok;
  const bool measure_ok = load_trigger_measure(es, where, path, t, ok);
  ok = load_trigger_levels(es, where, path, measure_ok, t) && ok;
  if (const Entry* x = find(es, "min_count")) {
    if (auto n = integer(*x, path + ".min_count", 0, INT64_MAX)) {
      t.min_count = static_cast<std::uint64_t>(*n);
      anchor(path + ".min_count", x->key_pos);
    } else {
      ok = false;
    }
  }
  load_early(t, find(es, "early"), path);
  // Where lint() (the semantic warnings) shows what it finds about this trigger.
  anchor(path, where);
  if (const Entry* x = find(es, "measure")) {
    anchor(path + ".measure", x->key_pos);
  }
  if (const Entry* x = find(es, "when")) {
    anchor(path + ".when", x->key_pos);
  }
  if (const Entry* x = find(es, "for")) {
    anchor(path + ".for", x->key_pos);
  }
  if (ok && !t.levels.empty()) {
    plan_.triggers.push_back(std::move(t));
  }
}

void Loader::check_measure(const rules::Measure& m, const Entry& e, const std::string& path) {
  for (const rules::SeriesSelector& sel : m.args) {
    auto found = source_index_.find(sel.source);
    if (found == source_index_.end()) {
      if (source_ids_.size() != plan_.sources.size()) {
        source_ids_.clear();
        for (const auto& s : plan_.sources) {
          source_ids_.push_back(s.id);
        }
      }
      const std::vector<std::string>& ids = source_ids_;
      std::string msg = "unknown source '" + sel.source + "'";
      if (auto near = suggest(sel.source, ids)) {
        msg += "; did you mean '" + *near + "'?";
      } else if (!ids.empty()) {
        msg += "; sources are " + list_some(ids);
      }
      error(inner_pos(e, sel.pos), path + ": " + msg);
      continue;
    }
    const Source* src = &plan_.sources[found->second];
    for (const rules::LabelMatcher& lm : sel.matchers) {
      if (lm.op == rules::MatchOp::kRegex || lm.op == rules::MatchOp::kNotRegex) {
        try {
          std::regex re(lm.value, std::regex::ECMAScript);
        } catch (const std::regex_error& ex) {
          error(inner_pos(e, lm.pos),
                path + ": label regex \"" + lm.value + "\" does not compile: " + ex.what());
        }
      }
    }
    if (broken_sources_.count(sel.source) != 0) {
      continue;
    }
    const KindSpec* spec = kind_spec(src->kind);
    if (spec == nullptr) {
      continue;
    }
    bool probe_fn =
        m.kind == rules::MeasureKind::kFailures || m.kind == rules::MeasureKind::kAvailability;
    if (probe_fn) {
      if (!spec->has_up) {
        error(inner_pos(e, sel.pos), path + ": " + m.function +
                                         "() needs a source that is "
                                         "probed or scraped; '" +
                                         sel.source + "' is a " + src->kind +
                                         " source, which has no up/down outcome");
      }
      continue;
    }
    std::vector<std::string> series;
    bool any = true;
    if (spec->series) {
      if (auto list = spec->series(src->options)) {
        series = *list;
        any = false;
      }
    }
    if (spec->has_up) {
      for (const char* implied : {"up", "duration"}) {
        if (std::find(series.begin(), series.end(), implied) == series.end()) {
          series.emplace_back(implied);
        }
      }
    }
    if (!any && std::find(series.begin(), series.end(), sel.metric) == series.end()) {
      std::string msg =
          "source '" + sel.source + "' (" + src->kind + ") has no series '" + sel.metric + "'";
      if (auto near = suggest(sel.metric, series)) {
        msg += "; did you mean '" + *near + "'?";
      } else {
        msg += "; it has " + list_some(series);
      }
      error(inner_pos(e, sel.metric_pos), path + ": " + msg);
    }
  }
}

void Loader::check_condition(const rules::Measure& m, const rules::Condition& c, const Entry& e,
                             const std::string& path) {
  Pos p = inner_pos(e, 0);
  if (c.relative) {
    if (window_ok_ && plan_.window.baseline == Duration{0}) {
      error(p, path + ": '" + c.text +
                   "' compares with a baseline, but window.baseline is 0; "
                   "set window.baseline (e.g. 30m)");
    }
    return;
  }
  std::string fn = m.function + "()";
  if (m.is_fraction()) {
    if (c.unit != rules::ThresholdUnit::kPercent) {
      error(p, path + ": " + fn + " is a share; write the threshold as a percentage, e.g. \"" +
                   std::string(rules::to_string(c.op)) + " 5%\"");
    } else if (c.value > 1.0) {
      error(p, path + ": " + c.text + " can never be reached; a share is at most 100%");
    }
  } else if (m.is_latency()) {
    if (c.unit != rules::ThresholdUnit::kSeconds) {
      error(p, path + ": " + fn + " is a duration; give the threshold a time unit, e.g. \"" +
                   std::string(rules::to_string(c.op)) + " 10s\" or \"" +
                   std::string(rules::to_string(c.op)) + " 500ms\"");
    }
  } else if (m.kind != rules::MeasureKind::kValue) {
    if (c.unit != rules::ThresholdUnit::kNone) {
      std::string what = m.kind == rules::MeasureKind::kFailures ? "counts failed checks"
                         : m.kind == rules::MeasureKind::kRate   ? "is a rate per second"
                                                                 : "is a count";
      error(p, path + ": " + fn + " " + what + "; write a plain number, e.g. \"> 0\"");
    }
  }
}

void Loader::check_breach_direction(const rules::Measure& m, const rules::Condition& c,
                                    const Entry& e, const std::string& path) {
  if (c.relative) {
    return;
  }
  Pos p = inner_pos(e, 0);
  if (m.kind == rules::MeasureKind::kAvailability && c.upward()) {
    warning(p, path + ": availability " + c.text +
                   " fires when the source is up; did you mean \"< ...\"?");
  }
  if (m.kind == rules::MeasureKind::kFailures && !c.upward()) {
    warning(p, path + ": failures " + c.text +
                   " fires when there are few failures; did you mean \"> ...\"?");
  }
}

void Loader::load_early(rules::Trigger& t, const Entry* e, const std::string& path) {
  const rules::Measure& m = t.measure;
  // Eligible: ratio and availability in either direction (the CUSUM watches the share of the
  // bad outcome), pNN against an upper bound (the share of observations above it).
  auto eligible = [&]() {
    if (t.levels.empty()) {
      return false;
    }
    if (m.kind == rules::MeasureKind::kRatio || m.kind == rules::MeasureKind::kAvailability) {
      return true;
    }
    if (m.kind == rules::MeasureKind::kQuantile) {
      return std::all_of(t.levels.begin(), t.levels.end(),
                         [](const rules::Level& l) { return l.condition.upward(); });
    }
    return false;
  };
  t.early.enabled = eligible();
  if (e == nullptr) {
    return;
  }
  std::string epath = path + ".early";
  bool want = false;
  if (!is_null(e->value) && e->value.IsMap()) {
    Entries es = entries(e->value, e->key_pos, epath, {"shift"}, "on, off or { shift: N }");
    want = true;
    if (const Entry* s = find(es, "shift")) {
      auto text = scalar(*s, epath + ".shift", "a number above 1, e.g. 2");
      if (text) {
        char* end = nullptr;
        double v = std::strtod(text->c_str(), &end);
        if (end == text->c_str() || *end != '\0' || !(v > 1.0) || v > 100) {
          error(value_pos(*s), epath + ".shift: '" + *text +
                                   "' must be a number above 1 (the multiple of the threshold "
                                   "rate to detect, default 2)");
        } else {
          t.early.shift = v;
        }
      }
    }
  } else {
    auto b = boolean(*e, epath);
    if (!b) {
      return;
    }
    want = *b;
  }
  if (want && !eligible()) {
    error(e->key_pos, epath +
                          ": early detection works on ratio(), availability() and pNN() "
                          "with a '>' threshold; remove 'early' or set it to off");
    t.early.enabled = false;
    return;
  }
  t.early.enabled = want;
}

}  // namespace backout::plan::detail
