// The paging policy: who is paged, when, and how often (DESIGN sections 5 and 6). Pure; not
// thread-safe (owned by the evaluator's thread); time is the `now` of each call.
//
// An *episode* is one breach of one trigger, from the tick it breached to the tick it resolved.
//   - group:     breaches opening within notify.group_wait go out as one page at the end of that
//                wait; a critical breach flushes the group at once (critical means immediate).
//   - who:       the page goes to authority.<severity>.decides and mentions the decider and the
//                authority's notify roles (chat handles from contacts); minor breaches are posted
//                without mentions.
//   - repeat:    an unacknowledged episode is paged again every notify.repeat_every.
//   - escalate:  when authority.<severity>.ack_within passes without an acknowledgement, the
//                escalate_to role is paged (once per episode).
//   - severity:  a rise in severity of a paged episode pages again and needs a new
//                acknowledgement.
//   - PNR:       from warn_before_point_of_no_return before the point of no return, every open
//                major episode is paged once with the time left.
//   - ETA:       when a fix-forward's ETA passes and the recommendation turns to backout, the
//                decider is paged.
//   - resolve:   a paged episode that resolves posts a resolve message (no mentions).
//   - final:     at the window end, one final message (GO with a summary, or the backout status).
//   - phases:    nothing is paged before the window; breaches open at its start are paged then.
//                After the window, paging goes on and says the window has closed.
// Worked example (group_wait 2s, critical ack_within 5m, repeat_every 10m):
//   03:00:00 db_connectivity breaches (critical)  -> page @jane.doe at once, FYI @john.smith ...
//   03:05:00 no ack                               -> escalation page @john.smith
//   03:06:00 ack by jane                          -> no more repeats for this episode
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backout/core/time.h"
#include "backout/rules/decision_engine.h"
#include "backout/rules/evaluator.h"
#include "backout/rules/plan.h"

namespace backout::rules {

enum class PageKind {
  kBreach,
  kSeverityUp,
  kRepeat,
  kEscalation,
  kPnrWarning,
  kEtaPassed,
  kResolve,
  kFinal,
  kAct,  // a person's act echoed to chat (ack, fix-forward, decision, raise): nobody is paged
  // The night (DESIGN section 9; made by the watch from the lifecycle, not by this policy):
  kPhase,               // the night entered a phase; says which triggers it expects to breach
  kDeployOverrun,       // no go-live declared by the deployment's planned end: critical decider
  kStep,                // a backout step started: its owner
  kStepOverrun,         // a step ran 50% past its duration: its owner
  kProjection,          // the backout is projected to end after the window: critical decider
  kCheckFailed,         // a done step's check fails: its owner and the critical decider
  kStepVerified,        // a done step's check holds: posted, nobody paged
  kReversalVerified,    // every verify check and trigger fine for verify.hold
  kReversalIncomplete,  // verify.timeout first: critical decider
  kBlind,               // a trigger inconclusive for notify.blind_after: its severity's decider
  kBlindResolved,       // that trigger can be judged again: posted, nobody paged
};
std::string_view to_string(PageKind k);

struct Episode {
  std::string trigger;     // trigger id
  std::uint64_t number = 0;  // 1, 2, ... per trigger: with the trigger id, the episode's key
  Severity severity = Severity::kMajor;
  TimePoint opened_at{};
  std::optional<TimePoint> paged_at;     // first page (episode opened as far as people know)
  std::optional<TimePoint> last_page_at;
  std::optional<TimePoint> acked_at;
  std::string acked_by;
  bool escalated = false;
  bool pnr_warned = false;
  std::uint32_t pages = 0;
  std::optional<TimePoint> resolved_at;

  bool open() const { return !resolved_at.has_value(); }
  std::string key() const { return trigger + "#" + std::to_string(number); }
};

/// A trigger (or a manual raise) entering, leaving or changing its breach: the input of the policy.
struct BreachChange {
  std::string id;                  // trigger id or manual raise id
  std::optional<Severity> from;    // nullopt: was not breached
  std::optional<Severity> to;      // nullopt: is not breached any more
  /// The breach ends because the night now expects it (a backout's own restore): the episode
  /// closes without a resolve message, which would say "back to normal" when it is not.
  bool expected = false;
};

/// The breach changes of one evaluator tick.
std::vector<BreachChange> breach_changes(const Plan& plan,
                                         const std::vector<TriggerChange>& changes);

struct Page {
  PageKind kind = PageKind::kBreach;
  TimePoint at{};
  std::vector<std::string> triggers;  // trigger ids (episodes) the page is about
  std::optional<Severity> severity;
  std::string decides;                // role paged to decide; empty when nobody is paged
  std::string escalated_from;         // for an escalation: the role that did not acknowledge
  std::vector<std::string> mention_roles;  // decider (or escalation target) first, then notify
  std::vector<std::string> mention;        // their chat handles, same order
  Recommendation recommendation = Recommendation::kGo;
  std::string reason;
  Phase phase = Phase::kInWindow;
  /// Idempotency key: the same page is never delivered twice (the outbox dedups on it).
  std::string key;
  // The night's pages (kPhase .. kReversalIncomplete):
  std::string night_phase;                 // kPhase: the phase entered (NightPhase's name)
  std::vector<std::string> expected;       // kPhase: the triggers the phase expects to breach
  std::optional<std::size_t> step;         // the step kinds: index into backout.steps
  std::optional<TimePoint> projected_end;  // kStep, kStepOverrun, kProjection
  TimePoint window_end{};                  // the window's end in effect, for the margin
  std::vector<std::string> failing;        // kReversalIncomplete: failing checks and triggers
  /// kReversalVerified, kReversalIncomplete: each backout.verify.checks value, in plan order.
  std::vector<std::optional<double>> check_values;
};

class PagingPolicy {
 public:
  /// `plan` must outlive the policy.
  explicit PagingPolicy(const Plan& plan);

  /// One tick: the breach changes and the engine's decision at `now`; returns the pages due now,
  /// in the order they should be delivered.
  std::vector<Page> tick(TimePoint now, const std::vector<BreachChange>& changes,
                         const DecisionOutput& decision);

  /// Acknowledges the open episodes of `trigger` (all open episodes when empty). Returns the ids
  /// of the triggers acknowledged (empty when nothing was open).
  std::vector<std::string> acknowledge(const std::string& trigger, const std::string& by,
                                       TimePoint now);

  const std::vector<Episode>& episodes() const { return episodes_; }
  bool final_sent() const { return final_sent_; }

  /// The clock was stepped by d: the episodes' times and the group wait move with it, so that
  /// acknowledgement, repeat and escalation timers count the time that really passed.
  void shift(Duration d);

  /// Restores state after a restart (from the state store): timers carry on from where they were.
  /// `last_recommendation` is the last one decided before the restart, so that a fix-forward
  /// whose ETA passed while the agent was down still pages (eta_passed) at the first tick.
  void restore(std::vector<Episode> episodes, bool final_sent,
               Recommendation last_recommendation = Recommendation::kGo);
  /// A reload: takes every episode (acknowledgements, repeat and escalation times), the group
  /// being gathered and the Final flag from the policy of the plan that ran before.
  void continue_from(const PagingPolicy& previous);

 private:
  Page make_page(PageKind kind, TimePoint now, const std::vector<Episode*>& eps,
                 const DecisionOutput& decision, const std::string& decides_role,
                 std::uint32_t seq);
  void mentions_for(Page& p, Severity s, const std::string& first_role) const;
  Episode* open_episode(const std::string& trigger);

  const Plan* plan_;
  std::vector<Episode> episodes_;
  std::vector<std::string> group_;  // trigger ids of opened, not yet paged episodes
  std::optional<TimePoint> group_deadline_;
  Recommendation last_recommendation_ = Recommendation::kGo;
  bool final_sent_ = false;
};

}  // namespace backout::rules
