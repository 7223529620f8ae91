// Assembly and lifecycle: the plan, registries, store and time source become the runtime's parts
// (or a Status naming what failed), a reload takes over from the running runtime, and stop
// shuts the parts down in order.
#include "app/runtime/agent_runtime.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <algorithm>

#include "app/runtime/runtime_impl.h"

namespace backout::agent {
namespace {

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

}  // namespace

AgentRuntime::AgentRuntime(rules::Plan plan, RuntimeOptions options, net::TimeSource& clock,
                           RuntimeParts parts)
    : impl_(std::make_unique<Impl>(std::move(plan), options, clock, std::move(parts))) {}

boost::asio::io_context& AgentRuntime::io() { return impl_->io; }

AgentRuntime::~AgentRuntime() { stop(); }

std::uint16_t AgentRuntime::http_port() const { return impl_->server ? impl_->server->port() : 0; }

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
    return Error{"sources." + src.id + ": this build has no collector for kind '" + src.kind + "'"};
  }
  auto sink = std::make_unique<SourceSink>(
      src.id, watch->router(src.id), sources, metrics, [this]() -> Timeline& { return timeline(); },
      clock, off, kind->spec.has_up, [this] { tick_now(); });
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
  dispatcher =
      std::make_unique<alerting::Dispatcher>(io.get_executor(), *outbox, clock, *delivery_recorder);
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
      page.reason =
          "the agent's state store was damaged and has been started afresh: " + *store_recovered +
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
      SourceSink sink(
          src->id, watch->router(src->id), sources, metrics,
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
  spdlog::info(
      "watching {} release {}: {} triggers over {} sources, window {} to {} ({}), "
      "point of no return {}",
      m.plan.header.project, m.plan.header.release, m.plan.triggers.size(), m.plan.sources.size(),
      format_rfc3339(m.plan.window.start.at, m.plan.window.offset()),
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
