// The plan file's `preflight`, `preflight_at` and `after_backout` sections (DESIGN section 9):
// what must be true before the window opens (the template's Pre-Backout Requirements and Backup
// Details) and what is owed after a backout (its Post-Backout Actions). Read after `contacts`
// (owners are roles), `sources` (a check's measure reads them) and `backout` (item ids are
// unique across the plan: `done ID` names a preflight item, a step or an action alike).
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <string>

#include "backout/core/text.h"
#include "plan/loader.h"

namespace backout::plan::detail {

const KeyList kPreflightKeys = {"id", "name", "owner", "check"};
const KeyList kFileCheckKeys = {"file", "max_age", "min_bytes"};
const KeyList kPreflightMeasureKeys = {"measure", "when", "over"};
const KeyList kAfterBackoutKeys = {"id", "action", "owner", "within"};

namespace {

// "1", "512", "10MB", "1.5GiB": a size in bytes; nullopt if not one.
std::optional<std::uint64_t> parse_bytes(std::string_view s) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || v < 0) {
    return std::nullopt;
  }
  std::string unit(ptr, s.data() + s.size());
  while (!unit.empty() && unit.front() == ' ') {
    unit.erase(unit.begin());
  }
  static const std::pair<const char*, double> kUnits[] = {
      {"", 1},          {"B", 1},         {"KB", 1e3},      {"MB", 1e6},
      {"GB", 1e9},      {"TB", 1e12},     {"KiB", 1024.0},  {"MiB", 1048576.0},
      {"GiB", 1073741824.0}, {"TiB", 1099511627776.0}};
  for (const auto& [name, factor] : kUnits) {
    if (unit == name) {
      const double bytes = v * factor;
      if (bytes > 1.8e19) {
        return std::nullopt;
      }
      return static_cast<std::uint64_t>(bytes);
    }
  }
  return std::nullopt;
}

}  // namespace

// --- preflight --------------------------------------------------------------------------------

void Loader::load_preflight_at(const Entry& e) {
  if (auto d = duration(e, "preflight_at", std::chrono::seconds{0})) {
    plan_.preflight_at = *d;
    anchor("preflight_at", e.key_pos);
  }
}

void Loader::load_preflight(const Entry& e) {
  anchor("preflight", e.key_pos);
  if (is_null(e.value)) {
    return;
  }
  if (!e.value.IsSequence()) {
    error(pos(e.value), "preflight must be a list, each item starting with '- id: ...'");
    return;
  }
  for (std::size_t i = 0; i < e.value.size(); ++i) {
    const YAML::Node node = e.value[i];
    const Pos where = pos(node);
    if (!node.IsMap()) {
      error(where, "preflight[" + std::to_string(i + 1) +
                       "] must be a map with id, name, owner and optionally check");
      continue;
    }
    const std::string path = item_path(node, i, "preflight");
    const std::size_t errors_before = diag_.error_count();
    Entries es = entries(node, where, path, kPreflightKeys, "a map");
    rules::PreflightItem item;
    load_item_id(es, where, path, item.id);
    if (require(es, "name", where, path, "what must be true, e.g. name: Database backup complete")) {
      if (auto v = scalar(*find(es, "name"), path + ".name", "text")) {
        item.name = *v;
      }
    }
    if (require(es, "owner", where, path,
                "the role from contacts who answers for it (and confirms it when it has no "
                "check)")) {
      if (auto r = role(*find(es, "owner"), path + ".owner")) {
        item.owner = *r;
      }
    }
    if (const Entry* x = find(es, "check")) {
      load_preflight_check(*x, path + ".check", item);
    }
    if (diag_.error_count() == errors_before) {
      plan_.preflight.push_back(std::move(item));
    }
  }
}

void Loader::load_preflight_check(const Entry& e, const std::string& path,
                                  rules::PreflightItem& item) {
  if (is_null(e.value)) {
    error(e.key_pos, path +
                         ": empty; write { file: PATH } or { measure: M, when: C }, or leave "
                         "check out for an item its owner confirms");
    return;
  }
  if (!e.value.IsMap()) {
    error(pos(e.value), path + " must be a map: { file: PATH, max_age?, min_bytes? } or "
                               "{ measure: M, when: C, over? }");
    return;
  }
  const bool has_file = static_cast<bool>(e.value["file"]);
  const bool has_measure = static_cast<bool>(e.value["measure"]);
  if (has_file && has_measure) {
    error(e.key_pos, path +
                         ": both 'file' and 'measure'; a check is one of them, split the item "
                         "in two if both must hold");
    return;
  }
  if (!has_file && !has_measure) {
    // Let entries() name the typo ("unknown key 'fiel'; did you mean 'file'?").
    KeyList all = kFileCheckKeys;
    all.insert(all.end(), kPreflightMeasureKeys.begin(), kPreflightMeasureKeys.end());
    entries(e.value, e.key_pos, path, all, "a map");
    error(e.key_pos, path + ": needs 'file' (a backup on disk) or 'measure' and 'when' (in the "
                            "trigger language)");
    return;
  }
  if (has_measure) {
    Entries es = entries(e.value, e.key_pos, path, kPreflightMeasureKeys,
                         "a map { measure, when, over }");
    rules::MeasureCheck c;
    c.name = item.id;
    item.measure = load_measure_check(es, e.key_pos, path, std::move(c));
    return;
  }
  Entries es = entries(e.value, e.key_pos, path, kFileCheckKeys,
                       "a map { file, max_age, min_bytes }");
  rules::FileCheck f;
  bool ok = true;
  if (auto p = scalar(*find(es, "file"), path + ".file", "a path, e.g. /backup/db/portal")) {
    if (p->empty() || p->front() != '/') {
      error(value_pos(*find(es, "file")),
            path + ".file: '" + *p +
                "' is not an absolute path; the agent runs from / under systemd, so write "
                "the whole path, e.g. /backup/db/portal_20260607");
      ok = false;
    }
    f.path = *p;
  } else {
    ok = false;
  }
  if (const Entry* x = find(es, "max_age")) {
    if (auto d = duration(*x, path + ".max_age", std::chrono::seconds{1})) {
      f.max_age = *d;
    } else {
      ok = false;
    }
  }
  if (const Entry* x = find(es, "min_bytes")) {
    if (auto s = scalar(*x, path + ".min_bytes", "a size in bytes, e.g. 1 or 10MB")) {
      if (auto n = parse_bytes(*s)) {
        f.min_bytes = *n;
      } else {
        error(value_pos(*x), path + ".min_bytes: '" + *s +
                                 "' is not a size; write bytes (1048576) or with a unit "
                                 "(KB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. 10MB");
        ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (ok) {
    item.file = std::move(f);
  }
}

// --- after_backout ----------------------------------------------------------------------------

void Loader::load_after_backout(const Entry& e) {
  anchor("after_backout", e.key_pos);
  if (is_null(e.value)) {
    return;
  }
  if (!e.value.IsSequence()) {
    error(pos(e.value), "after_backout must be a list, each item starting with '- id: ...'");
    return;
  }
  for (std::size_t i = 0; i < e.value.size(); ++i) {
    const YAML::Node node = e.value[i];
    const Pos where = pos(node);
    if (!node.IsMap()) {
      error(where, "after_backout[" + std::to_string(i + 1) +
                       "] must be a map with id, action, owner and within");
      continue;
    }
    const std::string path = item_path(node, i, "after_backout");
    const std::size_t errors_before = diag_.error_count();
    Entries es = entries(node, where, path, kAfterBackoutKeys, "a map");
    rules::AfterBackoutItem item;
    load_item_id(es, where, path, item.id);
    if (require(es, "action", where, path, "what is owed, e.g. action: Schedule post-mortem")) {
      if (auto v = scalar(*find(es, "action"), path + ".action", "text")) {
        item.action = *v;
      }
    }
    if (require(es, "owner", where, path, "the role from contacts who owes it")) {
      if (auto r = role(*find(es, "owner"), path + ".owner")) {
        item.owner = *r;
      }
    }
    if (require(es, "within", where, path,
                "how long after the reversal is verified it is due, e.g. within: 30m "
                "(0s: at once)")) {
      if (auto d = duration(*find(es, "within"), path + ".within")) {
        item.within = *d;
      }
    }
    if (diag_.error_count() == errors_before) {
      plan_.after_backout.push_back(std::move(item));
    }
  }
}

// --- backout.data_at_risk ---------------------------------------------------------------------

void Loader::load_data_at_risk(const Entry& e, rules::Backout& b) {
  const std::string path = "backout.data_at_risk";
  Entries es = entries(e.value, e.key_pos, path, {"measure", "unit"},
                       "a map { measure, unit }, e.g. { measure: "
                       "increase(portal.portal_transactions_total), unit: transactions }");
  if (is_null(e.value) || !e.value.IsMap()) {
    if (is_null(e.value)) {
      error(e.key_pos, path + ": empty; write { measure: increase(COUNTER), unit: NOUN } or "
                              "leave it out");
    }
    return;
  }
  rules::DataAtRisk d;
  bool ok = true;
  if (require(es, "measure", e.key_pos, path,
              "the counter a restore discards, e.g. increase(portal.portal_transactions_total)")) {
    const Entry& x = *find(es, "measure");
    if (auto m = read_measure(x, path + ".measure")) {
      if (m->kind != rules::MeasureKind::kIncrease) {
        error(value_pos(x), path + ".measure: " + m->text() +
                                " is not a count; data at risk is what was written since "
                                "go-live, e.g. increase(portal.portal_transactions_total)");
        ok = false;
      } else {
        d.measure = std::move(*m);
      }
    } else {
      ok = false;
    }
  } else {
    ok = false;
  }
  if (require(es, "unit", e.key_pos, path, "what is counted, in the plural, e.g. transactions")) {
    if (auto u = scalar(*find(es, "unit"), path + ".unit", "a plural noun, e.g. transactions")) {
      d.unit = *u;
    } else {
      ok = false;
    }
  } else {
    ok = false;
  }
  if (ok) {
    b.data_at_risk = std::move(d);
  }
}

}  // namespace backout::plan::detail
