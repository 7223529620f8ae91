// Early detection for one trigger (DESIGN section 5, "Early detection"): beside the window
// average, a Bernoulli CUSUM per level watches each tick's new observations for a rise in the
// share of bad ones above the share the level's threshold allows, and latches an alarm that the
// trigger machine reads as the level's early path.
// Pure; not thread-safe (one per trigger, owned by the evaluator's thread). Time enters only as
// the `now` of each step (it dates the start of the CUSUM's current run); shift() moves that
// with a stepped clock.
//
// Which levels are watched: ratio and availability measures (the share is the measure's own),
// and quantiles (p95 > 700ms: more than 5% of observations above 700ms). A level whose threshold
// share is 0 or 1 ("> 0%", "< 100%") is not: one bad outcome already decides it.
//
// Latching: once a level's CUSUM alarms, the level stays early-met until the CUSUM is back at zero
// and the window average does not meet the level either, so that a breach found early is not
// dropped between the alarm and the moment the average catches up. A threshold that moves (a
// baseline-relative level) restarts that level's CUSUM and drops its latch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "backout/core/log_linear_histogram.h"
#include "backout/core/time.h"
#include "backout/rules/bernoulli_cusum.h"
#include "backout/rules/plan.h"

namespace backout::rules {

class EarlyDetector {
 public:
  /// The observations of one tick (those harvested since the previous tick).
  struct Batch {
    /// Ratio: the increase of the denominator; availability: the probes.
    std::uint64_t total = 0;
    /// Of `total`, those the measure's share counts (at most `total`): ratio: the increase of
    /// the numerator; availability: the successful probes. Quantiles use `histogram` instead.
    std::uint64_t counted = 0;
    /// Quantile: the tick's observations (nullptr: none).
    const Histogram* histogram = nullptr;
    /// Observations per second lately: with the window length it sets the alarm levels.
    double rate = 0;
  };

  /// `trigger` must outlive the detector. `window_length` is the deployment window's: the alarm
  /// levels keep false alarms below 1 in 1,000 such windows (BernoulliCusum::alarm_level_for).
  EarlyDetector(const Trigger& trigger, Duration window_length);

  /// Steps every level at `now` with the tick's batch and sets `early_met` (one per level, in
  /// Trigger::levels order) to whether the level's alarm is latched. `thresholds[l]` is level l's
  /// threshold in effect (nullopt: not known yet, the level is not watched this tick) and
  /// `average_met[l]` whether the window average meets it.
  void step(const Batch& batch, const std::vector<std::optional<double>>& thresholds,
            const std::vector<bool>& average_met, TimePoint now, std::vector<bool>& early_met);

  /// Level l's CUSUM, for the evidence: nullptr until the level has been watched.
  const BernoulliCusum* cusum(std::size_t level) const;

  /// The clock was stepped by d: the current runs started d later on the new clock.
  void shift(Duration d);

  /// A reload kept the trigger (Trigger::same_watch): carries on from `previous`'s CUSUMs and
  /// latches.
  void continue_from(const EarlyDetector& previous);

 private:
  struct Level {
    std::optional<BernoulliCusum> cusum;
    double threshold = 0;  // the one the CUSUM was set up for
    bool latched = false;
    // h depends only on the expected observations and p0 (the shift is fixed), so it is
    // recomputed (five logarithms) only when one of them changes: a tick evaluates every
    // trigger, 1,000 in under 1 ms (bench/README.md).
    std::optional<double> alarm_expected;
    double alarm_p0 = 0;
    double alarm_h = 0;
  };

  /// The bad observations and all observations of the batch for a level at `threshold`.
  std::pair<std::uint64_t, std::uint64_t> outcomes(const Batch& batch, const Condition& c,
                                                   double threshold) const;

  const Trigger* trigger_;
  Duration window_length_;
  std::vector<Level> levels_;
};

/// Observations per window covered by the plan: used to set early-detection alarm levels.
double expected_observations(double rate_per_second, Duration window_length);

}  // namespace backout::rules
