// build_review(): the steps of review_parts.h in order, over one Facts.
#include "app/report/review.h"

#include <cstdio>

#include "app/report/review_parts.h"

namespace backout::agent::report {

std::optional<TimePoint> PageRecord::first_delivered() const {
  std::optional<TimePoint> first;
  for (const DeliveryRecord& d : deliveries) {
    if (d.outcome == "delivered" && d.at && (!first || *d.at < *first)) {
      first = d.at;
    }
  }
  return first;
}

std::string review_time(TimePoint t, std::chrono::minutes offset, std::optional<TimePoint> base) {
  const auto local = t + offset;
  const auto day = std::chrono::floor<std::chrono::days>(local);
  const auto tod =
      std::chrono::hh_mm_ss(std::chrono::floor<std::chrono::milliseconds>(local - day));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", static_cast<int>(tod.hours().count()),
                static_cast<int>(tod.minutes().count()), static_cast<int>(tod.seconds().count()));
  std::string out = buf;
  if (tod.subseconds().count() != 0) {
    std::snprintf(buf, sizeof buf, ".%03d", static_cast<int>(tod.subseconds().count()));
    out += buf;
  }
  if (base && std::chrono::floor<std::chrono::days>(*base + offset) != day) {
    const std::chrono::year_month_day ymd{day};
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    out = buf + out;
  }
  return out;
}

Review build_review(const ReviewInput& input) {
  Facts f;
  read_timeline(input, f);
  read_header(input, f);
  const Names names(f.plan, f.offset, f.base, f.review.episodes);
  read_events(f, names);
  reconcile_episodes(input, f, names);
  match_deliveries(input, f);
  judge_fix_forwards(f, names);
  write_timeline(f, names);
  find_cause(f, names);
  write_durations(f, names);
  write_findings(f, names);
  write_answers(f, names);
  write_outcome(f, names);
  return std::move(f.review);
}

}  // namespace backout::agent::report
