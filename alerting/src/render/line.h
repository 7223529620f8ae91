// The pieces every chat message is built from (chat_message.cc, night_message.cc): a line of
// spans that reads like the sentence it builds, and the tone's emoji and symbol. Internal to
// alerting's renderer. Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "backout/alerting/chat_message.h"
#include "backout/rules/plan.h"
#include "render/page_view.h"

namespace backout::alerting::render {

// Appends spans to a line; reads like the sentence it builds.
class Line {
 public:
  Line& text(std::string s) { return add(Span::Style::kPlain, std::move(s)); }
  Line& strong(std::string s) { return add(Span::Style::kStrong, std::move(s)); }
  Line& em(std::string s) { return add(Span::Style::kEmphasis, std::move(s)); }
  Line& code(std::string s) { return add(Span::Style::kCode, std::move(s)); }
  Line& mention(std::string s) { return add(Span::Style::kMention, std::move(s)); }
  /// "@jane.doe (Deployment Lead)", the handle as a mention.
  Line& who(const rules::Plan& plan, const std::string& role) {
    const rules::Contact* c = plan.contact(role);
    if (c == nullptr) {
      return text(render::who(plan, role));
    }
    if (c->chat.empty()) {
      text(c->name);
    } else {
      mention(c->chat);
    }
    return text(" (" + c->role_title() + ")");
  }
  bool empty() const { return line_.spans.empty(); }
  TextLine done() { return std::move(line_); }

 private:
  Line& add(Span::Style style, std::string s) {
    if (s.empty()) {
      return *this;
    }
    // Adjacent plain runs merge so that goldens and markup stay simple.
    if (!line_.spans.empty() && line_.spans.back().style == style && style == Span::Style::kPlain) {
      line_.spans.back().text += s;
    } else {
      line_.spans.push_back({style, std::move(s)});
    }
    return *this;
  }
  TextLine line_;
};

/// The tone's Slack shortcode (":red_circle:") and Unicode symbol.
std::string emoji_of(Tone t);
std::string symbol_of(Tone t);
/// The people `page` mentions, in order: each handle with the name and title of its role.
std::vector<Mention> mentions_of(const rules::Plan& plan, const rules::Page& page);
/// `s` ended with a full stop unless it ends with one already (or ! or ?).
std::string sentence(std::string s);

}  // namespace backout::alerting::render
