#include "app/metrics/agent_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <cmath>
#include <dirent.h>
#include <fstream>
#include <mutex>
#include <sstream>
#include <sys/resource.h>

namespace backout::agent {

namespace {
constexpr const char* kStates[] = {"ok", "pending", "breached", "inconclusive"};
constexpr const char* kRecommendations[] = {"go", "watch", "fix_forward", "backout"};
constexpr const char* kPhases[] = {"pre_window", "in_window", "post_window"};
}  // namespace

struct AgentMetrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Gauge>* trigger_value = nullptr;
  prometheus::Family<prometheus::Gauge>* trigger_threshold = nullptr;
  prometheus::Family<prometheus::Gauge>* trigger_state = nullptr;
  prometheus::Family<prometheus::Gauge>* trigger_observations = nullptr;
  prometheus::Family<prometheus::Gauge>* recommendation = nullptr;
  prometheus::Family<prometheus::Gauge>* phase = nullptr;
  prometheus::Family<prometheus::Gauge>* pnr = nullptr;
  // The night (DESIGN section 9).
  prometheus::Family<prometheus::Gauge>* lifecycle_phase = nullptr;
  prometheus::Family<prometheus::Gauge>* step_state = nullptr;
  prometheus::Gauge* projected_end = nullptr;
  std::map<std::string, prometheus::Gauge*> lifecycle_phases;
  std::map<std::pair<std::string, std::string>, prometheus::Gauge*> step_states;
  prometheus::Family<prometheus::Gauge>* source_up = nullptr;
  prometheus::Family<prometheus::Gauge>* source_duration = nullptr;
  prometheus::Family<prometheus::Counter>* source_attempts = nullptr;
  prometheus::Family<prometheus::Counter>* source_failures = nullptr;
  prometheus::Family<prometheus::Counter>* source_malformed = nullptr;
  prometheus::Family<prometheus::Counter>* source_dropped = nullptr;
  prometheus::Family<prometheus::Counter>* source_lost = nullptr;
  prometheus::Family<prometheus::Counter>* notifications = nullptr;
  prometheus::Family<prometheus::Gauge>* outbox_depth = nullptr;
  prometheus::Family<prometheus::Gauge>* outbox_age = nullptr;
  prometheus::Family<prometheus::Gauge>* unsaved = nullptr;
  prometheus::Family<prometheus::Counter>* errors = nullptr;
  prometheus::Family<prometheus::Histogram>* evaluation = nullptr;
  prometheus::Family<prometheus::Gauge>* info = nullptr;
  prometheus::Family<prometheus::Gauge>* http = nullptr;
  prometheus::Family<prometheus::Counter>* clock_steps = nullptr;
  prometheus::Gauge* clock_offset = nullptr;

  std::map<std::string, prometheus::Gauge*> values;
  std::map<std::pair<std::string, std::string>, prometheus::Gauge*> thresholds;
  std::map<std::pair<std::string, std::string>, prometheus::Gauge*> states;
  std::map<std::string, prometheus::Gauge*> observations;
  std::map<std::string, prometheus::Gauge*> recs;
  std::map<std::string, prometheus::Gauge*> phases;
  prometheus::Histogram* eval = nullptr;
  prometheus::Gauge* pnr_gauge = nullptr;
  mutable std::mutex mu;  // guards lazily added label sets
};

AgentMetrics::AgentMetrics(const rules::Plan& plan) : impl_(std::make_unique<Impl>()) {
  auto& r = *impl_->registry;
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;
  impl_->trigger_value = &BuildGauge()
                              .Name("backout_trigger_value")
                              .Help("Current value of each trigger's measure (NaN without data)")
                              .Register(r);
  impl_->trigger_threshold =
      &BuildGauge()
           .Name("backout_trigger_threshold")
           .Help("Threshold of each trigger level in effect (NaN until a baseline exists)")
           .Register(r);
  impl_->trigger_state = &BuildGauge()
                              .Name("backout_trigger_state")
                              .Help("1 for each trigger's current state, 0 for the others")
                              .Register(r);
  impl_->trigger_observations = &BuildGauge()
                                     .Name("backout_trigger_observations")
                                     .Help("Observations in each trigger's window")
                                     .Register(r);
  impl_->recommendation = &BuildGauge()
                               .Name("backout_recommendation")
                               .Help("1 for the current recommendation, 0 for the others")
                               .Register(r);
  impl_->phase = &BuildGauge()
                      .Name("backout_phase")
                      .Help("1 for the current phase of the deployment window")
                      .Register(r);
  impl_->lifecycle_phase = &BuildGauge()
                                .Name("backout_lifecycle_phase")
                                .Help("1 for the night's current phase (pre_window, deploying, "
                                      "in_window, backing_out, verifying, backed_out, "
                                      "post_window)")
                                .Register(r);
  for (rules::NightPhase p : {rules::NightPhase::kPreWindow, rules::NightPhase::kDeploying,
                              rules::NightPhase::kInWindow, rules::NightPhase::kBackingOut,
                              rules::NightPhase::kVerifying, rules::NightPhase::kBackedOut,
                              rules::NightPhase::kPostWindow}) {
    const std::string name(rules::to_string(p));
    impl_->lifecycle_phases[name] = &impl_->lifecycle_phase->Add({{"phase", name}});
  }
  if (plan.backout) {
    impl_->step_state = &BuildGauge()
                             .Name("backout_step_state")
                             .Help("1 for each backout step's current state (waiting, running, "
                                   "done, failed)")
                             .Register(r);
    for (const rules::BackoutStep& st : plan.backout->steps) {
      for (const char* state : {"waiting", "running", "done", "failed"}) {
        impl_->step_states[{st.id, state}] =
            &impl_->step_state->Add({{"step", st.id}, {"state", state}});
      }
    }
    impl_->projected_end = &BuildGauge()
                                .Name("backout_projected_end_timestamp_seconds")
                                .Help("Projected end of the backout procedure, Unix time (NaN "
                                      "while no step runs)")
                                .Register(r)
                                .Add({});
    impl_->projected_end->Set(std::nan(""));
  }
  impl_->pnr = &BuildGauge()
                    .Name("backout_point_of_no_return_timestamp_seconds")
                    .Help("Point of no return (window end minus backout duration), Unix time")
                    .Register(r);
  impl_->source_up = &BuildGauge()
                          .Name("backout_source_up")
                          .Help("1 if the source's latest scrape or probe succeeded")
                          .Register(r);
  impl_->source_duration = &BuildGauge()
                                .Name("backout_source_scrape_duration_seconds")
                                .Help("Duration of the source's latest scrape or probe")
                                .Register(r);
  impl_->source_attempts = &BuildCounter()
                                .Name("backout_source_attempts_total")
                                .Help("Scrapes and probes attempted per source")
                                .Register(r);
  impl_->source_failures = &BuildCounter()
                                .Name("backout_source_failures_total")
                                .Help("Scrapes and probes that failed per source")
                                .Register(r);
  impl_->source_malformed = &BuildCounter()
                                 .Name("backout_source_malformed_total")
                                 .Help("Malformed lines or values skipped per source")
                                 .Register(r);
  impl_->source_lost = &BuildCounter()
                            .Name("backout_source_datagrams_lost_total")
                            .Help("StatsD datagrams the kernel dropped before the agent read "
                                  "them (the socket's receive queue was full), per source")
                            .Register(r);
  impl_->source_dropped = &BuildCounter()
                               .Name("backout_source_dropped_total")
                               .Help("Samples dropped at a limit per source")
                               .Register(r);
  impl_->notifications = &BuildCounter()
                              .Name("backout_notifications_total")
                              .Help("Notification delivery attempts by channel and outcome")
                              .Register(r);
  impl_->outbox_depth = &BuildGauge()
                             .Name("backout_outbox_messages")
                             .Help("Messages waiting in the outbox per channel")
                             .Register(r);
  impl_->outbox_age = &BuildGauge()
                           .Name("backout_outbox_oldest_age_seconds")
                           .Help("Age of the oldest undelivered message per channel")
                           .Register(r);
  impl_->unsaved = &BuildGauge()
                        .Name("backout_state_store_unsaved")
                        .Help("Changes held in memory because the state store did not take "
                              "them (disk full, read-only), by record; written when it does")
                        .Register(r);
  impl_->unsaved->Add({{"record", "outbox"}}).Set(0);
  impl_->unsaved->Add({{"record", "timeline"}}).Set(0);
  impl_->errors = &BuildCounter()
                       .Name("backout_errors_total")
                       .Help("Runtime failures the agent survived, by kind")
                       .Register(r);
  impl_->evaluation = &BuildHistogram()
                           .Name("backout_evaluation_duration_seconds")
                           .Help("Time to evaluate every trigger once (one tick)")
                           .Register(r);
  impl_->info = &BuildGauge()
                     .Name("backout_plan_info")
                     .Help("The plan being watched (value 1)")
                     .Register(r);
  impl_->http = &BuildGauge()
                     .Name("backout_http_server")
                     .Help("HTTP server counters since start (stat label)")
                     .Register(r);
  impl_->clock_steps = &BuildCounter()
                            .Name("backout_clock_steps_total")
                            .Help("Wall-clock steps seen (detected), taken after they held "
                                  "(applied), and undone before (reverted)")
                            .Register(r);
  for (const char* o : {"detected", "applied", "reverted"}) {
    impl_->clock_steps->Add({{"outcome", o}});
  }
  impl_->clock_offset = &BuildGauge()
                             .Name("backout_clock_offset_seconds")
                             .Help("The wall clock minus the agent's clock: non-zero while a "
                                   "wall-clock step waits to be taken")
                             .Register(r)
                             .Add({});
  impl_->info->Add({{"project", plan.header.project},
                    {"release", plan.header.release},
                    {"revision", plan.header.revision},
                    {"status", plan.header.approved ? "approved" : "draft"}})
      .Set(1);
  impl_->pnr_gauge = &impl_->pnr->Add({});
  impl_->pnr_gauge->Set(unix_seconds(plan.window.point_of_no_return()));
  impl_->eval = &impl_->evaluation->Add(
      {}, prometheus::Histogram::BucketBoundaries{1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2,
                                                  0.1});
  for (const rules::Trigger& t : plan.triggers) {
    impl_->values[t.id] = &impl_->trigger_value->Add({{"trigger", t.id}});
    impl_->values[t.id]->Set(std::nan(""));
    impl_->observations[t.id] = &impl_->trigger_observations->Add({{"trigger", t.id}});
    for (const rules::Level& l : t.levels) {
      std::string sev(rules::to_string(l.severity));
      auto* g = &impl_->trigger_threshold->Add({{"trigger", t.id}, {"severity", sev}});
      g->Set(l.condition.threshold(std::nullopt).value_or(std::nan("")));
      impl_->thresholds[{t.id, sev}] = g;
    }
    for (const char* s : kStates) {
      impl_->states[{t.id, s}] = &impl_->trigger_state->Add({{"trigger", t.id}, {"state", s}});
    }
  }
  for (const char* rec : kRecommendations) {
    impl_->recs[rec] = &impl_->recommendation->Add({{"recommendation", rec}});
  }
  for (const char* p : kPhases) {
    impl_->phases[p] = &impl_->phase->Add({{"phase", p}});
  }
  for (const Source& s : plan.sources) {
    impl_->source_up->Add({{"source", s.id}}).Set(0);
    impl_->source_duration->Add({{"source", s.id}}).Set(0);
    impl_->source_attempts->Add({{"source", s.id}});
    impl_->source_failures->Add({{"source", s.id}});
    impl_->source_malformed->Add({{"source", s.id}});
    impl_->source_dropped->Add({{"source", s.id}});
    if (s.options.has("statsd_listen")) {
      impl_->source_lost->Add({{"source", s.id}});
    }
  }
  // Process metrics are written under their standard names by serialize().
}

AgentMetrics::~AgentMetrics() = default;

void AgentMetrics::on_tick(const rules::Watch& watch, Duration evaluation_time) {
  const rules::Plan& plan = watch.plan();
  const auto& statuses = watch.evaluator().statuses();
  for (std::size_t i = 0; i < plan.triggers.size() && i < statuses.size(); ++i) {
    const rules::Trigger& t = plan.triggers[i];
    const rules::TriggerStatus& st = statuses[i];
    impl_->values[t.id]->Set(st.value.value_or(std::nan("")));
    impl_->observations[t.id]->Set(static_cast<double>(st.count));
    for (std::size_t l = 0; l < t.levels.size(); ++l) {
      std::string sev(rules::to_string(t.levels[l].severity));
      double v = l < st.thresholds.size() && st.thresholds[l] ? *st.thresholds[l] : std::nan("");
      impl_->thresholds[{t.id, sev}]->Set(v);
    }
    std::string current(rules::to_string(st.state));
    for (const char* s : kStates) {
      impl_->states[{t.id, s}]->Set(current == s ? 1 : 0);
    }
  }
  std::string rec(rules::to_string(watch.decision().recommendation));
  for (const char* r : kRecommendations) {
    impl_->recs[r]->Set(rec == r ? 1 : 0);
  }
  std::string phase(rules::to_string(watch.decision().phase));
  for (const char* p : kPhases) {
    impl_->phases[p]->Set(phase == p ? 1 : 0);
  }
  impl_->pnr_gauge->Set(unix_seconds(watch.decision().point_of_no_return));
  const rules::Lifecycle& life = watch.lifecycle();
  const std::string night(rules::to_string(life.phase()));
  for (auto& [name, g] : impl_->lifecycle_phases) {
    g->Set(name == night ? 1 : 0);
  }
  if (plan.backout) {
    for (std::size_t i = 0; i < plan.backout->steps.size(); ++i) {
      const std::string state(rules::to_string(life.steps()[i].state));
      for (const char* s : {"waiting", "running", "done", "failed"}) {
        impl_->step_states[{plan.backout->steps[i].id, s}]->Set(state == s ? 1 : 0);
      }
    }
    const std::optional<TimePoint> end = life.projected_end(watch.last_tick());
    impl_->projected_end->Set(end ? unix_seconds(*end) : std::nan(""));
  }
  impl_->eval->Observe(to_seconds(evaluation_time));
}

void AgentMetrics::on_attempt(const std::string& source, bool up, Duration duration,
                              std::uint64_t malformed, std::uint64_t dropped) {
  std::lock_guard lock(impl_->mu);
  impl_->source_up->Add({{"source", source}}).Set(up ? 1 : 0);
  impl_->source_duration->Add({{"source", source}}).Set(to_seconds(duration));
  impl_->source_attempts->Add({{"source", source}}).Increment();
  if (!up) {
    impl_->source_failures->Add({{"source", source}}).Increment();
  }
  if (malformed > 0) {
    impl_->source_malformed->Add({{"source", source}}).Increment(static_cast<double>(malformed));
  }
  if (dropped > 0) {
    impl_->source_dropped->Add({{"source", source}}).Increment(static_cast<double>(dropped));
  }
}

void AgentMetrics::on_notification(const std::string& channel, const std::string& outcome) {
  std::lock_guard lock(impl_->mu);
  impl_->notifications->Add({{"channel", channel}, {"outcome", outcome}}).Increment();
}

void AgentMetrics::set_outbox(const std::string& channel, double depth, double oldest_age) {
  std::lock_guard lock(impl_->mu);
  impl_->outbox_depth->Add({{"channel", channel}}).Set(depth);
  impl_->outbox_age->Add({{"channel", channel}}).Set(oldest_age);
}

void AgentMetrics::set_unsaved(double outbox_changes, double timeline_events) {
  std::lock_guard lock(impl_->mu);
  impl_->unsaved->Add({{"record", "outbox"}}).Set(outbox_changes);
  impl_->unsaved->Add({{"record", "timeline"}}).Set(timeline_events);
}

void AgentMetrics::on_error(const std::string& kind) {
  std::lock_guard lock(impl_->mu);
  impl_->errors->Add({{"kind", kind}}).Increment();
}

void AgentMetrics::set_http(const std::vector<std::pair<std::string, double>>& stats) {
  std::lock_guard lock(impl_->mu);
  for (const auto& [stat, value] : stats) {
    impl_->http->Add({{"stat", stat}}).Set(value);
  }
}

void AgentMetrics::on_lost(const std::string& source, std::uint64_t datagrams) {
  std::lock_guard lock(impl_->mu);
  impl_->source_lost->Add({{"source", source}}).Increment(static_cast<double>(datagrams));
}

void AgentMetrics::on_clock_step(std::string_view outcome) {
  std::lock_guard lock(impl_->mu);
  impl_->clock_steps->Add({{"outcome", std::string(outcome)}}).Increment();
}

void AgentMetrics::set_clock_offset(double seconds) {
  std::lock_guard lock(impl_->mu);
  impl_->clock_offset->Set(seconds);
}

ProcessStats read_process_stats() {
  ProcessStats s;
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    s.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                    static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  }
  std::ifstream statm("/proc/self/statm");
  double pages_total = 0;
  double pages_resident = 0;
  if (statm >> pages_total >> pages_resident) {
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    s.virtual_bytes = pages_total * page;
    s.resident_bytes = pages_resident * page;
  }
  if (DIR* d = opendir("/proc/self/fd")) {
    double n = 0;
    while (readdir(d) != nullptr) {
      ++n;
    }
    closedir(d);
    s.open_fds = std::max(0.0, n - 3);  // ".", ".." and the directory's own fd
  }
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    s.max_fds = static_cast<double>(rl.rlim_cur);
  }
  // Start time: field 22 of /proc/self/stat, in clock ticks after boot.
  std::ifstream stat("/proc/self/stat");
  std::string line;
  std::getline(stat, line);
  std::size_t rparen = line.rfind(')');
  if (rparen != std::string::npos) {
    std::istringstream rest(line.substr(rparen + 2));
    std::string field;
    double start_ticks = 0;
    for (int i = 3; i <= 22 && rest >> field; ++i) {
      if (i == 22) {
        start_ticks = std::stod(field);
      }
    }
    std::ifstream up("/proc/stat");
    std::string key;
    double btime = 0;
    while (up >> key) {
      if (key == "btime") {
        up >> btime;
        break;
      }
    }
    s.start_time_seconds = btime + start_ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  return s;
}

std::string AgentMetrics::serialize() const {
  std::ostringstream out;
  prometheus::TextSerializer serializer;
  serializer.Serialize(out, impl_->registry->Collect());
  ProcessStats p = read_process_stats();
  auto gauge = [&](const char* name, const char* type, const char* help, double v) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n"
        << name << " " << std::to_string(v) << "\n";
  };
  gauge("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
        p.cpu_seconds);
  gauge("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
        p.resident_bytes);
  gauge("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
        p.virtual_bytes);
  gauge("process_open_fds", "gauge", "Number of open file descriptors.", p.open_fds);
  gauge("process_max_fds", "gauge", "Maximum number of open file descriptors.", p.max_fds);
  gauge("process_start_time_seconds", "gauge",
        "Start time of the process since unix epoch in seconds.", p.start_time_seconds);
  return out.str();
}

}  // namespace backout::agent
