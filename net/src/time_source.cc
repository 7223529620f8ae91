#include "backout/net/time_source.h"

#include <boost/asio/steady_timer.hpp>

#include <chrono>

namespace backout::net {
namespace {

class SteadyTimer final : public Timer {
 public:
  explicit SteadyTimer(boost::asio::any_io_executor ex) : timer_(std::move(ex)) {}
  void wait(Duration d, std::function<void(bool)> done) override {
    timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::max(d, Duration{0})));
    timer_.async_wait([done = std::move(done)](const boost::system::error_code& ec) {
      done(!ec);
    });
  }
  void cancel() override { timer_.cancel(); }

 private:
  boost::asio::steady_timer timer_;
};

class RealTime final : public TimeSource {
 public:
  TimePoint now() const override { return wall_.now(); }
  Duration steady() const override {
    return std::chrono::duration_cast<Duration>(
        std::chrono::steady_clock::now().time_since_epoch());
  }
  std::unique_ptr<Timer> timer(boost::asio::any_io_executor executor) override {
    return std::make_unique<SteadyTimer>(std::move(executor));
  }

 private:
  SystemClock wall_;
};

}  // namespace

TimeSource& real_time() {
  static RealTime t;
  return t;
}

}  // namespace backout::net
