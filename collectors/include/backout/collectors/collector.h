// The collector interface: one collector per source, created by its kind's factory, sampling on
// its own schedule and delivering into a SampleSink (the accumulator). A collector never knows
// where its samples go, so its tests assert against a recording sink.
//
// Thread-safety: a collector runs on the strand it is given; it calls its sink only from that
// strand, one call at a time. start() and stop() are called on that strand too.
// Time: `every` and `timeout` are measured with the steady clock of the executor's timers.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backout/core/kind_registry.h"
#include "backout/core/kind_spec.h"
#include "backout/core/result.h"
#include "backout/core/sample.h"
#include "backout/core/time.h"
#include "backout/net/time_source.h"

namespace backout::net {
class HttpClient;
}

namespace backout::collectors {

class PushHub;

/// Outcome of one scrape or probe: for the agent's /metrics, log and status API.
struct AttemptOutcome {
  bool up = false;
  Duration duration{0};
  /// Why it failed, for the operator, without secrets: "connect 127.0.0.1:8080: Connection
  /// refused", "HTTP 503 (expected 200)", "body does not match expect_body".
  std::string error;
  std::size_t samples = 0;    // samples delivered
  std::size_t malformed = 0;  // lines or values skipped as malformed
  std::size_t dropped = 0;    // samples dropped at a limit
  /// Datagrams the kernel dropped before the collector read them (StatsD: the socket's receive
  /// queue was full), since the previous attempt.
  std::size_t lost = 0;
};

/// Where a collector delivers its samples (the accumulator).
class SampleSink {
 public:
  virtual ~SampleSink() = default;
  /// One value of one series: `metric` is the series name within the source (`up`,
  /// `duration`, `portal_login_failures_total`, ...).
  virtual void record(const std::string& metric, const Labels& labels, double value) = 0;
  /// Ends one attempt (a scrape or a probe); the samples recorded since the previous call
  /// belong to it.
  virtual void end_attempt(const AttemptOutcome& outcome) = 0;
};

/// Resolves a secret reference (environment variable or file) to its value.
using SecretResolver = std::function<Result<std::string>(const SecretRef&)>;

struct CollectorContext {
  boost::asio::any_io_executor executor;  // a strand: all of the collector's work runs on it
  SampleSink* sink = nullptr;
  net::HttpClient* http = nullptr;  // shared HTTP(S) client
  SecretResolver resolve_secret;
  PushHub* push = nullptr;  // where the HTTP push API delivers (push_hub.h); for `push` sources
  /// The clocks and timers of the schedule (tests: a manual clock); null: net::real_time().
  net::TimeSource* time = nullptr;
};

class Collector {
 public:
  virtual ~Collector() = default;
  /// Starts sampling: the first attempt at once, then every `every`; an attempt still running
  /// when the next is due delays it (attempts never overlap).
  virtual void start() = 0;
  /// Stops: cancels the timer and any attempt in flight; no sink call after it returns.
  virtual void stop() = 0;
};

/// A source kind: its option schema and the factory that builds its collector. The factory
/// validates nothing again (the plan loader did); it may fail only on what the plan cannot say,
/// such as an unset environment variable, with a message that says what to set.
struct SourceKind {
  KindSpec spec;
  std::function<Result<std::unique_ptr<Collector>>(const Source&, CollectorContext)> create;
};

/// Source kinds by name.
using Registry = KindRegistry<SourceKind>;

/// Every built-in kind, one registration line each (collectors/src/registry.cc).
Registry builtin_registry();

}  // namespace backout::collectors
