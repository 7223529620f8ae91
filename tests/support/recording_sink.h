// A SampleSink that keeps everything a collector delivers, grouped by attempt, for tests to
// assert against. Header-only: it needs the collectors' headers, which only collectors_tests
// links. Thread-safety: none; the collector under test calls it from the io_context the test
// runs on its own thread. Time: records carry no time (the sink interface has none).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backout/collectors/collector.h"

namespace backout::testing {

class RecordingSink : public collectors::SampleSink {
 public:
  struct Record {
    std::string metric;
    Labels labels;
    double value = 0;
  };
  struct Attempt {
    std::vector<Record> records;
    collectors::AttemptOutcome outcome;

    /// The value recorded for `metric` (with exactly these labels, in any order), if any.
    std::optional<double> value(const std::string& metric, const Labels& labels = {}) const {
      const std::string key = labels_key(labels);
      for (const Record& r : records) {
        if (r.metric == metric && labels_key(r.labels) == key) {
          return r.value;
        }
      }
      return std::nullopt;
    }
  };

  void record(const std::string& metric, const Labels& labels, double value) override {
    ++calls_;
    pending_.push_back({metric, labels, value});
  }

  void end_attempt(const collectors::AttemptOutcome& outcome) override {
    ++calls_;
    attempts_.push_back({std::move(pending_), outcome});
    pending_.clear();
  }

  /// Finished attempts, in order.
  const std::vector<Attempt>& attempts() const { return attempts_; }
  std::size_t attempt_count() const { return attempts_.size(); }
  const Attempt& last() const { return attempts_.back(); }
  /// Records not yet closed by end_attempt (should be empty between attempts).
  const std::vector<Record>& pending() const { return pending_; }
  /// Every call of either kind, to show that none happened after a point.
  std::size_t calls() const { return calls_; }

 private:
  std::vector<Record> pending_;
  std::vector<Attempt> attempts_;
  std::size_t calls_ = 0;
};

}  // namespace backout::testing
