// The record of the night: one typed event per thing that happened, and its one codec (issue 10,
// item 1). Every producer (the tick, the sources, the dispatcher, the API's acts, the clock
// guard) builds a TimelineEvent; the timeline stores encode(event); readers decode() it. No
// other code writes or parses timeline JSON.
//
// Wire format (GET /api/v1/timeline, the state store, `simulate`): one JSON object per event,
// keys in the order below, written `{"at": ..., "kind": ..., ...}`:
//   trigger         trigger, state, severity (null), value (null), path (breached only),
//                   reason (inconclusive only)
//   recommendation  recommendation, reason
//   notify          trigger (null for the final message), decides (null), mention [handles],
//                   page, key (the page's idempotency key; not in `simulate` output)
//   phase           phase
//   source          source, up, error (down only)
//   delivery        channel, key, outcome (delivered, retry, dropped), attempts, detail
//   agent           event (started, restarted, store_recovered), detail (when not empty)
//   clock_step      outcome (detected, applied, reverted), by_seconds, wall
//   ack             triggers [ids], by
//   fix_forward     trigger, eta, by, before_point_of_no_return
//   decision        decision (backout, go, extend), by, note, until (extend only),
//                   accepted (go only: "trigger:severity" of the breaches it accepts)
//   raise           id, severity, reason, by
//   raise_clear     id, by
//   deployed        by (empty when the planned time passed without one), overrun
//   done            item, by, note, failed
//   night           phase (the night's: pre_window, deploying, in_window, backing_out,
//                   verifying, backed_out, post_window)
//   step            step, state (started, overrun, projection, verified, check_failed),
//                   projected_end (null when none)
//   verify          outcome (verified, incomplete), failing [names]
// A trigger event carries "expected": true when the night's phase expects the breach.
//   plan            the plan as the agent watched it, written at every start (after a
//                   --start-now shift): project, release, owner, revision, approved,
//                   window_start, window_end, point_of_no_return, backout_duration,
//                   warn_before_point_of_no_return, group_wait, repeat_every (plan notation),
//                   contacts [{role, name, chat}], authority [{severity, decides, notify,
//                   ack_within?, escalate_to?}], triggers [{id, name, measure}]. The review
//                   reads names, roles and durations from it when it is given no plan.
// A kind this build does not know (an older or newer agent's) decodes as Unknown and encodes
// back exactly as it was read, so nothing in a store is lost.
//
// Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "backout/core/clock_guard.h"
#include "backout/core/result.h"
#include "backout/core/time.h"
#include "backout/rules/watch.h"

namespace backout::agent::record {

struct TriggerChanged {
  std::string trigger;
  rules::TriggerState state = rules::TriggerState::kOk;
  std::optional<rules::Severity> severity;
  std::optional<double> value;
  std::optional<rules::DetectionPath> path;  // set when breached
  std::string reason;                        // why inconclusive; empty otherwise
  bool expected = false;  // the night's phase expects this breach (DESIGN section 9)
  bool operator==(const TriggerChanged&) const = default;
};

struct RecommendationChanged {
  rules::Recommendation recommendation = rules::Recommendation::kGo;
  std::string reason;
  bool operator==(const RecommendationChanged&) const = default;
};

struct Notified {
  std::optional<std::string> trigger;  // none for the final message
  std::string decides;                 // the role paged to decide; empty: nobody
  std::vector<std::string> mention;
  rules::PageKind page = rules::PageKind::kBreach;
  std::string key;  // the page's idempotency key, as in the outbox and delivery events
  bool operator==(const Notified&) const = default;
};

struct PhaseChanged {
  rules::Phase phase = rules::Phase::kPreWindow;
  bool operator==(const PhaseChanged&) const = default;
};

struct SourceChanged {
  std::string source;
  bool up = true;
  std::string error;  // when down
  bool operator==(const SourceChanged&) const = default;
};

struct Delivery {
  enum class Outcome { kDelivered, kRetry, kDropped };
  std::string channel;
  std::string key;
  Outcome outcome = Outcome::kDelivered;
  int attempts = 1;
  std::string detail;
  bool operator==(const Delivery&) const = default;
};

struct AgentLifecycle {
  /// kStoreRecovered: the state store was damaged, moved aside and started afresh (detail: why
  /// and where it went).
  /// kReloaded: SIGHUP took a new plan (detail: what the watch kept and what started afresh);
  /// kReloadRefused: it could not start, the running plan stays (detail: why).
  enum class What { kStarted, kRestarted, kStoreRecovered, kReloaded, kReloadRefused };
  What event = What::kStarted;
  std::string detail;
  bool operator==(const AgentLifecycle&) const = default;
};

struct ClockStepped {
  ClockGuard::Outcome outcome = ClockGuard::Outcome::kDetected;
  double by_seconds = 0;  // the wall clock minus the agent's clock
  ZonedTime wall;         // the wall clock's reading
  bool operator==(const ClockStepped& o) const {
    return outcome == o.outcome && by_seconds == o.by_seconds && wall.at == o.wall.at;
  }
};

struct Acknowledged {
  std::vector<std::string> triggers;
  std::string by;
  bool operator==(const Acknowledged&) const = default;
};

struct FixForwardDeclared {
  std::string trigger;
  ZonedTime eta;
  std::string by;
  bool before_point_of_no_return = true;
  bool operator==(const FixForwardDeclared& o) const {
    return trigger == o.trigger && eta.at == o.eta.at && by == o.by &&
           before_point_of_no_return == o.before_point_of_no_return;
  }
};

struct Decided {
  rules::HumanDecision::Kind decision = rules::HumanDecision::Kind::kGo;
  std::string by;
  std::string note;
  std::optional<ZonedTime> until;                     // extend
  std::optional<std::vector<std::string>> accepted;  // go
  bool operator==(const Decided& o) const {
    return decision == o.decision && by == o.by && note == o.note &&
           until.has_value() == o.until.has_value() && (!until || until->at == o.until->at) &&
           accepted == o.accepted;
  }
};

struct Raised {
  std::string id;
  rules::Severity severity = rules::Severity::kCritical;
  std::string reason;
  std::string by;
  bool operator==(const Raised&) const = default;
};

struct RaiseCleared {
  std::string id;
  std::string by;
  bool operator==(const RaiseCleared&) const = default;
};

// --- The night (DESIGN section 9) ---------------------------------------------------------------

/// Go-live: declared by a person (`by`), or taken when the deployment's planned time passed
/// without one (`by` empty, `overrun` true).
struct GoLiveDeclared {
  std::string by;
  bool overrun = false;
  bool operator==(const GoLiveDeclared&) const = default;
};

/// `done ITEM`: a backout step finished (or did not work: `failed`).
struct ItemDoneRecorded {
  std::string item;
  std::string by;
  std::string note;
  bool failed = false;
  bool operator==(const ItemDoneRecorded&) const = default;
};

/// The night entered a phase (pre_window ... post_window).
struct NightPhaseChanged {
  rules::NightPhase phase = rules::NightPhase::kPreWindow;
  bool operator==(const NightPhaseChanged&) const = default;
};

/// A backout step: started, overrun, projection (the backout's end passes the window's),
/// verified, check_failed.
struct StepChanged {
  enum class What { kStarted, kOverrun, kProjection, kVerified, kCheckFailed };
  std::string step;
  What what = What::kStarted;
  std::optional<ZonedTime> projected_end;
  bool operator==(const StepChanged& o) const {
    return step == o.step && what == o.what &&
           projected_end.has_value() == o.projected_end.has_value() &&
           (!projected_end || projected_end->at == o.projected_end->at);
  }
};

/// The verification of the reversal: verified, or incomplete (`failing`: checks and triggers).
struct VerifyOutcome {
  bool verified = false;
  std::vector<std::string> failing;
  bool operator==(const VerifyOutcome&) const = default;
};

/// The plan as the agent watched it (see `plan` above): what a review needs to name people,
/// roles and triggers and to know the window, without the plan file.
struct PlanSnapshot {
  struct Role {
    std::string role, name, chat;
    bool operator==(const Role&) const = default;
  };
  struct Decider {
    rules::Severity severity = rules::Severity::kCritical;
    std::string decides;
    std::vector<std::string> notify;
    std::optional<Duration> ack_within;
    std::optional<std::string> escalate_to;
    bool operator==(const Decider&) const = default;
  };
  struct TriggerName {
    std::string id, name, measure;  // measure as written in the plan language
    bool operator==(const TriggerName&) const = default;
  };
  std::string project, release, owner, revision;
  bool approved = false;
  ZonedTime window_start, window_end;
  Duration backout_duration{0}, warn_before_pnr{0}, group_wait{0}, repeat_every{0};
  std::vector<Role> contacts;
  std::vector<Decider> authority;
  std::vector<TriggerName> triggers;

  bool operator==(const PlanSnapshot& o) const;
};

/// The snapshot of `plan`, and back: the plan a review needs (header, window, contacts,
/// authority, notify durations, triggers with their names and measures; no sources, levels or
/// channels). A measure the rules cannot parse any more is left out of its trigger.
PlanSnapshot snapshot_of(const rules::Plan& plan);
rules::Plan plan_of(const PlanSnapshot& snapshot);

/// A kind this build does not know, kept as it was read.
struct Unknown {
  std::string kind;
  std::string json;
  bool operator==(const Unknown&) const = default;
};

/// An Unknown event's fields other than `at` and `kind`, as compact JSON (`{"detail":42}`):
/// how a reader shows what it cannot interpret.
std::string fields_json(const Unknown& u);
/// One string field of an Unknown event; empty when it is absent or not a string.
std::string string_field(const Unknown& u, std::string_view key);

using EventBody =
    std::variant<TriggerChanged, RecommendationChanged, Notified, PhaseChanged, SourceChanged,
                 Delivery, AgentLifecycle, ClockStepped, Acknowledged, FixForwardDeclared,
                 Decided, Raised, RaiseCleared, PlanSnapshot, GoLiveDeclared, ItemDoneRecorded,
                 NightPhaseChanged, StepChanged, VerifyOutcome, Unknown>;

struct TimelineEvent {
  ZonedTime at;  // written in the plan window's offset
  EventBody body;

  /// The wire name of the kind: "trigger", "notify", ... (Unknown: as read).
  std::string_view kind() const;
  template <typename T>
  const T* as() const {
    return std::get_if<T>(&body);
  }
  bool operator==(const TimelineEvent& o) const { return at.at == o.at.at && body == o.body; }
};

/// Which fields encode() writes: the whole record, or the `simulate` lines of DESIGN section 3
/// (the record without what only the live agent knows: a notify's key).
enum class Encoding { kRecord, kSimulate };

/// The event as one line of JSON (no newline).
std::string encode(const TimelineEvent& e, Encoding encoding = Encoding::kRecord);

/// A page of GET /api/v1/timeline: `{"from": F, "next": F+N, "events": [E1, ...]}` around N
/// events already encoded (as the store holds them: spliced, not parsed again).
std::string encode_timeline_page(std::size_t from, const std::vector<std::string>& events);
/// Reads a line encode() wrote (or an earlier build's). Fails, saying why, when it is not a
/// JSON object with `at` (RFC 3339) and `kind`, or when a known kind lacks a field or has one
/// of the wrong type.
Result<TimelineEvent> decode(std::string_view json);

/// The events of one tick, in order: trigger changes, the recommendation, one notify per
/// trigger of each page (one without a trigger for the final message).
std::vector<TimelineEvent> tick_events(const rules::Plan& plan, const rules::TickResult& tick);

/// A JSON number with up to 6 significant digits (the `simulate` format), or null for NaN/inf.
std::string json_number(double v);

std::string_view to_string(Delivery::Outcome o);       // delivered, retry, dropped
std::string_view to_string(StepChanged::What w);       // started, overrun, projection, ...
std::string_view to_string(AgentLifecycle::What w);    // started, restarted, store_recovered

}  // namespace backout::agent::record
