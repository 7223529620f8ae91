// What every payload says about the triggers of a page, looked up once from a MessageContext:
// the plan's trigger, its status at the page's tick, its episode, a manual raise, the latest
// fix-forward. Pure; thread-safe. Times are shown in the window's UTC offset.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <vector>

#include "backout/alerting/channel.h"

namespace backout::alerting::render {

/// One trigger (or manual raise) a page is about.
struct TriggerView {
  std::string id;
  std::string name;
  std::optional<rules::Severity> severity;         // the episode's, else the status's
  const rules::Trigger* trigger = nullptr;         // null for a manual raise
  const rules::TriggerStatus* status = nullptr;    // null when the context has none
  const rules::Episode* episode = nullptr;         // the page's episode of this trigger
  const rules::ManualRaise* raise = nullptr;       // for a manual raise
  const rules::FixForward* fix_forward = nullptr;  // the latest declared for this trigger
  std::string value_text;                          // "7.1%", "" when there is no value
  std::string window;                              // "5m", "" for value() measures and raises
  std::string condition;                           // "> 5%"
  std::string evidence;  // "7.1% over 5m (threshold > 5%)", or the raise's who and when
  bool early = false;    // early detection made the breach
};

/// The triggers of ctx.page, in page order.
std::vector<TriggerView> page_triggers(const MessageContext& ctx);

/// The view of one trigger id at the page's time.
TriggerView trigger_view(const MessageContext& ctx, const std::string& id);

/// "Customer Portal Enhancement 2.0".
std::string release_name(const rules::Plan& plan);

/// Time of day in the window's offset: "04:20".
std::string clock(const MessageContext& ctx, TimePoint t);

/// RFC 3339 in the window's offset.
std::string timestamp(const MessageContext& ctx, TimePoint t);

/// "@jane.doe (Deployment Lead)"; the name when the contact has no chat handle; the role's title
/// when the role is not in the plan.
std::string who(const rules::Plan& plan, const std::string& role);

/// Someone the message refers to without paging them (who acknowledged, declared, decided):
/// the contact's name when `by` is a contact's chat handle, else `by` without a leading '@', so
/// that chats which notify on @name (Mattermost, Rocket.Chat) do not ping them.
std::string person(const rules::Plan& plan, const std::string& by);

/// At most `max_bytes`, cut on a UTF-8 boundary and ended with an ellipsis when cut.
std::string truncate_utf8(std::string s, std::size_t max_bytes);

/// First letter in upper case.
std::string capitalize(std::string s);

/// A measured number for JSON payloads: integral values as integers ("3", not Boost.JSON's
/// "3E0"), non-finite ones (never valid JSON) as null.
boost::json::value json_number(double v);

}  // namespace backout::alerting::render
