// Benchmarks of the evaluator (issue "The core"; DESIGN section 8: 1,000 triggers evaluated in
// under 1 ms). bench/README.md has the figures.
//   - BM_Evaluator_Tick: one rules::Evaluator::tick() over a plan of 50 or 5 services × 20
//     triggers (ratio, pNN, availability, failures, value, rate; selectors shared as in real
//     plans), with full 5-minute windows and frozen baselines;
//   - BM_SeriesStore_Harvest: the harvest half of that tick alone (every slot of the plan);
//   - BM_Evaluator_TickReference, BM_Watch_TickReference: the reference plan's 9 triggers, through
//     the evaluator alone and through the whole watch (decision engine and paging policy too).
// The percentile read of a full 5-minute HistogramWindow is BM_HistogramWindow_Quantile in
// window_bench.cc.
//
// Every tick is preceded by one second of data (scrapes and probes, through the routers as the
// collectors feed them). Feeding is the collectors' work on their own threads, not the
// evaluator's, so it is left out of the measured time: the benchmarks use manual timing, the
// thread's CPU time around tick() alone. The state is built once (a static fixture, 31 minutes of
// ticks so that windows are full and baselines frozen) and keeps moving forward in time across
// iterations and repetitions, as the evaluator does in a window.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "backout/core/time.h"
#include "backout/rules/evaluator.h"
#include "backout/rules/expression_parser.h"
#include "backout/rules/plan.h"
#include "backout/rules/watch.h"
#include "bench_plans.h"

namespace backout {
namespace {

using namespace std::chrono_literals;
using rules::Severity;

using bench::at;
using bench::condition;
using bench::window_start;

struct LevelText {
  Severity severity;
  const char* when;
};

// A trigger as the plan loader builds it: levels most severe first, clear_after = max(for, 30s),
// early detection on by default where the loader turns it on (ratio, availability, pNN with '>').
rules::Trigger make_trigger(const std::string& id, const std::string& measure,
                            std::vector<LevelText> levels, Duration over = 5min,
                            Duration for_duration = 0s, std::uint64_t min_count = 0) {
  rules::Trigger t;
  t.id = id;
  t.name = id;
  t.measure = bench::measure(measure);
  t.over = over;
  t.for_duration = for_duration;
  t.clear_after = std::max<Duration>(for_duration, 30s);
  t.min_count = min_count;
  for (const LevelText& l : levels) {
    t.levels.push_back({l.severity, condition(l.when)});
  }
  bool all_upward = true;
  for (const rules::Level& l : t.levels) {
    all_upward = all_upward && l.condition.upward();
  }
  t.early.enabled = t.measure.kind == rules::MeasureKind::kRatio ||
                    t.measure.kind == rules::MeasureKind::kAvailability ||
                    (t.measure.kind == rules::MeasureKind::kQuantile && all_upward);
  return t;
}

// The reference plan's window (02:00-06:00 +01:00, backout 100m, baseline 30m), contacts and
// authority; sources and triggers are added by the caller.
rules::Plan base_plan() {
  rules::Plan p;
  p.path = "bench-plan.yaml";
  p.header = {"Customer Portal Enhancement", "2.0", "John Smith (PM)", "1.2", true};
  bench::set_reference_window(p);
  p.contacts = {
      {"deployment_lead", "Jane Doe", "@jane.doe", "", "on-site"},
      {"project_manager", "John Smith", "@john.smith", "", "on-call"},
      {"sponsor", "Sarah Williams", "@sarah.williams", "", "on-call"},
      {"steering_group", "Steering Group", "@steering-group", "", ""},
  };
  p.authority[Severity::kCritical] = {Severity::kCritical,
                                      "deployment_lead",
                                      {"project_manager", "sponsor"},
                                      5min,
                                      "project_manager"};
  p.authority[Severity::kMajor] = {
      Severity::kMajor, "project_manager", {"sponsor"}, 10min, "sponsor"};
  p.authority[Severity::kDiscretionary] = {
      Severity::kDiscretionary, "sponsor", {"steering_group"}, std::nullopt, std::nullopt};
  p.notify.repeat_every = 10min;
  p.notify.group_wait = 2s;
  p.state_dir = "/tmp";
  return p;
}

void add_source(rules::Plan& p, const std::string& id, const std::string& kind) {
  Source s;
  s.id = id;
  s.kind = kind;
  p.sources.push_back(s);
}

// ---------------------------------------------------------------------------------------------
// One service of the large plan: the reference plan's triggers and the generic criteria a team
// adds, 20 triggers over 5 sources. Selectors are shared the way real plans share them: three
// percentiles of one latency series, the request counter as the denominator of two ratios and
// the argument of a rate, the API probe behind a percentile, a relative percentile, an
// availability and a failure count. Per service: 5 ratio, 6 pNN (one relative), 2 availability,
// 2 failures, 2 value (one relative), 3 rate; 13 counter slots, 4 histogram slots (one the 30 m
// baseline window), 3 gauge slots.
void add_service(rules::Plan& p, int i) {
  const std::string s = "svc" + std::to_string(i);
  const std::string web = s + "_web";
  const std::string api = s + "_api";
  const std::string db = s + "_db";
  const std::string count = s + "_count";
  add_source(p, s, "prometheus");
  add_source(p, web, "http");
  add_source(p, api, "http");
  add_source(p, db, "postgres");
  add_source(p, count, "postgres");
  auto id = [&](const char* name) { return s + "." + name; };
  auto& t = p.triggers;
  t.push_back(make_trigger(id("login_failure_rate"),
                           "ratio(" + s + ".login_failures_total, " + s + ".login_attempts_total)",
                           {{Severity::kMajor, "> 5%"}}, 5min, 1min, 50));
  t.push_back(
      make_trigger(id("transaction_errors"),
                   "ratio(" + s + ".transactions_failed_total, " + s + ".transactions_total)",
                   {{Severity::kMajor, "> 2%"}}, 5min, 1min, 20));
  t.push_back(make_trigger(
      id("error_rate"),
      "ratio(" + s + ".http_requests_total{code=~\"5..\"}, " + s + ".http_requests_total)",
      {{Severity::kCritical, "> 25%"}, {Severity::kMajor, "> 1%"}}, 5min, 30s, 100));
  t.push_back(make_trigger(
      id("client_errors"),
      "ratio(" + s + ".http_requests_total{code=~\"4..\"}, " + s + ".http_requests_total)",
      {{Severity::kMinor, "> 10%"}}, 5min, 1min, 100));
  t.push_back(make_trigger(id("checkout_errors"),
                           "ratio(" + s + ".checkout_failed_total, " + s + ".checkout_total)",
                           {{Severity::kMajor, "> 3%"}}, 5min, 1min, 20));
  t.push_back(make_trigger(id("p50_latency"), "p50(" + s + ".http_request_duration_seconds)",
                           {{Severity::kMinor, "> 200ms"}}));
  t.push_back(make_trigger(id("p95_latency"), "p95(" + s + ".http_request_duration_seconds)",
                           {{Severity::kMajor, "> 500ms"}}));
  t.push_back(make_trigger(id("p99_latency"), "p99(" + s + ".http_request_duration_seconds)",
                           {{Severity::kCritical, "> 2s"}}));
  t.push_back(make_trigger(id("page_load_time"), "p95(" + web + ".duration)",
                           {{Severity::kMajor, "> 10s"}}));
  t.push_back(make_trigger(id("api_response_time"), "p95(" + api + ".duration)",
                           {{Severity::kMajor, "> 5s"}}));
  t.push_back(make_trigger(id("performance_degradation"), "p95(" + api + ".duration)",
                           {{Severity::kMajor, "> +50% baseline"}}, 5min, 2min));
  t.push_back(make_trigger(id("system_unavailable"), "availability(" + web + ")",
                           {{Severity::kCritical, "< 50%"}}, 1min));
  t.push_back(make_trigger(id("api_availability"), "availability(" + api + ")",
                           {{Severity::kMajor, "< 90%"}}));
  t.push_back(make_trigger(id("db_connectivity"), "failures(" + db + ")",
                           {{Severity::kCritical, "> 0"}}, 1min));
  t.push_back(
      make_trigger(id("api_failures"), "failures(" + api + ")", {{Severity::kMajor, "> 3"}}));
  t.push_back(make_trigger(id("data_integrity"), "value(" + count + ")",
                           {{Severity::kCritical, "< baseline"}}));
  t.push_back(make_trigger(id("queue_depth"), "value(" + s + ".queue_depth)",
                           {{Severity::kMajor, "> 1000"}}));
  t.push_back(make_trigger(id("traffic_drop"), "rate(" + s + ".http_requests_total)",
                           {{Severity::kMajor, "< 5"}}, 5min, 1min));
  t.push_back(make_trigger(id("orders_stopped"), "rate(" + s + ".orders_total)",
                           {{Severity::kMinor, "< 0.5"}}, 5min, 2min));
  t.push_back(make_trigger(id("login_attack"), "rate(" + s + ".login_failures_total)",
                           {{Severity::kMajor, "> 10"}}));
}

// ---------------------------------------------------------------------------------------------
// A quiet night's traffic, one second at a time, Poisson arrivals: 50 logins/s (1% failing), 100
// requests/s (3% 4xx, 0.2% 5xx) with 50 latency observations, 20 transactions/s, 10 checkouts/s,
// 5 orders/s; probes every 5 s (page), 2 s (API, DB) and 60 s (the customer count). What the
// collectors would record; randomness is seeded, so every run feeds the same data.
class ServiceFeed {
 public:
  ServiceFeed(rules::Evaluator& ev, int i, std::uint64_t seed)
      : rng_(seed),
        app_(ev.router("svc" + std::to_string(i))),
        web_(ev.router("svc" + std::to_string(i) + "_web")),
        api_(ev.router("svc" + std::to_string(i) + "_api")),
        db_(ev.router("svc" + std::to_string(i) + "_db")),
        count_(ev.router("svc" + std::to_string(i) + "_count")) {
    std::lognormal_distribution<double> d(std::log(0.08), 0.6);
    latencies_.resize(4096);
    for (double& x : latencies_) {
      x = d(rng_);
    }
  }

  // The second that ends at tick `k` (seconds since the first tick).
  void feed(std::int64_t k) {
    int logins = poisson(50);
    login_attempts_ += logins;
    login_failures_ += binomial(logins, 0.01);
    int transactions = poisson(20);
    transactions_ += transactions;
    transactions_failed_ += binomial(transactions, 0.005);
    int requests = poisson(100);
    double e5 = binomial(requests, 0.002);
    double e4 = binomial(requests, 0.03);
    http_5xx_ += e5;
    http_4xx_ += e4;
    http_2xx_ += requests - e5 - e4;
    int checkouts = poisson(10);
    checkouts_ += checkouts;
    checkouts_failed_ += binomial(checkouts, 0.01);
    orders_ += poisson(5);
    app_->record("login_attempts_total", {}, login_attempts_);
    app_->record("login_failures_total", {}, login_failures_);
    app_->record("transactions_total", {}, transactions_);
    app_->record("transactions_failed_total", {}, transactions_failed_);
    app_->record("http_requests_total", {{"code", "200"}}, http_2xx_);
    app_->record("http_requests_total", {{"code", "404"}}, http_4xx_);
    app_->record("http_requests_total", {{"code", "503"}}, http_5xx_);
    app_->record("checkout_total", {}, checkouts_);
    app_->record("checkout_failed_total", {}, checkouts_failed_);
    app_->record("orders_total", {}, orders_);
    app_->record("queue_depth", {}, static_cast<double>(100 + (k % 7)));
    for (int j = poisson(50); j > 0; --j) {
      app_->record("http_request_duration_seconds", {}, next_latency());
    }
    app_->end_batch();
    if (k % 5 == 0) {
      probe(web_, 4 * next_latency());
    }
    if (k % 2 == 0) {
      probe(api_, next_latency());
      probe(db_, 0.002);
    }
    if (k % 60 == 0) {
      count_->record("up", {}, 1);
      count_->record("duration", {}, 0.01);
      count_->record("value", {}, static_cast<double>(124500 + k / 60));
      count_->end_batch();
    }
  }

 private:
  double binomial(int n, double p) {
    return static_cast<double>(std::binomial_distribution<int>(n, p)(rng_));
  }
  int poisson(double mean) { return std::poisson_distribution<int>(mean)(rng_); }
  double next_latency() { return latencies_[next_++ & 4095]; }
  static void probe(rules::SourceRouter* r, double duration) {
    r->record("up", {}, 1);
    r->record("duration", {}, duration);
    r->end_batch();
  }

  std::mt19937_64 rng_;
  rules::SourceRouter* app_;
  rules::SourceRouter* web_;
  rules::SourceRouter* api_;
  rules::SourceRouter* db_;
  rules::SourceRouter* count_;
  std::vector<double> latencies_;
  std::size_t next_ = 0;
  double login_attempts_ = 0, login_failures_ = 0, transactions_ = 0, transactions_failed_ = 0;
  double http_2xx_ = 0, http_4xx_ = 0, http_5xx_ = 0, checkouts_ = 0, checkouts_failed_ = 0;
  double orders_ = 0;
};

// Ticks start 31 minutes before the window start: the 30-minute baseline windows fill, the
// baselines freeze at the start, and every 5-minute window is full from then on.
constexpr std::int64_t kWarmupTicks = 31 * 60;

// A plan of `services` × 20 triggers, its evaluator, and the feeds; warmed up to the window start.
struct MixFixture {
  explicit MixFixture(int services) {
    plan = base_plan();
    for (int i = 0; i < services; ++i) {
      add_service(plan, i);
    }
    ev = std::make_unique<rules::Evaluator>(plan);
    for (int i = 0; i < services; ++i) {
      feeds.emplace_back(*ev, i, 1000 + static_cast<std::uint64_t>(i));
    }
    while (k < 0) {
      step();
      ev->tick(at(static_cast<double>(k)));
    }
  }
  // Feeds the second ending at the next tick and advances k to it.
  void step() {
    ++k;
    for (ServiceFeed& f : feeds) {
      f.feed(k);
    }
  }
  TimePoint now() const { return at(static_cast<double>(k)); }

  rules::Plan plan;
  std::unique_ptr<rules::Evaluator> ev;
  std::vector<ServiceFeed> feeds;
  std::int64_t k = -kWarmupTicks - 1;
};

MixFixture& mix(int services, int instance) {
  // One fixture per (size, benchmark): the harvest-only benchmark must not steal the deltas of
  // the tick benchmark's evaluator.
  static std::vector<std::unique_ptr<MixFixture>> fixtures(8);
  auto& f = fixtures[static_cast<std::size_t>(instance * 4 + (services > 10 ? 1 : 0))];
  if (!f) {
    f = std::make_unique<MixFixture>(services);
  }
  return *f;
}

// The measured time is the thread's CPU time, not wall time: the development VM is shared with
// other builds (load averages of 5-10 on 2 cores), and wall time would count the time the
// thread spent descheduled. A read costs about 0.1-0.5 us (a system call), which is counted.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Per-tick times, for the median and the 99th percentile of one repetition (counters p50_us and
// p99_us): on the shared VM a tick is now and then descheduled half-way and resumes with cold
// caches, which moves the mean (the Time column) more than the median.
class TickTimes {
 public:
  void add(double seconds) { times_.push_back(seconds); }
  void report(benchmark::State& state) {
    if (times_.empty()) {
      return;
    }
    std::sort(times_.begin(), times_.end());
    auto at_rank = [&](double q) {
      auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(times_.size())));
      return times_[std::clamp<std::size_t>(rank, 1, times_.size()) - 1] * 1e6;
    };
    state.counters["p50_us"] = at_rank(0.5);
    state.counters["p99_us"] = at_rank(0.99);
  }

 private:
  std::vector<double> times_;
};

// The cost of the timer around each measured tick (included in every figure below).
void BM_ThreadCpuClock_Read(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(thread_cpu_seconds());
  }
}
BENCHMARK(BM_ThreadCpuClock_Read);

void BM_Evaluator_Tick(benchmark::State& state) {
  MixFixture& f = mix(static_cast<int>(state.range(0)), 0);
  std::uint64_t breached = 0;
  TickTimes times;
  for (auto _ : state) {
    f.step();
    double t0 = thread_cpu_seconds();
    auto changes = f.ev->tick(f.now());
    double t1 = thread_cpu_seconds();
    benchmark::DoNotOptimize(changes.data());
    state.SetIterationTime(t1 - t0);
    times.add(t1 - t0);
  }
  times.report(state);
  for (const auto& st : f.ev->statuses()) {
    breached += st.state == rules::TriggerState::kBreached ? 1 : 0;
  }
  state.counters["triggers"] = static_cast<double>(f.plan.triggers.size());
  state.counters["slots"] = static_cast<double>(f.ev->store().slot_count());
  // A quiet night: nothing should be breached, so the benchmark measures the steady state.
  state.counters["breached"] = static_cast<double>(breached);
}
BENCHMARK(BM_Evaluator_Tick)->ArgName("services")->Arg(5)->Arg(50)->UseManualTime();

void BM_SeriesStore_Harvest(benchmark::State& state) {
  MixFixture& f = mix(static_cast<int>(state.range(0)), 1);
  TickTimes times;
  for (auto _ : state) {
    f.step();
    double t0 = thread_cpu_seconds();
    f.ev->store().harvest(f.now());
    double t1 = thread_cpu_seconds();
    state.SetIterationTime(t1 - t0);
    times.add(t1 - t0);
  }
  times.report(state);
  state.counters["slots"] = static_cast<double>(f.ev->store().slot_count());
}
BENCHMARK(BM_SeriesStore_Harvest)->ArgName("services")->Arg(5)->Arg(50)->UseManualTime();

// ---------------------------------------------------------------------------------------------
// The reference plan (plans/customer-portal-2.0.yaml): 9 triggers over 5 sources.

rules::Plan reference_plan() {
  rules::Plan p = base_plan();
  add_source(p, "portal", "prometheus");
  add_source(p, "home_page", "http");
  add_source(p, "api", "http");
  add_source(p, "portal_db", "postgres");
  add_source(p, "customers", "postgres");
  auto& t = p.triggers;
  t.push_back(
      make_trigger("login_failure_rate",
                   "ratio(portal.portal_login_failures_total, portal.portal_login_attempts_total)",
                   {{Severity::kMajor, "> 5%"}}, 5min, 1min, 50));
  t.push_back(make_trigger(
      "transaction_errors",
      "ratio(portal.portal_transactions_failed_total, portal.portal_transactions_total)",
      {{Severity::kMajor, "> 2%"}}, 5min, 1min, 20));
  t.push_back(
      make_trigger("page_load_time", "p95(home_page.duration)", {{Severity::kMajor, "> 10s"}}));
  t.push_back(make_trigger("api_response_time", "p95(api.duration)", {{Severity::kMajor, "> 5s"}}));
  t.push_back(make_trigger(
      "error_rate", "ratio(portal.http_requests_total{code=~\"5..\"}, portal.http_requests_total)",
      {{Severity::kCritical, "> 25%"}, {Severity::kMajor, "> 1%"}}, 5min, 30s, 100));
  t.push_back(
      make_trigger("db_connectivity", "failures(portal_db)", {{Severity::kCritical, "> 0"}}, 1min));
  t.push_back(make_trigger("system_unavailable", "availability(home_page)",
                           {{Severity::kCritical, "< 50%"}}, 1min));
  t.push_back(
      make_trigger("data_integrity", "value(customers)", {{Severity::kCritical, "< baseline"}}));
  t.push_back(make_trigger("performance_degradation", "p95(api.duration)",
                           {{Severity::kMajor, "> +50% baseline"}}, 5min, 2min));
  return p;
}

// The reference plan's sources at the same quiet-night rates as a service of the large plan
// (the portal's own latency series is not in the reference plan, so it is not fed).
class ReferenceFeed {
 public:
  explicit ReferenceFeed(std::uint64_t seed) : rng_(seed) {
    std::lognormal_distribution<double> d(std::log(0.08), 0.6);
    latencies_.resize(4096);
    for (double& x : latencies_) {
      x = d(rng_);
    }
  }

  template <typename Target>
  void feed(Target& t, std::int64_t k) {
    int logins = poisson(50);
    attempts_ += logins;
    failures_ += binomial(logins, 0.01);
    int transactions = poisson(20);
    transactions_ += transactions;
    failed_ += binomial(transactions, 0.005);
    int requests = poisson(100);
    double e5 = binomial(requests, 0.002);
    ok_ += requests - e5;
    errors_ += e5;
    rules::SourceRouter* portal = t.router("portal");
    portal->record("portal_login_attempts_total", {}, attempts_);
    portal->record("portal_login_failures_total", {}, failures_);
    portal->record("portal_transactions_total", {}, transactions_);
    portal->record("portal_transactions_failed_total", {}, failed_);
    portal->record("http_requests_total", {{"code", "200"}}, ok_);
    portal->record("http_requests_total", {{"code", "503"}}, errors_);
    portal->end_batch();
    if (k % 5 == 0) {
      probe(t.router("home_page"), 4 * latencies_[next_++ & 4095]);
    }
    if (k % 2 == 0) {
      probe(t.router("api"), latencies_[next_++ & 4095]);
      probe(t.router("portal_db"), 0.002);
    }
    if (k % 60 == 0) {
      rules::SourceRouter* c = t.router("customers");
      c->record("up", {}, 1);
      c->record("duration", {}, 0.01);
      c->record("value", {}, static_cast<double>(124500 + k / 60));
      c->end_batch();
    }
  }

 private:
  double binomial(int n, double p) {
    return static_cast<double>(std::binomial_distribution<int>(n, p)(rng_));
  }
  int poisson(double mean) { return std::poisson_distribution<int>(mean)(rng_); }
  static void probe(rules::SourceRouter* r, double duration) {
    r->record("up", {}, 1);
    r->record("duration", {}, duration);
    r->end_batch();
  }

  std::mt19937_64 rng_;
  std::vector<double> latencies_;
  std::size_t next_ = 0;
  double attempts_ = 0, failures_ = 0, transactions_ = 0, failed_ = 0, ok_ = 0, errors_ = 0;
};

template <typename Target>
struct ReferenceFixture {
  ReferenceFixture() : plan(reference_plan()), target(plan), feed(7) {
    while (k < 0) {
      step();
      target.tick(now());
    }
  }
  void step() { feed.feed(target, ++k); }
  TimePoint now() const { return at(static_cast<double>(k)); }

  rules::Plan plan;
  Target target;
  ReferenceFeed feed;
  std::int64_t k = -kWarmupTicks - 1;
};

void BM_Evaluator_TickReference(benchmark::State& state) {
  static ReferenceFixture<rules::Evaluator> f;
  TickTimes times;
  for (auto _ : state) {
    f.step();
    double t0 = thread_cpu_seconds();
    auto changes = f.target.tick(f.now());
    double t1 = thread_cpu_seconds();
    benchmark::DoNotOptimize(changes.data());
    state.SetIterationTime(t1 - t0);
    times.add(t1 - t0);
  }
  times.report(state);
  state.counters["triggers"] = static_cast<double>(f.plan.triggers.size());
}
BENCHMARK(BM_Evaluator_TickReference)->UseManualTime();

void BM_Watch_TickReference(benchmark::State& state) {
  static ReferenceFixture<rules::Watch> f;
  TickTimes times;
  for (auto _ : state) {
    f.step();
    double t0 = thread_cpu_seconds();
    rules::TickResult r = f.target.tick(f.now());
    double t1 = thread_cpu_seconds();
    benchmark::DoNotOptimize(r.pages.data());
    state.SetIterationTime(t1 - t0);
    times.add(t1 - t0);
  }
  times.report(state);
  std::uint64_t breached = 0;
  for (const auto& st : f.target.evaluator().statuses()) {
    breached += st.state == rules::TriggerState::kBreached ? 1 : 0;
  }
  state.counters["triggers"] = static_cast<double>(f.plan.triggers.size());
  state.counters["breached"] = static_cast<double>(breached);
}
BENCHMARK(BM_Watch_TickReference)->UseManualTime();

}  // namespace
}  // namespace backout
