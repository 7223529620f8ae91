#include "backout/rules/plan.h"

#include <cctype>

namespace backout::rules {

bool Trigger::same_watch(const Trigger& o) const {
  return id == o.id && measure == o.measure && over == o.over && levels == o.levels &&
         for_duration == o.for_duration && clear_after == o.clear_after &&
         min_count == o.min_count && early == o.early;
}

std::string Contact::role_title() const {
  std::string out;
  bool start = true;
  for (char c : role) {
    if (c == '_' || c == '-') {
      out += ' ';
      start = true;
    } else if (start) {
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      start = false;
    } else {
      out += c;
    }
  }
  // Common acronyms read better in capitals.
  for (const char* a : {"It ", "Dba", "Pm", "Qa", "Sre"}) {
    std::string s(a);
    if (out.rfind(s, 0) == 0 && (out.size() == s.size() || s.back() == ' ' ||
                                 out[s.size()] == ' ')) {
      std::string up = s;
      for (char& ch : up) {
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      }
      out.replace(0, s.size(), up);
    }
  }
  return out;
}

const Channel* Notify::channel(const std::string& name) const {
  for (const Channel& c : channels) {
    if (c.name == name) {
      return &c;
    }
  }
  return nullptr;
}

const Contact* Plan::contact(const std::string& role) const {
  for (const Contact& c : contacts) {
    if (c.role == role) {
      return &c;
    }
  }
  return nullptr;
}

const Source* Plan::source(const std::string& id) const {
  for (const Source& s : sources) {
    if (s.id == id) {
      return &s;
    }
  }
  return nullptr;
}

const Trigger* Plan::trigger(const std::string& id) const {
  for (const Trigger& t : triggers) {
    if (t.id == id) {
      return &t;
    }
  }
  return nullptr;
}

const Authority* Plan::authority_for(Severity s) const {
  auto it = authority.find(s);
  return it == authority.end() ? nullptr : &it->second;
}

Duration Backout::planned() const {
  Duration total{0};
  for (const BackoutStep& s : steps) {
    total += s.duration;
  }
  return total;
}

}  // namespace backout::rules
