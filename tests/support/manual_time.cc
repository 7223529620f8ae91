#include "support/manual_time.h"

#include <boost/asio/post.hpp>

#include <algorithm>

namespace backout::testing {

class ManualTime::ManualTimer final : public net::Timer {
 public:
  ManualTimer(ManualTime& time, std::uint64_t id, boost::asio::any_io_executor ex)
      : time_(time), id_(id), executor_(std::move(ex)) {}
  ~ManualTimer() override { time_.cancel(id_); }
  void wait(Duration d, std::function<void(bool)> done) override {
    time_.cancel(id_);
    time_.add(id_, d, executor_, std::move(done));
  }
  void cancel() override { time_.cancel(id_); }

 private:
  ManualTime& time_;
  std::uint64_t id_;
  boost::asio::any_io_executor executor_;
};

ManualTime::ManualTime(TimePoint wall) : wall_start_(wall) {}
ManualTime::ManualTime() : ManualTime(parse_rfc3339("2026-06-07T03:00:00+01:00")->at) {}
ManualTime::~ManualTime() = default;

TimePoint ManualTime::now() const {
  std::lock_guard lock(mu_);
  return wall_start_ + (steady_ - std::chrono::hours{1000}) + wall_step_;
}

Duration ManualTime::steady() const {
  std::lock_guard lock(mu_);
  return steady_;
}

std::unique_ptr<net::Timer> ManualTime::timer(boost::asio::any_io_executor executor) {
  std::lock_guard lock(mu_);
  return std::make_unique<ManualTimer>(*this, ++next_timer_, std::move(executor));
}

void ManualTime::add(std::uint64_t timer, Duration d, boost::asio::any_io_executor ex,
                     std::function<void(bool)> done) {
  std::lock_guard lock(mu_);
  waits_.push_back({steady_ + std::max(d, Duration{0}), ++next_seq_, timer, std::move(ex),
                    std::move(done)});
}

void ManualTime::cancel(std::uint64_t timer) {
  std::vector<Wait> cancelled;
  {
    std::lock_guard lock(mu_);
    auto it = std::stable_partition(waits_.begin(), waits_.end(),
                                    [&](const Wait& w) { return w.timer != timer; });
    cancelled.assign(std::make_move_iterator(it), std::make_move_iterator(waits_.end()));
    waits_.erase(it, waits_.end());
  }
  for (Wait& w : cancelled) {
    boost::asio::post(w.executor, [done = std::move(w.done)] { done(false); });
  }
}

void ManualTime::settle(boost::asio::io_context& io) {
  io.restart();
  io.poll();
}

void ManualTime::advance(Duration d, boost::asio::io_context& io) {
  const Duration target = steady() + d;
  settle(io);
  for (;;) {
    Wait next;
    {
      std::lock_guard lock(mu_);
      auto it = std::min_element(waits_.begin(), waits_.end(), [](const Wait& a, const Wait& b) {
        return a.due != b.due ? a.due < b.due : a.seq < b.seq;
      });
      if (it == waits_.end() || it->due > target) {
        steady_ = target;
        break;
      }
      next = std::move(*it);
      waits_.erase(it);
      steady_ = std::max(steady_, next.due);
    }
    boost::asio::post(next.executor, [done = std::move(next.done)] { done(true); });
    settle(io);
  }
  settle(io);
}

void ManualTime::step_wall(Duration d) {
  std::lock_guard lock(mu_);
  wall_step_ += d;
}

std::size_t ManualTime::pending() const {
  std::lock_guard lock(mu_);
  return waits_.size();
}

}  // namespace backout::testing
