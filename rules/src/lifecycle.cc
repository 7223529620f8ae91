#include "backout/rules/lifecycle.h"

#include <algorithm>

namespace backout::rules {
namespace {

using Kind = LifecycleEvent::Kind;

LifecycleEvent event(Kind kind) {
  LifecycleEvent e;
  e.kind = kind;
  return e;
}

// The step's overrun point: 150% of its planned duration after its start.
Duration overrun_after(const BackoutStep& s) { return s.duration + s.duration / 2; }

}  // namespace

std::string_view to_string(NightPhase p) {
  switch (p) {
    case NightPhase::kPreWindow:
      return "pre_window";
    case NightPhase::kDeploying:
      return "deploying";
    case NightPhase::kInWindow:
      return "in_window";
    case NightPhase::kBackingOut:
      return "backing_out";
    case NightPhase::kVerifying:
      return "verifying";
    case NightPhase::kBackedOut:
      return "backed_out";
    case NightPhase::kPostWindow:
      return "post_window";
  }
  return "pre_window";
}

std::string_view to_string(StepState s) {
  switch (s) {
    case StepState::kWaiting:
      return "waiting";
    case StepState::kRunning:
      return "running";
    case StepState::kDone:
      return "done";
    case StepState::kFailed:
      return "failed";
  }
  return "waiting";
}

Lifecycle::Lifecycle(const Plan& plan) : plan_(&plan) {
  if (plan.backout) {
    steps_.resize(plan.backout->steps.size());
  }
}

void Lifecycle::enter(NightPhase p, std::vector<LifecycleEvent>& out) {
  if (phase_ == p) {
    return;
  }
  phase_ = p;
  LifecycleEvent e = event(Kind::kPhase);
  e.phase = p;
  out.push_back(std::move(e));
}

void Lifecycle::go_live(TimePoint now, std::vector<LifecycleEvent>& out) {
  deployed_at_ = now;
  enter(NightPhase::kInWindow, out);
  if (plan_->deployment && !plan_->deployment->expect_outage.empty()) {
    LifecycleEvent e = event(Kind::kStartAfresh);
    e.triggers = plan_->deployment->expect_outage;
    out.push_back(std::move(e));
  }
}

std::vector<LifecycleEvent> Lifecycle::tick(const LifecycleInput& in) {
  std::vector<LifecycleEvent> out;
  const Window& w = plan_->window;
  if (phase_ == NightPhase::kPostWindow) {
    return out;
  }
  if (in.now >= in.window_end) {
    enter(NightPhase::kPostWindow, out);
    return out;
  }
  if (phase_ == NightPhase::kPreWindow && in.now >= w.start.at) {
    enter(plan_->deployment ? NightPhase::kDeploying : NightPhase::kInWindow, out);
  }
  if (phase_ == NightPhase::kDeploying && in.now >= w.start.at + plan_->deployment->duration) {
    // The planned go-live passed without `deployed`: the night goes on as if it had gone live
    // (the outage is no longer expected) and the critical decider is told.
    if (!deploy_overrun_told_) {
      deploy_overrun_told_ = true;
      out.push_back(event(Kind::kDeployOverrun));
    }
    go_live(in.now, out);
  }
  steps_tick(in, out);
  if (phase_ == NightPhase::kVerifying) {
    verify_tick(in, out);
  }
  return out;
}

void Lifecycle::steps_tick(const LifecycleInput& in, std::vector<LifecycleEvent>& out) {
  if (!plan_->backout) {
    return;
  }
  const std::vector<BackoutStep>& plan_steps = plan_->backout->steps;
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    StepStatus& s = steps_[i];
    const BackoutStep& p = plan_steps[i];
    if (s.state == StepState::kRunning && phase_ == NightPhase::kBackingOut) {
      if (!s.overrun_told && in.now - *s.started_at >= overrun_after(p)) {
        s.overrun_told = true;
        LifecycleEvent e = event(Kind::kStepOverrun);
        e.step = i;
        e.projected_end = projected_end(in.now);
        out.push_back(std::move(e));
      }
      const std::optional<TimePoint> end = projected_end(in.now);
      if (!s.projection_told && end && *end > in.window_end) {
        s.projection_told = true;
        LifecycleEvent e = event(Kind::kProjection);
        e.step = i;
        e.projected_end = end;
        out.push_back(std::move(e));
      }
    }
    // A done step's check, judged at and after its done time; a failure is told once, and a
    // check that holds later still verifies the step.
    if (s.state == StepState::kDone && p.check && !s.verified.value_or(false) &&
        i < in.step_checks.size() && in.step_checks[i]) {
      if (*in.step_checks[i]) {
        s.verified = true;
        LifecycleEvent e = event(Kind::kStepVerified);
        e.step = i;
        out.push_back(std::move(e));
      } else {
        s.verified = false;
        if (!s.check_failure_told) {
          s.check_failure_told = true;
          LifecycleEvent e = event(Kind::kCheckFailed);
          e.step = i;
          out.push_back(std::move(e));
        }
      }
    }
  }
}

void Lifecycle::verify_tick(const LifecycleInput& in, std::vector<LifecycleEvent>& out) {
  const Backout& b = *plan_->backout;
  std::vector<std::string> failing;
  for (std::size_t i = 0; i < b.checks.size(); ++i) {
    const bool ok = i < in.checks.size() && in.checks[i].value_or(false);
    if (!ok) {
      failing.push_back(b.checks[i].name);
    }
  }
  failing.insert(failing.end(), in.breached.begin(), in.breached.end());
  if (failing.empty()) {
    if (!fine_since_) {
      fine_since_ = in.now;
    }
    if (in.now - *fine_since_ >= b.hold) {
      verified_at_ = in.now;
      enter(NightPhase::kBackedOut, out);
      out.push_back(event(Kind::kReversalVerified));
    }
    return;
  }
  fine_since_.reset();
  if (!incomplete_told_ && in.now - *verify_since_ >= b.timeout) {
    incomplete_told_ = true;
    LifecycleEvent e = event(Kind::kReversalIncomplete);
    e.failing = std::move(failing);
    out.push_back(std::move(e));
  }
}

Result<std::vector<LifecycleEvent>> Lifecycle::deployed(TimePoint now) {
  if (phase_ != NightPhase::kDeploying) {
    if (!plan_->deployment) {
      return Error{"the plan has no deployment section, so there is no go-live to declare"};
    }
    return Error{"the night is " + std::string(to_string(phase_)) +
                 ", not deploying: go-live can only be declared while deploying"};
  }
  std::vector<LifecycleEvent> out;
  go_live(now, out);
  return out;
}

Result<std::vector<LifecycleEvent>> Lifecycle::backout_decided(TimePoint now,
                                                               TimePoint window_end) {
  std::vector<LifecycleEvent> out;
  if (!plan_->backout || plan_->backout->steps.empty()) {
    return out;  // no procedure to walk: the night stays as it is (DESIGN section 5)
  }
  if (phase_ == NightPhase::kBackingOut || phase_ == NightPhase::kVerifying ||
      phase_ == NightPhase::kBackedOut) {
    return Error{"the backout already began at " +
                 format_clock(*backout_started_at_, plan_->window.offset())};
  }
  if (phase_ == NightPhase::kPostWindow) {
    return Error{"the window has ended; the backout procedure is not started after it"};
  }
  const bool was_deploying = phase_ == NightPhase::kDeploying;
  backout_started_at_ = now;
  enter(NightPhase::kBackingOut, out);
  // Backing out before go-live: the deployment's outage is no longer expected, so its triggers
  // start afresh rather than page for the planned downtime (the backout's own expected
  // outages stay quiet through the steps).
  if (was_deploying && !plan_->deployment->expect_outage.empty()) {
    LifecycleEvent e = event(Kind::kStartAfresh);
    e.triggers = plan_->deployment->expect_outage;
    out.push_back(std::move(e));
  }
  start_step(0, now, out);
  // The decision may come while a step's projection already passes the window's end.
  LifecycleInput in;
  in.now = now;
  in.window_end = window_end;
  steps_tick(in, out);
  return out;
}

void Lifecycle::start_step(std::size_t i, TimePoint now, std::vector<LifecycleEvent>& out) {
  steps_[i].state = StepState::kRunning;
  steps_[i].started_at = now;
  LifecycleEvent e = event(Kind::kStepStarted);
  e.step = i;
  e.projected_end = projected_end(now);
  out.push_back(std::move(e));
}

Result<std::vector<LifecycleEvent>> Lifecycle::done(const std::string& item, TimePoint now,
                                                    TimePoint window_end, const std::string& by,
                                                    const std::string& note, bool failed) {
  const std::vector<BackoutStep> none;
  const std::vector<BackoutStep>& plan_steps = plan_->backout ? plan_->backout->steps : none;
  auto it = std::find_if(plan_steps.begin(), plan_steps.end(),
                         [&](const BackoutStep& s) { return s.id == item; });
  if (it == plan_steps.end()) {
    return Error{"'" + item + "' is not a step of backout.steps"};
  }
  if (phase_ != NightPhase::kBackingOut) {
    return Error{"the night is " + std::string(to_string(phase_)) +
                 ", not backing_out: steps are done during the backout"};
  }
  const std::size_t i = static_cast<std::size_t>(it - plan_steps.begin());
  const std::size_t current = *current_step();
  if (i != current) {
    return Error{"'" + item + "' is not the current step; the current one is '" +
                 plan_steps[current].id + "' (" + std::to_string(current + 1) + " of " +
                 std::to_string(plan_steps.size()) + ")"};
  }
  std::vector<LifecycleEvent> out;
  StepStatus& s = steps_[i];
  s.state = failed ? StepState::kFailed : StepState::kDone;
  s.done_at = now;
  s.done_by = by;
  s.note = note;
  if (failed) {
    s.verified = false;
    s.check_failure_told = true;
    LifecycleEvent e = event(Kind::kCheckFailed);
    e.step = i;
    out.push_back(std::move(e));
  }
  if (i + 1 < steps_.size()) {
    start_step(i + 1, now, out);
    LifecycleInput in;
    in.now = now;
    in.window_end = window_end;
    steps_tick(in, out);
    return out;
  }
  verify_since_ = now;
  enter(NightPhase::kVerifying, out);
  if (!plan_->backout->expect_outage.empty()) {
    LifecycleEvent e = event(Kind::kStartAfresh);
    e.triggers = plan_->backout->expect_outage;
    out.push_back(std::move(e));
  }
  return out;
}

bool Lifecycle::expects_outage(const std::string& trigger) const {
  const std::vector<std::string>* expected = nullptr;
  if (phase_ == NightPhase::kDeploying && plan_->deployment) {
    expected = &plan_->deployment->expect_outage;
  } else if (phase_ == NightPhase::kBackingOut && plan_->backout) {
    expected = &plan_->backout->expect_outage;
  }
  return expected != nullptr &&
         std::find(expected->begin(), expected->end(), trigger) != expected->end();
}

std::optional<std::size_t> Lifecycle::current_step() const {
  if (phase_ != NightPhase::kBackingOut) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    if (steps_[i].state == StepState::kRunning) {
      return i;
    }
  }
  return std::nullopt;
}

std::optional<TimePoint> Lifecycle::projected_end(TimePoint now) const {
  const std::optional<std::size_t> current = current_step();
  if (!current) {
    return std::nullopt;
  }
  const std::vector<BackoutStep>& plan_steps = plan_->backout->steps;
  const Duration elapsed = now - *steps_[*current].started_at;
  TimePoint end = now + std::max(Duration{0}, plan_steps[*current].duration - elapsed);
  for (std::size_t i = *current + 1; i < plan_steps.size(); ++i) {
    end += plan_steps[i].duration;
  }
  return end;
}

void Lifecycle::shift(Duration d) {
  auto move = [d](std::optional<TimePoint>& t) {
    if (t) {
      *t += d;
    }
  };
  for (StepStatus& s : steps_) {
    move(s.started_at);
    move(s.done_at);
  }
  move(deployed_at_);
  move(backout_started_at_);
  move(verify_since_);
  move(fine_since_);
  move(verified_at_);
}

void Lifecycle::replay(const HumanActs& acts, TimePoint now) {
  struct Act {
    TimePoint at;
    int order;  // at the same time: boundaries first, then go-live, the decision, done
    const ItemDone* done = nullptr;
  };
  std::vector<Act> todo;
  const Window& w = plan_->window;
  todo.push_back({w.start.at, 0});
  if (plan_->deployment) {
    todo.push_back({w.start.at + plan_->deployment->duration, 0});
  }
  if (acts.deployed) {
    todo.push_back({acts.deployed->at, 1});
  }
  for (const HumanDecision& d : acts.decisions) {
    if (d.kind == HumanDecision::Kind::kBackout) {
      todo.push_back({d.at, 2});
      break;
    }
  }
  for (const ItemDone& d : acts.done) {
    todo.push_back({d.at, 3, &d});
  }
  std::stable_sort(todo.begin(), todo.end(), [](const Act& a, const Act& b) {
    return a.at != b.at ? a.at < b.at : a.order < b.order;
  });
  // The window's end as the acts left it: an extension moves it.
  auto window_end = [&](TimePoint at) { return effective_window(*plan_, acts, at).end.at; };
  for (const Act& a : todo) {
    if (a.at > now) {
      break;
    }
    LifecycleInput in;
    in.now = a.at;
    in.window_end = window_end(a.at);
    (void)tick(in);
    switch (a.order) {
      case 1:
        (void)deployed(a.at);
        break;
      case 2:
        (void)backout_decided(a.at, in.window_end);
        break;
      case 3:
        (void)done(a.done->item, a.at, in.window_end, a.done->by, a.done->note, a.done->failed);
        break;
      default:
        break;
    }
  }
}

}  // namespace backout::rules
