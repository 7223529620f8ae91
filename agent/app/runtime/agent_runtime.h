// The running agent: an Asio io_context with a few threads; one collector per source on its own
// strand feeding the watch's lock-free windows; a scheduler tick on the tick strand that
// evaluates every trigger, updates /metrics, writes the timeline and hands pages to the
// dispatcher (a source going down or back is evaluated at once, out of turn); the HTTP server,
// on threads of its own, with /metrics, health, the status API (built on request) and the human
// acts. The watch lives on the tick strand: an act or a status request is run there, between
// ticks, so no lock guards it and none is held across the store's writes or a page's rendering.
//
// Thread-safety: prepare() and run() from one thread; stop() from any thread (signal handlers
// post it). Time: wall-clock time from the injected Clock (the plan's window is wall-clock);
// periods on steady timers.
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "backout/alerting/channel.h"
#include "backout/collectors/collector.h"
#include "backout/core/clock.h"
#include "backout/core/clock_guard.h"
#include "backout/net/time_source.h"
#include "backout/core/result.h"
#include "backout/rules/plan.h"

namespace backout::agent {

struct RuntimeOptions {
  Duration tick = std::chrono::milliseconds{250};
  /// Threads of the io_context (collectors, ticks, deliveries), and as many again for the HTTP
  /// server.
  int io_threads = 2;
  /// How long an API request (an act, the status) waits for the watch to take it before it is
  /// refused with 503; a tick takes milliseconds, so only a stalled watch makes one wait.
  Duration watch_wait = std::chrono::seconds{10};
  /// Overrides server.listen (tests: "127.0.0.1:0").
  std::optional<std::string> listen;
  /// Rehearsal: the window starts now and keeps its length. A restart during that window keeps
  /// the shifted start (stored in the state store) instead of shifting again.
  bool start_now = false;
  /// How a wall-clock step is taken (GuardedClock): beyond `tolerance` it is a step, taken once
  /// it has held for `settle`.
  ClockGuard::Options clock;
};

/// What the runtime is assembled from besides the plan and time: the built-in kinds in the agent,
/// fakes in a test.
struct RuntimeParts {
  /// The source kinds; empty: builtin_kinds().sources (app/kinds).
  std::optional<collectors::Registry> sources;
  /// Builds the channel of a notify entry, named `name` (its `channel` label); empty:
  /// alerting::make_channel on the runtime's HTTP client.
  std::function<Result<std::unique_ptr<alerting::Channel>>(const rules::Channel& spec,
                                                           const std::string& name)>
      channel;
};

class AgentRuntime {
 public:
  /// `time`: the wall and monotonic clocks and the timers (net::real_time() in the agent).
  AgentRuntime(rules::Plan plan, RuntimeOptions options, net::TimeSource& time,
               RuntimeParts parts = {});
  ~AgentRuntime();
  AgentRuntime(const AgentRuntime&) = delete;
  AgentRuntime& operator=(const AgentRuntime&) = delete;

  /// Resolves secrets, creates collectors and channels, binds the HTTP server, opens the state
  /// store and restores from it. Fails with an operator-readable message (an unset environment
  /// variable, a port in use); nothing runs yet. assemble() and then take_over(), on a reload.
  Status prepare();

  // A reload (SIGHUP) builds the next runtime beside the running one, so that a plan which
  // cannot start changes nothing:
  //   next.assemble(&running)  everything that can fail: secrets, sources, channels, the token,
  //                            a new listen address; the running runtime is not touched
  //   running.hand_over()      stops it but keeps its listening socket; its run() returns
  //   next.take_over(running)  takes its state store, listening socket, clock and watch
  //                            (rules::Watch::carry_over), and records the reload
  //   next.run()
  /// The first half of prepare(). With `running`, sources defined exactly as there are made
  /// in take_over() (a collector may hold a port), and its listen address is taken over.
  Status assemble(const AgentRuntime* running = nullptr);
  /// The second half, on a reload: `previous` has been handed over and its run() has returned.
  /// A failure here leaves neither runtime watching (the caller exits).
  Status take_over(AgentRuntime& previous);
  /// stop(), keeping the listening socket open for take_over().
  void hand_over();
  /// The reload was refused (`why`): counted and in the timeline; this runtime goes on.
  void reload_refused(const std::string& why);
  const rules::Plan& plan() const;
  /// Starts collectors, the scheduler and the dispatcher and runs until stop(); returns after
  /// every thread has finished (within a second of stop()).
  void run();
  /// start() without the io_context's threads: a test runs io() itself
  /// (ManualTime::advance(d, io())); the HTTP server's threads are started.
  void start();
  boost::asio::io_context& io();
  /// Asks run() to return. Idempotent; safe from any thread.
  void stop();

  /// The bound HTTP port (after prepare()).
  std::uint16_t http_port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace backout::agent
