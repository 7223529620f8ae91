// Timings against the plan: the breach behind the backout and the reasoning then, whether the
// fix-forwards met their ETAs, when the BACKOUT a decision answered began, and the window as an
// `extend` moved it.
#include "app/report/review_parts.h"

namespace backout::agent::report {
namespace {

const Recommendation* recommendation_at(const Facts& f, TimePoint at) {
  const Recommendation* found = nullptr;
  for (const Recommendation& rec : f.recs) {
    if (rec.at <= at) {
      found = &rec;
    }
  }
  return found;
}

// The most severe breach open at `when` (the earliest among equals); failing that (a decision
// after the breach resolved), the latest breach before it.
std::optional<std::size_t> cause_episode(const std::vector<EpisodeRecord>& episodes,
                                         TimePoint when) {
  std::optional<std::size_t> best;
  auto better = [&](std::size_t i) {
    if (!best) {
      return true;
    }
    const EpisodeRecord& a = episodes[i];
    const EpisodeRecord& b = episodes[*best];
    if (severity_rank(a.severity) != severity_rank(b.severity)) {
      return severity_rank(a.severity) > severity_rank(b.severity);
    }
    return a.breached_at < b.breached_at;
  };
  for (std::size_t i = 0; i < episodes.size(); ++i) {
    const EpisodeRecord& ep = episodes[i];
    if (ep.breached_at <= when && (!ep.resolved_at || *ep.resolved_at > when) && better(i)) {
      best = i;
    }
  }
  if (!best) {
    for (std::size_t i = 0; i < episodes.size(); ++i) {
      if (episodes[i].breached_at <= when) {
        best = i;
      }
    }
  }
  return best;
}

}  // namespace

void judge_fix_forwards(Facts& f, const Names& names) {
  Review& r = f.review;
  for (const FixForwardFact& ff : f.fix_forwards) {
    if (!ff.episode) {
      continue;
    }
    const EpisodeRecord& ep = r.episodes[*ff.episode];
    Act& a = r.acts[ff.act];
    if (ep.resolved_at && *ep.resolved_at <= ff.eta) {
      a.details += "; resolved at " + names.t(*ep.resolved_at) + ", " +
                   names.span(ff.eta - *ep.resolved_at) + " before the ETA";
    } else if (ep.resolved_at) {
      a.details += "; resolved at " + names.t(*ep.resolved_at) + ", " +
                   names.span(*ep.resolved_at - ff.eta) + " after the ETA";
      f.missed_etas.push_back(ff.act);
    } else if (r.last_at && *r.last_at >= ff.eta) {
      a.details += "; the ETA passed with the breach still open";
      f.missed_etas.push_back(ff.act);
    }
  }
}

void find_cause(Facts& f, const Names& names) {
  Review& r = f.review;
  std::optional<TimePoint> when =
      r.backout_decided_at ? r.backout_decided_at : r.backout_recommended_at;
  if (!when) {
    return;
  }
  std::optional<std::size_t> best = cause_episode(r.episodes, *when);
  if (!best) {
    return;
  }
  Cause c;
  c.episode = *best;
  const EpisodeRecord& ep = r.episodes[*best];
  // The agent's reasoning when the backout was recommended for this breach (or, failing that,
  // at the decision).
  const Recommendation* rec = nullptr;
  for (const Recommendation& x : f.recs) {
    if (x.at >= ep.breached_at && x.at <= *when && x.rec == "backout") {
      rec = &x;
      break;
    }
  }
  if (rec == nullptr) {
    rec = recommendation_at(f, *when);
  }
  if (rec != nullptr) {
    c.evidence = rec->reason;
    c.evidence_at = rec->at;
    c.recommendation = headline(rec->rec);
  }
  c.authority = names.authority_text(ep.severity);
  r.cause = std::move(c);
}

std::optional<TimePoint> backout_onset(const Facts& f, TimePoint at) {
  std::optional<TimePoint> onset;
  for (const Recommendation& rec : f.recs) {
    if (rec.at > at) {
      break;
    }
    if (rec.rec != "backout") {
      onset.reset();
    } else if (!onset) {
      onset = rec.at;
    }
  }
  return onset;
}

std::optional<TimePoint> window_end(const ReviewHeader& h) {
  return h.extended_end ? h.extended_end : h.window_end;
}

std::optional<TimePoint> point_of_no_return(const ReviewHeader& h) {
  if (h.extended_end && h.backout_duration) {
    return *h.extended_end - *h.backout_duration;
  }
  return h.point_of_no_return;
}

}  // namespace backout::agent::report
