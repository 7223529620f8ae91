#include "plan/plan_summary.h"

#include <algorithm>
#include <sstream>

#include "backout/core/text.h"

namespace backout::plan {
namespace {

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) {
    s.append(width - s.size(), ' ');
  }
  return s;
}

// `url http://127.0.0.1:9093, routing_key from $PD_KEY`: the options (string values) and where
// each secret comes from, never a secret itself.
std::string describe_options(const KindOptions& o) {
  std::vector<std::string> parts;
  for (const auto& [name, value] : o.values()) {
    if (const auto* s = std::get_if<std::string>(&value)) {
      parts.push_back(name + " " + *s);
    }
  }
  for (const auto& [base, ref] : o.secrets()) {
    parts.push_back(base + " from " + ref.describe());
  }
  return join(parts, ", ");
}

std::string person(const rules::Plan& plan, const std::string& role) {
  const rules::Contact* c = plan.contact(role);
  if (c == nullptr) {
    return role;
  }
  std::string out = c->role_title();
  if (!c->name.empty() && c->name != out) {
    out += " " + c->name;
  }
  return out + " (" + c->chat + ")";
}

std::string source_target(const Source& s) {
  for (const char* key : {"url", "address", "path", "statsd_listen"}) {
    if (s.options.has(key)) {
      return s.options.string(key);
    }
  }
  if (auto dsn = s.options.secret("dsn")) {
    return "dsn from " + dsn->describe();
  }
  return "";
}

std::string or_none(const std::vector<std::string>& ids) {
  return ids.empty() ? std::string("none") : join(ids, ", ");
}

// "1h42m: 2m more than window.backout_duration (1h40m), ...": the procedure against the time
// the point of no return is computed from.
std::string steps_total(const rules::Backout& b, const rules::Window& w) {
  const Duration planned = b.planned();
  std::string out = "total " + format_duration(planned);
  if (planned == w.backout_duration) {
    return out + ", as window.backout_duration";
  }
  const bool more = planned > w.backout_duration;
  const Duration diff = more ? planned - w.backout_duration : w.backout_duration - planned;
  return out + ": " + format_duration(diff) + (more ? " more" : " less") +
         " than window.backout_duration (" + format_duration(w.backout_duration) +
         "), from which the point of no return is computed";
}

void summarize_deployment(const rules::Plan& plan, std::ostream& out) {
  const rules::Deployment& d = *plan.deployment;
  const rules::Window& w = plan.window;
  out << "\n" << pad("Deployment", 20) << format_duration(d.duration)
      << " from the start: go-live planned at "
      << format_clock(w.start.at + d.duration, w.offset()) << "\n";
  out << "  expected outages: " << or_none(d.expect_outage) << "\n";
}

void summarize_backout(const rules::Plan& plan, std::ostream& out) {
  const rules::Backout& b = *plan.backout;
  out << "\nBackout procedure (" << b.steps.size() << (b.steps.size() == 1 ? " step" : " steps")
      << ")\n";
  std::size_t id_width = 0;
  for (const rules::BackoutStep& s : b.steps) {
    id_width = std::max(id_width, s.id.size());
  }
  // "  10. resume_traffic    5m  Resume traffic": number, id, duration, then the action, under
  // which the owner, verification and check follow.
  auto right = [](const std::string& v, std::size_t width) {
    return std::string(v.size() < width ? width - v.size() : 0, ' ') + v;
  };
  const std::string indent(4 + 2 + id_width + 2 + 5 + 2, ' ');
  for (std::size_t i = 0; i < b.steps.size(); ++i) {
    const rules::BackoutStep& s = b.steps[i];
    out << right(std::to_string(i + 1), 4) << ". " << pad(s.id, id_width + 2)
        << right(format_duration(s.duration), 5) << "  " << s.action << "\n";
    out << indent << "owner: " << person(plan, s.owner);
    if (!s.verify.empty()) {
      out << "; verify: " << s.verify;
    }
    out << "\n";
    if (s.check) {
      out << indent << "check: " << describe_check(*s.check) << "\n";
    }
  }
  out << "  " << steps_total(b, plan.window) << "\n";
  out << "  expected outages while the steps run: " << or_none(b.expect_outage) << "\n";
  if (b.data_at_risk) {
    out << "  data at risk, told in every BACKOUT page: " << b.data_at_risk->unit << " since go-live, "
        << b.data_at_risk->measure.text() << "\n";
  }
  out << "  reversal verified when every check holds and no trigger is breached for "
      << format_duration(b.hold) << "; incomplete if not after " << format_duration(b.timeout)
      << "\n";
  for (const rules::MeasureCheck& c : b.checks) {
    out << "    " << c.name << ": " << describe_check(c) << "\n";
  }
}

void summarize_preflight(const rules::Plan& plan, std::ostream& out) {
  const rules::Window& w = plan.window;
  out << "\nPreflight (" << plan.preflight.size()
      << (plan.preflight.size() == 1 ? " item" : " items") << "): summary at "
      << format_clock(w.start.at - plan.preflight_at, w.offset()) << " ("
      << format_duration(plan.preflight_at) << " before the start)\n";
  std::size_t id_width = 0;
  for (const rules::PreflightItem& p : plan.preflight) {
    id_width = std::max(id_width, p.id.size());
  }
  const std::string indent(2 + id_width + 2, ' ');
  for (const rules::PreflightItem& p : plan.preflight) {
    out << "  " << pad(p.id, id_width + 2) << p.name << "\n";
    out << indent << "owner: " << person(plan, p.owner) << "; ";
    if (p.file) {
      out << describe_file_check(*p.file);
    } else if (p.measure) {
      out << "check: " << describe_check(*p.measure);
    } else {
      out << "confirmed by its owner (done " << p.id << ")";
    }
    out << "\n";
  }
}

void summarize_after_backout(const rules::Plan& plan, std::ostream& out) {
  out << "\nAfter a backout (" << plan.after_backout.size()
      << (plan.after_backout.size() == 1 ? " action" : " actions")
      << "), due from the reversal verified\n";
  std::size_t id_width = 0;
  for (const rules::AfterBackoutItem& a : plan.after_backout) {
    id_width = std::max(id_width, a.id.size());
  }
  for (const rules::AfterBackoutItem& a : plan.after_backout) {
    const std::string due =
        a.within == Duration{0} ? std::string("at once") : "within " + format_duration(a.within);
    out << "  " << pad(a.id, id_width + 2) << pad(due, 12) << a.action << "; owner: "
        << person(plan, a.owner) << "\n";
  }
}

}  // namespace

std::string format_bytes(std::uint64_t bytes) {
  static const char* kUnits[] = {"KB", "MB", "GB", "TB", "PB"};
  if (bytes < 1000) {
    return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
  }
  double v = static_cast<double>(bytes);
  std::size_t u = 0;
  v /= 1000;
  while (v >= 1000 && u + 1 < std::size(kUnits)) {
    v /= 1000;
    ++u;
  }
  return format_number(v, 3) + " " + kUnits[u];
}

std::string describe_file_check(const rules::FileCheck& f) {
  std::string out = "file " + f.path;
  if (f.max_age) {
    out += ", at most " + format_duration(*f.max_age) + " old";
  }
  if (f.min_bytes) {
    out += ", at least " + format_bytes(*f.min_bytes);
  }
  return out;
}

std::string describe_check(const rules::MeasureCheck& c) {
  std::string out = c.measure.text() + " " + c.when.text;
  if (c.measure.kind != rules::MeasureKind::kValue) {
    out += " over " + format_duration(c.over);
  }
  return out;
}

std::string describe_level(const rules::Trigger& t, const rules::Level& level) {
  std::string out = t.measure.text() + " " + level.condition.text;
  if (t.measure.kind != rules::MeasureKind::kValue) {
    out += " over " + format_duration(t.over);
  }
  if (t.for_duration > Duration{0}) {
    out += ", for " + format_duration(t.for_duration);
  }
  if (t.min_count > 0) {
    out += ", min " + std::to_string(t.min_count) + " observations";
  }
  if (t.early.enabled) {
    out += ", early detection";
    if (t.early.shift != 2.0) {
      out += " (shift " + format_number(t.early.shift) + ")";
    }
  }
  return out;
}

std::string summarize(const rules::Plan& plan) {
  std::ostringstream out;
  const rules::Window& w = plan.window;
  const auto off = w.offset();
  const rules::PlanHeader& h = plan.header;
  out << "Plan " << plan.path << " is valid.\n";
  out << "  " << h.project << ", release " << h.release;
  std::vector<std::string> meta;
  if (!h.revision.empty()) {
    meta.push_back("revision " + h.revision);
  }
  meta.push_back(h.approved ? "approved" : "DRAFT (run needs --allow-draft)");
  if (!h.owner.empty()) {
    meta.push_back("owner " + h.owner);
  }
  out << " (" << join(meta, ", ") << ")\n\n";

  std::string start_day = format_rfc3339(w.start.at, off).substr(0, 10);
  std::string end_day = format_rfc3339(w.end.at, off).substr(0, 10);
  out << pad("Window", 20) << start_day << " " << format_clock(w.start.at, off) << " to "
      << (end_day == start_day ? "" : end_day + " ") << format_clock(w.end.at, off) << " ("
      << format_offset(off) << "), " << format_duration(w.length()) << "\n";
  out << pad("Backout takes", 20) << format_duration(w.backout_duration) << "\n";
  const TimePoint pnr = w.point_of_no_return();
  out << pad("Point of no return", 20) << format_clock(pnr, off) << " (" << format_rfc3339(pnr, off)
      << "): the last moment a backout can start and finish by "
      << format_clock(w.end.at, off) << "\n";
  if (w.warn_before_pnr > Duration{0}) {
    out << pad("Warning", 20) << format_clock(pnr - w.warn_before_pnr, off) << " ("
        << format_duration(w.warn_before_pnr)
        << " before the point of no return, if a major breach is open)\n";
  }
  if (w.baseline > Duration{0}) {
    out << pad("Baseline", 20) << format_clock(w.start.at - w.baseline, off) << " to "
        << format_clock(w.start.at, off) << " (" << format_duration(w.baseline)
        << " before the start)\n";
  }

  out << "\nTriggers (" << plan.triggers.size() << ")\n";
  std::size_t id_width = 0;
  for (const auto& t : plan.triggers) {
    id_width = std::max(id_width, t.id.size());
  }
  for (const auto& t : plan.triggers) {
    out << "  " << pad(t.id, id_width + 2) << t.name << "\n";
    for (const auto& level : t.levels) {
      out << "  " << pad("", id_width + 2) << pad(std::string(rules::to_string(level.severity)), 15)
          << describe_level(t, level) << "\n";
    }
  }

  out << "\nDecision authority\n";
  for (rules::Severity s : {rules::Severity::kCritical, rules::Severity::kMajor,
                            rules::Severity::kDiscretionary}) {
    const rules::Authority* a = plan.authority_for(s);
    if (a == nullptr) {
      continue;
    }
    out << "  " << pad(std::string(rules::to_string(s)), 15) << "decides: " << person(plan, a->decides)
        << "\n";
    if (!a->notify.empty()) {
      std::vector<std::string> told;
      for (const auto& r : a->notify) {
        told.push_back(person(plan, r));
      }
      out << "  " << pad("", 15) << "told:    " << join(told, ", ") << "\n";
    }
    if (a->ack_within) {
      out << "  " << pad("", 15) << "ack within " << format_duration(*a->ack_within);
      if (a->escalate_to) {
        out << ", else page " << person(plan, *a->escalate_to);
      }
      out << "\n";
    }
  }
  out << "  " << pad("minor", 15) << "logged and posted to chat; nobody is paged\n";

  if (!plan.preflight.empty()) {
    summarize_preflight(plan, out);
  }
  if (plan.deployment) {
    summarize_deployment(plan, out);
  }
  if (plan.backout) {
    summarize_backout(plan, out);
  }
  if (!plan.after_backout.empty()) {
    summarize_after_backout(plan, out);
  }

  out << "\nSources (" << plan.sources.size() << ")\n";
  std::size_t src_width = 0;
  for (const auto& s : plan.sources) {
    src_width = std::max(src_width, s.id.size());
  }
  for (const auto& s : plan.sources) {
    out << "  " << pad(s.id, src_width + 2) << pad(s.kind, 12) << source_target(s);
    if (s.options.has("every")) {
      out << ", every " << format_duration(s.options.duration("every"));
    }
    out << "\n";
  }

  out << "\nNotify\n";
  const rules::Notify& n = plan.notify;
  for (const rules::Channel& ch : n.channels) {
    out << "  " << pad(ch.name, 14) << ch.kind << ": " << describe_options(ch.options) << "\n";
  }
  out << "  unacknowledged pages repeat every " << format_duration(n.repeat_every)
      << "; breaches within " << format_duration(n.group_wait) << " go out together\n";
  out << "  a trigger that cannot be judged for " << format_duration(n.blind_after)
      << " while deploying or in the window is reported to its decider\n";

  out << "\nServer " << plan.server.host << ":" << plan.server.port;
  if (plan.server.token) {
    out << ", POSTs need the token from " << plan.server.token->describe();
  } else {
    out << ", POST endpoints disabled (no token)";
  }
  out << "\nState  " << plan.state_dir << "\n";
  return out.str();
}

}  // namespace backout::plan
