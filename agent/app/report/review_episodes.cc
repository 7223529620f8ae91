// The store's episodes against the episodes read from the timeline (review_parts.h).
#include <cstdint>
#include <optional>

#include "app/report/review_parts.h"
#include "backout/core/text.h"

namespace backout::agent::report {
namespace {

// The timeline's breach and the policy's episode are written in the same tick, at the same
// `now`; the timeline's times are kept to the millisecond.
constexpr Duration kSameTick = std::chrono::seconds{2};

// The episode read from the timeline that `e` is: the same trigger (or raise), breached in
// the tick the policy opened `e`, and not matched to another stored episode yet.
std::optional<std::size_t> record_of(const rules::Episode& e,
                                     const std::vector<EpisodeRecord>& records,
                                     const std::vector<bool>& taken) {
  std::optional<std::size_t> best;
  Duration best_gap = kSameTick;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (taken[i] || records[i].trigger != e.trigger) {
      continue;
    }
    const Duration gap = records[i].breached_at > e.opened_at
                             ? records[i].breached_at - e.opened_at
                             : e.opened_at - records[i].breached_at;
    if (gap <= best_gap) {
      best = i;
      best_gap = gap;
    }
  }
  return best;
}

}  // namespace

void reconcile_episodes(const ReviewInput& in, Facts& f, const Names& names) {
  std::vector<EpisodeRecord>& records = f.review.episodes;
  std::vector<bool> taken(records.size(), false);
  std::vector<std::string> store_only;
  for (const rules::Episode& e : in.episodes) {
    std::optional<std::size_t> i = record_of(e, records, taken);
    if (!i) {
      EpisodeRecord rec;
      rec.trigger = e.trigger;
      rec.name = names.trigger_name(e.trigger);
      rec.severity = std::string(rules::to_string(e.severity));
      rec.breached_at = e.opened_at;
      rec.ack_within = names.ack_within(rec.severity);
      records.push_back(std::move(rec));
      taken.push_back(false);
      i = records.size() - 1;
      store_only.push_back(records.back().name + " (" + names.t(e.opened_at) + ")");
    }
    taken[*i] = true;
    EpisodeRecord& rec = records[*i];
    if (e.paged_at) {
      rec.paged_at = e.paged_at;
    }
    if (e.acked_at) {
      rec.acked_at = e.acked_at;
      rec.acked_by = names.who(e.acked_by);
    }
    if (e.resolved_at) {
      rec.resolved_at = e.resolved_at;
    }
  }
  if (!store_only.empty()) {
    const std::string list = join(store_only, ", ");
    f.review.header.notes.push_back(
        "The timeline has no events for " + std::to_string(store_only.size()) + " breach" +
        (store_only.size() == 1 ? "" : "es") + " the agent kept in its store: " + list +
        "; their times come from the store.");
  }
}

}  // namespace backout::agent::report
