// The plan file's `contacts` (roles and how to reach them) and `authority` (the decision
// matrix: who decides each severity, who is told, acknowledgement and escalation) sections.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>

#include "backout/core/text.h"
#include "backout/rules/expression_parser.h"
#include "plan/loader.h"

namespace backout::plan::detail {

std::optional<std::string> Loader::role(const Entry& e, const std::string& path) {
  auto s = scalar(e, path, "a role from contacts");
  if (!s) {
    return std::nullopt;
  }
  if (contact_pos_.count(*s) == 0) {
    if (roles_.size() != plan_.contacts.size()) {
      roles_.clear();
      for (const auto& c : plan_.contacts) {
        roles_.push_back(c.role);
      }
    }
    const std::vector<std::string>& roles = roles_;
    std::string msg = path + ": role '" + *s + "' is not in contacts";
    if (auto near = suggest(*s, roles)) {
      msg += "; did you mean '" + *near + "'?";
    } else if (!roles.empty()) {
      msg += "; contacts has " + list_some(roles);
    } else {
      msg += "; add it under contacts";
    }
    error(value_pos(e), msg);
    return std::nullopt;
  }
  return s;
}

void Loader::load_contacts(const Entry& e) {
  Entries roles = entries_any(e.value, e.key_pos, "contacts", "a map of role: {name, chat, ...}");
  if (is_null(e.value) || (e.value.IsMap() && e.value.size() == 0)) {
    error(e.key_pos,
          "contacts: no contact; add at least the deciding roles, e.g. "
          "deployment_lead: { name: Jane Doe, chat: \"@jane.doe\" }");
  }
  for (const Entry& r : roles) {
    std::string path = "contacts." + r.key;
    if (!is_identifier(r.key)) {
      error(r.key_pos, path +
                           ": a role must be a name like deployment_lead "
                           "([A-Za-z_][A-Za-z0-9_]*)");
      continue;
    }
    Entries fields =
        entries(r.value, r.key_pos, path, {"name", "chat", "phone", "availability"}, "a map");
    rules::Contact c;
    c.role = r.key;
    bool ok = require(fields, "name", r.key_pos, path, "the person's or group's name");
    ok = require(fields, "chat", r.key_pos, path,
                 "the chat handle pages mention, e.g. \"@jane.doe\"") &&
         ok;
    for (const Entry& f : fields) {
      auto s = scalar(f, path + "." + f.key, "text", f.key == "phone" || f.key == "availability");
      if (!s) {
        ok = false;
        continue;
      }
      if (f.key == "name") {
        c.name = *s;
      } else if (f.key == "chat") {
        c.chat = *s;
        if (s->find_first_of(" \t") != std::string::npos) {
          error(value_pos(f), path + ".chat: '" + *s +
                                  "' contains a space; a chat handle is one word such as "
                                  "\"@jane.doe\"");
          ok = false;
        }
      } else if (f.key == "phone") {
        c.phone = *s;
      } else if (f.key == "availability") {
        c.availability = *s;
      }
    }
    contact_pos_[c.role] = r.key_pos;
    // Keep the contact even if a field is wrong, so that references to it are not reported too.
    plan_.contacts.push_back(std::move(c));
    (void)ok;
  }
}

void Loader::load_authority(const Entry& e) {
  Entries levels = entries(e.value, e.key_pos, "authority", {"critical", "major", "discretionary"},
                           "a map of severity: {decides, notify, ack_within, escalate_to}");
  for (const Entry& l : levels) {
    std::string path = "authority." + l.key;
    Severity sev = *rules::parse_severity(l.key);
    authority_written_.insert(sev);
    Entries fields = entries(l.value, l.key_pos, path,
                             {"decides", "notify", "ack_within", "escalate_to"}, "a map");
    rules::Authority a;
    a.severity = sev;
    bool ok = require(fields, "decides", l.key_pos, path,
                      "the role that decides, e.g. decides: deployment_lead");
    for (const Entry& f : fields) {
      std::string fpath = path + "." + f.key;
      if (f.key == "decides") {
        if (auto r = role(f, fpath)) {
          a.decides = *r;
        } else {
          ok = false;
        }
      } else if (f.key == "escalate_to") {
        if (auto r = role(f, fpath)) {
          a.escalate_to = *r;
        } else {
          ok = false;
        }
      } else if (f.key == "ack_within") {
        if (auto d = duration(f, fpath, std::chrono::seconds{1})) {
          a.ack_within = *d;
        } else {
          ok = false;
        }
      } else if (f.key == "notify") {
        if (is_null(f.value)) {
          continue;
        }
        if (f.value.IsScalar()) {
          if (auto r = role(f, fpath)) {
            a.notify.push_back(*r);
          }
        } else if (f.value.IsSequence()) {
          for (std::size_t i = 0; i < f.value.size(); ++i) {
            Entry item{f.key, f.value[i], pos(f.value[i])};
            if (auto r = role(item, fpath)) {
              if (std::find(a.notify.begin(), a.notify.end(), *r) != a.notify.end()) {
                warning(pos(f.value[i]), fpath + ": '" + *r + "' is listed twice");
              } else {
                a.notify.push_back(*r);
              }
            }
          }
        } else {
          error(pos(f.value), fpath +
                                  ": expected a role or a list of roles, e.g. "
                                  "[project_manager, sponsor]");
        }
      }
    }
    const Entry* ack = find(fields, "ack_within");
    const Entry* esc = find(fields, "escalate_to");
    if (esc != nullptr && ack == nullptr) {
      error(esc->key_pos, path +
                              ": escalate_to needs ack_within (how long the decider has to "
                              "acknowledge before " +
                              esc->value.Scalar() + " is paged)");
      ok = false;
    }
    if (ack != nullptr) {
      anchor(path + ".ack_within", ack->key_pos);
    }
    if (esc != nullptr) {
      anchor(path + ".escalate_to", esc->key_pos);
    }
    if (ok) {
      plan_.authority[sev] = std::move(a);
    }
  }
  for (Severity s : {Severity::kCritical, Severity::kMajor}) {
    if (find(levels, rules::to_string(s)) == nullptr && !is_null(e.value) && e.value.IsMap()) {
      error(e.key_pos, "authority: missing '" + std::string(rules::to_string(s)) +
                           "' (who decides a " + std::string(rules::to_string(s)) +
                           " breach, e.g. " + std::string(rules::to_string(s)) +
                           ": { decides: deployment_lead })");
    }
  }
}

}  // namespace backout::plan::detail
