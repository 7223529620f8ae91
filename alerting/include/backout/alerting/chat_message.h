// The human message of a page, built once from a MessageContext and then written out by each
// channel in its own markup (Slack mrkdwn, Teams Markdown, plain text). Pure; thread-safe.
// Time: every clock time is the page's (`ctx.page.at` / `ctx.now`), shown in the window's UTC
// offset; nothing reads a clock.
//
// What it says (DESIGN sections 1 and 6), e.g. a critical breach of the reference plan at 03:08:
//   :red_circle: *BACKOUT recommended* — Customer Portal Enhancement 2.0 — critical: _Database
//   connectivity_   (one line in the message)
//   3 failed checks over 1m (threshold > 0).
//   Decides: @jane.doe (Deployment Lead). FYI @john.smith @sarah.williams.
//   Point of no return 04:20 (in 1h12m); backout takes 1h40m.
//   Acknowledge: `backout-agent ack --trigger db_connectivity --by @you` or POST /api/v1/ack.
// One shape per page kind: repeat ("Reminder 1, not acknowledged since 03:08"), escalation
// ("@jane.doe (Deployment Lead) has not acknowledged within 5m; decides now: @john.smith (Project
// Manager)"), PNR warning, fix-forward ETA passed, resolve (no mentions, "Back to normal: ...;
// recommendation now GO"), final (GO with the night's summary, or the backout status), minor
// breaches without mentions. After the window every message says the window has closed.
// Secrets never reach a message: it is built from the plan's public parts and the statuses.
#pragma once

#include <string>
#include <vector>

#include "backout/alerting/channel.h"
#include "backout/rules/decision_engine.h"
#include "backout/rules/paging_policy.h"

namespace backout::alerting {

/// How alarming a message looks: the emoji and the card colour.
enum class Tone { kDanger, kWarning, kNotice, kGood };
std::string_view to_string(Tone t);  // danger, warning, notice, good

/// A run of text with one emphasis; each channel turns it into its own markup.
struct Span {
  enum class Style { kPlain, kStrong, kEmphasis, kCode, kMention };
  Style style = Style::kPlain;
  std::string text;
};

/// One line (paragraph) of a message.
struct TextLine {
  std::vector<Span> spans;
  /// The line without markup.
  std::string plain() const;
};

/// A label and a value, for Teams' FactSet and the generic webhook.
struct Fact {
  std::string title;
  std::string value;
};

/// Someone the message @-mentions: the decider (or escalation target) first, then the notified.
struct Mention {
  std::string handle;      // chat handle as in the plan: @jane.doe, jane.doe@example.com, <@U024>
  std::string name;        // Jane Doe
  std::string role;        // deployment_lead
  std::string role_title;  // Deployment Lead
};

struct ChatMessage {
  rules::PageKind kind = rules::PageKind::kBreach;
  rules::Recommendation recommendation = rules::Recommendation::kGo;
  Tone tone = Tone::kNotice;
  std::string emoji;   // Slack shortcode, e.g. ":red_circle:"
  std::string symbol;  // the same as a Unicode character, for Teams and plain text
  TextLine title;  // "BACKOUT recommended — Customer Portal Enhancement 2.0 — critical: ..."
  std::vector<TextLine> body;
  TextLine ack_hint;  // empty when nobody needs to acknowledge (resolve, final, minor)
  std::vector<Fact> facts;
  std::vector<Mention> mentions;

  /// The whole message as plain text: symbol and title, body lines, the hint; one per line.
  std::string plain_text() const;
  /// One line for pagers and notification previews: the title and the first body line.
  std::string summary() const;
};

/// Builds the message of `ctx.page`. `ctx.plan` must be set.
ChatMessage compose_message(const MessageContext& ctx);

}  // namespace backout::alerting
