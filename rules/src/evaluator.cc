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

Slots make_slots(SeriesStore& store, const Measure& m, Duration over, std::string_view tag = {}) {
  Slots s;
  switch (m.kind) {
    case MeasureKind::kRatio:
      s.a = store.counter(m.args[0], SeriesRole::kCounter, over, tag);
      s.b = store.counter(m.args[1], SeriesRole::kCounter, over, tag);
      break;
    case MeasureKind::kRate:
    case MeasureKind::kIncrease:
      s.a = store.counter(m.args[0], SeriesRole::kCounter, over, tag);
      break;
    case MeasureKind::kFailures:
    case MeasureKind::kAvailability:
      s.a = store.counter(m.args[0], SeriesRole::kProbeUp, over, tag);
      break;
    case MeasureKind::kQuantile:
    case MeasureKind::kMean:
    case MeasureKind::kMax:
      s.h = store.histogram(m.args[0], over, tag);
      break;
    case MeasureKind::kValue:
      s.g = store.gauge(m.args[0], over, tag);
      break;
  }
  return s;
}

void restart(Slots& s, TimePoint now) {
  for (CounterSlot* c : {s.a, s.b}) {
    if (c != nullptr) {
      c->restart(now);
    }
  }
  if (s.h != nullptr) {
    s.h->restart(now);
  }
  if (s.g != nullptr) {
    s.g->restart(now);
  }
}

// Whether some phase of the night expects `id` to breach: such a trigger starts afresh when that
// phase ends, so it gets windows of its own.
bool outage_expected(const Plan& plan, const std::string& id) {
  auto names = [&](const std::vector<std::string>& ids) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  };
  return (plan.deployment && names(plan.deployment->expect_outage)) ||
         (plan.backout && names(plan.backout->expect_outage));
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
  Runtime(const Trigger& trig, Duration length)
      : t(&trig),
        window_length(length),
        machine(trig),
        early(trig, length),
        evidence(trig) {}

  /// Starts the tick's input from the reading: value, count and, when it cannot be judged, why.
  void prepare_input(const Reading& r, const Window& window, TimePoint now);
  /// Each level's threshold in effect (into the status) and whether the window average meets it.
  void apply_levels(const Reading& r, TriggerStatus& st);
  /// Copies the trigger machine's outcome into the status; returns the level it shows.
  std::size_t publish(TriggerStatus& st) const;

  const Trigger* t;
  Duration window_length;
  std::string tag;  // "afresh:<id>" when the trigger has windows of its own (outage_expected)
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
    if (outage_expected(plan, t.id)) {
      rt->tag = "afresh:" + t.id;
    }
    rt->slots = make_slots(store_, t.measure, t.over, rt->tag);
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
  make_check_slots();
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
    rt.slots = make_slots(store_, rt.t->measure, rt.t->over, rt.tag);
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
  make_check_slots();
}

// A check of the backout (DESIGN section 9): its measure over its own windows (restarted when
// its judging begins), its condition, and a baseline taken as a trigger's is.
struct Evaluator::CheckRuntime {
  const MeasureCheck* c = nullptr;
  Slots slots;
  Slots baseline_slots;
  bool has_baseline_slots = false;
  std::optional<double> baseline_candidate;
  std::optional<double> baseline;
  bool baseline_known = false;
  // A trigger with the same measure and a baseline: its baseline (restored from the store after
  // a restart) serves when the check's own was not taken.
  std::optional<std::size_t> same_trigger;
};

void Evaluator::make_check_slots() {
  verify_checks_.clear();
  step_checks_.clear();
  if (!plan_->backout) {
    return;
  }
  auto make = [&](const MeasureCheck& c, const std::string& tag) {
    auto rt = std::make_unique<CheckRuntime>();
    rt->c = &c;
    rt->slots = make_slots(store_, c.measure, c.over, tag);
    if (c.when.relative && plan_->window.baseline > Duration{0}) {
      rt->baseline_slots = make_slots(store_, c.measure, plan_->window.baseline);
      rt->has_baseline_slots = true;
    }
    for (std::size_t i = 0; i < plan_->triggers.size(); ++i) {
      if (plan_->triggers[i].measure == c.measure && plan_->triggers[i].relative()) {
        rt->same_trigger = i;
        break;
      }
    }
    return rt;
  };
  const Backout& b = *plan_->backout;
  for (std::size_t i = 0; i < b.checks.size(); ++i) {
    verify_checks_.push_back(make(b.checks[i], "verify:" + std::to_string(i)));
  }
  for (const BackoutStep& step : b.steps) {
    step_checks_.push_back(step.check ? make(*step.check, "step:" + step.id) : nullptr);
  }
}

CheckReading Evaluator::read_check(CheckRuntime& c, TimePoint now) {
  CheckReading out;
  const Reading r = read(c.c->measure, c.slots, c.c->over, now);
  out.value = r.value;
  std::optional<double> baseline = c.baseline;
  if (!baseline && c.same_trigger) {
    baseline = runtimes_[*c.same_trigger]->baseline;
  }
  const std::optional<double> threshold = c.c->when.threshold(baseline);
  if (r.value && threshold) {
    out.ok = c.c->when.holds(*r.value, *threshold);
  }
  return out;
}

std::vector<CheckReading> Evaluator::verify_checks(TimePoint now) {
  std::vector<CheckReading> out;
  out.reserve(verify_checks_.size());
  for (auto& c : verify_checks_) {
    out.push_back(read_check(*c, now));
  }
  return out;
}

CheckReading Evaluator::step_check(std::size_t step, TimePoint now) {
  if (step >= step_checks_.size() || !step_checks_[step]) {
    return {};
  }
  return read_check(*step_checks_[step], now);
}

void Evaluator::restart_verify_checks(TimePoint now) {
  for (auto& c : verify_checks_) {
    restart(c->slots, now);
  }
}

void Evaluator::restart_step_check(std::size_t step, TimePoint now) {
  if (step < step_checks_.size() && step_checks_[step]) {
    restart(step_checks_[step]->slots, now);
  }
}

void Evaluator::capture_check_baseline(CheckRuntime& c, TimePoint now, TimePoint start) {
  if (!c.has_baseline_slots || c.baseline_known) {
    return;
  }
  if (now < start) {
    const Reading r = read(c.c->measure, c.baseline_slots, plan_->window.baseline, now);
    c.baseline_candidate = r.count > 0 || !c.c->measure.has_count() ? r.value : std::nullopt;
  } else {
    c.baseline = c.baseline_candidate;
    c.baseline_known = true;
  }
}

void Evaluator::start_afresh(std::size_t trigger, TimePoint now) {
  if (trigger >= runtimes_.size()) {
    return;
  }
  Runtime& rt = *runtimes_[trigger];
  if (!rt.tag.empty()) {
    restart(rt.slots, now);
  }
  rt.machine = TriggerMachine(*rt.t);
  rt.early = EarlyDetector(*rt.t, rt.window_length);
}

void Evaluator::capture_baselines(TimePoint now) {
  if (baselines_frozen_) {
    return;
  }
  const TimePoint start = plan_->window.start.at;
  for (auto& c : verify_checks_) {
    capture_check_baseline(*c, now, start);
  }
  for (auto& c : step_checks_) {
    if (c) {
      capture_check_baseline(*c, now, start);
    }
  }
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
