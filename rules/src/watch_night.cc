// The watch's pages about the night (DESIGN section 9): each lifecycle event that people are to
// hear of becomes one page, to the role the plan makes responsible: a step's owner, the critical
// decider, or nobody (a phase announcement, a verified step). The page says what happened; the
// chat message (alerting) says it in words.
#include <algorithm>

#include "backout/rules/watch.h"

namespace backout::rules {
namespace {

using Kind = LifecycleEvent::Kind;

// The page's mentions: each role's chat handle, in order, once.
void mention(Page& p, const Plan& plan, const std::vector<std::string>& roles) {
  for (const std::string& role : roles) {
    if (role.empty() ||
        std::find(p.mention_roles.begin(), p.mention_roles.end(), role) != p.mention_roles.end()) {
      continue;
    }
    const Contact* c = plan.contact(role);
    p.mention_roles.push_back(role);
    p.mention.push_back(c != nullptr ? c->chat : std::string());
  }
}

std::string critical_decider(const Plan& plan) {
  const Authority* a = plan.authority_for(Severity::kCritical);
  return a != nullptr ? a->decides : std::string();
}

std::vector<std::string> notified(const Plan& plan) {
  const Authority* a = plan.authority_for(Severity::kCritical);
  return a != nullptr ? a->notify : std::vector<std::string>{};
}

}  // namespace

std::vector<Page> Watch::night_pages(const std::vector<LifecycleEvent>& events, TimePoint now,
                                     const DecisionOutput& decision) const {
  std::vector<Page> out;
  const std::vector<BackoutStep> none;
  const std::vector<BackoutStep>& steps = plan_->backout ? plan_->backout->steps : none;
  for (const LifecycleEvent& e : events) {
    Page p;
    p.at = now;
    p.recommendation = decision.recommendation;
    p.reason = decision.reason;
    p.phase = decision.phase;
    p.window_end = decision.window_end;
    p.projected_end = e.projected_end;
    const std::string step_id = e.step < steps.size() ? steps[e.step].id : std::string();
    const std::string owner = e.step < steps.size() ? steps[e.step].owner : std::string();
    switch (e.kind) {
      case Kind::kPhase:
        // Announced: the phases that change what pages (deploying, go-live, backing_out,
        // verifying). The window opening without a deployment, backed_out (the reversal's own
        // page says it) and post_window (the final message) are not: a plan without the night's
        // keys pages as it always did.
        if (e.phase == NightPhase::kPostWindow || e.phase == NightPhase::kBackedOut ||
            e.phase == NightPhase::kPreWindow ||
            (e.phase == NightPhase::kInWindow && !plan_->deployment)) {
          continue;
        }
        p.kind = PageKind::kPhase;
        p.night_phase = std::string(to_string(e.phase));
        if (e.phase == NightPhase::kDeploying && plan_->deployment) {
          p.expected = plan_->deployment->expect_outage;
        } else if (e.phase == NightPhase::kBackingOut && plan_->backout) {
          p.expected = plan_->backout->expect_outage;
        }
        p.key = "phase:" + p.night_phase;
        break;
      case Kind::kDeployOverrun:
        p.kind = PageKind::kDeployOverrun;
        p.decides = critical_decider(*plan_);
        mention(p, *plan_, {p.decides});
        p.key = "deploy_overrun";
        break;
      case Kind::kStepStarted:
        p.kind = PageKind::kStep;
        p.decides = owner;
        mention(p, *plan_, {owner});
        p.key = "step:" + step_id;
        break;
      case Kind::kStepOverrun:
        p.kind = PageKind::kStepOverrun;
        p.decides = owner;
        mention(p, *plan_, {owner});
        p.key = "step_overrun:" + step_id;
        break;
      case Kind::kProjection:
        p.kind = PageKind::kProjection;
        p.decides = critical_decider(*plan_);
        mention(p, *plan_, {p.decides});
        p.key = "projection:" + step_id;
        break;
      case Kind::kStepVerified:
        p.kind = PageKind::kStepVerified;
        p.key = "verified:" + step_id;
        break;
      case Kind::kCheckFailed:
        p.kind = PageKind::kCheckFailed;
        p.decides = critical_decider(*plan_);
        mention(p, *plan_, {owner, p.decides});
        p.key = "check_failed:" + step_id;
        break;
      case Kind::kReversalVerified: {
        p.kind = PageKind::kReversalVerified;
        p.decides = critical_decider(*plan_);
        std::vector<std::string> roles{p.decides};
        for (const std::string& r : notified(*plan_)) {
          roles.push_back(r);
        }
        mention(p, *plan_, roles);
        for (const CheckReading& c : verify_readings_) {
          p.check_values.push_back(c.value);
        }
        p.key = "reversal_verified";
        break;
      }
      case Kind::kReversalIncomplete:
        p.kind = PageKind::kReversalIncomplete;
        p.decides = critical_decider(*plan_);
        mention(p, *plan_, {p.decides});
        p.failing = e.failing;
        for (const CheckReading& c : verify_readings_) {
          p.check_values.push_back(c.value);
        }
        p.key = "reversal_incomplete";
        break;
      case Kind::kStartAfresh:
        continue;
    }
    if (e.kind != Kind::kPhase && e.kind != Kind::kDeployOverrun &&
        e.kind != Kind::kReversalVerified && e.kind != Kind::kReversalIncomplete) {
      p.step = e.step;
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::optional<TimePoint> Watch::blind_since(std::size_t i) const {
  const auto& st = evaluator_.statuses();
  if (i >= st.size() || st[i].state != TriggerState::kInconclusive) {
    return std::nullopt;
  }
  return st[i].since;
}

std::vector<Page> Watch::blind_pages(TimePoint now, const DecisionOutput& decision) {
  const NightPhase phase = lifecycle_.phase();
  const bool watching = phase == NightPhase::kDeploying || phase == NightPhase::kInWindow;
  // The triggers that turned blind this tick, grouped by the role told (one page each), and
  // those that see again (one post).
  std::vector<Page> blind;
  Page seeing;
  for (std::size_t i = 0; i < plan_->triggers.size(); ++i) {
    const Trigger& t = plan_->triggers[i];
    BlindSpell& b = blind_[i];
    if (!blind_since(i)) {
      if (b.told) {
        b.told = false;
        seeing.triggers.push_back(t.id);
        seeing.key += (seeing.key.empty() ? "" : ",") + t.id + "#" + std::to_string(b.spells);
      }
      continue;
    }
    // A trigger the phase expects to breach may also be expected not to be judged (the
    // deployment stops its source).
    if (b.told || !watching || lifecycle_.expects_outage(t.id) ||
        now - *blind_since(i) < plan_->notify.blind_after) {
      continue;
    }
    b.told = true;
    ++b.spells;
    // The decider of the trigger's most severe level (nobody for a minor trigger).
    Severity worst = t.levels.front().severity;
    for (const Level& l : t.levels) {
      worst = std::max(worst, l.severity);
    }
    const Authority* a = worst == Severity::kMinor ? nullptr : plan_->authority_for(worst);
    const std::string role = a != nullptr ? a->decides : std::string();
    auto it = std::find_if(blind.begin(), blind.end(),
                           [&](const Page& p) { return p.decides == role; });
    if (it == blind.end()) {
      Page p;
      p.kind = PageKind::kBlind;
      p.decides = role;
      mention(p, *plan_, {role});
      blind.push_back(std::move(p));
      it = blind.end() - 1;
    }
    it->triggers.push_back(t.id);
    it->severity = std::max(it->severity.value_or(worst), worst);
    it->key += (it->key.empty() ? "" : ",") + t.id + "#" + std::to_string(b.spells);
  }
  std::vector<Page> out;
  auto finish = [&](Page& p, PageKind kind, const std::string& prefix) {
    p.kind = kind;
    p.at = now;
    p.recommendation = decision.recommendation;
    p.reason = decision.reason;
    p.phase = decision.phase;
    p.window_end = decision.window_end;
    p.key = prefix + p.key;
    out.push_back(std::move(p));
  };
  for (Page& p : blind) {
    finish(p, PageKind::kBlind, "blind:");
  }
  if (!seeing.triggers.empty()) {
    finish(seeing, PageKind::kBlindResolved, "blind_resolved:");
  }
  return out;
}

}  // namespace backout::rules
