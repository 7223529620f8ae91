// Detection benchmarks (issue "Fast, confident detection"; DESIGN section 5, "Early detection").
// bench/README.md has the figures and the targets.
//
// This executable has its own main (the one exception in bench/CMakeLists.txt): it first prints
// the detection tables, computed from seeded simulations through the real rules::Evaluator and
// rules::BernoulliCusum, then runs its Google Benchmark timers and prints the differences they
// are for (early detection on minus off, per observation), all from that one run.
//
// The simulated application: login attempts at 50/s (Poisson arrivals; each attempt fails with
// probability p, independently), scraped once per second as the cumulative counters
// portal.f_total (failures) and portal.a_total (attempts), fed through the source router and
// followed by one Evaluator::tick() per second. The trigger is
//     ratio(portal.f_total, portal.a_total) > 5%, over: 5m, min_count: 50, for: 0
// with early detection on (the CUSUM beside the average) or off (the 5-minute average alone,
// what a Prometheus alert on the same ratio does), in the reference plan's 4-hour window.
//
// Time convention: tick k is at window start + k s and harvests the attempts of (k-1, k]. A step
// at T means the batches of ticks k > T have the new rate; the detection delay is k - T for the
// first tick k > T at which the trigger is breached, so the first tick after the step counts as
// 1 s: the scrape interval is part of the delay. (tests/rules/bernoulli_cusum_test.cc counts the
// same tick as 0 s.)
//
// Flags (before Google Benchmark's own): --runs=N runs per step (default 500), --nights=N
// four-hour nights through the evaluator (default 1000), --reference_nights=N (default 100),
// --cusum_nights=N nights of the CUSUM alone at exactly p0 (default 100000), --tables=0 or
// --timers=0 to skip a part.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "backout/core/time.h"
#include "backout/rules/bernoulli_cusum.h"
#include "backout/rules/early_detector.h"
#include "backout/rules/evaluator.h"
#include "backout/rules/expression_parser.h"
#include "backout/rules/plan.h"
#include "bench_plans.h"

namespace backout {
namespace {

using namespace std::chrono_literals;
using rules::BernoulliCusum;
using rules::Evaluator;
using rules::TriggerState;

constexpr double kRate = 50;          // attempts per second
constexpr double kP0 = 0.05;          // the threshold
constexpr double kAlpha = 1e-3;       // false alarms per window the alarm level allows
constexpr int kNightSeconds = 14400;  // the reference plan's window, 02:00-06:00

using bench::at;
using bench::window_start;

// The reference plan's window (02:00-06:00 +01:00) with the one source and one ratio trigger.
rules::Plan detection_plan(bool early, Duration for_duration, int triggers = 1) {
  rules::Plan p;
  p.path = "bench-plan.yaml";
  bench::set_reference_window(p);
  Source s;
  s.id = "portal";
  s.kind = "prometheus";
  p.sources.push_back(s);
  const rules::Condition c = bench::condition("> 5%");
  for (int i = 0; i < triggers; ++i) {
    // The detection trigger is the first; a plan of N triggers repeats it on its own counters.
    std::string suffix = i == 0 ? "" : std::to_string(i);
    rules::Trigger t;
    t.id = "login" + suffix;
    t.name = t.id;
    t.measure = bench::measure("ratio(portal.f" + suffix + "_total, portal.a" + suffix + "_total)");
    t.over = 5min;
    t.levels.push_back({rules::Severity::kMajor, c});
    t.for_duration = for_duration;
    t.clear_after = std::max<Duration>(for_duration, 30s);  // as the plan loader sets it
    t.min_count = 50;
    t.early.enabled = early;
    p.triggers.push_back(t);
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// The application's login counters, one second at a time, fed into one or more evaluators.

class LoginStream {
 public:
  explicit LoginStream(std::uint64_t seed) : rng_(seed) {}

  // Generates the second that ends at the next tick with failure probability p and records the
  // cumulative counters into every evaluator's router.
  void feed(double p, std::initializer_list<Evaluator*> evs) {
    int n = attempts_(rng_);
    attempts_total_ += n;
    failures_total_ += std::binomial_distribution<int>(n, p)(rng_);
    for (Evaluator* ev : evs) {
      rules::SourceRouter* r = ev->router("portal");
      r->record("f_total", {}, failures_total_);
      r->record("a_total", {}, attempts_total_);
      r->end_batch();
    }
  }

 private:
  std::mt19937_64 rng_;
  std::poisson_distribution<int> attempts_{kRate};
  double attempts_total_ = 0;
  double failures_total_ = 0;
};

bool breached(const Evaluator& ev) { return ev.statuses()[0].state == TriggerState::kBreached; }

// ---------------------------------------------------------------------------------------------
// Statistics.

// Nearest rank: the ceil(q n)-th smallest value (1-based).
double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size()) - 1e-9));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) {
    s += x;
  }
  return s / static_cast<double>(v.size());
}

// KL(p || q) for Bernoulli shares, in nats per observation.
double kl(double p, double q) {
  return p * std::log(p / q) + (1 - p) * std::log((1 - p) / (1 - q));
}

// P(X <= x) for X ~ Binomial(n, p), summed in log space (x is small here).
double binomial_cdf(std::uint64_t x, std::uint64_t n, double p) {
  if (p <= 0) {
    return 1;
  }
  if (p >= 1) {
    return x >= n ? 1 : 0;
  }
  double total = 0;
  const double ln = std::lgamma(static_cast<double>(n) + 1);
  for (std::uint64_t i = 0; i <= x && i <= n; ++i) {
    const double k = static_cast<double>(i);
    total += std::exp(ln - std::lgamma(k + 1) - std::lgamma(static_cast<double>(n) - k + 1) +
                      k * std::log(p) + (static_cast<double>(n) - k) * std::log1p(-p));
  }
  return std::min(total, 1.0);
}

// The exact (Clopper-Pearson) two-sided 95% interval for x successes in n trials, by bisection:
// the upper end is the p at which P(X <= x) falls to 2.5%, the lower end the p at which
// P(X >= x) rises to 2.5%.
std::pair<double, double> clopper_pearson(std::uint64_t x, std::uint64_t n) {
  auto bisect = [](auto below_target) {  // below_target(p) is true for p under the answer
    double lo = 0;
    double hi = 1;
    for (int i = 0; i < 100; ++i) {
      double mid = 0.5 * (lo + hi);
      (below_target(mid) ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
  };
  double upper = x >= n ? 1 : bisect([&](double p) { return binomial_cdf(x, n, p) > 0.025; });
  double lower =
      x == 0 ? 0 : bisect([&](double p) { return 1 - binomial_cdf(x - 1, n, p) < 0.025; });
  return {lower, upper};
}

// Binomial(50, p) by inversion of its exact CDF: one uniform and a few comparisons, about ten
// times cheaper than std::binomial_distribution, which keeps 10^5 nights of 14,400 batches short.
class Binomial50 {
 public:
  explicit Binomial50(double p) {
    double c = 0;
    for (int k = 0; k <= 50; ++k) {
      c += std::exp(std::lgamma(51.0) - std::lgamma(k + 1.0) - std::lgamma(51.0 - k) +
                    k * std::log(p) + (50 - k) * std::log1p(-p));
      cdf_[static_cast<std::size_t>(k)] = c;
    }
    cdf_[50] = 1.0;
  }
  int operator()(std::mt19937_64& rng) const {
    double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    int k = 0;
    while (u >= cdf_[static_cast<std::size_t>(k)] && k < 50) {
      ++k;
    }
    return k;
  }

 private:
  std::array<double, 51> cdf_{};
};

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// ---------------------------------------------------------------------------------------------
// Table 1: detection delays after a step from 1%.

constexpr int kStepAt = 600;  // 10 minutes at 1% first: the 5-minute window is full and steady
constexpr int kLimit = 600;   // give up 10 minutes after the step (never reached)

struct Delays {
  std::vector<double> early;
  std::vector<double> average;
  int early_slower = 0;     // runs where the early path breached after the average path
  int breached_before = 0;  // runs already breached at the step (either path)
  int undetected = 0;
};

Delays step_delays(double after, int runs) {
  const rules::Plan early_plan = detection_plan(true, 0s);
  const rules::Plan average_plan = detection_plan(false, 0s);
  Delays d;
  for (int run = 0; run < runs; ++run) {
    // Both paths see the same stream (paired runs), so their delays compare run by run.
    Evaluator early(early_plan);
    Evaluator average(average_plan);
    LoginStream stream(0x5eed0000ULL + static_cast<std::uint64_t>(run));
    int early_delay = -1;
    int average_delay = -1;
    for (int k = 0; k <= kStepAt + kLimit; ++k) {
      stream.feed(k <= kStepAt ? 0.01 : after, {&early, &average});
      early.tick(at(k));
      average.tick(at(k));
      if (k == kStepAt && (breached(early) || breached(average))) {
        ++d.breached_before;
      }
      if (k > kStepAt) {
        if (early_delay < 0 && breached(early)) {
          early_delay = k - kStepAt;
        }
        if (average_delay < 0 && breached(average)) {
          average_delay = k - kStepAt;
        }
        if (early_delay >= 0 && average_delay >= 0) {
          break;
        }
      }
    }
    if (early_delay < 0 || average_delay < 0) {
      ++d.undetected;
      continue;
    }
    d.early.push_back(early_delay);
    d.average.push_back(average_delay);
    d.early_slower += early_delay > average_delay ? 1 : 0;
  }
  return d;
}

void print_delay_table(int runs) {
  const double n_window = kRate * kNightSeconds;
  const double lorden_numerator = std::log(n_window / kAlpha);
  std::printf(
      "## Detection delay after a step from 1%% (threshold 5%%, %d paired runs per step)\n\n",
      runs);
  std::printf(
      "| step to | average median | average p99 | early median | early p99 | early mean | "
      "average / early (median) | average / early (p99) | Lorden bound | early median / bound "
      "| early mean / bound | runs early slower |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  for (double after : {0.08, 0.10, 0.20, 0.50}) {
    double t0 = cpu_seconds();
    Delays d = step_delays(after, runs);
    double bound_s = lorden_numerator / kl(after, kP0) / kRate;
    double em = percentile(d.early, 0.5);
    double ep = percentile(d.early, 0.99);
    double am = percentile(d.average, 0.5);
    double ap = percentile(d.average, 0.99);
    std::printf(
        "| %.0f%% | %.0f s | %.0f s | %.0f s | %.0f s | %.2f s | %.1fx | %.1fx | %.2f s | %.2f | "
        "%.2f | %d |\n",
        after * 100, am, ap, em, ep, mean(d.early), am / em, ap / ep, bound_s, em / bound_s,
        mean(d.early) / bound_s, d.early_slower);
    if (d.breached_before > 0 || d.undetected > 0) {
      std::printf("|  | (%d runs breached before the step, %d undetected) |\n", d.breached_before,
                  d.undetected);
    }
    std::fprintf(stderr, "  step to %.0f%%: %d runs in %.1f s CPU\n", after * 100, runs,
                 cpu_seconds() - t0);
  }
  std::printf(
      "\nLorden bound = ln(N / alpha) / KL(p_step || 5%%) observations at %.0f/s, N = %.0f "
      "(%.0f/s x 4 h), alpha = 1/1000: ln(N / alpha) = %.2f.\n\n",
      kRate, n_window, kRate, lorden_numerator);
}

// ---------------------------------------------------------------------------------------------
// Table 2: false alarms.

struct NightCount {
  int nights = 0;
  int alarms = 0;            // breached at least once in the counted ticks
  int early_alarms = 0;      // of which the breach came from the early path
  int startup_breaches = 0;  // breached during the uncounted start-up ticks
};

// Nights at 4% through the evaluator with early detection on. `warmup` seconds of data before
// the window start are fed but not counted (the agent starts before the window to capture
// baselines: DESIGN section 5, phase pre_window, which pages nobody).
NightCount evaluator_nights(int nights, Duration for_duration, int warmup, std::uint64_t seed0) {
  const rules::Plan plan = detection_plan(true, for_duration);
  NightCount c;
  for (int night = 0; night < nights; ++night) {
    Evaluator ev(plan);
    LoginStream stream(seed0 + static_cast<std::uint64_t>(night));
    bool alarm = false;
    bool startup = false;
    bool early = false;
    for (int k = -warmup; k <= kNightSeconds; ++k) {
      stream.feed(0.04, {&ev});
      ev.tick(at(k));
      if (breached(ev)) {
        if (k < 0) {
          startup = true;
        } else {
          alarm = true;
          early = ev.statuses()[0].path == rules::DetectionPath::kEarly;
          break;
        }
      }
    }
    ++c.nights;
    c.alarms += alarm ? 1 : 0;
    c.early_alarms += early ? 1 : 0;
    c.startup_breaches += startup ? 1 : 0;
  }
  return c;
}

struct CusumNights {
  std::uint64_t nights = 0;
  std::uint64_t alarms = 0;
  double highest = 0;  // the highest statistic reached, over the alarm level
};

// The CUSUM alone, exactly 50 observations a second for 4 h, its alarm level for N = 720,000.
CusumNights cusum_nights(std::uint64_t nights, double p, std::uint64_t seed0) {
  BernoulliCusum proto(kP0, 2);
  const double h = proto.alarm_level_for(rules::expected_observations(kRate, 4h));
  const Binomial50 bad(p);
  CusumNights c;
  for (std::uint64_t night = 0; night < nights; ++night) {
    std::mt19937_64 rng(seed0 + night);
    BernoulliCusum cusum(kP0, 2);
    cusum.set_alarm_level(h);
    double highest = 0;
    for (int s = 1; s <= kNightSeconds; ++s) {
      double stat = cusum.update(static_cast<std::uint64_t>(bad(rng)), 50, at(s));
      highest = std::max(highest, stat);
      if (cusum.alarmed()) {
        ++c.alarms;
        break;
      }
    }
    c.highest = std::max(c.highest, highest / h);
    ++c.nights;
  }
  return c;
}

void print_false_alarm_table(int nights, int reference_nights, std::uint64_t cusum_night_count) {
  std::printf("## False alarms over four-hour nights (threshold 5%%, early detection on)\n\n");
  std::printf(
      "| stream | path | nights | false alarms | rate | 95%% interval (Clopper-Pearson) | "
      "notes |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- |\n");
  auto row = [](const char* stream, const char* path, std::uint64_t n, std::uint64_t x,
                const std::string& notes) {
    auto [lo, hi] = clopper_pearson(x, n);
    std::printf("| %s | %s | %llu | %llu | %.2g | [%.2g, %.2g] | %s |\n", stream, path,
                static_cast<unsigned long long>(n), static_cast<unsigned long long>(x),
                static_cast<double>(x) / static_cast<double>(n), lo, hi, notes.c_str());
  };
  char notes[256];

  double t0 = cpu_seconds();
  NightCount main_nights = evaluator_nights(nights, 0s, 1800, 0x416e0000ULL);
  std::snprintf(notes, sizeof notes,
                "for: 0; fed from 30 min before the window, counted over the 4 h window; %d of "
                "the alarms from the early path; %d nights breached in the uncounted start-up",
                main_nights.early_alarms, main_nights.startup_breaches);
  row("4%, Poisson 50/s", "Evaluator (average + CUSUM)", static_cast<std::uint64_t>(nights),
      static_cast<std::uint64_t>(main_nights.alarms), notes);
  std::fprintf(stderr, "  %d evaluator nights in %.1f s CPU\n", nights, cpu_seconds() - t0);

  t0 = cpu_seconds();
  NightCount ref = evaluator_nights(reference_nights, 1min, 0, 0x52ef0000ULL);
  std::snprintf(notes, sizeof notes,
                "for: 1m as in the reference plan; counted from the very first tick (agent "
                "started at the window start); %d from the early path",
                ref.early_alarms);
  row("4%, Poisson 50/s", "Evaluator (average + CUSUM)",
      static_cast<std::uint64_t>(reference_nights), static_cast<std::uint64_t>(ref.alarms), notes);
  std::fprintf(stderr, "  %d reference nights in %.1f s CPU\n", reference_nights,
               cpu_seconds() - t0);

  t0 = cpu_seconds();
  CusumNights quiet = cusum_nights(1000, 0.04, 0xc0de0000ULL);
  std::snprintf(notes, sizeof notes, "highest statistic reached: %.2f x the alarm level",
                quiet.highest);
  row("4%, exactly 50/s", "CUSUM alone", quiet.nights, quiet.alarms, notes);

  CusumNights at_p0 = cusum_nights(cusum_night_count, kP0, 0x9e370000ULL);
  std::snprintf(notes, sizeof notes,
                "the header's claim: fewer than 1 in 1,000 windows at rates up to p0");
  row("5% = p0, exactly 50/s", "CUSUM alone", at_p0.nights, at_p0.alarms, notes);
  std::fprintf(stderr, "  %llu + 1000 CUSUM nights in %.1f s CPU\n",
               static_cast<unsigned long long>(cusum_night_count), cpu_seconds() - t0);

  BernoulliCusum c(kP0, 2);
  const double n_window = rules::expected_observations(kRate, 4h);
  const double h = c.alarm_level_for(n_window);
  std::printf(
      "\nAlarm level h = %.3f for N = %.0f, KL(p0 || p1) = %.5f; Siegmund's ARL0 = (e^h - h - 1) "
      "/ KL = %.3g observations = %.1f windows.\n\n",
      h, n_window, c.kl_h0(), (std::exp(h) - h - 1) / c.kl_h0(),
      (std::exp(h) - h - 1) / c.kl_h0() / n_window);
}

// ---------------------------------------------------------------------------------------------
// Timers: the cost of early detection.

// Thread CPU time for manual timing (see evaluation_bench.cc): the VM is shared with other builds.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// One batch of n observations at exactly p0, the rate that exercises both of update()'s branches
// (S wanders above zero and back); the batches are drawn in advance.
void BM_BernoulliCusum_Update(benchmark::State& state) {
  const auto n = static_cast<std::uint64_t>(state.range(0));
  std::mt19937_64 rng(3);
  std::binomial_distribution<std::uint64_t> bad(n, kP0);
  std::vector<std::uint64_t> k(4096);
  for (auto& x : k) {
    x = bad(rng);
  }
  BernoulliCusum c(kP0, 2);
  c.set_alarm_level(c.alarm_level_for(rules::expected_observations(kRate, 4h)));
  TimePoint now = at(0);
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(c.update(k[i], n, now));
    i = (i + 1) & 4095;
    now += 1s;
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_BernoulliCusum_Update)->ArgName("batch")->Arg(1)->Arg(50);

// The evaluator with N ratio triggers, each on its own pair of counters at 50 attempts/s and 4%
// failures (a quiet night: every trigger ok), early detection on or off; full 5-minute windows.
// Feeding (the collectors' work) is outside the measured time, as in evaluation_bench.cc.
struct RatioFixture {
  RatioFixture(bool early, int n) : plan(detection_plan(early, 0s, n)), ev(plan) {
    std::mt19937_64 rng(11);
    std::poisson_distribution<int> attempts(kRate);
    for (auto& b : batches) {
      b.first = attempts(rng);
      b.second = std::binomial_distribution<int>(b.first, 0.04)(rng);
    }
    router = ev.router("portal");
    totals.assign(static_cast<std::size_t>(n), {0.0, 0.0});
    for (int i = 0; i < n; ++i) {
      std::string suffix = i == 0 ? "" : std::to_string(i);
      names.emplace_back("f" + suffix + "_total", "a" + suffix + "_total");
    }
    for (int j = 0; j < 400; ++j) {
      step();
      ev.tick(now());
    }
  }
  void step() {
    ++k;
    for (std::size_t i = 0; i < names.size(); ++i) {
      const auto& b = batches[(static_cast<std::size_t>(k) * 7 + i) & 1023];
      totals[i].first += b.second;
      totals[i].second += b.first;
      router->record(names[i].first, {}, totals[i].first);
      router->record(names[i].second, {}, totals[i].second);
    }
    router->end_batch();
  }
  TimePoint now() const { return at(static_cast<double>(k)); }

  rules::Plan plan;
  Evaluator ev;
  std::array<std::pair<int, int>, 1024> batches{};
  rules::SourceRouter* router = nullptr;
  std::vector<std::pair<double, double>> totals;
  std::vector<std::pair<std::string, std::string>> names;
  std::int64_t k = 0;
};

void BM_Evaluator_TickRatio(benchmark::State& state) {
  static std::map<std::pair<bool, int>, std::unique_ptr<RatioFixture>> fixtures;
  const bool early = state.range(0) != 0;
  const int n = static_cast<int>(state.range(1));
  auto& f = fixtures[{early, n}];
  if (!f) {
    f = std::make_unique<RatioFixture>(early, n);
  }
  for (auto _ : state) {
    f->step();
    double t0 = thread_cpu_seconds();
    auto changes = f->ev.tick(f->now());
    double t1 = thread_cpu_seconds();
    benchmark::DoNotOptimize(changes.data());
    state.SetIterationTime(t1 - t0);
  }
  int breached_now = 0;
  for (const auto& st : f->ev.statuses()) {
    breached_now += st.state == TriggerState::kBreached ? 1 : 0;
  }
  state.counters["breached"] = breached_now;
}
BENCHMARK(BM_Evaluator_TickRatio)
    ->ArgNames({"early", "triggers"})
    ->ArgsProduct({{0, 1}, {1, 10, 100}})
    ->UseManualTime();

// Console output as usual, plus each benchmark's time per iteration (the median of the
// repetitions when there are several) kept for the derived table printed after the run.
class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& reports) override {
    for (const Run& r : reports) {
      const std::string key = r.run_name.function_name + "/" + r.run_name.args;
      if (r.error_occurred) {
        continue;
      }
      // Manual time is the thread's CPU time around the measured call; for the others the CPU
      // time is the figure that the other builds on the VM do not inflate.
      const bool manual = r.run_name.time_type.find("manual") != std::string::npos;
      const double t = manual ? r.GetAdjustedRealTime() : r.GetAdjustedCPUTime();
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median") {
        median_[key] = t;
      } else if (r.run_type == Run::RT_Iteration) {
        single_[key] = t;
      }
    }
    ConsoleReporter::ReportRuns(reports);
  }
  // Nanoseconds (every benchmark here reports in ns), NaN if it did not run.
  double ns(const std::string& key) const {
    if (auto it = median_.find(key); it != median_.end()) {
      return it->second;
    }
    if (auto it = single_.find(key); it != single_.end()) {
      return it->second;
    }
    return std::nan("");
  }

 private:
  std::map<std::string, double> median_;
  std::map<std::string, double> single_;
};

void print_cost_table(const CollectingReporter& r) {
  std::printf("\n## Cost of early detection (from the timers above)\n\n");
  std::printf("| unit | per batch | per observation |\n| --- | --- | --- |\n");
  for (int n : {1, 50}) {
    double t = r.ns("BM_BernoulliCusum_Update/batch:" + std::to_string(n));
    std::printf("| BernoulliCusum::update, batches of %d | %.1f ns | %.2f ns |\n", n, t, t / n);
  }
  std::printf(
      "\n| ratio triggers | tick, early off | tick, early on | difference per tick | per "
      "trigger | per observation (50/s per trigger) |\n| --- | --- | --- | --- | --- | --- |\n");
  for (int n : {1, 10, 100}) {
    double off = r.ns("BM_Evaluator_TickRatio/early:0/triggers:" + std::to_string(n));
    double on = r.ns("BM_Evaluator_TickRatio/early:1/triggers:" + std::to_string(n));
    double diff = on - off;
    std::printf("| %d | %.2f us | %.2f us | %.2f us | %.0f ns | %.2f ns |\n", n, off / 1e3,
                on / 1e3, diff / 1e3, diff / n, diff / (kRate * n));
  }
}

// Takes `--name=value` out of argv (Google Benchmark rejects flags it does not know).
std::optional<std::string> take_flag(int& argc, char** argv, std::string_view name) {
  std::optional<std::string> value;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    std::string prefix = "--" + std::string(name) + "=";
    if (a.substr(0, prefix.size()) == prefix) {
      value = std::string(a.substr(prefix.size()));
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  return value;
}

long flag(int& argc, char** argv, std::string_view name, long fallback) {
  auto v = take_flag(argc, argv, name);
  return v ? std::strtol(v->c_str(), nullptr, 10) : fallback;
}

}  // namespace
}  // namespace backout

int main(int argc, char** argv) {
  using namespace backout;
  const long runs = flag(argc, argv, "runs", 500);
  const long nights = flag(argc, argv, "nights", 1000);
  const long reference_nights = flag(argc, argv, "reference_nights", 100);
  const long cusum_night_count = flag(argc, argv, "cusum_nights", 100000);
  const bool tables = flag(argc, argv, "tables", 1) != 0;
  const bool timers = flag(argc, argv, "timers", 1) != 0;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  if (tables) {
    print_delay_table(static_cast<int>(runs));
    print_false_alarm_table(static_cast<int>(nights), static_cast<int>(reference_nights),
                            static_cast<std::uint64_t>(cusum_night_count));
    std::fflush(stdout);
  }
  if (timers) {
    CollectingReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    print_cost_table(reporter);
  }
  benchmark::Shutdown();
  return 0;
}
