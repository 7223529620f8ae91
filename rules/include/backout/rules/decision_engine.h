// The decision engine: what the plan says to do now (DESIGN section 5 "Recommendation").
// Pure function of the plan, the trigger statuses, the human acts and `now`; thread-safe.
//
//   1. any critical breach                      -> backout (decided by authority.critical)
//   2. else any major breach                    -> fix_forward while every major breach has a
//      fix-forward declaration whose ETA is before the point of no return and not yet passed;
//      otherwise backout (the plan: backout if not fixable inside the window)
//   3. else any minor or discretionary breach, or an inconclusive trigger -> watch
//   4. else                                      -> go
// A manual raise (POST /api/v1/raise) counts as a breach of its severity. A human decision
// `backout` makes the recommendation backout from then on; `go` accepts the breaches open at that
// moment (they count as watch until they resolve; a new breach or a higher severity counts again);
// `extend` moves the window's end (and so the point of no return) to its `until`.
//
// Worked example (reference plan, PNR 04:20): at 03:10 login_failure_rate is breached (major).
//   no declaration            -> backout: "major: Login failure rate 7.1% (> 5%); no fix-forward
//                                declared; backout takes 1h40m, point of no return 04:20 (in 1h10m)"
//   fix-forward ETA 03:40     -> fix_forward until 03:40; backout after 03:40 if still breached
//   fix-forward ETA 04:30     -> backout: the ETA is after the point of no return
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backout/core/time.h"
#include "backout/rules/evaluator.h"
#include "backout/rules/plan.h"

namespace backout::rules {

enum class Recommendation { kGo, kWatch, kFixForward, kBackout };
std::string_view to_string(Recommendation r);          // go, watch, fix_forward, backout
std::string_view headline(Recommendation r);           // GO, WATCH, FIX-FORWARD, BACKOUT

enum class Phase { kPreWindow, kInWindow, kPostWindow };
std::string_view to_string(Phase p);  // pre_window, in_window, post_window
Phase phase_at(const Window& w, TimePoint now);

/// A team member's statement that a major breach will be fixed forward by `eta`.
struct FixForward {
  std::string trigger;
  TimePoint eta;
  std::string by;
  TimePoint declared_at;
};

/// A trigger raised by a person (e.g. a security breach no signal can see).
struct ManualRaise {
  std::string id;  // manual_1, manual_2, ...
  Severity severity = Severity::kCritical;
  std::string reason;
  std::string by;
  TimePoint at;
  bool cleared = false;
};

/// A decision taken by a person through the API.
struct HumanDecision {
  enum class Kind { kBackout, kGo, kExtend };
  Kind kind = Kind::kGo;
  std::string by;
  std::string note;
  TimePoint at;
  /// For kGo: the breaches open at that moment, as "trigger_id:severity", which it accepts.
  std::vector<std::string> accepted;
  /// For kExtend: the new end of the window (the change board allowed more time); the point of
  /// no return moves with it.
  std::optional<TimePoint> until;
};
std::string_view to_string(HumanDecision::Kind k);

/// Go-live declared (`deployed`, DESIGN section 9).
struct GoLive {
  std::string by;
  TimePoint at;
};

/// `done ITEM`: a backout step finished (or failed).
struct ItemDone {
  std::string item;
  std::string by;
  std::string note;
  bool failed = false;
  TimePoint at;
};

/// Everything people said during the window.
struct HumanActs {
  std::vector<FixForward> fix_forwards;
  std::vector<ManualRaise> raises;
  std::vector<HumanDecision> decisions;
  std::optional<GoLive> deployed;
  std::vector<ItemDone> done;

  /// The clock was stepped by d: when each act happened moves with it. The instants people gave
  /// (a fix-forward's ETA, an extension's `until`) are wall-clock instants and stay.
  void shift(Duration d);
};

struct DecisionOutput {
  Recommendation recommendation = Recommendation::kGo;
  Phase phase = Phase::kPreWindow;
  std::string reason;                    // one readable sentence (or a few, joined by "; ")
  std::optional<Severity> severity;      // the severity that drives it
  std::vector<std::string> triggers;     // ids of the breaches that drive it
  std::string decides;                   // role that decides (empty for go/watch on minor)
  TimePoint window_end{};                // the plan's, or as extended by a decision
  TimePoint point_of_no_return{};        // window_end - backout_duration
  Duration to_point_of_no_return{0};     // negative once past it
};

/// The window in effect: the plan's, with its end moved by the latest `extend` decision.
Window effective_window(const Plan& plan, const HumanActs& acts, TimePoint now);

/// Applies the plan's decision rules at `now`.
DecisionOutput decide(const Plan& plan, const std::vector<TriggerStatus>& statuses,
                      const HumanActs& acts, TimePoint now);

/// Whether a fix-forward declaration is honoured at `now`: ETA before the PNR and not passed.
bool fix_forward_honoured(const Window& window, const FixForward& ff, TimePoint now);

}  // namespace backout::rules
