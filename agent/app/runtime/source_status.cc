#include "app/runtime/source_status.h"

namespace backout::agent {

void SourceStatusTable::add(const std::string& id, const std::string& kind) {
  std::lock_guard lock(mu_);
  SourceState s;
  s.id = id;
  s.kind = kind;
  if (states_.emplace(id, s).second) {
    order_.push_back(id);
  }
}

std::optional<bool> SourceStatusTable::record(const std::string& id, TimePoint at, bool up,
                                              Duration duration, const std::string& error,
                                              std::uint64_t samples, std::uint64_t malformed,
                                              std::uint64_t dropped) {
  std::lock_guard lock(mu_);
  SourceState& s = states_[id];
  std::optional<bool> before = s.up;
  s.up = up;
  s.last_attempt = at;
  s.last_duration = duration;
  ++s.attempts;
  if (!up) {
    ++s.failures;
    s.last_error = error;
    s.last_error_at = at;
  }
  s.samples += samples;
  s.malformed += malformed;
  s.dropped += dropped;
  return before;
}

void SourceStatusTable::set_start_error(const std::string& id, const std::string& error) {
  std::lock_guard lock(mu_);
  states_[id].start_error = error;
}

std::vector<SourceState> SourceStatusTable::snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<SourceState> out;
  for (const std::string& id : order_) {
    out.push_back(states_.at(id));
  }
  return out;
}

void SourceStatusTable::continue_from(const SourceStatusTable& previous,
                                      const std::vector<std::string>& ids) {
  std::map<std::string, SourceState> theirs;
  {
    std::lock_guard lock(previous.mu_);
    theirs = previous.states_;
  }
  std::lock_guard lock(mu_);
  for (const std::string& id : ids) {
    auto from = theirs.find(id);
    auto to = states_.find(id);
    if (from != theirs.end() && to != states_.end()) {
      to->second = from->second;
    }
  }
}

}  // namespace backout::agent
