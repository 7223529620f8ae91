#include "plan/plan_loader.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "backout/rules/lint.h"
#include "plan/loader.h"

namespace backout::plan {
namespace {
constexpr std::size_t kMaxPlanBytes = 4 << 20;
}  // namespace

namespace detail {

// --- top level ------------------------------------------------------------------------------

const KeyList kTopKeys = {"version",      "plan",       "window",    "contacts",
                          "authority",    "sources",    "triggers",  "preflight_at",
                          "preflight",    "deployment", "backout",   "after_backout",
                          "notify",       "server",     "state_dir"};

LoadResult Loader::run() {
  LoadResult result;
  if (text_.size() > kMaxPlanBytes) {
    error({1, 1},
          "the plan is " + std::to_string(text_.size()) + " bytes; plans are limited to 4 MiB");
  }
  int deep_line = 0;
  if (!diag_.has_errors() && nesting_too_deep(text_, &deep_line)) {
    error({deep_line, 1}, "the plan nests more than " + std::to_string(kMaxNesting) +
                              " levels deep; a backout plan needs a handful");
  }
  YAML::Node root;
  if (!diag_.has_errors()) {
    try {
      root = YAML::Load(std::string(text_));
    } catch (const YAML::DeepRecursion& e) {
      // yaml-cpp's own guard ("bad file"), for nesting the scan above did not see.
      error({std::max(e.mark.line, 0) + 1, std::max(e.mark.column, 0) + 1},
            "the plan nests too deeply (" + std::to_string(e.depth()) +
                " levels); a backout plan needs a handful");
    } catch (const YAML::Exception& e) {
      std::string msg = "YAML syntax: " + e.msg;
      // `when: > 5%` starts a YAML folded block; the fix is quoting.
      std::size_t line_start = 0;
      for (int l = 0; l < e.mark.line && line_start != std::string_view::npos; ++l) {
        line_start = text_.find('\n', line_start);
        if (line_start != std::string_view::npos) {
          ++line_start;
        }
      }
      if (line_start != std::string_view::npos && line_start < text_.size()) {
        std::string_view line = text_.substr(line_start);
        line = line.substr(0, line.find('\n'));
        // yaml-cpp's messages name the grammar rule; add what to change in the plan.
        if (line.find(": >") != std::string_view::npos ||
            line.find(": <") != std::string_view::npos ||
            line.find(": |") != std::string_view::npos) {
          msg += "; quote conditions that start with > or <, e.g. when: \"> 5%\"";
        } else if (line.find('\t') != std::string_view::npos) {
          msg += "; YAML does not allow tabs for indentation, use spaces";
        } else if (e.msg.find("flow not found") != std::string::npos) {
          msg += "; a '{' or '[' opened on this line or above is not closed";
        } else if (e.msg.find("anchor") != std::string::npos) {
          msg +=
              "; a value starting with * names an anchor (&name); quote it if it is text, "
              "e.g. \"*mike\"";
        } else if (e.msg.find("illegal map value") != std::string::npos) {
          msg +=
              "; quote a value that contains ': ' (e.g. owner: \"PM: John Smith\"), or check "
              "the indentation";
        } else {
          msg += "; check the indentation and quote values that contain ': ' or ' #'";
        }
      }
      error({std::max(e.mark.line, 0) + 1, std::max(e.mark.column, 0) + 1}, msg);
    } catch (const std::exception& e) {
      error({1, 1}, std::string("YAML: ") + e.what());
    }
  }
  if (!diag_.has_errors()) {
    try {
      if (is_null(root)) {
        error({1, 1}, "the plan is empty; start from deploy/examples/customer-portal-2.0.yaml");
      } else if (!root.IsMap()) {
        error(pos(root), "the plan must be a YAML map with the keys " + list_keys(kTopKeys));
      } else {
        Entries top = entries(root, {1, 1}, "plan file", kTopKeys, "a map");
        // Order matters: contacts before authority, sources before triggers, window before
        // triggers (their warnings use the point of no return), contacts and triggers before
        // the night's sections (owners are roles, expect_outage names triggers, checks measure).
        if (const Entry* v = find(top, "version")) {
          if (auto n = integer(*v, "version", 0, INT32_MAX, "a whole number; write version: 1")) {
            if (*n != 1) {
              error(value_pos(*v),
                    "version: this agent reads plan version 1, not " + std::to_string(*n));
            }
          }
        } else {
          error({1, 1}, "missing 'version: 1' at the top of the plan (the schema version)");
        }
        if (const Entry* e = find(top, "plan")) {
          load_plan_header(*e);
        } else {
          error({1, 1}, "missing 'plan' (project, release, owner, revision, status)");
        }
        if (const Entry* e = find(top, "window")) {
          load_window(*e);
        } else {
          error({1, 1}, "missing 'window' (start, end, backout_duration)");
        }
        if (const Entry* e = find(top, "contacts")) {
          load_contacts(*e);
        } else {
          error({1, 1}, "missing 'contacts' (role: {name, chat, phone, availability})");
        }
        if (const Entry* e = find(top, "sources")) {
          load_sources(*e);
        } else {
          error({1, 1}, "missing 'sources' (where the signals come from)");
        }
        if (const Entry* e = find(top, "triggers")) {
          load_triggers(*e);
        } else {
          error({1, 1}, "missing 'triggers' (what is measured and when it is a breach)");
        }
        if (const Entry* e = find(top, "preflight_at")) {
          load_preflight_at(*e);
        }
        if (const Entry* e = find(top, "preflight")) {
          load_preflight(*e);
        }
        if (const Entry* e = find(top, "deployment")) {
          load_deployment(*e);
        }
        if (const Entry* e = find(top, "backout")) {
          load_backout(*e);
        }
        if (const Entry* e = find(top, "after_backout")) {
          load_after_backout(*e);
        }
        if (const Entry* e = find(top, "authority")) {
          load_authority(*e);
        } else {
          error({1, 1}, "missing 'authority' (who decides each severity and who is told)");
        }
        if (const Entry* e = find(top, "notify")) {
          load_notify(*e);
        } else {
          error({1, 1}, "missing 'notify' (the chat channel pages go to)");
        }
        if (const Entry* e = find(top, "server")) {
          load_server(*e);
        } else {
          warning({1, 1},
                  "no 'server': the API listens on 127.0.0.1:9750 and its POST "
                  "endpoints (ack, fix-forward, decision, raise) are disabled without "
                  "server.token_env");
        }
        plan_.state_dir = "/var/lib/backout-agent";
        if (const Entry* e = find(top, "state_dir")) {
          if (auto s = scalar(*e, "state_dir", "a directory path")) {
            plan_.state_dir = *s;
          }
        }
        cross_checks(top);
        lint();
      }
    } catch (const YAML::Exception& e) {
      // yaml-cpp throws on some malformed nodes; report, never crash.
      error({std::max(e.mark.line, 0) + 1, std::max(e.mark.column, 0) + 1}, "YAML: " + e.msg);
    }
  }
  result.diagnostics = diag_.sorted();
  if (!diag_.has_errors()) {
    plan_.path = path_;
    result.plan = std::move(plan_);
  }
  return result;
}

void Loader::cross_checks(const Entries& top) {
  // Every severity used by a trigger needs a decider.
  for (const auto& [sev, p] : used_severities_) {
    if (sev == Severity::kMinor) {
      continue;
    }
    // A written but broken entry has its own errors; only a missing one is reported here.
    if (authority_written_.count(sev) == 0 && find(top, "authority") != nullptr &&
        sev == Severity::kDiscretionary) {
      error(p,
            "severity discretionary is used but authority has no 'discretionary' entry; add "
            "authority.discretionary: { decides: sponsor }");
    }
  }
  // Roles that are paged must have a chat handle (checked in contacts); contacts nobody uses are
  // fine (they are the plan's phone list).
}

void Loader::lint() {
  // What could be read of a plan with errors is linted too (its broken triggers and authority
  // entries are not in plan_), so that one `check` shows errors and warnings together.
  for (const rules::LintFinding& f : rules::lint(plan_, window_ok_)) {
    // The key's own position, else the nearest enclosing key's (`triggers.x` for
    // `triggers.x.measure`), else the top of the file.
    Pos p;
    for (std::string key = f.key; !key.empty();) {
      if (auto it = anchors_.find(key); it != anchors_.end()) {
        p = it->second;
        break;
      }
      const std::size_t dot = key.rfind('.');
      key = dot == std::string::npos ? "" : key.substr(0, dot);
    }
    warning(p, f.message);
  }
}

}  // namespace detail

std::size_t LoadResult::errors() const {
  return static_cast<std::size_t>(std::count_if(diagnostics.begin(), diagnostics.end(),
                                                [](const Diagnostic& d) { return d.is_error(); }));
}

std::size_t LoadResult::warnings() const { return diagnostics.size() - errors(); }

LoadResult load_plan_text(std::string_view text, const std::string& path,
                          const KindCatalog& kinds) {
  detail::Loader loader(text, path, kinds);
  return loader.run();
}

LoadResult load_plan_file(const std::string& path, const KindCatalog& kinds) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r;
    r.diagnostics.push_back({Diagnostic::Level::kError, path, 1, 1,
                             "cannot read the plan file: " + std::string(std::strerror(errno))});
    return r;
  }
  std::ostringstream ss;
  char buf[65536];
  std::size_t total = 0;
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    total += static_cast<std::size_t>(in.gcount());
    if (total > kMaxPlanBytes + 1) {
      break;
    }
    ss.write(buf, in.gcount());
  }
  return load_plan_text(ss.str(), path, kinds);
}

}  // namespace backout::plan