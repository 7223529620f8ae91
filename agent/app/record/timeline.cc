#include "app/record/timeline.h"

namespace backout::agent {

void MemoryTimeline::append(const record::TimelineEvent& event) {
  std::string json = record::encode(event);
  std::lock_guard lock(mu_);
  events_.push_back(std::move(json));
  while (events_.size() > capacity_) {
    events_.pop_front();
    ++dropped_;
  }
}

std::vector<std::string> MemoryTimeline::read(std::size_t from, std::size_t limit) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  std::size_t start = from > dropped_ ? from - dropped_ : 0;
  for (std::size_t i = start; i < events_.size() && out.size() < limit; ++i) {
    out.push_back(events_[i]);
  }
  return out;
}

}  // namespace backout::agent
