// The running agent's parts, shared by its stages: assembly and lifecycle (agent_runtime.cc) with
// the store and restore (runtime_store.cc); the scheduler (runtime_tick.cc: the tick strand, the
// tick, the watchdog); and the effects (runtime_effects.cc: what a tick's result and an act do
// to the timeline, the log, the dispatcher and the store). Internal to agent/app/runtime.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "app/api/api.h"
#include "app/api/push_api.h"
#include "app/http/http_server.h"
#include "app/http/router.h"
#include "app/kinds/kinds.h"
#include "app/metrics/agent_metrics.h"
#include "app/record/timeline.h"
#include "app/runtime/act_echo.h"
#include "app/runtime/agent_runtime.h"
#include "app/runtime/delivery_recorder.h"
#include "app/runtime/guarded_clock.h"
#include "app/runtime/secrets.h"
#include "app/runtime/source_sink.h"
#include "app/runtime/source_status.h"
#include "app/runtime/status_json.h"
#include "app/store/restore.h"
#include "app/store/state_store.h"
#include "backout/alerting/channel.h"
#include "backout/alerting/dispatcher.h"
#include "backout/alerting/outbox.h"
#include "backout/collectors/collector.h"
#include "backout/collectors/push_hub.h"
#include "backout/core/text.h"
#include "backout/net/http_client.h"
#include "backout/rules/watch.h"

namespace backout::agent {

namespace asio = boost::asio;

struct AgentRuntime::Impl {
  Impl(rules::Plan p, RuntimeOptions o, net::TimeSource& c, RuntimeParts rp)
      : plan(std::move(p)),
        options(o),
        parts(std::move(rp)),
        guarded(c, o.clock),
        clock(guarded),
        io(),
        tick_strand(asio::make_strand(io)),
        timer(guarded.timer(tick_strand)),
        metrics(plan),
        http_client(io.get_executor()),
        delivery_http(io.get_executor()),
        planned_start(plan.window.start.at) {}
  ~Impl() { join_api_threads(); }

  Status add_collector(const Source& src);
  bool on_tick_strand(const std::function<void()>& job);
  void join_api_threads();
  void shut_down(bool keep_listener);
  Status finish(Impl* previous);
  void tick();
  /// The effects of a tick's result at `now` (runtime_effects.cc).
  void apply(const rules::TickResult& r, TimePoint now);
  void schedule_tick();
  void tick_now();
  Status open_store_file();
  Status open_store(bool reload);
  std::string identity() const;
  void shift_window(StateStore* stored);
  void persist_after_tick(const rules::TickResult& r);
  void persist(TimePoint now);
  void echo_act(const record::TimelineEvent& event);
  void repost(TimePoint now);
  void on_clock_event(const ClockGuard::Event& e);
  TimePoint last_repost{};
  // systemd's watchdog (WatchdogSec=): pinged from the scheduler, so a stalled tick is noticed.
  std::uint64_t watchdog_usec = 0;
  Duration last_watchdog{0};  // monotonic, clock.steady()
  std::uint64_t act_seq = 0;
  Timeline& timeline() { return *timeline_store; }
  void status_changed(TimePoint now);
  std::string status_snapshot();
  alerting::MessageContext message_context(TimePoint now) const;

  rules::Plan plan;
  RuntimeOptions options;
  RuntimeParts parts;
  // The one clock of the runtime: the injected wall clock held on monotonic time across a step.
  GuardedClock guarded;
  GuardedClock& clock;
  ClockState clock_state;  // for the status, on tick_strand
  asio::io_context io;
  // The HTTP server's own threads: a request never occupies a thread the watch needs, and an
  // act waits for the tick strand without blocking it (on_tick_strand).
  asio::io_context api_io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> api_work;
  std::vector<std::thread> api_threads;
  asio::strand<asio::io_context::executor_type> tick_strand;
  std::unique_ptr<net::Timer> timer;  // the scheduler's, on tick_strand
  Duration next_tick{0};              // monotonic (clock.steady()) due time of the next tick
  bool ticking = false;               // the first tick ran: the scheduler is on

  // Touched on tick_strand only: ticks, acts and the status (on_tick_strand), so no lock.
  // Made by assemble() once the plan is final (a --start-now shift applied): it reads the plan
  // through a reference, so the plan never changes under it.
  std::optional<rules::Watch> watch;
  AgentMetrics metrics;
  SourceStatusTable sources;
  std::unique_ptr<StateStore> store;
  std::unique_ptr<StoreTimeline> timeline_store;
  std::unique_ptr<alerting::Outbox> outbox;
  net::HttpClient http_client;
  // Where POST /api/v1/push/SRC hands samples to the `push` collectors; outlives both.
  collectors::PushHub push_hub;
  // The channels' own client: a stop cancels the collectors' requests at once but gives a
  // delivery in flight a grace to finish (see stop()).
  net::HttpClient delivery_http;
  std::unique_ptr<DeliveryRecorder> delivery_recorder;  // outlives the dispatcher's workers
  TimePoint planned_start;    // the window's start as the plan gives it (before --start-now)
  bool shift_is_new = false;  // --start-now shifted the window to now: the store is told
  std::unique_ptr<alerting::Dispatcher> dispatcher;
  std::optional<std::string> store_recovered;  // the damaged store moved aside at start, if any
  bool baselines_saved = false;
  bool final_flag_saved = false;
  bool episodes_unsaved = false;  // the episodes changed since the store last took them
  StoreRetryGate store_gate;      // paces the writes above after a failure

  // Made by assemble(), used by finish().
  std::optional<collectors::Registry> registry;
  std::vector<const Source*> deferred_sources;  // as the running plan has them: made last
  std::vector<std::unique_ptr<alerting::Channel>> pending_channels;
  std::optional<std::string> token;
  std::string listen_host;
  std::uint16_t listen_port = 0;
  bool listen_deferred = false;             // the running runtime's socket is taken over
  std::optional<rules::CarryOver> carried;  // a reload: what the watch kept
  bool same_night = true;  // the store held this plan's night (false: it was moved aside)

  std::vector<std::unique_ptr<SourceSink>> sinks;
  std::vector<std::unique_ptr<collectors::Collector>> collectors;
  std::vector<asio::strand<asio::io_context::executor_type>> collector_strands;
  http::Router router;
  std::unique_ptr<http::HttpServer> server;

  // The status JSON as of status_at (the last tick or act), on tick_strand; built by
  // status_snapshot() when status_built lags status_version.
  std::string status;
  TimePoint status_at{};
  std::uint64_t status_version = 1;
  std::uint64_t status_built = 0;
  std::atomic<bool> ready{false};
  std::atomic<std::int64_t> last_tick_ns{0};  // clock.steady() at the last tick, 0: none yet
  std::atomic<bool> stopping{false};
  bool last_phase_known = false;
  // Keeps io.run() going until stop() releases it.
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
};

}  // namespace backout::agent
