// The post-backout review as data: what the night's timeline says about the backout plan's
// "Post-Backout Review", "Test Results" and "Documentation / During Backout" sections, built from
// the timeline's typed events (app/record/timeline_event.h), the state store's identity and
// outbox, and optionally the plan. Pure (no I/O, no clock: every duration is between two
// recorded times); thread-safe.
//
// Where the timeline cannot answer (the root cause, the plan for the next attempt, whether the
// backout steps worked), the answer says so and leaves it to the team.
//
// An explicit end of the backout is recognised as an event of kind "backout_complete" (a kind
// the record does not know: read as record::Unknown), or a decision whose note starts "backout
// complete"; without one, the backout's duration is measured to the end of the record (a lower
// bound).
//
// The parts (all in this folder): review_record.cc reads the events into the facts
// (review_facts.h), review_header.cc the plan header, review_names.cc names people, roles and
// triggers; review_deliveries.cc matches deliveries and the outbox to pages, review_analysis.cc
// times the night against the plan; review_timeline.cc and review_answers.cc write the rows and
// the answers; review_markdown.cc renders them.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "app/record/timeline_event.h"
#include "backout/alerting/outbox.h"
#include "backout/core/time.h"
#include "backout/rules/paging_policy.h"
#include "backout/rules/plan.h"

namespace backout::agent::report {

/// What the review is written from: data already read from the state store (and the plan).
struct ReviewInput {
  /// The timeline in store order, decoded (decode_timeline() reads the store's lines).
  std::vector<record::TimelineEvent> events;
  /// The lines of the store that did not decode: counted in the review, not shown.
  std::size_t unreadable_events = 0;
  /// The store's identity, "project|release|window start[|start-now]"; empty if unknown.
  std::string identity;
  /// The start of a --start-now run's shifted window (the store's flag), if any.
  std::optional<TimePoint> shifted_start;
  /// Every message the outbox held: attempts and last error of pages never delivered.
  std::vector<alerting::OutboxMessage> outbox;
  /// The store's episodes: what the agent's paging policy kept of each breach (its first page,
  /// acknowledgement, resolution). They are the authority for those; the timeline gives the
  /// rest (values, detection paths, the pages themselves). Empty without a store.
  std::vector<rules::Episode> episodes;
  /// The plan (--plan): names, roles, authority and rehearsed durations. May be null; it must
  /// outlive build_review().
  const rules::Plan* plan = nullptr;
  /// Where the data came from, for the review's first lines.
  std::string store_path;
  std::string plan_path;
};

/// The template's plan header, as far as it is known ("" / nullopt when not).
struct ReviewHeader {
  std::string project;
  std::string release;
  std::string owner;
  std::string revision;
  std::string status;  // Approved | Draft
  std::optional<TimePoint> window_start;
  std::optional<TimePoint> window_end;
  std::optional<TimePoint> point_of_no_return;
  std::optional<Duration> backout_duration;
  /// The window's end as moved by the latest `extend` decision.
  std::optional<TimePoint> extended_end;
  /// A --start-now rehearsal: the window was shifted to the agent's start.
  bool rehearsal = false;
  /// The offset every time of the review is shown in (the window's).
  std::chrono::minutes offset{0};
  /// Where the header's facts come from ("the plan FILE" or "the state store's record").
  std::string from;
  /// Caveats: a plan for another release than the store's, times guessed from the timeline.
  std::vector<std::string> notes;
};

/// One row of the timeline table.
struct TimelineRow {
  TimePoint at{};
  std::string event;    // "Trigger breached", "Page: breach", "Decision: BACKOUT", ...
  std::string details;  // plain text
};

/// A person's act: acknowledgement, fix-forward, decision, raise, clear, backout complete.
struct Act {
  TimePoint at{};
  std::string kind;   // the event's kind: ack, fix_forward, decision, raise, raise_clear, ...
  std::string what;   // "Acknowledged", "Decision: BACKOUT", ...
  std::string by;     // as recorded ("@jane.doe")
  std::string who;    // with the plan: "Jane Doe (Deployment Lead, @jane.doe)"; else `by`
  std::string details;
  /// For decisions, with the plan: whether `by` holds the plan's authority for it.
  std::string authority;
};

/// What happened to one page on one channel.
struct DeliveryRecord {
  std::string channel;
  std::string outcome;  // delivered | retrying | dropped | undelivered
  std::optional<TimePoint> at;  // when delivered or dropped
  int attempts = 0;
  std::string detail;       // the channel's answer or the last error
  std::string first_error;  // the error of the first failed attempt, if any
};

/// One page the agent sent (or posted): a notify event, grouped over its triggers.
struct PageRecord {
  TimePoint at{};
  std::string kind;  // breach, severity_up, repeat, escalation, pnr_warning, eta_passed, ...
  std::vector<std::string> triggers;
  std::string severity;     // the most severe of its triggers' breaches, if known
  std::string decides;      // the role paged to decide; empty when nobody was paged
  std::string decides_who;  // "Jane Doe (Deployment Lead, @jane.doe)" or "Deployment Lead"
  std::vector<std::string> mention;  // chat handles
  /// For a breach or severity page: when the breach behind it was detected.
  std::optional<TimePoint> detected_at;
  std::vector<DeliveryRecord> deliveries;  // one per channel
  std::string key;                         // the outbox key, once matched

  /// The first successful delivery on any channel.
  std::optional<TimePoint> first_delivered() const;
};

/// One breach of one trigger (or one manual raise), from breach to resolve.
struct EpisodeRecord {
  std::string trigger;  // id
  std::string name;     // the plan's name, or the id
  std::string severity;  // the highest it reached
  TimePoint breached_at{};
  std::string value;  // the measured value at the breach, formatted
  std::string path;   // "early detection" | "window average" | ""
  bool manual = false;  // raised by a person
  std::string raised_by;  // who (manual), as `who`
  std::string reason;     // a raise's reason
  std::optional<TimePoint> paged_at;
  std::optional<TimePoint> acked_at;
  std::string acked_by;
  std::optional<TimePoint> escalated_at;
  std::string escalated_to;
  std::optional<TimePoint> resolved_at;
  /// The plan's authority.<severity>.ack_within.
  std::optional<Duration> ack_within;
};

/// What triggered the backout, with its evidence.
struct Cause {
  std::size_t episode = 0;  // index into Review::episodes
  /// The agent's reasoning in effect at the time (the recommendation's reason).
  std::string evidence;
  std::optional<TimePoint> evidence_at;
  std::string recommendation;  // that recommendation (BACKOUT, FIX-FORWARD, ...)
  /// With the plan: who decides and who is told for its severity.
  std::string authority;
};

/// One row of the planned-vs-actual table.
struct DurationRow {
  std::string test;
  std::string expected;
  std::string actual;
  std::string issues;
};

/// One backout step as the record has it (DESIGN section 9): started, done (or failed).
struct StepRecord {
  std::string id;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> done_at;
  std::string by;
  std::string note;
  bool failed = false;
  bool overran = false;        // its owner was told it ran 50% past its duration
  bool check_failed = false;   // its check failed after done
  bool verified = false;       // its check held
};

/// One of the template's review questions.
struct Answer {
  std::string question;
  std::vector<std::string> facts;  // what the timeline says
  bool needs_team = true;          // the team still has to complete it
};

struct Review {
  /// "the state store /var/lib/backout-agent/state.db and the plan plan.yaml".
  std::string written_from;
  ReviewHeader header;
  std::string outcome;  // one sentence
  std::optional<Cause> cause;
  std::vector<EpisodeRecord> episodes;
  std::vector<Act> acts;
  std::vector<PageRecord> pages;
  std::vector<TimelineRow> timeline;
  std::vector<DurationRow> durations;
  std::vector<Answer> answers;
  /// Observations for "What could be improved?" (also listed in its answer).
  std::vector<std::string> findings;
  std::size_t events = 0;
  std::size_t unreadable_events = 0;  // lines that did not decode (ReviewInput's count)
  std::optional<TimePoint> first_at;
  std::optional<TimePoint> last_at;
  std::optional<TimePoint> backout_decided_at;
  std::optional<TimePoint> backout_recommended_at;
  std::optional<TimePoint> backout_complete_at;
  /// The backout procedure as walked (in the order the steps started), and its verification.
  std::vector<StepRecord> steps;
  std::optional<TimePoint> reversal_verified_at;
  std::optional<TimePoint> reversal_incomplete_at;
  std::vector<std::string> reversal_failing;
};

/// The text every question the timeline cannot answer carries.
inline constexpr const char* kToBeCompleted = "(to be completed by the team)";

/// Decodes the store's lines (record::decode) into `input.events`, in order; a line that does not
/// decode is counted in `input.unreadable_events` and skipped.
void decode_timeline(const std::vector<std::string>& lines, ReviewInput& input);

/// Builds the review. Unreadable events are counted and skipped; nothing throws on bad input.
Review build_review(const ReviewInput& input);

/// A time in the review's offset: "02:08:00", "02:08:00.412"; the date is prefixed
/// ("2026-06-08 00:10:00") when it is another day (in that offset) than `base`'s.
std::string review_time(TimePoint t, std::chrono::minutes offset,
                        std::optional<TimePoint> base = std::nullopt);

}  // namespace backout::agent::report
