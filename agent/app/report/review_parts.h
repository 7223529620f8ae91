// The steps build_review() takes, in order, each over the shared Facts (review_facts.h).
// Internal to the report. Pure; not thread-safe on one Facts.
#pragma once

#include <optional>

#include "app/report/review.h"
#include "app/report/review_facts.h"
#include "app/report/review_names.h"

namespace backout::agent::report {

// --- Reading the record: typed events -> facts ----------------------------------------------

/// review_record.cc: the readable events in time order, their count and span, and the plan
/// to name things by (the given one, else the latest the record holds).
void read_timeline(const ReviewInput& in, Facts& f);
/// review_header.cc: the plan header, the offset times are shown in, and where the review is
/// written from.
void read_header(const ReviewInput& in, Facts& f);
/// review_record.cc: episodes, pages, acts, decisions, recommendations, sources, restarts,
/// deliveries and the timeline's rows, walking the events in order.
void read_events(Facts& f, const Names& names);
/// review_episodes.cc: the store's episodes over those read from the timeline: each breach's
/// first page, acknowledgement and resolution as the paging policy kept them, and a breach the
/// timeline has no events for (lost while the disk was full, or cut off) added, with a note.
void reconcile_episodes(const ReviewInput& in, Facts& f, const Names& names);

// --- The analysis --------------------------------------------------------------------------

/// review_deliveries.cc: which page each delivery and outbox message belongs to, and what
/// reached each channel.
void match_deliveries(const ReviewInput& in, Facts& f);
/// review_deliveries.cc: whether a delivery's key is a page's (not an act echoed to chat or an
/// Alertmanager refresh).
bool is_page_delivery(const DeliveryFact& d);
/// review_analysis.cc: whether each fix-forward met its ETA.
void judge_fix_forwards(Facts& f, const Names& names);
/// review_analysis.cc: the breach behind the backout (decided, else recommended), with the
/// agent's reasoning then.
void find_cause(Facts& f, const Names& names);
/// review_analysis.cc: when the run of BACKOUT recommendations in effect at `at` began (a
/// FIX-FORWARD or GO in between starts a new run): what a decision at `at` answered.
std::optional<TimePoint> backout_onset(const Facts& f, TimePoint at);
/// review_analysis.cc: the window's end and point of no return, as moved by an `extend`.
std::optional<TimePoint> window_end(const ReviewHeader& h);
std::optional<TimePoint> point_of_no_return(const ReviewHeader& h);

// --- The answers ---------------------------------------------------------------------------

/// review_timeline.cc: the timeline table, from the rows with their acts', pages' and
/// deliveries' details.
void write_timeline(Facts& f, const Names& names);
/// review_answers.cc: planned against actual, the findings, the review's questions and its
/// one-sentence outcome.
void write_durations(Facts& f, const Names& names);
void write_findings(Facts& f, const Names& names);
void write_answers(Facts& f, const Names& names);
void write_outcome(Facts& f, const Names& names);

}  // namespace backout::agent::report
