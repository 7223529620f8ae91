#include "app/runtime/outbox.h"

#include <algorithm>

namespace backout::agent {

bool MemoryOutbox::enqueue(const std::string& channel, const std::string& key,
                           const std::string& payload, TimePoint now) {
  std::lock_guard lock(mu_);
  auto& keys = keys_[channel];
  if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
    return false;
  }
  keys.push_back(key);
  OutboxMessage m;
  m.id = next_id_++;
  m.channel = channel;
  m.key = key;
  m.payload = payload;
  m.created_at = now;
  m.next_attempt_at = now;
  queues_[channel].push_back(std::move(m));
  return true;
}

std::optional<OutboxMessage> MemoryOutbox::head(const std::string& channel) {
  std::lock_guard lock(mu_);
  auto it = queues_.find(channel);
  if (it == queues_.end() || it->second.empty()) {
    return std::nullopt;
  }
  return it->second.front();
}

void MemoryOutbox::delivered(std::int64_t id, TimePoint) {
  std::lock_guard lock(mu_);
  for (auto& [ch, q] : queues_) {
    q.erase(std::remove_if(q.begin(), q.end(), [&](const OutboxMessage& m) { return m.id == id; }),
            q.end());
  }
}

void MemoryOutbox::retry(std::int64_t id, TimePoint next_attempt, const std::string& error) {
  std::lock_guard lock(mu_);
  for (auto& [ch, q] : queues_) {
    for (OutboxMessage& m : q) {
      if (m.id == id) {
        ++m.attempts;
        m.next_attempt_at = next_attempt;
        m.last_error = error;
      }
    }
  }
}

void MemoryOutbox::dropped(std::int64_t id, const std::string&, TimePoint now) {
  delivered(id, now);
}

OutboxStats MemoryOutbox::stats(const std::string& channel, TimePoint now) {
  std::lock_guard lock(mu_);
  OutboxStats s;
  auto it = queues_.find(channel);
  if (it != queues_.end() && !it->second.empty()) {
    s.depth = it->second.size();
    s.oldest_age = now - it->second.front().created_at;
  }
  return s;
}

}  // namespace backout::agent
