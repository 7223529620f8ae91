// The windows a plan needs and the routers that feed them.
//
// SeriesStore holds one window per distinct (selector, role, over): counters and probe outcomes in
// a WindowedCounter, observations (latencies) in a WindowedHistogram, gauges in a GaugeSlot.
// Collectors write through a SourceRouter (one per source); the evaluator harvests every slot on
// each tick. Thread-safety: a SourceRouter is used by one writer at a time (the source's
// collector); slots' recorders are lock-free and safe against the evaluator's concurrent harvest;
// harvest() and the readings belong to the evaluator thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "backout/core/log_linear_histogram.h"
#include "backout/core/sliding_window.h"
#include "backout/core/windowed_series.h"
#include "backout/rules/measure.h"
#include "backout/core/sample.h"
#include "backout/rules/series_matcher.h"

namespace backout::rules {

/// Increases of a counter (role kCounter) or outcomes of a probe (role kProbeUp: sum = failures,
/// count = probes) over a window.
struct CounterSlot {
  CounterSlot(const SeriesSelector& sel, SeriesRole r, Duration over)
      : matcher(sel), role(r), window(over) {}
  SeriesMatcher matcher;
  SeriesRole role;
  WindowedCounter window;
  CounterRecorder::Totals delta;  // of the last harvest (a batch, for early detection)
  std::optional<TimePoint> first_data;

  /// Evaluator: counts only what arrives from `now` on (DESIGN section 9, starting afresh).
  void restart(TimePoint now) {
    window.restart();
    delta = {};
    first_data = now;
  }
};

/// Observations (latencies in seconds) over a window.
struct HistogramSlot {
  HistogramSlot(const SeriesSelector& sel, Duration over) : matcher(sel), window(over) {}
  SeriesMatcher matcher;
  WindowedHistogram window;
  const Histogram* delta = nullptr;  // of the last harvest
  std::optional<TimePoint> first_data;

  /// Evaluator: counts only what arrives from `now` on.
  void restart(TimePoint now) {
    window.restart();
    delta = nullptr;
    first_data = now;
  }
};

/// The latest value of a gauge (the sum over matching series), with the time it was harvested.
struct GaugeSlot {
  GaugeSlot(const SeriesSelector& sel, Duration o) : matcher(sel), over(o), updates(o) {}
  SeriesMatcher matcher;
  Duration over;
  // Written by the source's router, read by the evaluator's harvest.
  std::atomic<double> published{0};
  std::atomic<std::uint64_t> seq{0};
  // Evaluator side.
  std::uint64_t seen_seq = 0;
  std::optional<double> value;
  std::optional<TimePoint> updated_at;
  CounterWindow updates;  // harvests that brought a new value, counted over `over`

  /// Evaluator: only a value harvested from `now` on counts (the published one is taken again
  /// at the next harvest only if the source publishes anew).
  void restart(TimePoint now) {
    (void)now;
    value.reset();
    updated_at.reset();
    updates = CounterWindow(over);
  }
};

/// Reachability of a source as its collector last saw it. Lock-free.
struct SourceHealth {
  enum State : int { kUnknown = 0, kUp = 1, kDown = 2 };
  std::atomic<int> state{kUnknown};
  bool down() const { return state.load(std::memory_order_relaxed) == kDown; }
};

class SeriesStore;

/// Feeds one source's samples into the store's windows. Not thread-safe: one writer at a time.
///
/// Counters: the first observation of a series in the source's first batch is its starting point
/// (no increase); a series that first appears in a later batch counts from zero, because client
/// libraries create labelled series at their first increment; a drop is a reset (the new value is
/// the increase since the reset), as in Prometheus.
///
/// Values that would poison a window are refused and counted (refused(), last_refusal()): NaN
/// or infinite values of any series a trigger reads, counter increases above
/// kMaxCounterIncrease (one sample of 1e308 would make the window's running sum infinite, and
/// inf - inf is NaN for the rest of the night), and observations that are negative or above
/// kMaxObservationSeconds. A refused counter value still becomes the series' last value, so the
/// next sample counts from it.
class SourceRouter {
 public:
  /// The largest increase one counter sample may bring (core/sample.h).
  static constexpr double kMaxCounterIncrease = backout::kMaxCounterIncrease;
  /// The largest observation (seconds) a latency window takes: about 31 years.
  static constexpr double kMaxObservationSeconds = 1e9;

  void record(const std::string& metric, const Labels& labels, double value);
  /// Ends a scrape or probe: later series count from zero; gauge sums are published. With
  /// `complete` (a successful scrape or probe: every series the source has is in the batch),
  /// a series absent from it is stale at once, as in Prometheus: it leaves the sums of
  /// value(), its memory is reclaimed, and a counter that comes back counts from zero.
  void end_batch(bool complete = false);
  /// For a source whose batches are partial (push, StatsD, logs), after end_batch(): a gauge
  /// series not in any batch for its window's length (`over`) by `now` is stale and leaves the
  /// sums. Counters are kept (their pushed totals go on from where they were).
  void expire(TimePoint now);
  /// Reachability: a failed scrape or probe marks the source down.
  void set_up(bool up);
  const std::string& source() const { return source_; }
  /// Series dropped because a selector matched more than kMaxSeriesPerSelector of them.
  std::uint64_t dropped_series() const { return dropped_; }
  /// Values refused as unusable (see above), and the latest such, for the operator.
  std::uint64_t refused() const { return refused_; }
  const std::string& last_refusal() const { return last_refusal_; }

  static constexpr std::size_t kMaxSeriesPerSelector = 10000;

 private:
  friend class SeriesStore;
  struct Subscription {
    CounterSlot* counter = nullptr;
    HistogramSlot* histogram = nullptr;
    GaugeSlot* gauge = nullptr;
    const SeriesMatcher* matcher = nullptr;
    struct Series {
      double value = 0;
      std::uint64_t batch = 0;  // the batch that last carried it
      TimePoint at{};           // when that batch ended (expire() only)
    };
    std::string key;  // its slot's key in the store
    std::unordered_map<std::string, Series> last;  // per series (labels key)
    std::unordered_map<std::string, bool> match_cache;
    bool gauge_dirty = false;
    // A batch has ended since it was created: a counter series it has not seen before counts
    // from zero (a new labelled series); before that, a series' first value is its start.
    bool started = false;
  };
  bool matches(Subscription& s, const std::string& metric, const Labels& labels,
               const std::string& key);
  void publish(Subscription& s);
  void refuse(const std::string& metric, const std::string& key, double value, const char* why);

  std::string source_;
  SourceHealth* health_ = nullptr;
  std::unordered_map<std::string, std::vector<Subscription*>> by_metric_;
  std::vector<std::unique_ptr<Subscription>> subs_;
  std::uint64_t batch_ = 1;  // the batch being recorded
  std::uint64_t dropped_ = 0;
  std::uint64_t refused_ = 0;
  std::string last_refusal_;
};

class SeriesStore {
 public:
  /// Sources that exist (routers for unknown sources are not created).
  explicit SeriesStore(const std::vector<std::string>& sources);

  /// The slot for (selector, role, over), created on first request. Call before writers start.
  /// A non-empty `tag` makes a slot of its own, fed like the others but restarted alone (a
  /// trigger or check that starts afresh, DESIGN section 9).
  CounterSlot* counter(const SeriesSelector& sel, SeriesRole role, Duration over,
                       std::string_view tag = {});
  HistogramSlot* histogram(const SeriesSelector& sel, Duration over, std::string_view tag = {});
  GaugeSlot* gauge(const SeriesSelector& sel, Duration over, std::string_view tag = {});

  SourceRouter* router(const std::string& source);
  const SourceHealth* health(const std::string& source) const;

  /// Evaluator: moves what was recorded since the last harvest into the windows at `now`.
  void harvest(TimePoint now);
  /// Evaluator: the clock was stepped by d; every window and time moves with it, so the windows
  /// at now + d hold what they held at now (see CounterWindow::shift).
  void shift(Duration d);

  /// A reload: takes over from `previous` (the store of the plan that ran before) the windows
  /// and per-series state of every slot that both stores have, for the sources in `sources`
  /// (those whose definition did not change), with their routers' batch state, counters and
  /// reachability. A slot only this store has starts empty, and its counters' first values are
  /// their starting points. Neither store may have writers; `previous` is unusable afterwards,
  /// and pointers to this store's slots taken before are invalid (look them up again).
  void adopt(SeriesStore& previous, const std::set<std::string>& sources);

  std::size_t slot_count() const {
    return counters_.size() + histograms_.size() + gauges_.size();
  }

 private:
  SourceRouter::Subscription* subscribe(const SeriesSelector& sel, const std::string& key);

  std::map<std::string, std::unique_ptr<CounterSlot>> counters_;
  std::map<std::string, std::unique_ptr<HistogramSlot>> histograms_;
  std::map<std::string, std::unique_ptr<GaugeSlot>> gauges_;
  std::map<std::string, std::unique_ptr<SourceRouter>> routers_;
  std::map<std::string, std::unique_ptr<SourceHealth>> health_;
};

}  // namespace backout::rules
