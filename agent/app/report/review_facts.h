// What the night's record says, as the review's parts share it: the Review being written (its
// header, episodes, acts and pages as read), and the facts behind its answers that are not part
// of it (recommendations, decisions, fix-forwards, sources, restarts, deliveries, the timeline's
// rows in order). Internal to the report; filled by read_record(), then completed in turn by
// match_deliveries(), the analysis and the answers (review.cc runs them). Not thread-safe; one
// per build_review() call.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "app/record/timeline_event.h"
#include "app/report/review.h"
#include "backout/alerting/outbox.h"
#include "backout/rules/plan.h"

namespace backout::agent::report {

struct Recommendation {
  TimePoint at{};
  std::string rec;  // go, watch, fix_forward, backout
  std::string reason;
};

struct Decision {
  std::size_t act = 0;  // index into Review::acts
  TimePoint at{};
  std::string decision;  // backout, go, extend
  std::string by;
  std::string note;
};

struct FixForwardFact {
  std::size_t act = 0;
  TimePoint eta{};
  std::optional<std::size_t> episode;  // the breach it was declared for, when open
};

struct SourcePeriod {
  std::string source;
  TimePoint from{};
  std::optional<TimePoint> to;
  std::string error;
};

struct Restart {
  TimePoint at{};
  std::optional<Duration> gap;  // since the event before
};

/// One delivery event, and the page it was found to deliver (match_deliveries()).
struct DeliveryFact {
  TimePoint at{};
  std::string channel;
  std::string key;
  std::string outcome;  // delivered, retry, dropped
  int attempts = 1;
  std::string detail;
  /// How many pages the record had shown when it came: a delivery is of an earlier page.
  std::size_t pages_before = 0;
  std::optional<std::size_t> page;
};

/// A row of the timeline table; rows of acts, pages and deliveries get their details once the
/// night is read (review_timeline.cc).
struct Row {
  TimelineRow row;
  std::optional<std::size_t> act;
  std::optional<std::size_t> page;
  std::optional<std::size_t> delivery;  // index into Facts::deliveries
};

struct Facts {
  /// The plan the review names things by: the given one, else the one the record holds.
  const rules::Plan* plan = nullptr;
  std::optional<rules::Plan> recorded_plan;  // from the record's latest `plan` event
  /// The readable events in time order (store order among equal times).
  std::vector<const record::TimelineEvent*> events;
  std::chrono::minutes offset{0};  // every time of the review is shown in it
  std::optional<TimePoint> base;   // times on another day than this one show their date

  Review review;
  std::vector<Recommendation> recs;
  std::vector<Decision> decisions;
  std::optional<std::size_t> backout_decision;  // the first backout decision
  std::vector<FixForwardFact> fix_forwards;
  std::vector<std::size_t> missed_etas;  // acts (fix-forwards) whose ETA passed unresolved
  std::vector<SourcePeriod> down;
  std::vector<Restart> restarts;
  std::vector<DeliveryFact> deliveries;
  std::vector<alerting::OutboxMessage> orphan_messages;  // pages in the outbox, never in the record
  std::vector<Row> rows;
};

}  // namespace backout::agent::report
