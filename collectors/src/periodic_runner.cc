#include "periodic_runner.h"

#include <exception>

namespace backout::collectors {
namespace {

class RunnerCollector final : public Collector {
 public:
  explicit RunnerCollector(std::shared_ptr<PeriodicRunner> runner) : runner_(std::move(runner)) {}
  ~RunnerCollector() override { runner_->stop(); }
  RunnerCollector(const RunnerCollector&) = delete;
  RunnerCollector& operator=(const RunnerCollector&) = delete;

  void start() override { runner_->start(); }
  void stop() override { runner_->stop(); }

 private:
  std::shared_ptr<PeriodicRunner> runner_;
};

}  // namespace

PeriodicRunner::PeriodicRunner(boost::asio::any_io_executor strand, SampleSink* sink,
                               Duration every, net::TimeSource* time)
    : strand_(std::move(strand)),
      sink_(sink),
      every_(every),
      time_(time != nullptr ? *time : net::real_time()),
      timer_(time_.timer(strand_)) {}

void PeriodicRunner::start() {
  if (started_ || stopped_) {
    return;
  }
  started_ = true;
  run_attempt(false);
}

void PeriodicRunner::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  try {
    timer_->cancel();
    if (in_flight_) {
      in_flight_ = false;
      cancel_attempt();
    }
    release();
  } catch (...) {
    // Cancelling is best effort: stopped_ already keeps every later handler away from the sink.
  }
}

bool PeriodicRunner::probe_now() {
  if (stopped_ || !started_ || in_flight_ || early_used_) {
    return false;
  }
  early_used_ = true;
  timer_->cancel();  // its handler finds the attempt already started (see schedule_next)
  run_attempt(true);
  return true;
}

void PeriodicRunner::run_attempt(bool early) {
  if (stopped_) {
    return;
  }
  early_ = early;
  if (!early) {
    early_used_ = false;
  }
  ++attempt_;
  in_flight_ = true;
  attempt_start_ = time_.steady();
  const std::uint64_t id = attempt_;
  try {
    begin_attempt(id);
  } catch (const std::exception& e) {
    finish(
        id,
        {.up = false, .duration = elapsed(), .error = std::string("internal error: ") + e.what()});
  } catch (...) {
    finish(id, {.up = false, .duration = elapsed(), .error = "internal error"});
  }
}

void PeriodicRunner::record(std::uint64_t id, const std::string& metric,
                            const Labels& labels, double value) {
  if (current(id)) {
    sink_->record(metric, labels, value);
  }
}

void PeriodicRunner::finish(std::uint64_t id, AttemptOutcome outcome) {
  if (!current(id)) {
    return;
  }
  sink_->record("up", {}, outcome.up ? 1.0 : 0.0);
  sink_->record("duration", {}, to_seconds(outcome.duration));
  in_flight_ = false;
  sink_->end_attempt(outcome);
  schedule_next();
}

Duration PeriodicRunner::elapsed() const {
  return time_.steady() - attempt_start_;
}

void PeriodicRunner::schedule_next() {
  if (stopped_) {
    return;
  }
  // From the previous start, not its end, so the cadence does not drift by the attempt's
  // duration; a time already past fires at once (the attempt ran longer than `every`).
  const std::uint64_t after = attempt_;
  timer_->wait(attempt_start_ + every_ - time_.steady(), [self = shared_from_this(),
                                                          after](bool fired) {
    // `after` guards against a wait whose cancel (by probe_now) came too late to abort it.
    if (!fired || self->stopped_ || self->in_flight_ || self->attempt_ != after) {
      return;
    }
    self->run_attempt(false);
  });
}

std::unique_ptr<Collector> make_periodic_collector(std::shared_ptr<PeriodicRunner> runner) {
  return std::make_unique<RunnerCollector>(std::move(runner));
}

Result<std::optional<std::string>> resolve_bearer_token(const Source& source,
                                                        const CollectorContext& ctx) {
  const auto ref = source.options.secret("bearer_token");
  if (!ref) {
    return std::optional<std::string>();
  }
  const std::string where = "source '" + source.id + "': bearer_token (" + ref->describe() + ")";
  if (!ctx.resolve_secret) {
    return Error{where + ": no secret resolver configured"};
  }
  Result<std::string> value = ctx.resolve_secret(*ref);
  if (!value) {
    return Error{where + ": " + value.error()};
  }
  return std::optional<std::string>(std::move(value).value());
}

std::optional<std::string> check_context(const Source& source, const CollectorContext& ctx,
                                         bool needs_http) {
  if (ctx.sink == nullptr) {
    return "source '" + source.id + "': no sample sink";
  }
  if (!ctx.executor) {
    return "source '" + source.id + "': no executor";
  }
  if (needs_http && ctx.http == nullptr) {
    return "source '" + source.id + "': no HTTP client";
  }
  return std::nullopt;
}

std::chrono::milliseconds to_millis(Duration d) {
  return std::chrono::ceil<std::chrono::milliseconds>(d);
}

}  // namespace backout::collectors
