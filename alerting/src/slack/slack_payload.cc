#include "backout/alerting/slack_payload.h"

#include <boost/json.hpp>

#include <cctype>

#include "render/page_view.h"

namespace backout::alerting {

namespace {

constexpr std::size_t kHeaderMax = 150;
constexpr std::size_t kSectionMax = 3000;
constexpr std::size_t kTextMax = 3000;

// The broadcast mentions Mattermost and Rocket.Chat (which take this payload) act on when they
// appear as plain text: @here, @channel, @all, @everyone, any case, not inside a word.
bool broadcast_mention_at(std::string_view s, std::size_t at) {
  if (s[at] != '@') {
    return false;
  }
  if (at > 0) {
    const auto p = static_cast<unsigned char>(s[at - 1]);
    if (std::isalnum(p) != 0 || p == '_' || p == '.' || p == '-') {
      return false;  // part of a word or an address (ops@here.example)
    }
  }
  for (std::string_view word : {"here", "channel", "all", "everyone"}) {
    if (s.size() - at - 1 < word.size()) {
      continue;
    }
    bool same = true;
    for (std::size_t i = 0; i < word.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(s[at + 1 + i])) == word[i];
    }
    const std::size_t end = at + 1 + word.size();
    if (same && (end == s.size() || (std::isalnum(static_cast<unsigned char>(s[end])) == 0 &&
                                     s[end] != '_' && s[end] != '-'))) {
      return true;
    }
  }
  return false;
}

// Text from outside (a person's `by`, `note`, `reason`; a source's error) must not notify
// anyone: Slack reserves &, < and > for its own markup (so `<!channel>` is shown, not acted
// on), and a broadcast mention gets a word joiner (U+2060) after its `@`, which shows the same
// and notifies nobody. Everything else is shown as is.
std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (broadcast_mention_at(s, i)) {
      out += "@\u2060";
      continue;
    }
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A handle written in Slack's own mention syntax (<@U024BE7LH>, <!subteam^S012|@oncall>,
// <!here>) is what makes Slack notify, so it passes through unescaped.
bool slack_mention_syntax(std::string_view h) {
  return h.size() > 3 && h.front() == '<' && h.back() == '>' && (h[1] == '@' || h[1] == '!') &&
         h.find_first_of("<> ", 1) == h.size() - 1;
}

std::string mrkdwn(const TextLine& line) {
  std::string out;
  for (const Span& s : line.spans) {
    switch (s.style) {
      case Span::Style::kPlain:
        out += escape(s.text);
        break;
      case Span::Style::kStrong:
        out += "*" + escape(s.text) + "*";
        break;
      case Span::Style::kEmphasis:
        out += "_" + escape(s.text) + "_";
        break;
      case Span::Style::kCode:
        out += "`" + escape(s.text) + "`";
        break;
      case Span::Style::kMention:
        out += slack_mention_syntax(s.text) ? s.text : escape(s.text);
        break;
    }
  }
  return out;
}

std::string body_mrkdwn(const ChatMessage& m) {
  std::string out;
  for (const TextLine& l : m.body) {
    out += (out.empty() ? "" : "\n") + mrkdwn(l);
  }
  return out;
}

}  // namespace

std::string slack_text(const ChatMessage& m) {
  std::string out = m.emoji + " " + mrkdwn(m.title);
  std::string body = body_mrkdwn(m);
  if (!body.empty()) {
    out += "\n" + body;
  }
  if (!m.ack_hint.spans.empty()) {
    out += "\n" + mrkdwn(m.ack_hint);
  }
  return render::truncate_utf8(std::move(out), kTextMax);
}

std::string slack_payload(const ChatMessage& m) {
  namespace json = boost::json;
  json::array blocks;
  blocks.push_back(json::object{
      {"type", "header"},
      {"text",
       json::object{{"type", "plain_text"},
                    {"text", render::truncate_utf8(m.emoji + " " + m.title.plain(), kHeaderMax)},
                    {"emoji", true}}}});
  std::string body = body_mrkdwn(m);
  if (!body.empty()) {
    blocks.push_back(json::object{
        {"type", "section"},
        {"text", json::object{{"type", "mrkdwn"},
                              {"text", render::truncate_utf8(std::move(body), kSectionMax)}}}});
  }
  if (!m.ack_hint.spans.empty()) {
    blocks.push_back(json::object{
        {"type", "context"},
        {"elements", json::array{json::object{{"type", "mrkdwn"}, {"text", mrkdwn(m.ack_hint)}}}}});
  }
  json::object payload;
  payload["text"] = slack_text(m);
  payload["blocks"] = std::move(blocks);
  return json::serialize(payload);
}

}  // namespace backout::alerting
