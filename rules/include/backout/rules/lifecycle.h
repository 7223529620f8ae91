// The night's lifecycle (DESIGN section 9): which phase the night is in, the backout procedure
// step by step, and the verification of the reversal. It says which triggers the phase expects
// to breach (a deployment's downtime, the backout's own restore), so that they page nobody, and
// what to tell whom as the night goes on (events the watch turns into pages).
//
//   pre_window --window.start--> deploying --deployed / deployment.duration--> in_window
//        \______(no deployment)______________________________________________/    |
//                                                             backout decided (steps)
//                                                                                 v
//   post_window <--window.end, from any phase--  backed_out <--hold-- verifying <--last step done
//
// Worked example (the night plan: window 02:00-06:00, eleven steps planned 1h42m): backout
// decided at 03:10, so step 1 starts at 03:10 and the projected end is 04:52 (margin 1h08m to
// 06:00). Steps 1-4 take their 17m; step 5, restore_db (30m), starts at 03:27 and is still
// running at 04:12, 150% of its 30m, so its owner is told once (step_overrun). The projection
// then is 04:12 + 0 (step 5 has overrun) + the 55m of steps 6-11 = 05:07: inside the window, no
// projection page. Still running at 05:06, the projection 05:06 + 55m = 06:01 passes 06:00 and
// the critical decider is told, once for step 5.
//
// Pure; not thread-safe (owned by the watch). Time enters only as the `now` of each call; every
// duration is measured between two such `now`s, and shift() moves them with a stepped clock.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backout/core/result.h"
#include "backout/core/time.h"
#include "backout/rules/decision_engine.h"
#include "backout/rules/plan.h"

namespace backout::rules {

enum class NightPhase {
  kPreWindow,
  kDeploying,
  kInWindow,
  kBackingOut,
  kVerifying,
  kBackedOut,
  kPostWindow
};
/// pre_window, deploying, in_window, backing_out, verifying, backed_out, post_window
std::string_view to_string(NightPhase p);

enum class StepState { kWaiting, kRunning, kDone, kFailed };
std::string_view to_string(StepState s);  // waiting, running, done, failed

struct StepStatus {
  StepState state = StepState::kWaiting;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> done_at;
  std::string done_by;
  std::string note;
  /// The step's check at or after its done time: true verified, false failed; nullopt: no
  /// check, or not judged yet.
  std::optional<bool> verified;
  bool overrun_told = false;
  bool projection_told = false;
  bool check_failure_told = false;
};

/// Something the people on the call are to be told (the watch makes it a page of the same
/// name), or a change the watch acts on.
struct LifecycleEvent {
  enum class Kind {
    kPhase,               // the night entered `phase`
    kDeployOverrun,       // deployment.duration passed without `deployed`
    kStepStarted,         // `step` started: page its owner
    kStepOverrun,         // `step` ran 50% past its duration: page its owner, once
    kProjection,          // the projected end passes the window's end: the critical decider
    kStepVerified,        // `step`'s check holds at or after its done time
    kCheckFailed,         // `step`'s check fails after done, or it was done --failed
    kReversalVerified,    // every check and trigger fine for verify.hold
    kReversalIncomplete,  // verify.timeout first: `failing` names what fails
    kStartAfresh,         // the phase that expected `triggers` to breach ended
  };
  Kind kind = Kind::kPhase;
  NightPhase phase = NightPhase::kPreWindow;  // kPhase: the new phase
  std::size_t step = 0;                       // the steps' index, for the step kinds
  std::optional<TimePoint> projected_end;     // step started / overrun / projection
  std::vector<std::string> failing;           // reversal incomplete: check names, trigger ids
  std::vector<std::string> triggers;          // start afresh

  bool operator==(const LifecycleEvent&) const = default;
};

/// What one tick tells the lifecycle about the signals.
struct LifecycleInput {
  TimePoint now{};
  /// The window's end in effect (an `extend` decision moves it).
  TimePoint window_end{};
  /// verify.checks, in order: true passes, false fails, nullopt cannot be judged yet.
  std::vector<std::optional<bool>> checks;
  /// Each step's check (by step index; nullopt: none, or cannot be judged yet).
  std::vector<std::optional<bool>> step_checks;
  /// The triggers breached now (ids): in `verifying` every one of them counts against the
  /// reversal.
  std::vector<std::string> breached;
};

class Lifecycle {
 public:
  /// `plan` must outlive the lifecycle.
  explicit Lifecycle(const Plan& plan);

  NightPhase phase() const { return phase_; }

  /// The time-driven changes: the window opening and closing, the deployment's planned end,
  /// step overruns, projections, step checks, the verification's hold and timeout.
  std::vector<LifecycleEvent> tick(const LifecycleInput& in);

  /// Go-live (`deployed` act). Refused outside `deploying`.
  Result<std::vector<LifecycleEvent>> deployed(TimePoint now);
  /// A person decided to back out: with backout.steps the night enters `backing_out` and step
  /// 1 starts (`window_end` for its projection); without steps nothing changes. Decided while
  /// deploying, the deployment's expected triggers start afresh. Refused after the backout
  /// began.
  Result<std::vector<LifecycleEvent>> backout_decided(TimePoint now, TimePoint window_end);
  /// `done ITEM`: finishes the current step (named by its id) and starts the next, or enters
  /// `verifying` after the last. `failed`: the step did not work (told as check_failed, and the
  /// next step still starts: the people decide what to do). Refused, with the reason, outside
  /// `backing_out`, for an unknown item or for a step that is not the current one.
  Result<std::vector<LifecycleEvent>> done(const std::string& item, TimePoint now,
                                           TimePoint window_end, const std::string& by,
                                           const std::string& note, bool failed);

  /// Whether the current phase expects `trigger` to breach (it then pages nobody).
  bool expects_outage(const std::string& trigger) const;

  /// The projected end of the backout: now + what remains of the current step's planned time
  /// (nothing once it overran) + the later steps' planned times. nullopt outside backing_out.
  std::optional<TimePoint> projected_end(TimePoint now) const;
  /// The step running now, in backing_out.
  std::optional<std::size_t> current_step() const;
  const std::vector<StepStatus>& steps() const { return steps_; }

  std::optional<TimePoint> deployed_at() const { return deployed_at_; }
  std::optional<TimePoint> backout_started_at() const { return backout_started_at_; }
  std::optional<TimePoint> verify_since() const { return verify_since_; }
  std::optional<TimePoint> verified_at() const { return verified_at_; }

  /// The clock was stepped by d: every time recorded moves with it.
  void shift(Duration d);

  /// After a restart: the night as the recorded acts made it, from a fresh lifecycle. Ticks at
  /// the window's start, the deployment's planned end and before each act (go-live, the first
  /// backout decision, each `done`, in time order), then applies the act, so that phases, steps
  /// and their start and done times are as they were. What it would have told is dropped (it
  /// was told before the restart; the pages' keys keep a repeat out of the outbox); what falls
  /// due from now on is told by the next tick. Nothing after `now` is replayed.
  void replay(const HumanActs& acts, TimePoint now);

 private:
  void enter(NightPhase p, std::vector<LifecycleEvent>& out);
  void go_live(TimePoint now, std::vector<LifecycleEvent>& out);
  void start_step(std::size_t i, TimePoint now, std::vector<LifecycleEvent>& out);
  void steps_tick(const LifecycleInput& in, std::vector<LifecycleEvent>& out);
  void verify_tick(const LifecycleInput& in, std::vector<LifecycleEvent>& out);

  const Plan* plan_;
  NightPhase phase_ = NightPhase::kPreWindow;
  std::vector<StepStatus> steps_;
  std::optional<TimePoint> deployed_at_;
  bool deploy_overrun_told_ = false;
  std::optional<TimePoint> backout_started_at_;
  std::optional<TimePoint> verify_since_;
  std::optional<TimePoint> fine_since_;  // every check and trigger fine since
  std::optional<TimePoint> verified_at_;
  bool incomplete_told_ = false;
};

}  // namespace backout::rules
