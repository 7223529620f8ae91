#include "app/runtime/agent_runtime.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <charconv>
#include <atomic>
#include <boost/json.hpp>
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
#include "app/runtime/delivery_recorder.h"
#include "app/runtime/guarded_clock.h"
#include "app/runtime/secrets.h"
#include "app/runtime/source_status.h"
#include "app/runtime/status_json.h"
#include "app/store/restore.h"
#include "app/store/state_store.h"
#include "backout/alerting/dispatcher.h"
#include "backout/alerting/outbox.h"
#include "backout/alerting/channel.h"
#include "backout/collectors/collector.h"
#include "backout/collectors/push_hub.h"
#include "backout/core/text.h"
#include "backout/net/http_client.h"
#include "backout/rules/watch.h"

namespace backout::agent {
namespace {

namespace asio = boost::asio;

/// Delivers a collector's samples to the watch's router and its outcome to metrics, the source
/// table, the timeline and the log. Called on the collector's strand only. When the source goes
/// down (or comes back), `on_change` asks for an evaluation now rather than at the next tick.
class SourceSink final : public collectors::SampleSink {
 public:
  /// `complete_batches`: each successful attempt carries every series of the source (a scrape or
  /// probe, the kinds with `up`), so a series absent from one is stale at once; otherwise
  /// (push, logs) a gauge series is stale after its window's length without a batch.
  SourceSink(std::string id, rules::SourceRouter* router, SourceStatusTable& table,
             AgentMetrics& metrics, std::function<Timeline&()> timeline, const Clock& clock,
             std::chrono::minutes offset, bool complete_batches, std::function<void()> on_change)
      : id_(std::move(id)),
        complete_batches_(complete_batches),
        router_(router),
        table_(table),
        metrics_(metrics),
        timeline_(std::move(timeline)),
        clock_(clock),
        offset_(offset),
        on_change_(std::move(on_change)),
        refused_seen_(router != nullptr ? router->refused() : 0) {}

  void record(const std::string& metric, const Labels& labels, double value) override {
    router_->record(metric, labels, value);
  }

  void end_attempt(const collectors::AttemptOutcome& o) override {
    const TimePoint now = clock_.now();
    router_->set_up(o.up);
    router_->end_batch(complete_batches_ && o.up);
    if (!complete_batches_) {
      router_->expire(now);
    }
    // Values the router refused (not finite, absurd increases) count as malformed samples.
    const std::uint64_t refused = router_->refused() - refused_seen_;
    refused_seen_ = router_->refused();
    if (refused > 0) {
      ++refusal_reports_;
      if ((refusal_reports_ & (refusal_reports_ - 1)) == 0) {  // 1st, 2nd, 4th, 8th, ... time
        spdlog::warn("source {}: {} values refused, the windows would be poisoned by them ({}); "
                     "fix what the source reports",
                     id_, refused, router_->last_refusal());
      }
    }
    const std::uint64_t malformed = o.malformed + refused;
    if (o.lost > 0) {
      metrics_.on_lost(id_, o.lost);
      lost_ += o.lost;
      ++lost_reports_;
      if ((lost_reports_ & (lost_reports_ - 1)) == 0) {  // 1st, 2nd, 4th, 8th, ... time
        spdlog::warn("source {}: the kernel dropped {} StatsD datagrams ({} so far): the "
                     "socket's receive queue was full; raise net.core.rmem_max or have the "
                     "application aggregate before it sends",
                     id_, o.lost, lost_);
      }
    }
    std::optional<bool> before = table_.record(id_, now, o.up, o.duration, o.error, o.samples,
                                               malformed, o.dropped);
    metrics_.on_attempt(id_, o.up, o.duration, malformed, o.dropped);
    if (!before || *before != o.up) {
      if (o.up) {
        spdlog::info("source {} is up ({} samples in {})", id_, o.samples,
                     format_latency(o.duration));
      } else {
        spdlog::warn("source {} is down: {}", id_, o.error);
      }
      timeline_().append({{now, offset_}, record::SourceChanged{id_, o.up, o.up ? "" : o.error}});
    }
    // A first result counts as a change only when it is down (every source starts as unknown).
    if (before ? *before != o.up : !o.up) {
      on_change_();
    }
    if (o.malformed > 0 && malformed_logged_ < 3) {
      ++malformed_logged_;
      spdlog::warn("source {}: {} malformed lines skipped ({})", id_, o.malformed, o.error);
    }
  }

 private:
  std::string id_;
  bool complete_batches_;
  rules::SourceRouter* router_;
  SourceStatusTable& table_;
  AgentMetrics& metrics_;
  std::function<Timeline&()> timeline_;  // the store's, opened after the sinks are made
  const Clock& clock_;
  std::chrono::minutes offset_;
  std::function<void()> on_change_;
  int malformed_logged_ = 0;
  std::uint64_t refused_seen_ = 0;
  std::uint64_t lost_ = 0;          // StatsD datagrams the kernel dropped, in all
  std::uint64_t lost_reports_ = 0;  // attempts that reported some
  std::uint64_t refusal_reports_ = 0;
};

// "kept 5 triggers; fresh (changed): login; added: search; sources with fresh windows: api".
std::string describe(const rules::CarryOver& c) {
  std::string out = "kept " + std::to_string(c.kept.size()) + " trigger" +
                    (c.kept.size() == 1 ? "" : "s") + " with their windows and state";
  auto list = [&out](const char* what, const std::vector<std::string>& ids) {
    if (!ids.empty()) {
      out += std::string("; ") + what + ": " + join(ids, ", ");
    }
  };
  list("changed, started afresh", c.changed);
  list("added", c.added);
  list("removed", c.removed);
  list("sources with fresh windows", c.sources_fresh);
  return out;
}

std::string severity_text(const std::optional<rules::Severity>& s) {
  return s ? std::string(rules::to_string(*s)) : std::string("-");
}

}  // namespace

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
  TimePoint planned_start;  // the window's start as the plan gives it (before --start-now)
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
  bool listen_deferred = false;  // the running runtime's socket is taken over
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

AgentRuntime::AgentRuntime(rules::Plan plan, RuntimeOptions options, net::TimeSource& clock,
                           RuntimeParts parts)
    : impl_(std::make_unique<Impl>(std::move(plan), options, clock, std::move(parts))) {}

boost::asio::io_context& AgentRuntime::io() { return impl_->io; }

AgentRuntime::~AgentRuntime() {
  stop();
}

std::uint16_t AgentRuntime::http_port() const {
  return impl_->server ? impl_->server->port() : 0;
}

alerting::MessageContext AgentRuntime::Impl::message_context(TimePoint now) const {
  alerting::MessageContext ctx;
  ctx.plan = &plan;
  ctx.statuses = watch->evaluator().statuses();
  ctx.decision = watch->decision();
  ctx.episodes = watch->paging().episodes();
  ctx.acts = watch->acts();
  ctx.now = now;
  return ctx;
}

// The status JSON is built when someone asks for it, at most once per tick or act: an agent
// nobody is looking at spends nothing on it. Both on the tick strand.
void AgentRuntime::Impl::status_changed(TimePoint now) {
  status_at = now;
  ++status_version;
}

std::string AgentRuntime::Impl::status_snapshot() {
  if (status_built != status_version) {
    status = status_json(*watch, sources.snapshot(), status_at, clock_state);
    status_built = status_version;
  }
  return status;
}

// A job from the HTTP server's threads (an act, the status) runs on the tick strand, between
// ticks; the caller waits for it. One that has not started within options.watch_wait is
// withdrawn (it never runs) and the caller answers 503: a stalled watch cannot pile up requests
// that would all apply late.
bool AgentRuntime::Impl::on_tick_strand(const std::function<void()>& job) {
  if (stopping) {
    return false;
  }
  enum class State { kQueued, kRunning, kDone, kWithdrawn };
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    State state = State::kQueued;
  };
  auto shared = std::make_shared<Shared>();
  asio::post(tick_strand, [shared, &job] {
    {
      std::lock_guard lock(shared->mu);
      if (shared->state == State::kWithdrawn) {
        return;  // `job` may be gone with its caller
      }
      shared->state = State::kRunning;
    }
    job();
    {
      std::lock_guard lock(shared->mu);
      shared->state = State::kDone;
    }
    shared->cv.notify_all();
  });
  std::unique_lock lock(shared->mu);
  if (!shared->cv.wait_for(lock, options.watch_wait,
                           [&] { return shared->state != State::kQueued; })) {
    shared->state = State::kWithdrawn;
    metrics.on_error("watch_busy");
    spdlog::error("an API request waited {} for the watch and was refused: is a tick stalled?",
                  format_span(options.watch_wait));
    return false;
  }
  shared->cv.wait(lock, [&] { return shared->state == State::kDone; });
  return true;
}

void AgentRuntime::Impl::join_api_threads() {
  for (std::thread& t : api_threads) {
    if (t.joinable()) {
      t.join();
    }
  }
  api_threads.clear();
}

Status AgentRuntime::prepare() {
  if (Status s = assemble(); !s.ok()) {
    return s;
  }
  return impl_->finish(nullptr);
}

// Makes the collector of one source, on its own strand.
Status AgentRuntime::Impl::add_collector(const Source& src) {
  const std::chrono::minutes off = plan.window.offset();
  const collectors::SourceKind* kind = registry->find(src.kind);
  if (kind == nullptr) {
    return Error{"sources." + src.id + ": this build has no collector for kind '" + src.kind +
                 "'"};
  }
  auto sink = std::make_unique<SourceSink>(
      src.id, watch->router(src.id), sources, metrics,
      [this]() -> Timeline& { return timeline(); }, clock, off, kind->spec.has_up,
      [this] { tick_now(); });
  collector_strands.push_back(asio::make_strand(io));
  collectors::CollectorContext ctx;
  ctx.executor = collector_strands.back();
  ctx.sink = sink.get();
  ctx.http = &http_client;
  ctx.push = &push_hub;
  ctx.time = &clock;
  ctx.resolve_secret = [id = src.id](const SecretRef& ref) {
    return resolve_secret(ref, "sources." + id);
  };
  auto collector = kind->create(src, ctx);
  if (!collector.ok()) {
    collector_strands.pop_back();
    return Error{"sources." + src.id + ": " + collector.error()};
  }
  sinks.push_back(std::move(sink));
  collectors.push_back(std::move(collector).value());
  return {};
}

// Everything that can fail before the store is opened or a running runtime is touched.
Status AgentRuntime::assemble(const AgentRuntime* running) {
  Impl& m = *impl_;
  const Impl* prev = running != nullptr ? running->impl_.get() : nullptr;
  std::vector<std::string> problems;
  if (prev != nullptr && prev->plan.state_dir != m.plan.state_dir) {
    problems.push_back("state_dir: changed from " + prev->plan.state_dir + " to " +
                       m.plan.state_dir +
                       "; a reload keeps the state where it is: restart the agent to move it");
  }
  if (!problems.empty()) {
    return Error{join(problems, "\n")};
  }
  // The plan is final before anything reads it: a --start-now rehearsal's window is shifted
  // first (to where the store says it was shifted, on a restart within it), then the watch is
  // made over the plan.
  if (m.options.start_now) {
    StateStore* stored = prev != nullptr ? prev->store.get() : nullptr;
    if (prev == nullptr) {
      if (Status s = m.open_store_file(); !s.ok()) {
        return s;
      }
      stored = m.store.get();
    }
    m.shift_window(stored);
  }
  m.watch.emplace(m.plan);
  // Collectors, one per source. A source exactly as the running plan has it is made once the
  // running one has stopped (its collector may hold a port, e.g. StatsD's).
  m.registry = m.parts.sources ? *m.parts.sources : builtin_kinds().sources;
  for (const Source& src : m.plan.sources) {
    m.sources.add(src.id, src.kind);
    if (prev != nullptr) {
      const Source* before = nullptr;
      for (const Source& o : prev->plan.sources) {
        before = o.id == src.id ? &o : before;
      }
      if (before != nullptr && *before == src) {
        m.deferred_sources.push_back(&src);
        continue;
      }
    }
    if (Status st = m.add_collector(src); !st.ok()) {
      problems.push_back(st.error());
    }
  }
  // Channels.
  auto resolver = [](const SecretRef& ref) { return resolve_secret(ref, "notify"); };
  for (const rules::Channel& ch : m.plan.notify.channels) {
    alerting::ChannelOptions copts;
    // The entry's name ("chat" whatever its kind), so the chat never clashes with a webhook.
    copts.name = ch.name;
    Result<std::unique_ptr<alerting::Channel>> channel = Error{"unknown channel kind " + ch.kind};
    if (m.parts.channel) {
      channel = m.parts.channel(ch, copts.name);
    } else if (const alerting::ChannelKind* kind = builtin_kinds().channels.find(ch.kind)) {
      channel = kind->create(ch, m.delivery_http, resolver, copts);
    }
    if (!channel.ok()) {
      problems.push_back("notify." + ch.kind + ": " + channel.error());
      continue;
    }
    m.pending_channels.push_back(std::move(channel).value());
  }
  // API token.
  if (m.plan.server.token) {
    auto t = resolve_secret(*m.plan.server.token, "server.token");
    if (!t.ok()) {
      problems.push_back("server: " + t.error());
    } else {
      m.token = *t;
    }
  }
  if (!problems.empty()) {
    return Error{join(problems, "\n")};
  }
  // The HTTP server: bound now unless it takes over the running one's address.
  http::ServerLimits limits;
  // When clients hold every connection, the operator's and Prometheus' views stay open.
  limits.reserved_paths = {"/healthz", "/readyz", "/metrics"};
  m.server = std::make_unique<http::HttpServer>(
      m.api_io, [&m](const http::HttpRequest& req) { return m.router.dispatch(req); }, limits);
  m.listen_host = m.plan.server.host;
  m.listen_port = m.plan.server.port;
  if (m.options.listen) {
    const std::string& l = *m.options.listen;
    std::size_t colon = l.rfind(':');
    m.listen_host = l.substr(0, colon);
    // run_command checked it: a whole number up to 65535.
    m.listen_port = static_cast<std::uint16_t>(
        parse_whole_number(std::string_view(l).substr(colon + 1), 65535).value_or(0));
  }
  if (prev != nullptr && prev->server && prev->listen_host == m.listen_host &&
      prev->listen_port == m.listen_port) {
    m.listen_deferred = true;
    return {};
  }
  try {
    m.server->listen(m.listen_host, m.listen_port);
  } catch (const std::exception& e) {
    return Error{e.what()};
  }
  spdlog::info("listening on {}:{}", m.listen_host, m.server->port());
  return {};
}

// Opens (or, on a reload, takes over) the store, restores from it, and wires what needs it.
Status AgentRuntime::Impl::finish(Impl* prev) {
  const std::chrono::minutes off = plan.window.offset();
  if (prev != nullptr) {
    // The previous runtime has stopped: what it still holds in memory goes to the store first.
    prev->persist(prev->clock.now());
    guarded.continue_from(prev->guarded);
    clock_state = prev->clock_state;
    last_repost = prev->last_repost;
    act_seq = prev->act_seq;
    store = std::move(prev->store);
  }
  if (Status s = open_store(prev != nullptr); !s.ok()) {
    return s;
  }
  delivery_recorder = std::make_unique<DeliveryRecorder>(metrics, timeline(), off);
  dispatcher = std::make_unique<alerting::Dispatcher>(io.get_executor(), *outbox, clock,
                                                      *delivery_recorder);
  for (auto& channel : pending_channels) {
    dispatcher->add_channel(std::move(channel));
  }
  pending_channels.clear();
  // HTTP API.
  ApiContext api;
  api.on_watch = [this](const std::function<void()>& job) { return on_tick_strand(job); };
  api.watch = &*watch;
  api.clock = &clock;
  api.metrics = &metrics;
  api.timeline = &timeline();
  api.token = token;
  api.status = [this] { return status_snapshot(); };
  api.ready = [this] { return ready.load(); };
  api.live = [this] {
    const auto last = last_tick_ns.load();
    const auto now = clock.steady().count();
    return last == 0 || now - last < (options.tick * 20 + std::chrono::seconds{2}).count();
  };
  api.on_act = [this](const record::TimelineEvent& event) {
    episodes_unsaved = true;
    persist(clock.now());
    echo_act(event);
    status_changed(clock.now());
  };
  register_api(router, std::move(api));
  register_push_api(router, push_hub, token);
  if (listen_deferred) {
    const int fd = prev != nullptr && prev->server ? prev->server->release_listener() : -1;
    if (fd < 0) {
      return Error{"cannot take over the listening socket on " + listen_host + ":" +
                   std::to_string(listen_port) + " from the running plan"};
    }
    try {
      server->listen_on(fd);
    } catch (const std::exception& e) {
      return Error{e.what()};
    }
  }
  {
    // Nothing runs yet (start() comes after): the watch is this thread's.
    status_changed(clock.now());
    if (store_recovered) {
      // Chat is told once (the key is unique per store): nobody is paged.
      rules::Page page;
      page.kind = rules::PageKind::kAct;
      page.at = clock.now();
      page.key = "store_recovered:" + std::to_string(page.at.time_since_epoch().count());
      page.reason = "the agent's state store was damaged and has been started afresh: " +
                    *store_recovered +
                    ". Acknowledgements, open breaches and undelivered messages from before are "
                    "not restored";
      dispatcher->submit({page}, message_context(page.at));
    }
  }
  if (prev == nullptr) {
    return {};
  }
  std::string detail;
  if (!same_night) {
    // Another release or window: the state was moved aside (open_store), nothing carries over.
    detail = "another release or window: the watch started afresh";
  } else {
    // Collectors of both runtimes are stopped or not yet started: the windows change hands.
    carried = watch->carry_over(*prev->watch);
    sources.continue_from(prev->sources, carried->sources_kept);
    detail = describe(*carried);
  }
  // The collectors of the sources defined as before, now that the previous ones have stopped
  // (and let go of their ports); their sinks see the routers as carried over.
  for (const Source* src : deferred_sources) {
    if (Status st = add_collector(*src); !st.ok()) {
      // It ran under the previous plan and is defined the same: what failed now (a secret file
      // gone, a port taken meanwhile) is a source down, not a reason to stop watching.
      metrics.on_error("collector_start");
      spdlog::error("{}; the source is down until the agent is reloaded or restarted", st.error());
      collectors::AttemptOutcome down;
      down.up = false;
      down.error = st.error();
      SourceSink sink(src->id, watch->router(src->id), sources, metrics,
                      [this]() -> Timeline& { return timeline(); }, clock, off, true, [] {});
      sink.end_attempt(down);
    }
  }
  spdlog::info("reloaded {} release {}: {}", plan.header.project, plan.header.release, detail);
  timeline().append({{clock.now(), off},
                     record::AgentLifecycle{record::AgentLifecycle::What::kReloaded, detail}});
  return {};
}

Status AgentRuntime::take_over(AgentRuntime& previous) {
  return impl_->finish(previous.impl_.get());
}

void AgentRuntime::Impl::schedule_tick() {
  next_tick += options.tick;
  const Duration now = clock.steady();
  if (next_tick < now) {
    // Fell behind (a stalled machine): skip the missed ticks instead of bursting.
    metrics.on_error("tick_overrun");
    next_tick = now;
  }
  timer->wait(next_tick - now, [this](bool fired) {
    if (fired && !stopping) {
      tick();
      schedule_tick();
    }
  });
}

// An evaluation out of turn, for a source that has just gone down or come back: a probe's result
// is acted on in milliseconds instead of waiting up to a tick. The regular ticks keep their
// times; the windows and trigger machines take `now` as it comes, so an extra tick changes no
// semantics (a `for:` still counts wall-clock time).
void AgentRuntime::Impl::tick_now() {
  asio::post(tick_strand, [this] {
    if (!stopping && ticking) {
      tick();
    }
  });
}

void AgentRuntime::Impl::tick() {
  if (std::optional<ClockGuard::Event> e = guarded.poll()) {
    on_clock_event(*e);
  }
  metrics.set_clock_offset(to_seconds(guarded.offset()));
  const TimePoint now = clock.now();
  const auto t0 = std::chrono::steady_clock::now();
  rules::TickResult r = watch->tick(now);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  last_tick_ns = clock.steady().count();
  metrics.on_tick(*watch, std::chrono::duration_cast<Duration>(elapsed));
  if (server) {
    const http::HttpServer::Stats h = server->stats();
    auto n = [](std::uint64_t v) { return static_cast<double>(v); };
    metrics.set_http({{"active_connections", n(h.active)},
                      {"accepted_connections", n(h.connections_accepted)},
                      {"rejected_connections", n(h.connections_rejected)},
                      {"requests", n(h.requests)},
                      {"timeouts", n(h.timeouts)},
                      {"bad_requests", n(h.bad_requests)},
                      {"malformed_requests", n(h.malformed_requests)},
                      {"headers_too_large", n(h.headers_too_large)},
                      {"trailers_too_large", n(h.trailers_too_large)},
                      {"chunk_extensions_too_large", n(h.chunk_extensions_too_large)},
                      {"bodies_too_large", n(h.bodies_too_large)},
                      {"evicted_idle_connections", n(h.evicted)},
                      {"reserved_requests", n(h.reserved_served)},
                      {"unauthorized_requests", n(unauthorized_refusals())}});
  }
  for (const record::TimelineEvent& e : record::tick_events(plan, r)) {
    timeline().append(e);
  }
  const auto off = plan.window.offset();
  if (r.phase_changed) {
    timeline().append({{now, off}, record::PhaseChanged{r.decision.phase}});
    if (last_phase_known) {
      // After a clock step (or an extension) any phase can follow any other: say which it is.
      const char* what = "the deployment window has closed; still watching";
      if (r.decision.phase == rules::Phase::kInWindow) {
        what = "the deployment window is open; paging is on";
      } else if (r.decision.phase == rules::Phase::kPreWindow) {
        what = "before the deployment window; paging starts when it opens";
      }
      spdlog::warn("phase {}: {} (window {} to {})", rules::to_string(r.decision.phase), what,
                   format_clock(plan.window.start.at, off),
                   format_clock(r.decision.window_end, off));
    }
    last_phase_known = true;
  }
  for (const rules::TriggerChange& ch : r.changes) {
    const rules::TriggerStatus& st = ch.to;
    auto level = st.state == rules::TriggerState::kBreached ? spdlog::level::warn
                                                             : spdlog::level::info;
    spdlog::log(level, "trigger {}: {} -> {} ({}) {}", plan.triggers[ch.trigger].id,
                rules::to_string(ch.from), rules::to_string(st.state),
                severity_text(st.severity), st.evidence);
  }
  if (r.recommendation_changed) {
    spdlog::warn("recommendation {}: {}", rules::headline(r.decision.recommendation),
                 r.decision.reason);
  }
  for (const rules::Page& p : r.pages) {
    spdlog::info("page {} ({}) to {} [{}] about {}", p.key, rules::to_string(p.kind),
                 p.decides.empty() ? "nobody (posted)" : p.decides, join(p.mention, " "),
                 join(p.triggers, ", "));
  }
  if (!r.pages.empty()) {
    dispatcher->submit(r.pages, message_context(now));
  }
  repost(now);
  persist_after_tick(r);
  status_changed(now);
  if (watchdog_usec > 0) {
    const Duration t = clock.steady();
    if (t - last_watchdog >= std::chrono::microseconds{watchdog_usec / 2}) {
      last_watchdog = t;
      sd_notify(0, "WATCHDOG=1");
    }
  }
}

Status AgentRuntime::Impl::open_store_file() {
  if (store) {
    return {};
  }
  const std::string now_suffix = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count());
  auto opened = StateStore::open_or_recover(plan.state_dir, now_suffix);
  if (!opened.ok()) {
    return Error{opened.error()};
  }
  store = std::move(opened).value();
  return {};
}

// The state belongs to one plan's window (as the plan gives it); a different release or window
// starts afresh.
std::string AgentRuntime::Impl::identity() const {
  return plan.header.project + "|" + plan.header.release + "|" +
         format_rfc3339(planned_start, plan.window.offset()) +
         (options.start_now ? "|start-now" : "");
}

// --start-now: the window starts now and keeps its length, unless `stored` (the store of this
// plan's rehearsal) says it was shifted already and that window has not ended: a restart keeps it.
void AgentRuntime::Impl::shift_window(StateStore* stored) {
  const Duration length = plan.window.length();
  const TimePoint now = clock.now();
  TimePoint start = now;
  if (stored != nullptr && stored->identity() == identity()) {
    if (std::optional<std::string> f = stored->flag("shifted_start")) {
      long long ns = 0;
      const auto [end, ec] = std::from_chars(f->data(), f->data() + f->size(), ns);
      if (ec != std::errc{} || end != f->data() + f->size()) {
        metrics.on_error("state_store_flag");
        spdlog::error("the stored shifted_start '{}' is not a time: the window starts now", *f);
      } else if (TimePoint stored_start{Duration{ns}}; stored_start + length > now) {
        start = stored_start;
      }
    }
  }
  shift_is_new = start == now;
  plan.window.start.at = start;
  plan.window.end.at = start + length;
  spdlog::info("--start-now: the window runs {} to {} ({}), point of no return {}",
               format_clock(plan.window.start.at, plan.window.offset()),
               format_clock(plan.window.end.at, plan.window.offset()),
               format_offset(plan.window.offset()),
               format_clock(plan.window.point_of_no_return(), plan.window.offset()));
}

Status AgentRuntime::Impl::open_store(bool reload) {
  if (Status s = open_store_file(); !s.ok()) {
    return s;
  }
  if (store->recovered() && !reload) {
    // Issue 14, item 11: a watch without last night's history beats no watch.
    store_recovered = *store->recovered();
    metrics.on_error("state_store_damaged");
    spdlog::error("{}; started a fresh state store: acknowledgements, open breaches and "
                  "undelivered messages from before are not restored",
                  *store_recovered);
  }
  auto on_error = [this](const std::string& e) {
    metrics.on_error("state_store");
    spdlog::error("{}; continuing, but this event may not survive a restart", e);
  };
  timeline_store = std::make_unique<StoreTimeline>(*store, on_error);
  outbox = std::make_unique<StoreOutbox>(*store, on_error);
  const std::string identity = this->identity();
  const std::string stored = store->identity();
  if (!stored.empty() && stored != identity) {
    std::string suffix = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                            clock.now().time_since_epoch())
                                            .count());
    spdlog::info("the state in {} belongs to another plan or window ({}); moving it aside as "
                 "state-{}.db",
                 store->path(), stored, suffix);
    if (Status s = store->archive_and_reset(suffix); !s.ok()) {
      return s;
    }
    same_night = false;
  }
  if (Status s = store->set_identity(identity); !s.ok()) {
    return s;
  }
  if (options.start_now && shift_is_new) {
    // Kept across restarts while the rehearsal's window lasts (shift_window).
    (void)store->set_flag("shifted_start",
                          std::to_string(plan.window.start.at.time_since_epoch().count()));
  }
  // Restore: acts from the timeline, baselines, episodes (with their breaches), flags.
  const std::size_t n = store->event_count();
  const std::vector<std::string> events = store->events(0, n);
  rules::HumanActs acts = acts_from_timeline(events);
  std::vector<std::string> unusable_baselines;
  std::map<std::string, double> baselines = store->load_baselines(&unusable_baselines);
  for (const std::string& u : unusable_baselines) {
    metrics.on_error("state_store_baseline");
    spdlog::error("the stored baseline {} is not a number: not restored; a relative trigger "
                  "without its baseline is inconclusive rather than measured against 0",
                  u);
  }
  std::vector<rules::Episode> episodes = store->load_episodes();
  const bool final_sent = store->flag("final_sent").has_value();
  for (std::size_t i = 0; i < plan.triggers.size(); ++i) {
    if (auto it = baselines.find(plan.triggers[i].id); it != baselines.end()) {
      watch->evaluator().restore_baseline(i, it->second);
      baselines_saved = true;
    }
  }
  std::size_t open_breaches = 0;
  for (const rules::Episode& e : episodes) {
    if (!e.open()) {
      continue;
    }
    for (std::size_t i = 0; i < plan.triggers.size(); ++i) {
      if (plan.triggers[i].id == e.trigger) {
        watch->evaluator().restore_breach(i, e.severity, e.opened_at);
        ++open_breaches;
      }
    }
  }
  watch->restore_acts(acts);
  watch->paging().restore(episodes, final_sent, last_recommendation(events));
  final_flag_saved = final_sent;
  timeline().append({{clock.now(), plan.window.offset()}, record::snapshot_of(plan)});
  if (reload) {
    return {};  // finish() records the reload once the watch has been carried over
  }
  if (n > 0) {
    spdlog::info("restored from {}: {} timeline events, {} baselines, {} open breaches, {} "
                 "fix-forwards, {} decisions, {} raises",
                 store->path(), n, baselines.size(), open_breaches, acts.fix_forwards.size(),
                 acts.decisions.size(), acts.raises.size());
    timeline().append({{clock.now(), plan.window.offset()},
                       record::AgentLifecycle{record::AgentLifecycle::What::kRestarted}});
  } else {
    timeline().append({{clock.now(), plan.window.offset()},
                       record::AgentLifecycle{record::AgentLifecycle::What::kStarted}});
  }
  if (store_recovered) {
    timeline().append(
        {{clock.now(), plan.window.offset()},
         record::AgentLifecycle{record::AgentLifecycle::What::kStoreRecovered, *store_recovered}});
  }
  return {};
}

// A person's act, echoed to the channels (act_echo). Called on the tick strand with the
// timeline event the API recorded.
void AgentRuntime::Impl::echo_act(const record::TimelineEvent& event) {
  const TimePoint now = clock.now();
  std::optional<ActEcho> echo = act_echo(event, *watch, now, ++act_seq);
  if (!echo) {
    return;
  }
  if (echo->acknowledgement) {
    alerting::MessageContext ctx = message_context(now);
    ctx.page = echo->page;
    dispatcher->submit_acknowledgement(ctx, *echo->acknowledgement);
  }
  dispatcher->submit({echo->page}, message_context(now));
}

// A wall-clock step (GuardedClock): logged, counted, in the timeline and the status; when taken,
// every duration in progress moves with the clock, so the step alone pages nobody.
void AgentRuntime::Impl::on_clock_event(const ClockGuard::Event& e) {
  const auto off = plan.window.offset();
  // Said to the second: the two clocks are read a few microseconds apart.
  const Duration size = std::chrono::round<std::chrono::seconds>(e.by < Duration{0} ? -e.by : e.by);
  const std::string step =
      std::string(e.by < Duration{0} ? "back " : "forward ") + format_span(size);
  const std::string outcome(to_string(e.outcome));
  metrics.on_clock_step(outcome);
  clock_state.last = e;
  switch (e.outcome) {
    case ClockGuard::Outcome::kDetected:
      ++clock_state.steps;
      clock_state.pending = e.by;
      spdlog::warn("the wall clock stepped {} (it reads {}, the watch's clock {}): the watch "
                   "keeps the time that really passed and takes the step once it has held for "
                   "{}; check NTP (timedatectl timesync-status) if nobody set the clock",
                   step, format_rfc3339(e.wall, off), format_rfc3339(clock.now(), off),
                   format_span(guarded.options().settle));
      break;
    case ClockGuard::Outcome::kApplied:
      if (clock_state.pending != e.by) {
        ++clock_state.steps;  // taken at once (settle 0): never reported as detected
      }
      clock_state.pending.reset();
      watch->shift(e.by);
      if (dispatcher) {
        dispatcher->clock_stepped(e.by);
      }
      last_repost += e.by;
      spdlog::warn("the wall clock's step {} has held: the watch now runs on it ({}); windows, "
                   "`for`, acknowledgement, repeat and escalation timers keep the time that "
                   "really passed, the window ({} to {}) is read on the new clock",
                   step, format_rfc3339(e.wall, off), format_clock(plan.window.start.at, off),
                   format_clock(watch->decision().window_end, off));
      break;
    case ClockGuard::Outcome::kReverted:
      clock_state.pending.reset();
      spdlog::warn("the wall clock is back within {} of the watch's clock: its step {} was never "
                   "taken",
                   format_span(guarded.options().tolerance), step);
      break;
  }
  timeline().append({{clock.now(), off},
                     record::ClockStepped{e.outcome, to_seconds(e.by), {e.wall, off}}});
  status_changed(clock.now());
}

// A channel whose receiver forgets (Alertmanager resolves an alert whose endsAt passed) gets
// its open pages again at its own cadence; what it re-posts is the channel's policy.
void AgentRuntime::Impl::repost(TimePoint now) {
  const std::optional<Duration> every = dispatcher->repost_every();
  if (!every || now - last_repost < *every) {
    return;
  }
  last_repost = now;
  dispatcher->submit_reposts(message_context(now));
}

void AgentRuntime::Impl::persist_after_tick(const rules::TickResult& r) {
  if (!r.changes.empty() || !r.pages.empty()) {
    episodes_unsaved = true;
  }
  persist(r.at);
}

// Writes what the store is owed. A write that fails is repeated on a later tick, paced by
// store_gate (a full disk costs a few failed writes a minute, not one per tick); meanwhile the
// outbox and the timeline hold their changes in memory (StoreOutbox, StoreTimeline), so paging
// goes on and nothing is sent twice.
void AgentRuntime::Impl::persist(TimePoint now) {
  if (store_gate.due(now)) {
    std::string failure;
    auto wrote = [&failure](const Status& s) {
      if (!s.ok() && failure.empty()) {
        failure = s.error();
      }
      return s.ok();
    };
    if (!baselines_saved && watch->evaluator().baselines_frozen()) {
      bool all = true;
      for (std::size_t i = 0; i < plan.triggers.size(); ++i) {
        if (auto b = watch->evaluator().baseline(i)) {
          all = wrote(store->save_baseline(plan.triggers[i].id, *b, now)) && all;
        }
      }
      baselines_saved = all;
    }
    if (episodes_unsaved) {
      episodes_unsaved = !wrote(store->save_episodes(watch->paging().episodes()));
    }
    if (!final_flag_saved && watch->paging().final_sent()) {
      final_flag_saved = wrote(store->set_flag("final_sent", "1"));
    }
    if (failure.empty()) {
      store_gate.succeeded();
    } else {
      store_gate.failed(now);
      metrics.on_error("state_store");
      spdlog::error("{}; kept in memory and written again when the store takes writes", failure);
    }
  }
  const std::size_t outbox_held = outbox->flush(now);
  const std::size_t timeline_held = timeline_store->flush(now);
  metrics.set_unsaved(static_cast<double>(outbox_held), static_cast<double>(timeline_held));
}

void AgentRuntime::run() {
  Impl& m = *impl_;
  if (m.stopping) {
    return;
  }
  start();
  std::vector<std::thread> threads;
  for (int i = 1; i < std::max(1, m.options.io_threads); ++i) {
    threads.emplace_back([&m] { m.io.run(); });
  }
  m.io.run();
  for (auto& t : threads) {
    t.join();
  }
  m.join_api_threads();
}

void AgentRuntime::start() {
  Impl& m = *impl_;
  if (m.stopping || m.work) {
    return;
  }
  m.work.emplace(m.io.get_executor());
  m.api_work.emplace(m.api_io.get_executor());
  for (int i = 0; i < std::max(1, m.options.io_threads); ++i) {
    m.api_threads.emplace_back([&m] { m.api_io.run(); });
  }
  if (sd_watchdog_enabled(0, &m.watchdog_usec) <= 0) {
    m.watchdog_usec = 0;
  }
  for (std::size_t i = 0; i < m.collectors.size(); ++i) {
    asio::post(m.collector_strands[i], [c = m.collectors[i].get()] { c->start(); });
  }
  m.dispatcher->start();
  asio::post(m.tick_strand, [&m] {
    m.next_tick = m.clock.steady();
    m.ticking = true;
    m.tick();
    m.schedule_tick();
  });
  m.ready = true;
  spdlog::info("watching {} release {}: {} triggers over {} sources, window {} to {} ({}), "
               "point of no return {}",
               m.plan.header.project, m.plan.header.release, m.plan.triggers.size(),
               m.plan.sources.size(), format_rfc3339(m.plan.window.start.at, m.plan.window.offset()),
               format_clock(m.plan.window.end.at, m.plan.window.offset()),
               format_offset(m.plan.window.offset()),
               format_clock(m.plan.window.point_of_no_return(), m.plan.window.offset()));
}

void AgentRuntime::stop() { impl_->shut_down(false); }

void AgentRuntime::hand_over() { impl_->shut_down(true); }

const rules::Plan& AgentRuntime::plan() const { return impl_->plan; }

void AgentRuntime::reload_refused(const std::string& why) {
  Impl& m = *impl_;
  m.metrics.on_error("reload_refused");
  m.timeline().append({{m.clock.now(), m.plan.window.offset()},
                       record::AgentLifecycle{record::AgentLifecycle::What::kReloadRefused, why}});
}

void AgentRuntime::Impl::shut_down(bool keep_listener) {
  Impl& m = *this;
  if (m.stopping.exchange(true)) {
    return;
  }
  m.ready = false;
  for (std::size_t i = 0; i < m.collectors.size(); ++i) {
    asio::post(m.collector_strands[i], [c = m.collectors[i].get()] { c->stop(); });
  }
  asio::post(m.tick_strand, [&m] { m.timer->cancel(); });
  if (m.dispatcher) {
    // A delivery in flight may already be with the endpoint: cancelled, it would be sent again
    // after the restart. It gets 2 s to finish and be recorded, then it is cancelled.
    m.dispatcher->stop(std::chrono::seconds{2}, [&m] { m.delivery_http.cancel_all(); });
  }
  m.http_client.cancel_all();
  if (m.server) {
    if (keep_listener) {
      m.server->stop_keeping_listener();
    } else {
      m.server->stop();
    }
  }
  asio::post(m.io, [&m] { m.work.reset(); });
  asio::post(m.api_io, [&m] { m.api_work.reset(); });
}

}  // namespace backout::agent
