#include "backout/alerting/outbox.h"

#include <algorithm>

namespace backout::alerting {

bool MemoryOutbox::enqueue(const std::string& channel, const std::string& key,
                           const std::string& payload, TimePoint now) {
  return add(channel, key, payload, now).has_value();
}

std::optional<std::int64_t> MemoryOutbox::add(const std::string& channel, const std::string& key,
                                              const std::string& payload, TimePoint now) {
  std::lock_guard lock(mu_);
  if (!keys_[channel].insert(key).second) {
    return std::nullopt;
  }
  OutboxMessage m;
  m.id = next_id_++;
  m.channel = channel;
  m.key = key;
  m.payload = payload;
  m.created_at = now;
  m.next_attempt_at = now;
  queues_[channel].push_back(std::move(m));
  return next_id_ - 1;
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

void MemoryOutbox::retry(std::int64_t id, TimePoint next_attempt, const std::string& error,
                         TimePoint) {
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

void MemoryOutbox::shift(Duration d) {
  std::lock_guard lock(mu_);
  for (auto& [ch, q] : queues_) {
    for (OutboxMessage& m : q) {
      m.created_at += d;
      m.next_attempt_at += d;
    }
  }
}

void MemoryOutbox::dropped(std::int64_t id, const std::string&, TimePoint now) {
  delivered(id, now);
}

std::optional<OutboxMessage> MemoryOutbox::find(std::int64_t id) {
  std::lock_guard lock(mu_);
  for (const auto& [ch, q] : queues_) {
    for (const OutboxMessage& m : q) {
      if (m.id == id) {
        return m;
      }
    }
  }
  return std::nullopt;
}

void MemoryOutbox::restore(OutboxMessage m) {
  std::lock_guard lock(mu_);
  next_id_ = std::max(next_id_, m.id + 1);
  keys_[m.channel].insert(m.key);
  auto& q = queues_[m.channel];
  // Keep each queue in id order (the order of enqueueing), whatever order restore() sees.
  auto at = std::upper_bound(q.begin(), q.end(), m.id,
                             [](std::int64_t id, const OutboxMessage& o) { return id < o.id; });
  q.insert(at, std::move(m));
}

void MemoryOutbox::remember(const std::string& channel, const std::string& key) {
  std::lock_guard lock(mu_);
  keys_[channel].insert(key);
}

void MemoryOutbox::reserve_ids(std::int64_t id) {
  std::lock_guard lock(mu_);
  next_id_ = std::max(next_id_, id);
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

}  // namespace backout::alerting
