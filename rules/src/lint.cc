#include "backout/rules/lint.h"

#include <string_view>

#include "backout/core/time.h"

namespace backout::rules {
namespace {

void lint_window(const Window& w, std::vector<LintFinding>& out) {
  if (w.end.offset != w.start.offset) {
    out.push_back({"window.end", "window.end: its UTC offset " + format_offset(w.end.offset) +
                                     " differs from window.start's " +
                                     format_offset(w.start.offset) +
                                     "; times are shown in the start's offset"});
  }
  if (w.point_of_no_return() - w.warn_before_pnr < w.start.at) {
    out.push_back({"window.warn_before_point_of_no_return",
                   "window.warn_before_point_of_no_return: " + format_duration(w.warn_before_pnr) +
                       " before the point of no return is before the window starts; the "
                       "warning will come as soon as a major breach opens"});
  }
}

void lint_authority(const Authority& a, std::vector<LintFinding>& out) {
  const std::string path = "authority." + std::string(to_string(a.severity));
  if (a.ack_within && !a.escalate_to && a.severity != Severity::kDiscretionary) {
    out.push_back({path + ".ack_within",
                   path + ": ack_within without escalate_to: an unacknowledged page is repeated "
                          "but nobody else is paged"});
  }
  if (a.escalate_to && *a.escalate_to == a.decides) {
    out.push_back(
        {path + ".escalate_to", path + ".escalate_to: escalates to the deciding role itself"});
  }
}

// Levels of a multi-level `when` that can never apply: a higher severity is checked first, so a
// lower one whose threshold is at or beyond it (same direction) is always met after it.
void lint_levels(const Trigger& t, const std::string& path, std::vector<LintFinding>& out) {
  for (std::size_t i = 0; i + 1 < t.levels.size(); ++i) {
    const Level& hi = t.levels[i];
    for (std::size_t j = i + 1; j < t.levels.size(); ++j) {
      const Level& lo = t.levels[j];
      if (hi.condition.relative || lo.condition.relative ||
          hi.condition.upward() != lo.condition.upward()) {
        continue;
      }
      const bool shadowed = hi.condition.upward() ? lo.condition.value >= hi.condition.value
                                                  : lo.condition.value <= hi.condition.value;
      if (shadowed) {
        out.push_back({path + ".when",
                       path + ".when: " + std::string(to_string(lo.severity)) + " (" +
                           lo.condition.text +
                           ") can never apply: " + std::string(to_string(hi.severity)) + " (" +
                           hi.condition.text + ") is checked first and is met before it"});
      }
    }
  }
}

void lint_trigger(const Trigger& t, const Window* w, std::vector<LintFinding>& out) {
  const std::string path = "triggers." + t.id;
  if (t.min_count > 0 && !t.measure.has_count()) {
    out.push_back({path + ".min_count", path + ".min_count: " + t.measure.function +
                                            "() has no count of observations; min_count has "
                                            "no effect"});
  }
  if (t.min_count == 0 && t.measure.kind == MeasureKind::kRatio) {
    out.push_back({path + ".measure",
                   path + ": ratio() without min_count: one failure out of one attempt is "
                          "100%; set min_count (e.g. 50) so that a quiet minute cannot trigger "
                          "a backout"});
  }
  lint_levels(t, path, out);
  if (t.for_duration > t.over) {
    out.push_back({path + ".for", path + ".for: " + format_duration(t.for_duration) +
                                      " is longer than over (" + format_duration(t.over) +
                                      "); the breach must outlast its own window"});
  }
  if (t.measure.kind == MeasureKind::kValue || w == nullptr) {
    return;  // an instant reading has no window to fill; an unknown window cannot be judged
  }
  const Duration to_pnr = w->point_of_no_return() - w->start.at;
  if (t.over + t.for_duration > to_pnr) {
    out.push_back({path, path + ": over (" + format_duration(t.over) + ") plus for (" +
                             format_duration(t.for_duration) + ") is longer than the " +
                             format_duration(to_pnr) +
                             " from the window start to the point of no return; a fault that "
                             "starts with the window is confirmed only after that point"});
  }
  if (t.relative() && w->baseline > Duration{0} && t.over > w->baseline) {
    out.push_back({path, path + ": its window (over: " + format_duration(t.over) +
                             ") is longer than window.baseline (" + format_duration(w->baseline) +
                             "); the baseline is measured over the shorter period"});
  }
}

// The procedure's planned steps against the window's backout_duration: the point of no return is
// computed from backout_duration, so steps that take longer leave the backout finishing after
// the window's end (and shorter ones leave time unused).
void lint_backout(const Backout& b, const Window& w, std::vector<LintFinding>& out) {
  const Duration planned = b.planned();
  if (b.steps.empty() || planned == w.backout_duration) {
    return;
  }
  out.push_back({"backout.steps", "backout.steps: the steps add up to " + format_duration(planned) +
                                      " but window.backout_duration is " +
                                      format_duration(w.backout_duration) +
                                      " (the point of no return is computed from "
                                      "backout_duration)"});
}

bool loopback(std::string_view host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.starts_with("127.");
}

}  // namespace

std::vector<LintFinding> lint(const Plan& plan, bool window_known) {
  std::vector<LintFinding> out;
  const Window* window = window_known ? &plan.window : nullptr;
  if (window != nullptr) {
    lint_window(*window, out);
  }
  for (const auto& [severity, a] : plan.authority) {
    lint_authority(a, out);
  }
  for (const Trigger& t : plan.triggers) {
    lint_trigger(t, window, out);
  }
  if (plan.backout && window != nullptr) {
    lint_backout(*plan.backout, *window, out);
  }
  if (plan.notify.group_wait > std::chrono::seconds{30}) {
    out.push_back(
        {"notify.group_wait", "notify.group_wait: " + format_duration(plan.notify.group_wait) +
                                  " delays every page by as much; a few seconds is "
                                  "usual"});
  }
  if (!loopback(plan.server.host)) {
    const bool v6 = plan.server.host.find(':') != std::string::npos;
    const std::string addr = (v6 ? "[" + plan.server.host + "]" : plan.server.host) + ":" +
                             std::to_string(plan.server.port);
    out.push_back({"server.listen", "server.listen: " + addr +
                                        " is reachable from other hosts; the dashboard and "
                                        "status are readable without a token, so keep it behind "
                                        "a firewall"});
  }
  return out;
}

}  // namespace backout::rules
