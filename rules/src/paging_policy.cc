#include "backout/rules/paging_policy.h"

#include <algorithm>

#include "backout/core/text.h"

namespace backout::rules {

std::string_view to_string(PageKind k) {
  switch (k) {
    case PageKind::kBreach:
      return "breach";
    case PageKind::kSeverityUp:
      return "severity_up";
    case PageKind::kRepeat:
      return "repeat";
    case PageKind::kEscalation:
      return "escalation";
    case PageKind::kPnrWarning:
      return "pnr_warning";
    case PageKind::kEtaPassed:
      return "eta_passed";
    case PageKind::kResolve:
      return "resolve";
    case PageKind::kFinal:
      return "final";
    case PageKind::kAct:
      return "act";
    case PageKind::kPhase:
      return "phase";
    case PageKind::kDeployOverrun:
      return "deploy_overrun";
    case PageKind::kStep:
      return "step";
    case PageKind::kStepOverrun:
      return "step_overrun";
    case PageKind::kProjection:
      return "projection";
    case PageKind::kCheckFailed:
      return "check_failed";
    case PageKind::kStepVerified:
      return "verified";
    case PageKind::kReversalVerified:
      return "reversal_verified";
    case PageKind::kReversalIncomplete:
      return "reversal_incomplete";
    case PageKind::kBlind:
      return "blind";
    case PageKind::kBlindResolved:
      return "blind_resolved";
  }
  return "breach";
}

PagingPolicy::PagingPolicy(const Plan& plan) : plan_(&plan) {}

Episode* PagingPolicy::open_episode(const std::string& trigger) {
  for (auto it = episodes_.rbegin(); it != episodes_.rend(); ++it) {
    if (it->trigger == trigger && it->open()) {
      return &*it;
    }
  }
  return nullptr;
}

void PagingPolicy::mentions_for(Page& p, Severity s, const std::string& first_role) const {
  auto add = [&](const std::string& role) {
    if (role.empty() ||
        std::find(p.mention_roles.begin(), p.mention_roles.end(), role) != p.mention_roles.end()) {
      return;
    }
    const Contact* c = plan_->contact(role);
    if (c == nullptr || c->chat.empty()) {
      return;
    }
    p.mention_roles.push_back(role);
    p.mention.push_back(c->chat);
  };
  add(first_role);
  if (const Authority* a = plan_->authority_for(s)) {
    add(a->decides);
    for (const std::string& r : a->notify) {
      add(r);
    }
  }
}

Page PagingPolicy::make_page(PageKind kind, TimePoint now, const std::vector<Episode*>& eps,
                             const DecisionOutput& decision, const std::string& decides_role,
                             std::uint32_t seq) {
  Page p;
  p.kind = kind;
  p.at = now;
  p.recommendation = decision.recommendation;
  p.reason = decision.reason;
  p.phase = decision.phase;
  std::string keys;
  for (const Episode* e : eps) {
    p.triggers.push_back(e->trigger);
    if (!p.severity || e->severity > *p.severity) {
      p.severity = e->severity;
    }
    keys += (keys.empty() ? "" : ",") + e->key();
  }
  p.key = std::string(to_string(kind)) + ":" + keys;
  if (seq > 0) {
    p.key += ":" + std::to_string(seq);
  }
  p.decides = decides_role;
  return p;
}

std::vector<BreachChange> breach_changes(const Plan& plan,
                                         const std::vector<TriggerChange>& changes) {
  std::vector<BreachChange> out;
  for (const TriggerChange& ch : changes) {
    std::optional<Severity> from;
    std::optional<Severity> to;
    if (ch.from == TriggerState::kBreached) {
      from = ch.from_severity;
    }
    if (ch.to.state == TriggerState::kBreached) {
      to = ch.to.severity;
    }
    if (from != to) {
      out.push_back({plan.triggers[ch.trigger].id, from, to});
    }
  }
  return out;
}

std::vector<Page> PagingPolicy::tick(TimePoint now, const std::vector<BreachChange>& changes,
                                     const DecisionOutput& decision) {
  std::vector<Page> pages;
  const Phase phase = decision.phase;
  const TimePoint pnr = decision.point_of_no_return;
  const bool in_warning = phase == Phase::kInWindow && now >= pnr - plan_->window.warn_before_pnr &&
                          now < pnr;
  auto decider = [&](Severity s) -> std::string {
    if (s == Severity::kMinor) {
      return {};
    }
    const Authority* a = plan_->authority_for(s);
    return a != nullptr ? a->decides : std::string();
  };

  // 1. Episodes open, change severity and resolve with the triggers.
  for (const BreachChange& ch : changes) {
    const std::string& id = ch.id;
    const bool was = ch.from.has_value();
    const bool is = ch.to.has_value();
    if (!was && is) {
      Episode e;
      e.trigger = id;
      e.number = 1 + static_cast<std::uint64_t>(std::count_if(
                         episodes_.begin(), episodes_.end(),
                         [&](const Episode& x) { return x.trigger == id; }));
      e.severity = *ch.to;
      e.opened_at = now;
      episodes_.push_back(std::move(e));
      group_.push_back(id);
      if (!group_deadline_) {
        group_deadline_ = now + plan_->notify.group_wait;
      }
    } else if (was && is) {
      Episode* e = open_episode(id);
      if (e == nullptr) {
        continue;
      }
      const Severity before = e->severity;
      e->severity = *ch.to;
      if (e->severity > before && e->paged_at && phase != Phase::kPreWindow) {
        e->acked_at.reset();
        e->acked_by.clear();
        e->escalated = false;
        e->paged_at = now;
        e->last_page_at = now;
        ++e->pages;
        Page p = make_page(PageKind::kSeverityUp, now, {e}, decision, decider(e->severity),
                           e->pages);
        mentions_for(p, e->severity, p.decides);
        pages.push_back(std::move(p));
      }
    } else if (was && !is) {
      Episode* e = open_episode(id);
      if (e == nullptr) {
        continue;
      }
      e->resolved_at = now;
      group_.erase(std::remove(group_.begin(), group_.end(), id), group_.end());
      if (e->paged_at && !ch.expected) {
        Page p = make_page(PageKind::kResolve, now, {e}, decision, "", 0);
        pages.push_back(std::move(p));
      }
    }
  }
  if (group_.empty()) {
    group_deadline_.reset();
  }

  if (!group_.empty() && !group_deadline_) {
    group_deadline_ = now;  // restored after a restart: the wait is over
  }

  // 2. Flush the group: at the end of group_wait, or at once for a critical breach.
  if (phase != Phase::kPreWindow && !group_.empty()) {
    std::vector<Episode*> eps;
    bool critical = false;
    for (const std::string& id : group_) {
      if (Episode* e = open_episode(id)) {
        eps.push_back(e);
        critical = critical || e->severity == Severity::kCritical;
      }
    }
    if (!eps.empty() && (critical || now >= *group_deadline_)) {
      Severity top = Severity::kMinor;
      for (Episode* e : eps) {
        top = std::max(top, e->severity);
      }
      Page p = make_page(PageKind::kBreach, now, eps, decision, decider(top), 0);
      if (top != Severity::kMinor) {
        mentions_for(p, top, p.decides);
      }
      for (Episode* e : eps) {
        e->paged_at = now;
        e->last_page_at = now;
        ++e->pages;
        if (in_warning && e->severity == Severity::kMajor) {
          e->pnr_warned = true;  // the breach page already says how much time is left
        }
      }
      pages.push_back(std::move(p));
      group_.clear();
      group_deadline_.reset();
    } else if (eps.empty()) {
      group_.clear();
      group_deadline_.reset();
    }
  }

  // 3. Escalation: ack_within passed without an acknowledgement.
  for (Episode& e : episodes_) {
    if (!e.open() || !e.paged_at || e.acked_at || e.escalated || e.severity == Severity::kMinor) {
      continue;
    }
    const Authority* a = plan_->authority_for(e.severity);
    if (a == nullptr || !a->ack_within || !a->escalate_to) {
      continue;
    }
    if (now - *e.paged_at >= *a->ack_within) {
      e.escalated = true;
      e.last_page_at = now;
      ++e.pages;
      Page p = make_page(PageKind::kEscalation, now, {&e}, decision, *a->escalate_to, 0);
      p.escalated_from = a->decides;
      mentions_for(p, e.severity, *a->escalate_to);
      pages.push_back(std::move(p));
    }
  }

  // 4. Repeat unacknowledged episodes.
  if (plan_->notify.repeat_every > Duration{0}) {
    std::vector<Episode*> due;
    Severity top = Severity::kMinor;
    for (Episode& e : episodes_) {
      if (e.open() && e.paged_at && !e.acked_at && e.severity != Severity::kMinor &&
          e.last_page_at && now - *e.last_page_at >= plan_->notify.repeat_every) {
        due.push_back(&e);
        top = std::max(top, e.severity);
      }
    }
    if (!due.empty()) {
      for (Episode* e : due) {
        e->last_page_at = now;
        ++e->pages;
      }
      // The key counts the first episode's pages, which the state store keeps with it: a repeat
      // decided after a restart never reuses a key from before it (the outbox would drop it as
      // already sent), and a repeat decided again after a crash keeps its key (sent once).
      Page p = make_page(PageKind::kRepeat, now, due, decision, decider(top), due.front()->pages);
      mentions_for(p, top, p.decides);
      pages.push_back(std::move(p));
    }
  }

  // 5. The warning before the point of no return, once per open major episode.
  if (in_warning) {
    std::vector<Episode*> due;
    for (Episode& e : episodes_) {
      if (e.open() && e.paged_at && e.severity == Severity::kMajor && !e.pnr_warned) {
        due.push_back(&e);
        e.pnr_warned = true;
      }
    }
    if (!due.empty()) {
      Page p = make_page(PageKind::kPnrWarning, now, due, decision, decider(Severity::kMajor), 0);
      mentions_for(p, Severity::kMajor, p.decides);
      pages.push_back(std::move(p));
    }
  }

  // 6. A fix-forward whose ETA passed: the recommendation turned to backout.
  if (phase != Phase::kPreWindow && last_recommendation_ == Recommendation::kFixForward &&
      decision.recommendation == Recommendation::kBackout &&
      decision.severity == Severity::kMajor) {
    std::vector<Episode*> eps;
    for (const std::string& id : decision.triggers) {
      if (Episode* e = open_episode(id)) {
        eps.push_back(e);
      }
    }
    if (!eps.empty()) {
      for (Episode* e : eps) {
        e->last_page_at = now;
        ++e->pages;
      }
      Page p = make_page(PageKind::kEtaPassed, now, eps, decision, decision.decides,
                         eps.front()->pages);
      mentions_for(p, Severity::kMajor, p.decides);
      pages.push_back(std::move(p));
    }
  }
  last_recommendation_ = decision.recommendation;

  // 7. The final message at the window end.
  if (phase == Phase::kPostWindow && !final_sent_) {
    final_sent_ = true;
    Page p = make_page(PageKind::kFinal, now, {}, decision, "", 0);
    p.key = "final";
    p.triggers = decision.triggers;
    p.severity = decision.severity;
    if (decision.recommendation == Recommendation::kBackout ||
        decision.recommendation == Recommendation::kFixForward) {
      p.decides = decision.decides;
      if (decision.severity) {
        mentions_for(p, *decision.severity, p.decides);
      }
    }
    pages.push_back(std::move(p));
  }
  return pages;
}

void PagingPolicy::shift(Duration d) {
  auto move = [d](std::optional<TimePoint>& t) {
    if (t) {
      *t += d;
    }
  };
  for (Episode& e : episodes_) {
    e.opened_at += d;
    move(e.paged_at);
    move(e.last_page_at);
    move(e.acked_at);
    move(e.resolved_at);
  }
  move(group_deadline_);
}

std::vector<std::string> PagingPolicy::acknowledge(const std::string& trigger,
                                                   const std::string& by, TimePoint now) {
  std::vector<std::string> acked;
  for (Episode& e : episodes_) {
    if (!e.open() || e.acked_at || (!trigger.empty() && e.trigger != trigger)) {
      continue;
    }
    e.acked_at = now;
    e.acked_by = by;
    acked.push_back(e.trigger);
  }
  return acked;
}

void PagingPolicy::continue_from(const PagingPolicy& previous) {
  const Plan* mine = plan_;
  *this = previous;
  plan_ = mine;
}

void PagingPolicy::restore(std::vector<Episode> episodes, bool final_sent,
                           Recommendation last_recommendation) {
  episodes_ = std::move(episodes);
  final_sent_ = final_sent;
  last_recommendation_ = last_recommendation;
  group_.clear();
  group_deadline_.reset();
  for (const Episode& e : episodes_) {
    if (e.open() && !e.paged_at) {
      group_.push_back(e.trigger);
    }
  }
}

}  // namespace backout::rules
