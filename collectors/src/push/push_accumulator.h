// The arithmetic of a push source, apart from its I/O: turns pushed samples (increments,
// absolute counter totals, gauges, observations) into the values the source records, so that
// the router sees what it sees from a scrape: one cumulative total per counter series.
//
// Contract (push_hub.h has the user's view), for one counter series:
//   kCounter 3, kCounter 2                 -> records 3, then 5 (increase 5 from zero)
//   kCounterTotal 100 in a sender's first push (no counter total of the batch is known yet)
//                                          -> records 0: a starting point, not an increase
//   then kCounterTotal 104                 -> records 4
//   then kCounterTotal 2 (the process restarted)
//                                          -> records 6: a drop is a reset, 2 is the increase
//   a new series' kCounterTotal 1 in a batch beside known series
//                                          -> records 1: created at its first increment
// Gauges and observations are recorded as they are. Counter increments, counter totals and
// observations must be finite and >= 0, and an increase at most
// kMaxCounterIncrease (StatsD `app_requests:1e308|c` twice would otherwise
// make the total infinite for the rest of the night); others are counted as malformed. At most
// kMaxCounterSeries counter series are kept; samples of further ones are dropped and counted.
//
// Thread-safety: none; the push collector uses it on its strand. Time: none.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "backout/collectors/push_hub.h"

namespace backout::collectors {

class PushAccumulator {
 public:
  static constexpr std::size_t kMaxCounterSeries = 10000;

  struct Counts {
    std::size_t samples = 0;    // values emitted
    std::size_t malformed = 0;  // samples with an invalid value
    std::size_t dropped = 0;    // samples of counter series beyond kMaxCounterSeries
    std::string first_error;    // the first malformed sample, for the operator
  };
  using Emit =
      std::function<void(const std::string& metric, const Labels& labels, double value)>;

  /// Emits the value to record for each sample of one batch, in order.
  Counts add(const std::vector<PushedSample>& batch, const Emit& emit);

  std::size_t counter_series() const { return counters_.size(); }

 private:
  struct Counter {
    double total = 0;                     // what is recorded: the sum of the increases
    std::optional<double> last_absolute;  // the last kCounterTotal value pushed
  };

  std::unordered_map<std::string, Counter> counters_;
};

}  // namespace backout::collectors
