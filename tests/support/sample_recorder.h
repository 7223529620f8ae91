// A SampleSink that records every call, for collector tests: the collector under test delivers
// into it, and the test waits (bounded) for attempts and asserts on what arrived.
//
// Thread-safe: the collector records from its io thread while the test thread reads and waits.
// Time: wait_for_attempts() waits on the steady clock, at most `timeout`; nothing else waits.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backout/collectors/collector.h"

namespace backout::testing {

class SampleRecorder : public collectors::SampleSink {
 public:
  struct Record {
    std::string metric;
    Labels labels;
    double value = 0;
    std::size_t attempt = 0;  // index of the attempt it belongs to (0-based)
  };
  struct Attempt {
    std::size_t index = 0;
    collectors::AttemptOutcome outcome;
  };

  void record(const std::string& metric, const Labels& labels, double value) override;
  void end_attempt(const collectors::AttemptOutcome& outcome) override;

  /// Waits until at least `n` attempts have ended in total; false on timeout.
  bool wait_for_attempts(std::size_t n, std::chrono::milliseconds timeout);
  /// Waits for the attempt after the one the previous call returned (the first one at first);
  /// nullopt on timeout.
  std::optional<Attempt> next_attempt(std::chrono::milliseconds timeout);

  std::size_t attempt_count() const;
  std::vector<collectors::AttemptOutcome> attempts() const;
  std::vector<Record> records() const;
  /// Values of `metric` in order; only those of attempt `attempt` when given.
  std::vector<double> values(const std::string& metric,
                             std::optional<std::size_t> attempt = std::nullopt) const;
  /// The most recent value of `metric`, if any.
  std::optional<double> last(const std::string& metric) const;
  /// Every call counted (record and end_attempt), to check that none comes after stop().
  std::size_t calls() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Record> records_;
  std::vector<collectors::AttemptOutcome> attempts_;
  std::size_t calls_ = 0;
  std::size_t awaited_ = 0;  // attempts handed out by next_attempt()
};

}  // namespace backout::testing
