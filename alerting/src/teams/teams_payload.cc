#include "backout/alerting/teams_payload.h"

#include <algorithm>
#include <boost/json.hpp>

#include "render/page_view.h"

namespace backout::alerting {

namespace {

namespace json = boost::json;

constexpr std::size_t kLineMax = 2000;

// Teams notifies only on <at>..</at> with an entity naming the user by UPN or object id; a chat
// handle shaped like a UPN (name@domain) can be one, "@jane.doe" cannot.
bool upn_like(std::string_view h) {
  std::size_t at = h.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < h.size() &&
         h.find_first_of(" <>", 0) == std::string_view::npos;
}

class Writer {
 public:
  explicit Writer(const ChatMessage& m) : m_(m) {}

  std::string markdown(const TextLine& line) {
    std::string out;
    for (const Span& s : line.spans) {
      switch (s.style) {
        case Span::Style::kPlain:
          out += s.text;
          break;
        case Span::Style::kCode:  // Adaptive Cards have no inline code; backticks still read well
          out += "`" + s.text + "`";
          break;
        case Span::Style::kStrong:
          out += "**" + s.text + "**";
          break;
        case Span::Style::kEmphasis:
          out += "_" + s.text + "_";
          break;
        case Span::Style::kMention:
          out += mention(s.text);
          break;
      }
    }
    return render::truncate_utf8(std::move(out), kLineMax);
  }

  json::array entities() const { return entities_; }

 private:
  std::string mention(const std::string& handle) {
    if (!upn_like(handle)) {
      return handle;
    }
    std::string name = handle;
    for (const Mention& who : m_.mentions) {
      if (who.handle == handle && !who.name.empty()) {
        name = who.name;
      }
    }
    std::string text = "<at>" + name + "</at>";
    bool known = std::any_of(entities_.begin(), entities_.end(), [&](const json::value& e) {
      return e.as_object().at("text").as_string() == text;
    });
    if (!known) {
      entities_.push_back(
          json::object{{"type", "mention"},
                       {"text", text},
                       {"mentioned", json::object{{"id", handle}, {"name", name}}}});
    }
    return text;
  }

  const ChatMessage& m_;
  json::array entities_;
};

std::string_view colour(Tone t) {
  switch (t) {
    case Tone::kDanger:
      return "Attention";
    case Tone::kWarning:
      return "Warning";
    case Tone::kNotice:
      return "Accent";
    case Tone::kGood:
      return "Good";
  }
  return "Default";
}

}  // namespace

std::string teams_payload(const ChatMessage& m) {
  Writer w(m);
  json::array body;
  body.push_back(json::object{{"type", "TextBlock"},
                              {"text", m.symbol + " " + w.markdown(m.title)},
                              {"weight", "Bolder"},
                              {"size", "Medium"},
                              {"color", colour(m.tone)},
                              {"wrap", true}});
  for (const TextLine& l : m.body) {
    body.push_back(json::object{
        {"type", "TextBlock"}, {"text", w.markdown(l)}, {"wrap", true}, {"spacing", "Small"}});
  }
  if (!m.facts.empty()) {
    json::array facts;
    for (const Fact& f : m.facts) {
      facts.push_back(json::object{{"title", f.title}, {"value", f.value}});
    }
    body.push_back(json::object{{"type", "FactSet"}, {"facts", std::move(facts)}});
  }
  if (!m.ack_hint.spans.empty()) {
    body.push_back(json::object{{"type", "TextBlock"},
                                {"text", w.markdown(m.ack_hint)},
                                {"wrap", true},
                                {"isSubtle", true},
                                {"size", "Small"}});
  }
  json::object msteams{{"width", "Full"}};
  json::array entities = w.entities();
  if (!entities.empty()) {
    msteams["entities"] = std::move(entities);
  }
  json::object card{{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
                    {"type", "AdaptiveCard"},
                    {"version", "1.4"},
                    {"body", std::move(body)},
                    {"msteams", std::move(msteams)}};
  json::object payload{
      {"type", "message"},
      {"attachments",
       json::array{json::object{{"contentType", "application/vnd.microsoft.card.adaptive"},
                                {"contentUrl", nullptr},
                                {"content", std::move(card)}}}}};
  return json::serialize(payload);
}

}  // namespace backout::alerting
