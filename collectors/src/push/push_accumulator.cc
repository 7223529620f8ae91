#include "push/push_accumulator.h"

#include <cmath>

#include "backout/core/text.h"
#include "backout/core/sample.h"

namespace backout::collectors {
namespace {

std::string series_key(const PushedSample& s) {
  // '\n' cannot occur in a metric name the API or the StatsD parser lets through.
  return s.metric + '\n' + labels_key(s.labels);
}

const char* type_name(PushedSample::Type t) {
  switch (t) {
    case PushedSample::Type::kCounter:
      return "counter increment";
    case PushedSample::Type::kCounterTotal:
      return "counter total";
    case PushedSample::Type::kGauge:
      return "gauge";
    case PushedSample::Type::kObservation:
      return "observation";
  }
  return "sample";
}

}  // namespace

PushAccumulator::Counts PushAccumulator::add(const std::vector<PushedSample>& batch,
                                             const Emit& emit) {
  Counts counts;
  // A batch of counter totals none of which is known is a sender's first push: its totals ran
  // up before the agent listened, so they are starting points (the router's rule for the first
  // scrape of a source, applied per sender).
  bool totals_known = false;
  for (const PushedSample& s : batch) {
    if (s.type == PushedSample::Type::kCounterTotal) {
      auto it = counters_.find(series_key(s));
      if (it != counters_.end() && it->second.last_absolute) {
        totals_known = true;
        break;
      }
    }
  }

  for (const PushedSample& s : batch) {
    const bool counter =
        s.type == PushedSample::Type::kCounter || s.type == PushedSample::Type::kCounterTotal;
    const bool non_negative = counter || s.type == PushedSample::Type::kObservation;
    if (non_negative && !(std::isfinite(s.value) && s.value >= 0)) {
      ++counts.malformed;
      if (counts.first_error.empty()) {
        counts.first_error = std::string(type_name(s.type)) + " " + s.metric + " = " +
                             format_number(s.value) + ": must be a finite number >= 0";
      }
      continue;
    }
    if (!counter) {
      emit(s.metric, s.labels, s.value);
      ++counts.samples;
      continue;
    }
    const std::string key = series_key(s);
    auto it = counters_.find(key);
    if (it == counters_.end()) {
      if (counters_.size() >= kMaxCounterSeries) {
        ++counts.dropped;
        continue;
      }
      it = counters_.emplace(key, Counter{}).first;
    }
    Counter& c = it->second;
    double increase = s.value;
    if (s.type == PushedSample::Type::kCounterTotal) {
      // A new series counts from zero; a drop is a reset.
      if (c.last_absolute && s.value >= *c.last_absolute) {
        increase = s.value - *c.last_absolute;
      } else if (!c.last_absolute && !totals_known) {
        increase = 0;
      }
      c.last_absolute = s.value;
    }
    if (increase > kMaxCounterIncrease) {
      // Added to the total, it would blind the series for good: the total would stay huge (or
      // infinite) and every later increment would vanish in it.
      ++counts.malformed;
      if (counts.first_error.empty()) {
        counts.first_error = std::string(type_name(s.type)) + " " + s.metric + " = " +
                             format_number(s.value) + ": an increase above 1e12 in one sample";
      }
      continue;
    }
    c.total += increase;
    emit(s.metric, s.labels, c.total);
    ++counts.samples;
  }
  return counts;
}

}  // namespace backout::collectors
