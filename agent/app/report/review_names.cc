#include "app/report/review_names.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "backout/core/text.h"
#include "backout/rules/measure.h"
#include "backout/rules/severity.h"

namespace backout::agent::report {

int severity_rank(const std::string& severity) {
  auto sev = rules::parse_severity(severity);
  return sev ? static_cast<int>(*sev) : -1;
}

std::string headline(std::string_view recommendation) {
  static const std::map<std::string_view, std::string> headlines = {
      {"backout", "BACKOUT"}, {"fix_forward", "FIX-FORWARD"}, {"watch", "WATCH"}, {"go", "GO"}};
  auto it = headlines.find(recommendation);
  return it != headlines.end() ? it->second : std::string(recommendation);
}

std::string page_title(std::string_view kind) {
  static const std::map<std::string_view, std::string> titles = {
      {"breach", "breach"},
      {"severity_up", "severity raised"},
      {"repeat", "repeat"},
      {"escalation", "escalation"},
      {"pnr_warning", "point-of-no-return warning"},
      {"eta_passed", "fix-forward ETA passed"},
      {"resolve", "resolved"},
      {"final", "final message"}};
  auto it = titles.find(kind);
  return it != titles.end() ? it->second : std::string(kind);
}

// The page kinds of the paging policy (rules::PageKind but `act`): the prefixes of the outbox
// keys of pages.
bool is_page_kind(std::string_view kind) {
  static const std::set<std::string_view> kinds = {"breach",     "severity_up", "repeat",
                                                   "escalation", "pnr_warning", "eta_passed",
                                                   "resolve",    "final"};
  return kinds.count(kind) != 0;
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string Names::span(Duration d) { return format_span(d); }

const rules::Contact* Names::contact_of(const std::string& by) const {
  if (plan_ == nullptr || by.empty()) {
    return nullptr;
  }
  for (const rules::Contact& c : plan_->contacts) {
    if ((!c.chat.empty() && (iequal(c.chat, by) || iequal(c.chat, "@" + by))) ||
        (!c.name.empty() && iequal(c.name, by)) || iequal(c.role, by)) {
      return &c;
    }
  }
  return nullptr;
}

std::string Names::contact_text(const rules::Contact& c) {
  std::string out = c.name.empty() ? c.role_title() : c.name;
  out += " (" + c.role_title();
  if (!c.chat.empty()) {
    out += ", " + c.chat;
  }
  return out + ")";
}

std::string Names::who(const std::string& by) const {
  if (by.empty()) {
    return "(not given)";
  }
  if (const rules::Contact* c = contact_of(by)) {
    return contact_text(*c);
  }
  return by;
}

std::string Names::role_who(const std::string& role) const {
  if (plan_ != nullptr) {
    if (const rules::Contact* c = plan_->contact(role)) {
      return contact_text(*c);
    }
  }
  // "deployment_lead" -> "Deployment Lead", as the plan's own contacts are titled.
  rules::Contact c;
  c.role = role;
  return c.role_title();
}

bool Names::is_handle_of(const std::string& role, const std::string& handle) const {
  const rules::Contact* c = plan_ != nullptr && !role.empty() ? plan_->contact(role) : nullptr;
  return c != nullptr && iequal(c->chat, handle);
}

std::string Names::trigger_name(const std::string& id) const {
  if (plan_ != nullptr) {
    if (const rules::Trigger* tr = plan_->trigger(id)) {
      return tr->name;
    }
  }
  for (const EpisodeRecord& e : episodes_) {
    if (e.manual && e.trigger == id) {
      return "raised: " + e.reason;
    }
  }
  return id;
}

std::string Names::trigger_text(const std::string& id) const {
  std::string name = trigger_name(id);
  return name == id ? id : name + " (" + id + ")";
}

std::string Names::names(const std::vector<std::string>& ids) const {
  std::vector<std::string> out;
  for (const std::string& id : ids) {
    out.push_back(trigger_name(id));
  }
  return out.empty() ? std::string("the night") : join(out, ", ");
}

std::string Names::value_text(const std::string& id, std::optional<double> v) const {
  if (!v) {
    return "";
  }
  if (plan_ != nullptr) {
    if (const rules::Trigger* tr = plan_->trigger(id)) {
      return rules::format_measure_value(tr->measure, *v);
    }
  }
  return format_number(*v);
}

std::optional<Duration> Names::ack_within(const std::string& severity) const {
  if (plan_ == nullptr) {
    return std::nullopt;
  }
  if (auto sev = rules::parse_severity(severity)) {
    if (const rules::Authority* a = plan_->authority_for(*sev)) {
      return a->ack_within;
    }
  }
  return std::nullopt;
}

std::string Names::authority_note(const std::string& by, const std::string& severity) const {
  if (plan_ == nullptr) {
    return "";
  }
  auto sev = rules::parse_severity(severity.empty() ? "critical" : severity);
  const rules::Authority* a = sev ? plan_->authority_for(*sev) : nullptr;
  if (a == nullptr) {
    return "";
  }
  const std::string sev_text(rules::to_string(a->severity));
  const rules::Contact* decider = plan_->contact(a->decides);
  const rules::Contact* person = contact_of(by);
  if (person != nullptr && person == decider) {
    return "the plan's decider for " + sev_text + " breaches";
  }
  if (person != nullptr && a->escalate_to && person == plan_->contact(*a->escalate_to)) {
    return "the escalation contact for " + sev_text + " breaches (the plan's decider is " +
           role_who(a->decides) + ")";
  }
  return "not the plan's decider: the plan gives " + sev_text + " decisions to " +
         role_who(a->decides);
}

std::string Names::authority_text(const std::string& severity) const {
  auto sev = rules::parse_severity(severity);
  const rules::Authority* a = plan_ != nullptr && sev ? plan_->authority_for(*sev) : nullptr;
  if (a == nullptr) {
    return "";
  }
  std::string text = "decides: " + role_who(a->decides);
  if (!a->notify.empty()) {
    std::vector<std::string> told;
    for (const std::string& role : a->notify) {
      told.push_back(role_who(role));
    }
    text += "; notified: " + join(told, ", ");
  }
  if (a->ack_within) {
    text += "; acknowledge within " + format_duration(*a->ack_within);
    if (a->escalate_to) {
      text += ", else escalate to " + role_who(*a->escalate_to);
    }
  }
  return text;
}

}  // namespace backout::agent::report
