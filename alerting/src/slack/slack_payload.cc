#include "backout/alerting/slack_payload.h"

#include <boost/json.hpp>

#include "render/page_view.h"

namespace backout::alerting {

namespace {

constexpr std::size_t kHeaderMax = 150;
constexpr std::size_t kSectionMax = 3000;
constexpr std::size_t kTextMax = 3000;

// Slack reserves &, < and > for its own markup; everything else is shown as is.
std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
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
