#include "app/simulate/timeline_json.h"

#include <cmath>
#include <cstdio>

#include "backout/core/text.h"

namespace backout::agent {

std::string json_number(double v) {
  if (!std::isfinite(v)) {
    return "null";
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::vector<std::string> timeline_lines(const rules::Plan& plan, const rules::TickResult& tick) {
  std::vector<std::string> out;
  const std::string at = json_quote(format_rfc3339(tick.at, plan.window.offset()));
  for (const rules::TriggerChange& ch : tick.changes) {
    const rules::TriggerStatus& s = ch.to;
    std::string line = "{\"at\": " + at + ", \"kind\": \"trigger\", \"trigger\": " +
                       json_quote(plan.triggers[ch.trigger].id) + ", \"state\": \"" +
                       std::string(rules::to_string(s.state)) + "\", \"severity\": " +
                       (s.severity ? "\"" + std::string(rules::to_string(*s.severity)) + "\""
                                   : std::string("null")) +
                       ", \"value\": " + (s.value ? json_number(*s.value) : std::string("null"));
    if (s.state == rules::TriggerState::kBreached) {
      line += ", \"path\": \"" + std::string(rules::to_string(s.path)) + "\"";
    }
    if (s.state == rules::TriggerState::kInconclusive && !s.reason.empty()) {
      line += ", \"reason\": " + json_quote(s.reason);
    }
    out.push_back(line + "}");
  }
  if (tick.recommendation_changed) {
    out.push_back("{\"at\": " + at + ", \"kind\": \"recommendation\", \"recommendation\": \"" +
                  std::string(rules::to_string(tick.decision.recommendation)) +
                  "\", \"reason\": " + json_quote(tick.decision.reason) + "}");
  }
  for (const rules::Page& p : tick.pages) {
    std::string mention = "[";
    for (std::size_t i = 0; i < p.mention.size(); ++i) {
      mention += (i ? ", " : "") + json_quote(p.mention[i]);
    }
    mention += "]";
    std::vector<std::string> ids = p.triggers;
    if (ids.empty()) {
      ids.push_back("");  // the final message is about the night, not one trigger
    }
    for (const std::string& id : ids) {
      out.push_back("{\"at\": " + at + ", \"kind\": \"notify\", \"trigger\": " +
                    (id.empty() ? std::string("null") : json_quote(id)) + ", \"decides\": " +
                    (p.decides.empty() ? std::string("null") : json_quote(p.decides)) +
                    ", \"mention\": " + mention + ", \"page\": \"" +
                    std::string(rules::to_string(p.kind)) + "\"}");
    }
  }
  return out;
}

}  // namespace backout::agent
