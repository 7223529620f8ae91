#include "backout/rules/decision_engine.h"

#include <algorithm>

#include "backout/core/text.h"

namespace backout::rules {

std::string_view to_string(Recommendation r) {
  switch (r) {
    case Recommendation::kGo:
      return "go";
    case Recommendation::kWatch:
      return "watch";
    case Recommendation::kFixForward:
      return "fix_forward";
    case Recommendation::kBackout:
      return "backout";
  }
  return "go";
}

std::string_view headline(Recommendation r) {
  switch (r) {
    case Recommendation::kGo:
      return "GO";
    case Recommendation::kWatch:
      return "WATCH";
    case Recommendation::kFixForward:
      return "FIX-FORWARD";
    case Recommendation::kBackout:
      return "BACKOUT";
  }
  return "GO";
}

std::string_view to_string(Phase p) {
  switch (p) {
    case Phase::kPreWindow:
      return "pre_window";
    case Phase::kInWindow:
      return "in_window";
    case Phase::kPostWindow:
      return "post_window";
  }
  return "pre_window";
}

std::string_view to_string(HumanDecision::Kind k) {
  switch (k) {
    case HumanDecision::Kind::kBackout:
      return "backout";
    case HumanDecision::Kind::kGo:
      return "go";
    case HumanDecision::Kind::kExtend:
      return "extend";
  }
  return "go";
}

Phase phase_at(const Window& w, TimePoint now) {
  if (now < w.start.at) {
    return Phase::kPreWindow;
  }
  if (now < w.end.at) {
    return Phase::kInWindow;
  }
  return Phase::kPostWindow;
}

bool fix_forward_honoured(const Window& window, const FixForward& ff, TimePoint now) {
  return ff.eta <= window.point_of_no_return() && now < ff.eta;
}

void HumanActs::shift(Duration d) {
  for (FixForward& f : fix_forwards) {
    f.declared_at += d;
  }
  for (ManualRaise& r : raises) {
    r.at += d;
  }
  for (HumanDecision& h : decisions) {
    h.at += d;
  }
  if (deployed) {
    deployed->at += d;
  }
  for (ItemDone& x : done) {
    x.at += d;
  }
}

Window effective_window(const Plan& plan, const HumanActs& acts, TimePoint now) {
  Window w = plan.window;
  for (const HumanDecision& d : acts.decisions) {
    if (d.kind == HumanDecision::Kind::kExtend && d.until && d.at <= now) {
      w.end.at = *d.until;
    }
  }
  return w;
}

namespace {

struct Breach {
  std::string id;
  std::string name;
  Severity severity;
  std::string evidence;
  bool manual = false;
};

std::string pnr_text(const Window& window, TimePoint now) {
  const TimePoint pnr = window.point_of_no_return();
  const auto off = window.offset();
  std::string out = "backout takes " + format_duration(window.backout_duration) +
                    ", point of no return " + format_clock(pnr, off);
  if (now < pnr) {
    out += " (in " + format_span(pnr - now) + ")";
  } else {
    out += " (passed " + format_span(now - pnr) + " ago: a backout now ends after " +
           format_clock(window.end.at, off) + ")";
  }
  return out;
}

const FixForward* latest_fix_forward(const HumanActs& acts, const std::string& trigger) {
  const FixForward* found = nullptr;
  for (const FixForward& ff : acts.fix_forwards) {
    if (ff.trigger == trigger && (found == nullptr || ff.declared_at >= found->declared_at)) {
      found = &ff;
    }
  }
  return found;
}

}  // namespace

DecisionOutput decide(const Plan& plan, const std::vector<TriggerStatus>& statuses,
                      const HumanActs& acts, TimePoint now) {
  DecisionOutput out;
  const Window window = effective_window(plan, acts, now);
  out.phase = phase_at(window, now);
  out.window_end = window.end.at;
  out.point_of_no_return = window.point_of_no_return();
  out.to_point_of_no_return = out.point_of_no_return - now;
  const auto off = window.offset();

  // A human backout decision stands for the rest of the window.
  for (const HumanDecision& d : acts.decisions) {
    if (d.kind == HumanDecision::Kind::kBackout && d.at <= now) {
      out.recommendation = Recommendation::kBackout;
      out.reason = "backout decided by " + d.by + " at " + format_clock(d.at, off) +
                   (d.note.empty() ? "" : ": " + d.note);
      if (const Authority* a = plan.authority_for(Severity::kCritical)) {
        out.decides = a->decides;
      }
      return out;
    }
  }
  // Breaches a `go` decision accepted while they stay open at the severity they had.
  std::vector<std::string> accepted;
  for (const HumanDecision& d : acts.decisions) {
    if (d.kind == HumanDecision::Kind::kGo && d.at <= now) {
      accepted.insert(accepted.end(), d.accepted.begin(), d.accepted.end());
    }
  }

  std::vector<Breach> breaches;
  std::vector<std::string> inconclusive;
  std::vector<std::string> accepted_open;
  for (std::size_t i = 0; i < statuses.size() && i < plan.triggers.size(); ++i) {
    const TriggerStatus& st = statuses[i];
    const Trigger& t = plan.triggers[i];
    if (st.state == TriggerState::kBreached && st.severity) {
      if (std::find(accepted.begin(), accepted.end(), t.id + ":" +
                                                          std::string(to_string(*st.severity))) !=
          accepted.end()) {
        accepted_open.push_back(t.name);
        continue;
      }
      breaches.push_back({t.id, t.name, *st.severity, st.evidence, false});
    } else if (st.state == TriggerState::kInconclusive) {
      inconclusive.push_back(t.name + ": " + st.reason);
    }
  }
  for (const ManualRaise& r : acts.raises) {
    if (!r.cleared && r.at <= now) {
      breaches.push_back({r.id, "raised by " + r.by + ": " + r.reason, r.severity,
                          "raised at " + format_clock(r.at, off), true});
    }
  }

  auto with = [&](Severity s) {
    std::vector<const Breach*> v;
    for (const Breach& b : breaches) {
      if (b.severity == s) {
        v.push_back(&b);
      }
    }
    return v;
  };
  auto describe = [](const Breach& b) {
    return b.manual ? b.name : b.name + ": " + b.evidence;
  };

  if (auto critical = with(Severity::kCritical); !critical.empty()) {
    out.recommendation = Recommendation::kBackout;
    out.severity = Severity::kCritical;
    std::vector<std::string> parts;
    for (const Breach* b : critical) {
      out.triggers.push_back(b->id);
      parts.push_back(describe(*b));
    }
    out.reason = "critical: " + join(parts, "; ") + "; immediate backout; " + pnr_text(window, now);
    if (const Authority* a = plan.authority_for(Severity::kCritical)) {
      out.decides = a->decides;
    }
    return out;
  }
  if (auto major = with(Severity::kMajor); !major.empty()) {
    out.severity = Severity::kMajor;
    if (const Authority* a = plan.authority_for(Severity::kMajor)) {
      out.decides = a->decides;
    }
    bool all_fixing = true;
    std::vector<std::string> parts;
    for (const Breach* b : major) {
      out.triggers.push_back(b->id);
      std::string part = describe(*b);
      const FixForward* ff = b->manual ? nullptr : latest_fix_forward(acts, b->id);
      if (ff == nullptr) {
        part += "; no fix-forward declared";
        all_fixing = false;
      } else if (ff->eta > window.point_of_no_return()) {
        part += "; the fix-forward ETA " + format_clock(ff->eta, off) + " (" + ff->by +
                ") is after the point of no return";
        all_fixing = false;
      } else if (now >= ff->eta) {
        part += "; the fix-forward ETA " + format_clock(ff->eta, off) + " (" + ff->by +
                ") has passed";
        all_fixing = false;
      } else {
        part += "; fix-forward by " + ff->by + ", ETA " + format_clock(ff->eta, off) + " (in " +
                format_span(ff->eta - now) + ")";
      }
      parts.push_back(part);
    }
    out.recommendation = all_fixing ? Recommendation::kFixForward : Recommendation::kBackout;
    out.reason = "major: " + join(parts, "; ") + "; " + pnr_text(window, now);
    return out;
  }
  std::vector<std::string> parts;
  for (Severity s : {Severity::kDiscretionary, Severity::kMinor}) {
    for (const Breach* b : with(s)) {
      out.triggers.push_back(b->id);
      parts.push_back(std::string(to_string(s)) + ": " + describe(*b));
      if (!out.severity) {
        out.severity = s;
      }
    }
  }
  if (out.severity == Severity::kDiscretionary) {
    if (const Authority* a = plan.authority_for(Severity::kDiscretionary)) {
      out.decides = a->decides;
    }
  }
  for (const std::string& name : accepted_open) {
    parts.push_back("accepted by a go decision: " + name);
  }
  for (const std::string& s : inconclusive) {
    parts.push_back("inconclusive: " + s);
  }
  if (!parts.empty()) {
    out.recommendation = Recommendation::kWatch;
    out.reason = join(parts, "; ");
    return out;
  }
  out.recommendation = Recommendation::kGo;
  out.reason = "all " + std::to_string(plan.triggers.size()) + " triggers ok";
  return out;
}

}  // namespace backout::rules
