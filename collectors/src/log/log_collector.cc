// The `log` collector: a LogFollower (the file) and a LogMatcher (the lines) driven by a timer on
// the collector's strand. Reads of a regular file do not wait on the network, and each poll
// reads at most kBudget, so a poll holds the io thread for a bounded time; a backlog (a big
// file read from the start, a burst) is worked off in consecutive polls that let other handlers
// run in between.
//
// Counters are recorded on every poll once a file is open, also when nothing new matched, so
// that their windows see the source alive; an observation is recorded for each matching line.
#include "log/log_kind.h"

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <string_view>
#include <utility>

#include "log/log_follower.h"
#include "log/log_matcher.h"
#include "periodic_runner.h"

namespace backout::collectors {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kBudget = 1024 * 1024;

class LogTail : public std::enable_shared_from_this<LogTail> {
 public:
  LogTail(const CollectorContext& ctx, LogMatcher matcher, std::string path, bool from_start,
          Duration every)
      : sink_(ctx.sink),
        matcher_(std::move(matcher)),
        follower_(std::move(path), from_start),
        every_(every),
        timer_(ctx.executor) {}

  void start() {
    if (!stopped_) {
      return;
    }
    stopped_ = false;
    // The first poll now, not from the timer: "start at the end" means the end at start().
    poll();
  }

  void stop() {
    stopped_ = true;
    ++generation_;
    timer_.cancel();
  }

 private:
  void schedule(SteadyClock::time_point at) {
    timer_.expires_at(at);
    timer_.async_wait([weak = weak_from_this(), gen = generation_](error_code ec) {
      auto self = weak.lock();
      if (!self || ec || self->stopped_ || gen != self->generation_) {
        return;
      }
      self->poll();
    });
  }

  void poll() {
    const SteadyClock::time_point started = SteadyClock::now();
    std::size_t samples = 0;
    std::size_t malformed = 0;
    const LogMatcher::Observe observe = [&](const std::string& series, double value) {
      sink_->record(series, {}, value);
      ++samples;
    };
    const LogFollower::PollResult r =
        follower_.poll(kBudget, [&](std::string_view line, bool truncated) {
          if (truncated) {
            ++malformed;
          }
          malformed += matcher_.match(line, observe);
        });
    if (r.has_file) {
      for (const LogMatcher::Entry& e : matcher_.entries()) {
        sink_->record(e.series, {}, static_cast<double>(e.count));
        ++samples;
      }
    }
    AttemptOutcome out;
    out.up = r.up;
    out.error = r.error;
    out.samples = samples;
    out.malformed = malformed;
    out.duration = std::chrono::duration_cast<Duration>(SteadyClock::now() - started);
    sink_->end_attempt(out);
    schedule(r.more ? SteadyClock::now() : started + every_);
  }

  SampleSink* sink_;
  LogMatcher matcher_;
  LogFollower follower_;
  const Duration every_;
  asio::steady_timer timer_;
  bool stopped_ = true;
  std::uint64_t generation_ = 0;
};

class LogCollector final : public Collector {
 public:
  explicit LogCollector(std::shared_ptr<LogTail> tail) : tail_(std::move(tail)) {}
  void start() override { tail_->start(); }
  void stop() override { tail_->stop(); }

 private:
  // The only owner: pending handlers hold weak pointers, so destroying the collector ends it.
  std::shared_ptr<LogTail> tail_;
};

}  // namespace

Result<std::unique_ptr<Collector>> create_log_collector(const Source& source,
                                                        CollectorContext ctx) {
  if (auto problem = check_context(source, ctx, false)) {
    return Error{*problem};
  }
  Result<LogMatcher> matcher = LogMatcher::compile(source.options.string_map("match"));
  if (!matcher) {
    return Error{"source '" + source.id + "': " + matcher.error()};
  }
  auto tail =
      std::make_shared<LogTail>(ctx, std::move(matcher).value(), source.options.string("path"),
                                source.options.boolean("from_start", false),
                                source.options.duration("every", std::chrono::milliseconds{250}));
  return std::unique_ptr<Collector>(std::make_unique<LogCollector>(std::move(tail)));
}

}  // namespace backout::collectors
