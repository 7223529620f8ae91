// The tcp collector, built through the builtin registry, against loopback: a listening server,
// a port nothing listens on, and a listener whose full accept queue makes connects hang. One
// io_context, driven by the test with bounded waits.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "backout/collectors/collector.h"
#include "collector_fixture.h"
#include "support/recording_sink.h"
#include "support/test_http_server.h"

namespace backout::collectors {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class TcpCollectorTest : public testing_support::CollectorFixture {
 protected:
  static Source source(std::uint16_t port, Duration timeout = 1s) {
    Source s;
    s.id = "portal_db";
    s.kind = "tcp";
    s.options.set("address", "127.0.0.1:" + std::to_string(port));
    s.options.set("every", Duration(100ms));
    s.options.set("timeout", timeout);
    return s;
  }
};

TEST_F(TcpCollectorTest, ConnectsAndIsUp) {
  testing::TestHttpServer server(ioc_, nullptr);
  auto c = start(source(server.port()));
  ASSERT_TRUE(wait_attempts(2));
  for (const auto& a : sink_.attempts()) {
    EXPECT_TRUE(a.outcome.up) << a.outcome.error;
    EXPECT_EQ(a.value("up"), 1.0);
    EXPECT_GT(a.value("duration").value_or(0), 0.0);
    EXPECT_EQ(a.records.size(), 2u);
  }
  // The kernel completes a connect before the server's accept runs.
  EXPECT_TRUE(testing::run_until(ioc_, [&] { return server.connections_accepted() >= 2; }));
}

TEST_F(TcpCollectorTest, ConnectionRefusedIsDownAndProbingGoesOn) {
  const std::uint16_t port = testing::unused_loopback_port();
  auto c = start(source(port));
  ASSERT_TRUE(wait_attempts(3));
  for (const auto& a : sink_.attempts()) {
    EXPECT_FALSE(a.outcome.up);
    EXPECT_EQ(a.outcome.error,
              "connect 127.0.0.1:" + std::to_string(port) + ": Connection refused");
    EXPECT_EQ(a.value("up"), 0.0);
  }
}

TEST_F(TcpCollectorTest, ConnectThatHangsTimesOutAndProbingGoesOn) {
  testing::StalledListener stalled;
  auto c = start(source(stalled.port(), 200ms));
  ASSERT_TRUE(wait_attempts(2));
  for (const auto& a : sink_.attempts()) {
    EXPECT_FALSE(a.outcome.up);
    EXPECT_EQ(a.outcome.error, "timeout after 200ms");
    EXPECT_DOUBLE_EQ(a.value("duration").value_or(0), 0.2);
  }
}

TEST_F(TcpCollectorTest, StopDuringAConnectEndsEverything) {
  testing::StalledListener stalled;
  auto c = start(source(stalled.port(), 5s));
  bool stopped = false;
  // Queued behind start(): the attempt is in flight when stop() runs.
  asio::post(strand_, [&] {
    c->stop();
    stopped = true;
  });
  ASSERT_TRUE(testing::run_until(ioc_, [&] { return stopped; }));
  EXPECT_TRUE(testing::run_until_idle(ioc_, 2s));  // well before the 5 s timeout
  EXPECT_EQ(sink_.calls(), 0u);
}

}  // namespace
}  // namespace backout::collectors
