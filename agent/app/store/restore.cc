#include "app/store/restore.h"

#include "app/record/timeline_event.h"

namespace backout::agent {

rules::HumanActs acts_from_timeline(const std::vector<std::string>& events) {
  rules::HumanActs acts;
  for (const std::string& line : events) {
    auto e = record::decode(line);
    if (!e.ok()) {
      continue;  // not an act this build can read; the review shows it as it was written
    }
    const TimePoint at = e->at.at;
    if (const auto* f = e->as<record::FixForwardDeclared>()) {
      acts.fix_forwards.push_back({f->trigger, f->eta.at, f->by, at});
    } else if (const auto* x = e->as<record::Raised>()) {
      acts.raises.push_back({x->id, x->severity, x->reason, x->by, at, false});
    } else if (const auto* c = e->as<record::RaiseCleared>()) {
      for (rules::ManualRaise& r : acts.raises) {
        if (r.id == c->id) {
          r.cleared = true;
        }
      }
    } else if (const auto* d = e->as<record::Decided>()) {
      rules::HumanDecision h;
      h.kind = d->decision;
      h.by = d->by;
      h.note = d->note;
      h.at = at;
      if (d->decision == rules::HumanDecision::Kind::kExtend && d->until) {
        h.until = d->until->at;
      }
      if (d->accepted) {
        h.accepted = *d->accepted;
      }
      acts.decisions.push_back(std::move(h));
    } else if (const auto* g = e->as<record::GoLiveDeclared>()) {
      if (!g->overrun) {
        acts.deployed = rules::GoLive{g->by, at};
      }
    } else if (const auto* done = e->as<record::ItemDoneRecorded>()) {
      acts.done.push_back({done->item, done->by, done->note, done->failed, at});
    }
  }
  return acts;
}

rules::Recommendation last_recommendation(const std::vector<std::string>& events) {
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    auto e = record::decode(*it);
    if (e.ok()) {
      if (const auto* r = e->as<record::RecommendationChanged>()) {
        return r->recommendation;
      }
    }
  }
  return rules::Recommendation::kGo;
}

}  // namespace backout::agent
