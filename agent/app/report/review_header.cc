// The review's plan header: from the plan (given, or as the agent recorded it at its start), else
// from the state store's identity and what the timeline says.
#include <cstdio>

#include "app/report/review_parts.h"
#include "backout/core/text.h"

namespace backout::agent::report {
namespace {

// The store's identity: "project|release|window start[|start-now]".
struct Identity {
  std::vector<std::string> parts;
  std::optional<ZonedTime> start;
  bool rehearsal = false;
};

Identity parse_identity(const std::string& identity) {
  Identity id;
  std::size_t start = 0;
  while (!identity.empty()) {
    std::size_t bar = identity.find('|', start);
    id.parts.push_back(
        identity.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
    if (bar == std::string::npos) {
      break;
    }
    start = bar + 1;
  }
  if (id.parts.size() >= 3) {
    id.start = parse_rfc3339(id.parts[2]);
  }
  id.rehearsal = id.parts.size() >= 4 && id.parts[3] == "start-now";
  return id;
}

// "backout takes 1h40m, point of no return 04:20" in a recommendation's reason (the decision
// engine's wording). Only for a record without a `plan` event (written before the agent recorded
// its plan, issue 10): then the reason is the only record of the plan's durations. The tests
// WithoutThePlanTheHeaderComesFromTheTimeline and ReportCommandTest's review without --plan read
// such a record.
struct PnrText {
  std::optional<Duration> backout;
  std::optional<TimePoint> pnr;
};

PnrText parse_pnr_text(const std::string& reason, TimePoint at, std::chrono::minutes offset) {
  PnrText out;
  static const std::string kTakes = "backout takes ";
  static const std::string kPnr = ", point of no return ";
  std::size_t p = reason.find(kTakes);
  std::size_t q = p == std::string::npos ? p : reason.find(kPnr, p);
  if (q == std::string::npos) {
    return out;
  }
  out.backout = parse_duration(reason.substr(p + kTakes.size(), q - p - kTakes.size()));
  int h = 0;
  int m = 0;
  int s = 0;
  const std::string clock = reason.substr(q + kPnr.size(), 8);
  int n = std::sscanf(clock.c_str(), "%d:%d:%d", &h, &m, &s);
  if (n < 2) {
    return out;
  }
  if (n < 3) {
    s = 0;
  }
  // The clock is in the window's offset, on the day nearest to the event.
  const auto day = std::chrono::floor<std::chrono::days>(at + offset);
  std::optional<TimePoint> best;
  for (int d = -1; d <= 1; ++d) {
    TimePoint cand = TimePoint(day + std::chrono::days{d}) + std::chrono::hours{h} +
                     std::chrono::minutes{m} + std::chrono::seconds{s} - offset;
    if (!best || std::chrono::abs(cand - at) < std::chrono::abs(*best - at)) {
      best = cand;
    }
  }
  out.pnr = best;
  return out;
}

std::string plan_path(const ReviewInput& in, const rules::Plan& p) {
  return in.plan_path.empty() ? p.path : in.plan_path;
}

void header_from_plan(const ReviewInput& in, const Identity& id, Facts& f) {
  ReviewHeader& h = f.review.header;
  const rules::Plan& p = *f.plan;
  h.project = p.header.project;
  h.release = p.header.release;
  h.owner = p.header.owner;
  h.revision = p.header.revision;
  h.status = p.header.approved ? "Approved" : "Draft";
  h.from = f.recorded_plan ? std::string("the plan the agent recorded when it started")
                           : "the plan " + plan_path(in, p);
  h.window_start = p.window.start.at;
  h.window_end = p.window.end.at;
  h.backout_duration = p.window.backout_duration;
  if (h.rehearsal && in.shifted_start) {
    h.window_start = *in.shifted_start;
    h.window_end = *in.shifted_start + p.window.length();
  }
  h.point_of_no_return = *h.window_end - p.window.backout_duration;
  const auto& parts = id.parts;
  if (parts.size() >= 3 && (parts[0] != p.header.project || parts[1] != p.header.release ||
                            (id.start && id.start->at != p.window.start.at))) {
    h.notes.push_back("The plan is for " + p.header.project + " " + p.header.release +
                      " (window from " + format_rfc3339(p.window.start.at, f.offset) +
                      ") but the state store holds " + parts[0] + " " + parts[1] +
                      " (window from " + parts[2] +
                      "); names, roles and durations are taken from the plan.");
  }
}

void header_from_timeline(const ReviewInput& in, const Identity& id, Facts& f) {
  ReviewHeader& h = f.review.header;
  h.from =
      "the state store's record (give --plan for the owner, revision, status, names and "
      "the rehearsed durations)";
  if (id.parts.size() >= 2) {
    h.project = id.parts[0];
    h.release = id.parts[1];
  }
  if (id.start) {
    h.window_start = id.start->at;
  }
  if (h.rehearsal && in.shifted_start) {
    h.window_start = *in.shifted_start;
  }
  std::optional<TimePoint> opened;
  std::optional<TimePoint> closed;
  for (const record::TimelineEvent* e : f.events) {
    if (const auto* rec = e->as<record::RecommendationChanged>()) {
      if (!h.backout_duration || !h.point_of_no_return) {
        PnrText p = parse_pnr_text(rec->reason, e->at.at, f.offset);
        h.backout_duration = h.backout_duration ? h.backout_duration : p.backout;
        h.point_of_no_return = h.point_of_no_return ? h.point_of_no_return : p.pnr;
      }
    } else if (const auto* ph = e->as<record::PhaseChanged>()) {
      if (ph->phase == rules::Phase::kInWindow && !opened) {
        opened = e->at.at;
      } else if (ph->phase == rules::Phase::kPostWindow && !closed) {
        closed = e->at.at;
      }
    }
  }
  if (!h.window_start && opened) {
    h.window_start = opened;
    h.notes.push_back("The window's start is when the agent saw it open.");
  }
  if (h.point_of_no_return && h.backout_duration) {
    h.window_end = *h.point_of_no_return + *h.backout_duration;
  } else if (closed) {
    h.window_end = closed;
    h.notes.push_back("The window's end is when the agent saw it close.");
  }
  if (h.window_end && h.backout_duration && !h.point_of_no_return) {
    h.point_of_no_return = *h.window_end - *h.backout_duration;
  }
}

}  // namespace

void read_header(const ReviewInput& in, Facts& f) {
  ReviewHeader& h = f.review.header;
  const Identity id = parse_identity(in.identity);
  h.rehearsal = id.rehearsal;
  if (f.plan != nullptr) {
    f.offset = f.plan->window.offset();
  } else if (id.start) {
    f.offset = id.start->offset;
  } else if (!f.events.empty()) {
    f.offset = f.events.front()->at.offset;
  }
  h.offset = f.offset;
  if (f.plan != nullptr) {
    header_from_plan(in, id, f);
  } else {
    header_from_timeline(in, id, f);
  }
  f.base = h.window_start ? h.window_start : f.review.first_at;
  Review& r = f.review;
  r.written_from = "the state store" + (in.store_path.empty() ? "" : " " + in.store_path);
  if (f.plan != nullptr && !f.recorded_plan) {
    r.written_from += " and the plan " + plan_path(in, *f.plan);
  }
}

}  // namespace backout::agent::report
