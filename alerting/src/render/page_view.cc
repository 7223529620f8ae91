#include "render/page_view.h"

#include <cctype>
#include <cmath>

#include "backout/core/text.h"

namespace backout::alerting::render {

namespace {

const rules::Episode* find_episode(const MessageContext& ctx, const std::string& id) {
  const rules::Episode* found = nullptr;
  for (const rules::Episode& e : ctx.episodes) {
    if (e.trigger == id && e.opened_at <= ctx.page.at &&
        (found == nullptr || e.number > found->number)) {
      found = &e;
    }
  }
  return found;
}

const rules::FixForward* find_fix_forward(const MessageContext& ctx, const std::string& id) {
  const rules::FixForward* found = nullptr;
  for (const rules::FixForward& ff : ctx.acts.fix_forwards) {
    if (ff.trigger == id && ff.declared_at <= ctx.page.at &&
        (found == nullptr || ff.declared_at >= found->declared_at)) {
      found = &ff;
    }
  }
  return found;
}

}  // namespace

TriggerView trigger_view(const MessageContext& ctx, const std::string& id) {
  const rules::Plan& plan = *ctx.plan;
  TriggerView v;
  v.id = id;
  v.name = id;
  v.episode = find_episode(ctx, id);
  v.fix_forward = find_fix_forward(ctx, id);
  v.trigger = plan.trigger(id);
  if (v.trigger != nullptr) {
    v.name = v.trigger->name.empty() ? id : v.trigger->name;
    for (const rules::TriggerStatus& st : ctx.statuses) {
      if (st.id == id) {
        v.status = &st;
        break;
      }
    }
  } else {
    for (const rules::ManualRaise& r : ctx.acts.raises) {
      if (r.id == id) {
        v.raise = &r;
      }
    }
  }
  if (v.episode != nullptr) {
    v.severity = v.episode->severity;
  } else if (v.status != nullptr && v.status->severity) {
    v.severity = v.status->severity;
  } else if (v.raise != nullptr) {
    v.severity = v.raise->severity;
  }
  if (v.raise != nullptr) {
    v.name = v.raise->reason.empty() ? "manual raise " + id : v.raise->reason;
    v.evidence = "raised by " + person(plan, v.raise->by) + " at " + clock(ctx, v.raise->at);
  }
  if (v.trigger != nullptr) {
    const rules::Measure& m = v.trigger->measure;
    if (m.kind != rules::MeasureKind::kValue) {
      v.window = format_duration(v.trigger->over);
    }
    if (v.status != nullptr) {
      if (v.status->value) {
        v.value_text = rules::format_measure_value(m, *v.status->value);
      }
      v.condition = v.status->condition;
      v.evidence = v.status->evidence;
      v.early = v.status->path == rules::DetectionPath::kEarly &&
                v.status->state == rules::TriggerState::kBreached;
    }
    if (v.condition.empty() && !v.trigger->levels.empty()) {
      const rules::Level* level = &v.trigger->levels.back();
      for (const rules::Level& l : v.trigger->levels) {
        if (v.severity && l.severity == *v.severity) {
          level = &l;
        }
      }
      v.condition = level->condition.text;
    }
  }
  return v;
}

std::vector<TriggerView> page_triggers(const MessageContext& ctx) {
  std::vector<TriggerView> out;
  out.reserve(ctx.page.triggers.size());
  for (const std::string& id : ctx.page.triggers) {
    out.push_back(trigger_view(ctx, id));
  }
  return out;
}

std::string release_name(const rules::Plan& plan) {
  if (plan.header.release.empty()) {
    return plan.header.project;
  }
  if (plan.header.project.empty()) {
    return plan.header.release;
  }
  return plan.header.project + " " + plan.header.release;
}

std::string clock(const MessageContext& ctx, TimePoint t) {
  return format_clock(t, ctx.plan->window.offset());
}

std::string timestamp(const MessageContext& ctx, TimePoint t) {
  return format_rfc3339(t, ctx.plan->window.offset());
}

std::string who(const rules::Plan& plan, const std::string& role) {
  const rules::Contact* c = plan.contact(role);
  if (c == nullptr) {
    rules::Contact tmp;
    tmp.role = role;
    return tmp.role_title();
  }
  const std::string& handle = c->chat.empty() ? c->name : c->chat;
  return handle + " (" + c->role_title() + ")";
}

std::string person(const rules::Plan& plan, const std::string& by) {
  for (const rules::Contact& c : plan.contacts) {
    if (!c.chat.empty() && c.chat == by && !c.name.empty()) {
      return c.name;
    }
  }
  std::size_t start = 0;
  while (start < by.size() && by[start] == '@') {
    ++start;
  }
  return by.substr(start);
}

std::string truncate_utf8(std::string s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) {
    return s;
  }
  static constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // U+2026
  std::size_t cut = max_bytes > kEllipsis.size() ? max_bytes - kEllipsis.size() : 0;
  // Back up to the first byte of a UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  s.resize(cut);
  s += kEllipsis;
  return s;
}

std::string capitalize(std::string s) {
  if (!s.empty()) {
    s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  }
  return s;
}

boost::json::value json_number(double v) {
  if (!std::isfinite(v)) {
    return nullptr;
  }
  constexpr double kExact = 9007199254740992.0;  // 2^53: integers above are not exact anyway
  if (v == std::trunc(v) && std::fabs(v) < kExact) {
    return static_cast<std::int64_t>(v);
  }
  return v;
}

}  // namespace backout::alerting::render
