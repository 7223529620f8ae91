#include "backout/rules/series_store.h"

#include <cmath>
#include <sstream>

namespace backout::rules {
namespace {

std::string slot_key(const SeriesSelector& sel, const char* role, Duration over,
                     std::string_view tag) {
  std::string key = sel.text() + "|" + role + "|" + std::to_string(over.count());
  if (!tag.empty()) {
    key += "|";
    key += tag;
  }
  return key;
}

}  // namespace

bool SourceRouter::matches(Subscription& s, const std::string& metric, const Labels& labels,
                           const std::string& key) {
  auto it = s.match_cache.find(key);
  if (it != s.match_cache.end()) {
    return it->second;
  }
  bool m = s.matcher->matches(metric, labels);
  if (s.match_cache.size() < kMaxSeriesPerSelector * 4) {
    s.match_cache.emplace(key, m);
  }
  return m;
}

void SourceRouter::refuse(const std::string& metric, const std::string& key, double value,
                          const char* why) {
  ++refused_;
  std::ostringstream text;
  text << metric;
  if (!key.empty()) {
    text << '{' << key << '}';
  }
  text << " = " << value << ": " << why;
  last_refusal_ = text.str();
}

void SourceRouter::record(const std::string& metric, const Labels& labels, double value) {
  if (metric == "up" && health_ != nullptr && labels.empty() && !std::isnan(value)) {
    set_up(value != 0);
  }
  auto it = by_metric_.find(metric);
  if (it == by_metric_.end()) {
    return;
  }
  std::string key;
  bool have_key = false;
  bool refused = false;  // one refusal per value, however many slots read the series
  for (Subscription* s : it->second) {
    if (!have_key) {
      key = labels_key(labels);
      have_key = true;
    }
    if (!matches(*s, metric, labels, key)) {
      continue;
    }
    if (!std::isfinite(value)) {
      if (!refused) {
        refused = true;
        refuse(metric, key, value, "not a finite number");
      }
      continue;
    }
    if (s->counter != nullptr && s->counter->role == SeriesRole::kProbeUp) {
      s->counter->window.recorder().add(value == 0 ? 1.0 : 0.0);
    } else if (s->counter != nullptr) {
      if (value < 0) {
        continue;
      }
      auto last = s->last.find(key);
      if (last == s->last.end()) {
        if (s->last.size() >= kMaxSeriesPerSelector) {
          ++dropped_;
          continue;
        }
        s->last.emplace(key, Subscription::Series{value, batch_, {}});
        if (s->started && value > 0) {
          if (value > kMaxCounterIncrease) {
            if (!refused) {
              refused = true;
              refuse(metric, key, value, "a new series' first increase above 1e12");
            }
            continue;
          }
          s->counter->window.recorder().add(value);
        }
        continue;
      }
      double delta = value >= last->second.value ? value - last->second.value : value;
      last->second.value = value;
      last->second.batch = batch_;
      if (delta > kMaxCounterIncrease) {
        if (!refused) {
          refused = true;
          refuse(metric, key, value, "an increase above 1e12 in one sample");
        }
        continue;
      }
      s->counter->window.recorder().add(delta);
    } else if (s->histogram != nullptr) {
      if (value < 0 || value > kMaxObservationSeconds) {
        if (!refused) {
          refused = true;
          refuse(metric, key, value, "an observation outside [0, 1e9] seconds");
        }
        continue;
      }
      s->histogram->window.recorder().observe(value);
    } else if (s->gauge != nullptr) {
      if (s->last.size() >= kMaxSeriesPerSelector && s->last.count(key) == 0) {
        ++dropped_;
        continue;
      }
      Subscription::Series& series = s->last[key];
      series.value = value;
      series.batch = batch_;
      s->gauge_dirty = true;
    }
  }
}

void SourceRouter::end_batch(bool complete) {
  for (auto& s : subs_) {
    s->started = true;
    if (complete && (s->gauge != nullptr || s->counter != nullptr)) {
      // Absent from a whole scrape: stale at once.
      const std::size_t before = s->last.size();
      std::erase_if(s->last, [&](const auto& kv) { return kv.second.batch != batch_; });
      if (s->last.size() != before) {
        s->gauge_dirty = s->gauge != nullptr;
        if (s->last.empty()) {
          std::unordered_map<std::string, Subscription::Series>().swap(s->last);  // the memory too
        }
      }
    }
    publish(*s);
  }
  ++batch_;
}

void SourceRouter::expire(TimePoint now) {
  for (auto& s : subs_) {
    if (s->gauge == nullptr) {
      continue;
    }
    bool erased = false;
    for (auto it = s->last.begin(); it != s->last.end();) {
      if (it->second.batch + 1 == batch_) {
        it->second.at = now;  // carried by the batch that just ended
      }
      if (it->second.at + s->gauge->over < now) {
        it = s->last.erase(it);
        erased = true;
      } else {
        ++it;
      }
    }
    if (erased) {
      s->gauge_dirty = true;
      publish(*s);
    }
  }
}

void SourceRouter::publish(Subscription& s) {
  if (s.gauge != nullptr && s.gauge_dirty) {
    // No series left (all stale): no value, as Prometheus' sum() of nothing is empty, not 0.
    double sum = s.last.empty() ? std::nan("") : 0.0;
    for (const auto& [k, v] : s.last) {
      sum += v.value;
    }
    s.gauge->published.store(sum, std::memory_order_relaxed);
    s.gauge->seq.fetch_add(1, std::memory_order_release);
    s.gauge_dirty = false;
  }
}

void SourceRouter::set_up(bool up) {
  if (health_ != nullptr) {
    health_->state.store(up ? SourceHealth::kUp : SourceHealth::kDown, std::memory_order_relaxed);
  }
}

SeriesStore::SeriesStore(const std::vector<std::string>& sources) {
  for (const std::string& s : sources) {
    auto router = std::make_unique<SourceRouter>();
    router->source_ = s;
    auto health = std::make_unique<SourceHealth>();
    router->health_ = health.get();
    routers_.emplace(s, std::move(router));
    health_.emplace(s, std::move(health));
  }
}

SourceRouter::Subscription* SeriesStore::subscribe(const SeriesSelector& sel,
                                                   const std::string& key) {
  auto it = routers_.find(sel.source);
  if (it == routers_.end()) {
    return nullptr;
  }
  SourceRouter& r = *it->second;
  r.subs_.push_back(std::make_unique<SourceRouter::Subscription>());
  SourceRouter::Subscription* s = r.subs_.back().get();
  s->key = key;
  r.by_metric_[sel.metric].push_back(s);
  return s;
}

CounterSlot* SeriesStore::counter(const SeriesSelector& sel, SeriesRole role, Duration over,
                                  std::string_view tag) {
  std::string key = slot_key(sel, role == SeriesRole::kProbeUp ? "probe" : "counter", over, tag);
  auto it = counters_.find(key);
  if (it != counters_.end()) {
    return it->second.get();
  }
  auto slot = std::make_unique<CounterSlot>(sel, role, over);
  if (auto* s = subscribe(sel, key)) {
    s->counter = slot.get();
    s->matcher = &slot->matcher;
  }
  return counters_.emplace(key, std::move(slot)).first->second.get();
}

HistogramSlot* SeriesStore::histogram(const SeriesSelector& sel, Duration over,
                                      std::string_view tag) {
  std::string key = slot_key(sel, "obs", over, tag);
  auto it = histograms_.find(key);
  if (it != histograms_.end()) {
    return it->second.get();
  }
  auto slot = std::make_unique<HistogramSlot>(sel, over);
  if (auto* s = subscribe(sel, key)) {
    s->histogram = slot.get();
    s->matcher = &slot->matcher;
  }
  return histograms_.emplace(key, std::move(slot)).first->second.get();
}

GaugeSlot* SeriesStore::gauge(const SeriesSelector& sel, Duration over, std::string_view tag) {
  std::string key = slot_key(sel, "gauge", over, tag);
  auto it = gauges_.find(key);
  if (it != gauges_.end()) {
    return it->second.get();
  }
  auto slot = std::make_unique<GaugeSlot>(sel, over);
  if (auto* s = subscribe(sel, key)) {
    s->gauge = slot.get();
    s->matcher = &slot->matcher;
  }
  return gauges_.emplace(key, std::move(slot)).first->second.get();
}

SourceRouter* SeriesStore::router(const std::string& source) {
  auto it = routers_.find(source);
  return it == routers_.end() ? nullptr : it->second.get();
}

const SourceHealth* SeriesStore::health(const std::string& source) const {
  auto it = health_.find(source);
  return it == health_.end() ? nullptr : it->second.get();
}

namespace {

// Moves previous's slot `key` into `mine` (replacing the empty one there); false when previous
// has none.
template <typename Map>
auto* take_slot(Map& mine, Map& previous, const std::string& key) {
  using Slot = typename Map::mapped_type::element_type;
  auto from = previous.find(key);
  auto to = mine.find(key);
  if (from == previous.end() || !from->second || to == mine.end()) {
    return static_cast<Slot*>(nullptr);
  }
  to->second = std::move(from->second);
  return to->second.get();
}

}  // namespace

void SeriesStore::adopt(SeriesStore& previous, const std::set<std::string>& sources) {
  for (const std::string& source : sources) {
    auto mine = routers_.find(source);
    auto theirs = previous.routers_.find(source);
    if (mine == routers_.end() || theirs == previous.routers_.end()) {
      continue;
    }
    SourceRouter& r = *mine->second;
    SourceRouter& p = *theirs->second;
    r.batch_ = p.batch_;
    r.dropped_ = p.dropped_;
    r.refused_ = p.refused_;
    r.last_refusal_ = p.last_refusal_;
    r.health_->state.store(p.health_->state.load());
    std::unordered_map<std::string, SourceRouter::Subscription*> before;
    for (auto& sub : p.subs_) {
      before.emplace(sub->key, sub.get());
    }
    for (auto& sub : r.subs_) {
      auto it = before.find(sub->key);
      if (it == before.end()) {
        // A slot the previous plan did not have: its counters start from their first values
        // even though the router is past its first batch.
        continue;
      }
      SourceRouter::Subscription& old = *it->second;
      bool taken = false;
      if (sub->counter != nullptr) {
        if (CounterSlot* slot = take_slot(counters_, previous.counters_, sub->key)) {
          sub->counter = slot;
          sub->matcher = &slot->matcher;
          taken = true;
        }
      } else if (sub->histogram != nullptr) {
        if (HistogramSlot* slot = take_slot(histograms_, previous.histograms_, sub->key)) {
          sub->histogram = slot;
          sub->matcher = &slot->matcher;
          taken = true;
        }
      } else if (sub->gauge != nullptr) {
        if (GaugeSlot* slot = take_slot(gauges_, previous.gauges_, sub->key)) {
          sub->gauge = slot;
          sub->matcher = &slot->matcher;
          taken = true;
        }
      }
      if (taken) {
        sub->last = std::move(old.last);
        sub->match_cache = std::move(old.match_cache);
        sub->gauge_dirty = old.gauge_dirty;
        sub->started = old.started;
      }
    }
  }
}

void SeriesStore::shift(Duration d) {
  for (auto& [key, slot] : counters_) {
    slot->window.shift(d);
    if (slot->first_data) {
      *slot->first_data += d;
    }
  }
  for (auto& [key, slot] : histograms_) {
    slot->window.shift(d);
    if (slot->first_data) {
      *slot->first_data += d;
    }
  }
  for (auto& [key, slot] : gauges_) {
    slot->updates.shift(d);
    if (slot->updated_at) {
      *slot->updated_at += d;
    }
  }
}

void SeriesStore::harvest(TimePoint now) {
  for (auto& [key, slot] : counters_) {
    slot->delta = slot->window.harvest(now);
    if (slot->delta.count > 0 && !slot->first_data) {
      slot->first_data = now;
    }
  }
  for (auto& [key, slot] : histograms_) {
    slot->delta = &slot->window.harvest(now);
    if (slot->delta->count() > 0 && !slot->first_data) {
      slot->first_data = now;
    }
  }
  for (auto& [key, slot] : gauges_) {
    std::uint64_t seq = slot->seq.load(std::memory_order_acquire);
    if (seq != slot->seen_seq) {
      slot->seen_seq = seq;
      const double v = slot->published.load(std::memory_order_relaxed);
      slot->value = std::isnan(v) ? std::nullopt : std::optional<double>(v);
      slot->updated_at = now;
      slot->updates.add(now, 0, 1);
    }
  }
}

}  // namespace backout::rules
