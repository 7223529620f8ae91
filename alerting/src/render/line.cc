#include "render/line.h"

namespace backout::alerting::render {

std::string emoji_of(Tone t) {
  switch (t) {
    case Tone::kDanger:
      return ":red_circle:";
    case Tone::kWarning:
      return ":large_orange_circle:";
    case Tone::kNotice:
      return ":large_yellow_circle:";
    case Tone::kGood:
      return ":large_green_circle:";
  }
  return ":large_yellow_circle:";
}

std::string symbol_of(Tone t) {
  switch (t) {
    case Tone::kDanger:
      return "\xF0\x9F\x94\xB4";  // U+1F534 red circle
    case Tone::kWarning:
      return "\xF0\x9F\x9F\xA0";  // U+1F7E0 orange circle
    case Tone::kNotice:
      return "\xF0\x9F\x9F\xA1";  // U+1F7E1 yellow circle
    case Tone::kGood:
      return "\xF0\x9F\x9F\xA2";  // U+1F7E2 green circle
  }
  return "";
}

std::string sentence(std::string s) {
  if (!s.empty() && s.back() != '.' && s.back() != '!' && s.back() != '?') {
    s += '.';
  }
  return s;
}

std::vector<Mention> mentions_of(const rules::Plan& plan, const rules::Page& page) {
  std::vector<Mention> out;
  for (std::size_t i = 0; i < page.mention.size(); ++i) {
    Mention person;
    person.handle = page.mention[i];
    if (i < page.mention_roles.size()) {
      person.role = page.mention_roles[i];
      if (const rules::Contact* c = plan.contact(person.role)) {
        person.name = c->name;
        person.role_title = c->role_title();
      }
    }
    out.push_back(std::move(person));
  }
  return out;
}

}  // namespace backout::alerting::render
