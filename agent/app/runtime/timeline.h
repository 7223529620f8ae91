// The timeline: every event of the night as one JSON object (the `simulate` line format plus
// the kinds only the live agent has: source, ack, fix_forward, decision, raise, delivery,
// agent). The post-backout review is written from it. Thread-safe.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace backout::agent {

class Timeline {
 public:
  virtual ~Timeline() = default;
  /// Appends one event (a JSON object with "at" and "kind").
  virtual void append(const std::string& json) = 0;
  /// Events from position `from` (0-based), at most `limit`.
  virtual std::vector<std::string> read(std::size_t from, std::size_t limit) const = 0;
};

/// A timeline in memory, bounded: the oldest events go first past `capacity`.
class MemoryTimeline final : public Timeline {
 public:
  explicit MemoryTimeline(std::size_t capacity = 100000) : capacity_(capacity) {}
  void append(const std::string& json) override;
  std::vector<std::string> read(std::size_t from, std::size_t limit) const override;

 private:
  mutable std::mutex mu_;
  std::deque<std::string> events_;
  std::size_t dropped_ = 0;
  std::size_t capacity_;
};

}  // namespace backout::agent
