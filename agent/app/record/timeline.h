// The timeline: every event of the night, typed (app/record/timeline_event.h) and kept as its
// encoding, one JSON object per event. The post-backout review is written from it. Thread-safe.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "app/record/timeline_event.h"

namespace backout::agent {

class Timeline {
 public:
  virtual ~Timeline() = default;
  /// Appends one event of the record.
  virtual void append(const record::TimelineEvent& event) = 0;
  /// Events from position `from` (0-based), at most `limit`, as encoded.
  virtual std::vector<std::string> read(std::size_t from, std::size_t limit) const = 0;
};

/// A timeline in memory, bounded: the oldest events go first past `capacity`.
class MemoryTimeline final : public Timeline {
 public:
  explicit MemoryTimeline(std::size_t capacity = 100000) : capacity_(capacity) {}
  void append(const record::TimelineEvent& event) override;
  std::vector<std::string> read(std::size_t from, std::size_t limit) const override;

 private:
  mutable std::mutex mu_;
  std::deque<std::string> events_;
  std::size_t dropped_ = 0;
  std::size_t capacity_;
};

}  // namespace backout::agent
