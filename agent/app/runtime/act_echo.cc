#include "app/runtime/act_echo.h"

#include <algorithm>
#include <vector>

#include "backout/core/text.h"

namespace backout::agent {

std::optional<ActEcho> act_echo(const record::TimelineEvent& event, const rules::Watch& watch,
                                TimePoint now, std::uint64_t seq) {
  const rules::Plan& plan = watch.plan();
  auto name_of = [&](const std::string& id) {
    const rules::Trigger* t = plan.trigger(id);
    return t != nullptr ? t->name : id;
  };
  const auto off = plan.window.offset();
  ActEcho echo;
  rules::Page& page = echo.page;
  page.kind = rules::PageKind::kAct;
  page.at = now;
  page.recommendation = watch.decision().recommendation;
  page.phase = watch.decision().phase;
  page.key = "act:" + std::to_string(now.time_since_epoch().count()) + ":" + std::to_string(seq);
  if (const auto* a = event.as<record::Acknowledged>()) {
    std::vector<std::string> names;
    for (const std::string& id : a->triggers) {
      page.triggers.push_back(id);
      names.push_back(name_of(id));
    }
    page.reason = "acknowledged by " + a->by + ": " + join(names, ", ");
    std::vector<std::string> keys;
    for (const rules::Episode& e : watch.paging().episodes()) {
      if (e.open() && std::find(page.triggers.begin(), page.triggers.end(), e.trigger) !=
                          page.triggers.end()) {
        keys.push_back(e.key());
      }
    }
    echo.acknowledgement = "ack:" + join(keys, ",");
  } else if (const auto* f = event.as<record::FixForwardDeclared>()) {
    page.triggers.push_back(f->trigger);
    page.reason = "fix-forward declared by " + f->by + " for " + name_of(f->trigger) + ", ETA " +
                  format_clock(f->eta.at, off);
    if (!f->before_point_of_no_return) {
      page.reason += " (after the point of no return: it does not change the recommendation)";
    }
  } else if (const auto* d = event.as<record::Decided>()) {
    page.reason = "decision " + std::string(rules::to_string(d->decision)) + " by " + d->by;
    if (!d->note.empty()) {
      page.reason += ": " + d->note;
    }
    if (d->until) {
      page.reason += " (window extended to " + format_clock(d->until->at, off) + ")";
    }
  } else if (const auto* x = event.as<record::Raised>()) {
    page.reason = std::string(rules::to_string(x->severity)) + " raised by " + x->by + ": " +
                  x->reason + " (" + x->id + ")";
  } else if (const auto* c = event.as<record::RaiseCleared>()) {
    page.reason = c->id + " cleared by " + c->by;
  } else if (const auto* g = event.as<record::GoLiveDeclared>()) {
    page.reason = "go-live declared by " + g->by;
  } else if (const auto* done = event.as<record::ItemDoneRecorded>()) {
    page.reason =
        done->item + (done->failed ? " did not work, reported by " : " done by ") + done->by;
    if (!done->note.empty()) {
      page.reason += ": " + done->note;
    }
  } else {
    return std::nullopt;
  }
  return echo;
}

}  // namespace backout::agent
