#include "backout/rules/trigger_machine.h"

namespace backout::rules {

std::string_view to_string(TriggerState s) {
  switch (s) {
    case TriggerState::kOk:
      return "ok";
    case TriggerState::kPending:
      return "pending";
    case TriggerState::kBreached:
      return "breached";
    case TriggerState::kInconclusive:
      return "inconclusive";
  }
  return "unknown";
}

std::string_view to_string(DetectionPath p) {
  return p == DetectionPath::kEarly ? "early" : "average";
}

TriggerMachine::TriggerMachine(const Trigger& trigger)
    : trigger_(&trigger), levels_(trigger.levels.size()) {}

void TriggerMachine::continue_from(const TriggerMachine& previous) {
  const Trigger* mine = trigger_;
  *this = previous;
  trigger_ = mine;
}

void TriggerMachine::shift(Duration d) {
  for (LevelState& l : levels_) {
    if (l.held_since) {
      *l.held_since += d;
    }
    if (l.unmet_since) {
      *l.unmet_since += d;
    }
  }
  if (started_) {
    since_ += d;
  }
}

void TriggerMachine::restore_breach(std::size_t level, TimePoint since, DetectionPath path) {
  if (level >= levels_.size()) {
    return;
  }
  levels_[level].breached = true;
  levels_[level].held_since = since;
  state_ = TriggerState::kBreached;
  severity_ = trigger_->levels[level].severity;
  level_ = level;
  since_ = since;
  path_ = path;
  started_ = true;
}

bool TriggerMachine::step(const TriggerInput& in) {
  const bool inconclusive = !in.inconclusive_reason.empty();
  for (std::size_t i = 0; i < levels_.size(); ++i) {
    LevelState& l = levels_[i];
    if (inconclusive) {
      // No evidence either way: a pending level does not advance, a breach does not clear.
      l.held_since.reset();
      l.unmet_since.reset();
      continue;
    }
    const bool avg = i < in.average_met.size() && in.average_met[i];
    const bool early = i < in.early_met.size() && in.early_met[i];
    if (avg || early) {
      l.unmet_since.reset();
      if (!l.held_since) {
        l.held_since = in.now;
        l.started_early = !avg;
      }
      if (!l.breached && in.now - *l.held_since >= trigger_->for_duration) {
        l.breached = true;
      }
    } else {
      l.held_since.reset();
      if (l.breached) {
        if (!l.unmet_since) {
          l.unmet_since = in.now;
        }
        if (in.now - *l.unmet_since >= trigger_->clear_after) {
          l.breached = false;
          l.unmet_since.reset();
        }
      }
    }
  }
  TriggerState next = TriggerState::kOk;
  std::optional<std::size_t> level;
  for (std::size_t i = 0; i < levels_.size(); ++i) {
    if (levels_[i].breached) {
      next = TriggerState::kBreached;
      level = i;
      break;
    }
  }
  if (next != TriggerState::kBreached) {
    if (inconclusive) {
      next = TriggerState::kInconclusive;
    } else {
      for (std::size_t i = 0; i < levels_.size(); ++i) {
        if (levels_[i].held_since) {
          next = TriggerState::kPending;
          level = i;
          break;
        }
      }
    }
  }
  std::optional<Severity> sev;
  if (level) {
    sev = trigger_->levels[*level].severity;
  }
  reason_ = inconclusive ? in.inconclusive_reason : std::string();
  if (!started_) {
    since_ = in.now;  // the initial ok state starts with the first step
    started_ = true;
  }
  bool changed = next != state_ || sev != severity_;
  if (changed) {
    if (next == TriggerState::kBreached &&
        (state_ != TriggerState::kBreached || (severity_ && sev && *sev > *severity_))) {
      path_ = levels_[*level].started_early ? DetectionPath::kEarly : DetectionPath::kAverage;
    }
    state_ = next;
    severity_ = sev;
    since_ = in.now;
  }
  level_ = level;
  return changed;
}

}  // namespace backout::rules
