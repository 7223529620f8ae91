// What the agent knows about each source's latest attempt: for /api/v1/status, /metrics and the
// log. Thread-safe (a mutex; written once per attempt, read per status request).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backout/core/time.h"

namespace backout::agent {

struct SourceState {
  std::string id;
  std::string kind;
  std::optional<bool> up;  // nullopt before the first attempt
  TimePoint last_attempt{};
  Duration last_duration{0};
  std::string last_error;  // of the latest failed attempt (kept after recovery, with its time)
  TimePoint last_error_at{};
  std::uint64_t attempts = 0;
  std::uint64_t failures = 0;
  std::uint64_t samples = 0;
  std::uint64_t malformed = 0;
  std::uint64_t dropped = 0;
  std::string start_error;  // the collector could not be created (e.g. unset env var)
};

class SourceStatusTable {
 public:
  void add(const std::string& id, const std::string& kind);
  /// Records an attempt; returns the previous `up` (to log transitions).
  std::optional<bool> record(const std::string& id, TimePoint at, bool up, Duration duration,
                             const std::string& error, std::uint64_t samples,
                             std::uint64_t malformed, std::uint64_t dropped);
  void set_start_error(const std::string& id, const std::string& error);
  std::vector<SourceState> snapshot() const;
  /// A reload: the sources `ids` (defined as before) keep what `previous` knew of them.
  void continue_from(const SourceStatusTable& previous, const std::vector<std::string>& ids);

 private:
  mutable std::mutex mu_;
  std::map<std::string, SourceState> states_;
  std::vector<std::string> order_;
};

}  // namespace backout::agent
