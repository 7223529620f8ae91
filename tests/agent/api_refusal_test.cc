// Issue 14, item 13: one warning line per unauthenticated POST, with no limit, let a flood drown
// the journal. Refusals are counted (unauthorized_refusals) and logged at the 1st, 2nd, 4th ...
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <string>

#include "app/api/api.h"
#include "app/http/http_message.h"

namespace backout::agent {
namespace {

std::size_t lines_with(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

TEST(ApiRefusalTest, AFloodOfUnauthenticatedPostsIsCountedAndLoggedSparingly) {
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));

  http::HttpRequest req;
  req.method = "POST";
  req.path = "/api/v1/ack";
  req.remote_address = "127.0.0.1";
  req.headers["Authorization"] = "Bearer wrong";
  const std::uint64_t before = unauthorized_refusals();
  for (int i = 0; i < 1000; ++i) {
    auto r = refuse_unauthorized(std::string("the-token"), req);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 401);
  }
  req.headers["Authorization"] = "Bearer the-token";
  EXPECT_FALSE(refuse_unauthorized(std::string("the-token"), req).has_value());
  spdlog::set_default_logger(previous);

  EXPECT_EQ(unauthorized_refusals() - before, 1000u);
  const std::string log = captured.str();
  // 1000 refusals: logged at the powers of two among them (7 to 10 lines, as other tests of
  // this process may have refused before), not 1000 times.
  EXPECT_LE(lines_with(log, "refused POST /api/v1/ack"), 11u) << log;
  EXPECT_GE(lines_with(log, "refused POST /api/v1/ack"), 7u) << log;
  EXPECT_NE(log.find("refused so far"), std::string::npos) << log;
}

}  // namespace
}  // namespace backout::agent
