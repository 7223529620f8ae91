#include "backout/rules/evaluator.h"

#include <algorithm>
#include <cmath>

#include "backout/core/text.h"

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
      r.count = static_cast<std::uint64_t>(std::llround(std::max(tb.sum, 0.0)));
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

/// The share of bad outcomes early detection watches for this level, given its threshold.
std::optional<double> early_p0(const Measure& m, const Condition& c, double threshold) {
  double p0 = 0;
  if (m.kind == MeasureKind::kQuantile) {
    p0 = 1 - m.quantile;
  } else if (m.kind == MeasureKind::kRatio || m.kind == MeasureKind::kAvailability) {
    p0 = c.upward() ? threshold : 1 - threshold;
  } else {
    return std::nullopt;
  }
  if (!(p0 > 0 && p0 < 1)) {
    return std::nullopt;  // "> 0%" or "< 100%": any single bad outcome is the signal already
  }
  return p0;
}

/// "7.1% over 5m", "p95 709ms over 5m", "3 failed checks over 1m", "latest value 124500".
/// `window` is " over " and the window length (formatted once per trigger, not every tick).
std::string describe_reading(const Measure& m, std::optional<double> v,
                             const std::string& window) {
  if (!v) {
    return m.kind == MeasureKind::kValue ? "no recent value" : "no data" + window;
  }
  switch (m.kind) {
    case MeasureKind::kFailures:
      return format_number(*v) + (*v == 1 ? " failed check" : " failed checks") + window;
    case MeasureKind::kAvailability:
      return "availability " + format_measure_value(m, *v) + window;
    case MeasureKind::kIncrease:
      return "+" + format_measure_value(m, *v) + window;
    case MeasureKind::kQuantile:
    case MeasureKind::kMean:
    case MeasureKind::kMax:
      return m.function + " " + format_measure_value(m, *v) + window;
    case MeasureKind::kValue:
      return "latest value " + format_measure_value(m, *v);
    case MeasureKind::kRatio:
    case MeasureKind::kRate:
      break;
  }
  return format_measure_value(m, *v) + window;
}

std::string share_text(double bad, double total) {
  return format_number(bad, 6) + " of " + format_number(total, 6);
}

}  // namespace

struct Evaluator::Runtime {
  explicit Runtime(const Trigger& trig)
      : t(&trig),
        machine(trig),
        over_name(format_duration(trig.over)),
        over_text(" over " + over_name) {}
  const Trigger* t;
  Slots slots;
  Slots baseline_slots;
  bool has_baseline_slots = false;
  std::optional<double> baseline_candidate;
  std::optional<double> baseline;
  bool baseline_known = false;  // frozen or restored
  std::vector<std::optional<BernoulliCusum>> cusums;  // per level
  std::vector<bool> latched;
  std::vector<double> cusum_threshold;  // threshold the CUSUM was set up for, per level
  TriggerMachine machine;

  // Caches for the per-tick work (a tick evaluates every trigger, 1,000 in under 1 ms: see
  // bench/README.md). None changes a result; each saves work that would give the same value.
  // Sources whose reachability makes a non-probe measure inconclusive (no map lookup per tick).
  std::vector<std::pair<const SourceHealth*, const std::string*>> health;
  // The window length as written, and " over " + it, for the evidence text.
  std::string over_name;
  std::string over_text;
  // The threshold text of the evidence ("> 5%", "> 150ms, +50% on the baseline 100ms"), kept
  // while the level shown, its threshold and the baseline are the ones it was made from.
  std::string thr_text;
  std::optional<std::size_t> thr_level;
  std::optional<double> thr_threshold;
  std::optional<double> thr_baseline;
  // Alarm levels per level: h depends only on the expected observations and p0 (the shift is
  // fixed), so it is recomputed (five logarithms) only when one of them changes.
  std::vector<double> alarm_expected;
  std::vector<double> alarm_p0;
  std::vector<double> alarm_h;
  // Reused every tick, so that its vectors and string keep their capacity.
  TriggerInput input;
};

double expected_observations(double rate_per_second, Duration window_length) {
  return rate_per_second * to_seconds(window_length);
}

Evaluator::Evaluator(const Plan& plan) : plan_(&plan), store_([&] {
      std::vector<std::string> ids;
      for (const auto& s : plan.sources) {
        ids.push_back(s.id);
      }
      return ids;
    }()) {
  for (const Trigger& t : plan.triggers) {
    auto rt = std::make_unique<Runtime>(t);
    rt->slots = make_slots(store_, t.measure, t.over);
    if (t.relative() && plan.window.baseline > Duration{0}) {
      rt->baseline_slots = make_slots(store_, t.measure, plan.window.baseline);
      rt->has_baseline_slots = true;
    }
    rt->cusums.resize(t.levels.size());
    rt->latched.assign(t.levels.size(), false);
    rt->cusum_threshold.assign(t.levels.size(), std::nan(""));
    rt->alarm_expected.assign(t.levels.size(), std::nan(""));
    rt->alarm_p0.assign(t.levels.size(), std::nan(""));
    rt->alarm_h.assign(t.levels.size(), std::nan(""));
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
    for (auto& c : rt->cusums) {
      if (c) {
        c->shift(d);
      }
    }
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
    rt.cusums = old.cusums;
    rt.latched = old.latched;
    rt.cusum_threshold = old.cusum_threshold;
    rt.alarm_expected = old.alarm_expected;
    rt.alarm_p0 = old.alarm_p0;
    rt.alarm_h = old.alarm_h;
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
  const Trigger& t = *rt.t;
  const Measure& m = t.measure;
  TriggerStatus& st = statuses_[i];
  Reading r = read(m, rt.slots, t.over, now);
  st.value = r.value;
  st.count = r.count;
  st.baseline = rt.baseline;

  TriggerInput& in = rt.input;
  in.now = now;
  in.value = r.value;
  in.count = r.count;
  in.source_down = false;
  in.baseline_missing = false;
  in.inconclusive_reason.clear();
  // Inconclusive: the source of a non-probe measure is down, too few observations, no value, no
  // baseline. Probe measures count an unreachable source as failures instead (rt.health is empty
  // for them).
  for (const auto& [h, source] : rt.health) {
    if (h != nullptr && h->down()) {
      in.source_down = true;
      in.inconclusive_reason = "source '" + *source + "' is down";
      break;
    }
  }
  if (in.inconclusive_reason.empty() && t.relative() && !rt.baseline) {
    in.baseline_missing = true;
    in.inconclusive_reason =
        rt.baseline_known || now >= plan_->window.start.at
            ? "no baseline: too little data in the " + format_duration(plan_->window.baseline) +
                  " before the window start"
            : "baseline not captured yet (it is taken at the window start)";
  }
  if (in.inconclusive_reason.empty() && m.has_count() && r.count < t.min_count) {
    in.inconclusive_reason = std::to_string(r.count) + " observations in the last " +
                             format_duration(t.over) + ", fewer than min_count " +
                             std::to_string(t.min_count);
  }
  if (in.inconclusive_reason.empty() && !r.value) {
    in.inconclusive_reason = m.kind == MeasureKind::kValue
                                 ? "no value in the last " + format_duration(t.over)
                                 : "no data in the last " + format_duration(t.over);
  }

  // Thresholds, the average path and the early path, per level.
  in.average_met.assign(t.levels.size(), false);
  in.early_met.assign(t.levels.size(), false);
  double rate = 0;
  if (r.first_data) {
    Duration span = std::clamp<Duration>(now - *r.first_data, t.over / 60, t.over);
    rate = static_cast<double>(r.count) / std::max(to_seconds(span), 1e-3);
  }
  for (std::size_t l = 0; l < t.levels.size(); ++l) {
    const Condition& c = t.levels[l].condition;
    std::optional<double> threshold = c.threshold(rt.baseline);
    st.thresholds[l] = threshold;
    if (threshold && r.value) {
      in.average_met[l] = c.holds(*r.value, *threshold);
    }
    if (!t.early.enabled || !threshold) {
      continue;
    }
    std::optional<double> p0 = early_p0(m, c, *threshold);
    if (!p0) {
      continue;
    }
    auto& cusum = rt.cusums[l];
    if (!cusum) {
      cusum.emplace(*p0, t.early.shift);
      rt.cusum_threshold[l] = *threshold;
    } else if (rt.cusum_threshold[l] != *threshold) {
      cusum->set_p0(*p0);
      rt.cusum_threshold[l] = *threshold;
      rt.latched[l] = false;
    }
    const double expected = expected_observations(rate, plan_->window.length());
    if (!(rt.alarm_expected[l] == expected && rt.alarm_p0[l] == cusum->p0())) {
      rt.alarm_h[l] = cusum->alarm_level_for(expected);
      rt.alarm_expected[l] = expected;
      rt.alarm_p0[l] = cusum->p0();
    }
    cusum->set_alarm_level(rt.alarm_h[l]);
    std::uint64_t k = 0;
    std::uint64_t n = 0;
    if (m.kind == MeasureKind::kRatio) {
      n = static_cast<std::uint64_t>(std::llround(std::max(rt.slots.b->delta.sum, 0.0)));
      k = std::min<std::uint64_t>(
          static_cast<std::uint64_t>(std::llround(std::max(rt.slots.a->delta.sum, 0.0))), n);
      if (!c.upward()) {
        k = n - k;
      }
    } else if (m.kind == MeasureKind::kAvailability) {
      n = rt.slots.a->delta.count;
      std::uint64_t failed = std::min<std::uint64_t>(
          static_cast<std::uint64_t>(std::llround(std::max(rt.slots.a->delta.sum, 0.0))), n);
      k = c.upward() ? n - failed : failed;
    } else if (m.kind == MeasureKind::kQuantile && rt.slots.h->delta != nullptr) {
      n = rt.slots.h->delta->count();
      k = rt.slots.h->delta->count_above(*threshold);
    }
    cusum->update(k, n, now);
    if (rt.latched[l]) {
      rt.latched[l] = !(cusum->at_zero() && !in.average_met[l]);
    } else {
      rt.latched[l] = cusum->alarmed();
    }
    in.early_met[l] = rt.latched[l];
  }

  rt.machine.step(in);
  st.state = rt.machine.state();
  st.severity = rt.machine.severity();
  st.since = rt.machine.since();
  st.path = rt.machine.path();
  st.reason = rt.machine.inconclusive_reason();
  std::size_t shown = rt.machine.level().value_or(t.levels.size() - 1);
  st.threshold = st.thresholds[shown];
  st.condition = t.levels[shown].condition.text;

  // Evidence for people.
  const Condition& shown_cond = t.levels[shown].condition;
  const auto& cusum = rt.cusums[shown];
  const bool early_now = (st.state == TriggerState::kBreached || st.state == TriggerState::kPending)
                             ? st.path == DetectionPath::kEarly || (!in.average_met[shown] &&
                                                                    in.early_met[shown])
                             : false;
  if (early_now && cusum && cusum->run_total() > 0) {
    double share = static_cast<double>(cusum->run_bad()) /
                   static_cast<double>(cusum->run_total());
    Duration run = cusum->run_start() ? now - *cusum->run_start() : Duration{0};
    std::string what = m.kind == MeasureKind::kQuantile
                           ? " of observations above " + format_measure_value(m, *st.threshold)
                       : m.kind == MeasureKind::kAvailability ? " of probes failing"
                                                              : "";
    std::string p0 = format_percent(cusum->p0());
    st.evidence = "~" + format_percent(share) + what + " over the last " +
                  format_span(std::max<Duration>(run, std::chrono::milliseconds{100})) + " (" +
                  share_text(static_cast<double>(cusum->run_bad()),
                             static_cast<double>(cusum->run_total())) +
                  "), above " + p0 + " with " +
                  format_percent(1 - BernoulliCusum::kDefaultAlpha) + " confidence; " +
                  rt.over_name + " " +
                  (m.kind == MeasureKind::kQuantile ? m.function : std::string("average")) + " " +
                  (r.value ? format_measure_value(m, *r.value) : std::string("n/a"));
  } else if (!st.reason.empty() && st.state == TriggerState::kInconclusive) {
    st.evidence = st.reason;
  } else {
    if (!rt.thr_level || *rt.thr_level != shown || rt.thr_threshold != st.threshold ||
        rt.thr_baseline != rt.baseline) {
      std::string thr = st.threshold ? std::string(to_string(shown_cond.op)) + " " +
                                           format_measure_value(m, *st.threshold)
                                     : st.condition;
      if (shown_cond.relative && rt.baseline) {
        if (shown_cond.factor == 1) {
          thr += ", the baseline";
        } else {
          std::string change = shown_cond.factor > 1 ? "+" : "-";
          thr += ", " + change + format_percent(std::fabs(shown_cond.factor - 1)) +
                 " on the baseline " + format_measure_value(m, *rt.baseline);
        }
      }
      rt.thr_text = std::move(thr);
      rt.thr_level = shown;
      rt.thr_threshold = st.threshold;
      rt.thr_baseline = rt.baseline;
    }
    // Built in place: the string keeps its capacity from tick to tick.
    st.evidence = describe_reading(m, r.value, rt.over_text);
    st.evidence += " (threshold ";
    st.evidence += rt.thr_text;
    st.evidence += ')';
  }
}

}  // namespace backout::rules
