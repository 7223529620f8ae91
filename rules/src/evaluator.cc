#include "backout/rules/evaluator.h"

#include <algorithm>
#include <cmath>

#include "backout/rules/early_detector.h"
#include "backout/rules/evidence.h"

namespace backout::rules {
namespace {

struct Slots {
  CounterSlot* a = nullptr;
  CounterSlot* b = nullptr;
  HistogramSlot* h = nullptr;
  GaugeSlot* g = nullptr;
};

struct Reading {
  std::optional<double> value;
  std::uint64_t count = 0;
  std::optional<TimePoint> first_data;
};

/// A counter's increase as a number of events (counters of events move in whole steps).
std::uint64_t whole(double counter_increase) {
  return static_cast<std::uint64_t>(std::llround(std::max(counter_increase, 0.0)));
}

Slots make_slots(SeriesStore& store, const Measure& m, Duration over) {
  Slots s;
  switch (m.kind) {
    case MeasureKind::kRatio:
      s.a = store.counter(m.args[0], SeriesRole::kCounter, over);
      s.b = store.counter(m.args[1], SeriesRole::kCounter, over);
      break;
    case MeasureKind::kRate:
    case MeasureKind::kIncrease:
      s.a = store.counter(m.args[0], SeriesRole::kCounter, over);
      break;
    case MeasureKind::kFailures:
    case MeasureKind::kAvailability:
      s.a = store.counter(m.args[0], SeriesRole::kProbeUp, over);
      break;
    case MeasureKind::kQuantile:
    case MeasureKind::kMean:
    case MeasureKind::kMax:
      s.h = store.histogram(m.args[0], over);
      break;
    case MeasureKind::kValue:
      s.g = store.gauge(m.args[0], over);
      break;
  }
  return s;
}

Reading read(const Measure& m, Slots& s, Duration over, TimePoint now) {
  Reading r;
  switch (m.kind) {
    case MeasureKind::kRatio: {
      auto ta = s.a->window.totals(now);
      auto tb = s.b->window.totals(now);
      r.count = whole(tb.sum);
      r.first_data = s.b->first_data;
      if (tb.sum > 0) {
        r.value = std::clamp(ta.sum / tb.sum, 0.0, 1.0);
      }
      break;
    }
    case MeasureKind::kRate:
    case MeasureKind::kIncrease: {
      auto t = s.a->window.totals(now);
      r.count = t.count;
      r.first_data = s.a->first_data;
      if (t.count > 0 || s.a->first_data) {
        if (m.kind == MeasureKind::kIncrease) {
          r.value = t.sum;
        } else {
          // Over a window that is still filling, divide by the time it has covered.
          Duration span = over;
          if (s.a->first_data && now - *s.a->first_data < over) {
            span = std::max<Duration>(now - *s.a->first_data, s.a->window.over() / 60);
          }
          r.value = t.sum / std::max(to_seconds(span), 1e-3);
        }
      }
      break;
    }
    case MeasureKind::kFailures:
    case MeasureKind::kAvailability: {
      auto t = s.a->window.totals(now);
      r.count = t.count;
      r.first_data = s.a->first_data;
      if (t.count > 0) {
        r.value = m.kind == MeasureKind::kFailures
                      ? t.sum
                      : (static_cast<double>(t.count) - t.sum) / static_cast<double>(t.count);
      }
      break;
    }
    case MeasureKind::kQuantile:
    case MeasureKind::kMean:
    case MeasureKind::kMax: {
      const Histogram& hist = s.h->window.totals(now);
      r.count = hist.count();
      r.first_data = s.h->first_data;
      if (r.count > 0) {
        r.value = m.kind == MeasureKind::kQuantile ? hist.quantile(m.quantile)
                  : m.kind == MeasureKind::kMean   ? hist.mean()
                                                   : hist.max();
      }
      break;
    }
    case MeasureKind::kValue: {
      r.first_data = s.g->updated_at;
      if (s.g->value && s.g->updated_at && now - *s.g->updated_at <= over) {
        r.value = s.g->value;
        r.count = s.g->updates.totals(now).count;  // values received in the window
      }
      break;
    }
  }
  return r;
}

/// How fast observations arrived lately: over the window, or the part of it data has covered.
double observed_rate(const Reading& r, Duration over, TimePoint now) {
  if (!r.first_data) {
    return 0;
  }
  Duration span = std::clamp<Duration>(now - *r.first_data, over / 60, over);
  return static_cast<double>(r.count) / std::max(to_seconds(span), 1e-3);
}

/// The tick's new observations (the last harvest) for early detection.
EarlyDetector::Batch early_batch(const Measure& m, const Slots& s, const Reading& r, Duration over,
                                 TimePoint now) {
  EarlyDetector::Batch b;
  b.rate = observed_rate(r, over, now);
  if (m.kind == MeasureKind::kRatio) {
    b.total = whole(s.b->delta.sum);
    b.counted = whole(s.a->delta.sum);
  } else if (m.kind == MeasureKind::kAvailability) {
    // Probe samples are 1 for a failed check: the measure counts the others.
    b.total = s.a->delta.count;
    b.counted = b.total - std::min(whole(s.a->delta.sum), b.total);
  } else if (m.kind == MeasureKind::kQuantile) {
    b.histogram = s.h->delta;
  }
  return b;
}

}  // namespace

struct Evaluator::Runtime {
  Runtime(const Trigger& trig, Duration window_length)
      : t(&trig), machine(trig), early(trig, window_length), evidence(trig) {}

  /// Starts the tick's input from the reading: value, count and, when it cannot be judged, why.
  void prepare_input(const Reading& r, const Window& window, TimePoint now);
  /// Each level's threshold in effect (into the status) and whether the window average meets it.
  void apply_levels(const Reading& r, TriggerStatus& st);
  /// Copies the trigger machine's outcome into the status; returns the level it shows.
  std::size_t publish(TriggerStatus& st) const;

  const Trigger* t;
  Slots slots;
  Slots baseline_slots;
  bool has_baseline_slots = false;
  std::optional<double> baseline_candidate;
  std::optional<double> baseline;
  bool baseline_known = false;  // frozen or restored
  TriggerMachine machine;
  EarlyDetector early;
  Evidence evidence;

  // Caches for the per-tick work (a tick evaluates every trigger, 1,000 in under 1 ms: see
  // bench/README.md). None changes a result; each saves work that would give the same value.
  // Sources whose reachability makes a non-probe measure inconclusive (no map lookup per tick).
  std::vector<std::pair<const SourceHealth*, const std::string*>> health;
  // Reused every tick, so that its vectors and string keep their capacity.
  TriggerInput input;
};

void Evaluator::Runtime::prepare_input(const Reading& r, const Window& window, TimePoint now) {
  const Measure& m = t->measure;
  TriggerInput& in = input;
  in.now = now;
  in.value = r.value;
  in.count = r.count;
  in.source_down = false;
  in.baseline_missing = false;
  in.inconclusive_reason.clear();
  // Inconclusive: the source of a non-probe measure is down, too few observations, no value, no
  // baseline. Probe measures count an unreachable source as failures instead (health is empty
  // for them).
  for (const auto& [h, source] : health) {
    if (h != nullptr && h->down()) {
      in.source_down = true;
      in.inconclusive_reason = Evidence::source_down(*source);
      break;
    }
  }
  if (in.inconclusive_reason.empty() && t->relative() && !baseline) {
    in.baseline_missing = true;
    in.inconclusive_reason =
        Evidence::no_baseline(baseline_known || now >= window.start.at, window.baseline);
  }
  if (in.inconclusive_reason.empty() && m.has_count() && r.count < t->min_count) {
    in.inconclusive_reason = evidence.too_few_observations(r.count);
  }
  if (in.inconclusive_reason.empty() && !r.value) {
    in.inconclusive_reason = evidence.no_data();
  }
}

void Evaluator::Runtime::apply_levels(const Reading& r, TriggerStatus& st) {
  input.average_met.assign(t->levels.size(), false);
  for (std::size_t l = 0; l < t->levels.size(); ++l) {
    const Condition& c = t->levels[l].condition;
    st.thresholds[l] = c.threshold(baseline);
    if (st.thresholds[l] && r.value) {
      input.average_met[l] = c.holds(*r.value, *st.thresholds[l]);
    }
  }
}

std::size_t Evaluator::Runtime::publish(TriggerStatus& st) const {
  st.state = machine.state();
  st.severity = machine.severity();
  st.since = machine.since();
  st.path = machine.path();
  st.reason = machine.inconclusive_reason();
  const std::size_t shown = machine.level().value_or(t->levels.size() - 1);
  st.threshold = st.thresholds[shown];
  st.condition = t->levels[shown].condition.text;
  return shown;
}

Evaluator::Evaluator(const Plan& plan) : plan_(&plan), store_([&] {
      std::vector<std::string> ids;
      for (const auto& s : plan.sources) {
        ids.push_back(s.id);
      }
      return ids;
    }()) {
  for (const Trigger& t : plan.triggers) {
    auto rt = std::make_unique<Runtime>(t, plan.window.length());
    rt->slots = make_slots(store_, t.measure, t.over);
    if (t.relative() && plan.window.baseline > Duration{0}) {
      rt->baseline_slots = make_slots(store_, t.measure, plan.window.baseline);
      rt->has_baseline_slots = true;
    }
    if (t.measure.kind != MeasureKind::kFailures && t.measure.kind != MeasureKind::kAvailability) {
      for (const SeriesSelector& sel : t.measure.args) {
        rt->health.emplace_back(store_.health(sel.source), &sel.source);
      }
    }
    runtimes_.push_back(std::move(rt));
    TriggerStatus st;
    st.id = t.id;
    st.thresholds.resize(t.levels.size());
    for (std::size_t l = 0; l < t.levels.size(); ++l) {
      st.thresholds[l] = t.levels[l].condition.threshold(std::nullopt);
    }
    statuses_.push_back(std::move(st));
  }
}

Evaluator::~Evaluator() = default;

SourceRouter* Evaluator::router(const std::string& source) { return store_.router(source); }

std::optional<double> Evaluator::baseline(std::size_t trigger) const {
  return trigger < runtimes_.size() ? runtimes_[trigger]->baseline : std::nullopt;
}

void Evaluator::restore_baseline(std::size_t trigger, double value) {
  if (trigger < runtimes_.size()) {
    runtimes_[trigger]->baseline = value;
    runtimes_[trigger]->baseline_known = true;
  }
}

void Evaluator::restore_breach(std::size_t trigger, Severity severity, TimePoint since) {
  if (trigger >= runtimes_.size()) {
    return;
  }
  Runtime& rt = *runtimes_[trigger];
  for (std::size_t l = 0; l < rt.t->levels.size(); ++l) {
    if (rt.t->levels[l].severity == severity) {
      rt.machine.restore_breach(l, since, DetectionPath::kAverage);
      TriggerStatus& st = statuses_[trigger];
      st.state = TriggerState::kBreached;
      st.severity = severity;
      st.since = since;
      return;
    }
  }
}

void Evaluator::shift(Duration d) {
  store_.shift(d);
  for (auto& rt : runtimes_) {
    rt->machine.shift(d);
    rt->early.shift(d);
  }
  for (TriggerStatus& st : statuses_) {
    if (st.since != TimePoint{}) {
      st.since += d;
    }
  }
}

void Evaluator::adopt(Evaluator& previous, const std::vector<std::optional<std::size_t>>& same,
                      const std::set<std::string>& sources) {
  store_.adopt(previous.store_, sources);
  baselines_frozen_ = previous.baselines_frozen_;
  for (std::size_t i = 0; i < runtimes_.size(); ++i) {
    Runtime& rt = *runtimes_[i];
    // The slots were replaced by the ones taken over: look them up again.
    rt.slots = make_slots(store_, rt.t->measure, rt.t->over);
    if (rt.has_baseline_slots) {
      rt.baseline_slots = make_slots(store_, rt.t->measure, plan_->window.baseline);
    }
    if (i >= same.size() || !same[i] || *same[i] >= previous.runtimes_.size()) {
      continue;
    }
    const Runtime& old = *previous.runtimes_[*same[i]];
    rt.baseline_candidate = old.baseline_candidate;
    rt.baseline = old.baseline;
    rt.baseline_known = old.baseline_known;
    rt.early.continue_from(old.early);
    rt.machine.continue_from(old.machine);
    statuses_[i] = previous.statuses_[*same[i]];
  }
}

void Evaluator::capture_baselines(TimePoint now) {
  if (baselines_frozen_) {
    return;
  }
  const TimePoint start = plan_->window.start.at;
  for (auto& rt : runtimes_) {
    if (!rt->has_baseline_slots || rt->baseline_known) {
      continue;
    }
    if (now < start) {
      Reading r = read(rt->t->measure, rt->baseline_slots, plan_->window.baseline, now);
      bool enough = !rt->t->measure.has_count() || r.count >= std::max<std::uint64_t>(
                                                                    rt->t->min_count, 1);
      rt->baseline_candidate = enough ? r.value : std::nullopt;
    } else {
      rt->baseline = rt->baseline_candidate;
      rt->baseline_known = true;
    }
  }
  if (now >= start) {
    baselines_frozen_ = true;
  }
}

std::vector<TriggerChange> Evaluator::tick(TimePoint now) {
  store_.harvest(now);
  capture_baselines(now);
  std::vector<TriggerChange> changes;
  for (std::size_t i = 0; i < runtimes_.size(); ++i) {
    TriggerState from = statuses_[i].state;
    std::optional<Severity> from_sev = statuses_[i].severity;
    evaluate(i, now);
    if (statuses_[i].state != from || statuses_[i].severity != from_sev) {
      changes.push_back({i, from, from_sev, statuses_[i]});
    }
  }
  return changes;
}

void Evaluator::evaluate(std::size_t i, TimePoint now) {
  Runtime& rt = *runtimes_[i];
  TriggerStatus& st = statuses_[i];
  const Reading r = read(rt.t->measure, rt.slots, rt.t->over, now);
  st.value = r.value;
  st.count = r.count;
  st.baseline = rt.baseline;

  TriggerInput& in = rt.input;
  rt.prepare_input(r, plan_->window, now);
  rt.apply_levels(r, st);
  rt.early.step(early_batch(rt.t->measure, rt.slots, r, rt.t->over, now), st.thresholds,
                in.average_met, now, in.early_met);
  rt.machine.step(in);
  const std::size_t shown = rt.publish(st);
  rt.evidence.write(shown, in.average_met[shown], in.early_met[shown], rt.early.cusum(shown), now,
                    st);
}

}  // namespace backout::rules
