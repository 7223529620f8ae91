// The scheduler: the tick strand (ticks, acts and status reads run on it, in turn), the tick
// itself (the clock guard, the watch, the tick's metrics, then its effects: runtime_effects.cc)
// and systemd's watchdog.
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include "app/runtime/runtime_impl.h"

namespace backout::agent {
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
  apply(r, now);
  if (watchdog_usec > 0) {
    const Duration t = clock.steady();
    if (t - last_watchdog >= std::chrono::microseconds{watchdog_usec / 2}) {
      last_watchdog = t;
      sd_notify(0, "WATCHDOG=1");
    }
  }
}

}  // namespace backout::agent
