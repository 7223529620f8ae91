// End to end, the "bad targets must not take the agent down" part of the running-agent issue
// (DESIGN §5 "a source that cannot be reached is itself reported", §8 "never crash or hang on
// bad input"): the real agent watches the healthy PortalApp sources plus hostile endpoints on
// loopback, served by TestHttpServer on a thread of the test:
//   garbled     prometheus: a /metrics body of garbage and partial lines around one valid sample
//   garbage     prometheus: an HTML page answered 200, not one valid line
//   oversized   prometheus: 1 MiB with Content-Length, max_body_bytes 64 KiB
//   unframed    prometheus: 1 MiB delimited by the end of the connection, max_body_bytes 64 KiB
//   huge        prometheus: 16 MiB + 4 KiB against the default limit (16 MiB)
//   silent      prometheus: accepts the connection, reads the request, never answers
//   self_signed http probe: HTTPS with a self-signed certificate (no ca_file)
//   wrong_host  http probe: HTTPS with a trusted certificate for another host name
// Each one that cannot be read is reported down with a readable reason (status, /metrics,
// timeline, log); malformed lines are counted and skipped, keeping the valid samples; and all
// the while the agent stays alive, healthy and ready, keeps scraping and evaluating the healthy
// sources and triggers, and still stops at once on SIGTERM.
//
// Time: every wait polls the agent's API with a bound (the slowest hostile source, `silent`,
// is down one 1 s timeout after its first attempt); nothing sleeps to let time pass.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "integration/agent_fixture.h"
#include "support/test_http_server.h"

namespace backout::testing {
namespace {

using namespace std::string_literals;

// One valid sample among lines a broken or hostile exporter may send; kGarbledBadLines of them
// are malformed, the last one cut off without its line end.
const std::string kGarbledBody =
    "# HELP hostile_ok_value A valid sample among garbage.\n"
    "# TYPE hostile_ok_value gauge\n"
    "hostile_ok_value 42\n"
    "<html><body>502 Bad Gateway</body></html>\n"
    "hostile_no_value\n"
    "hostile_bad_value{code=\"200\"} twelve\n"
    "hostile_unterminated{code=\"200\n"
    "{code=\"500\"} 3\n"
    "# TYPE hostile_other sometype\n"
    "\x01\x02\xff\xfe\0 binary\n"
    "hostile_ok_value 42 17 junk\n"s +
    "hostile_long_line{x=\"" + std::string(100 * 1024, 'x') + "\"} 1\n" +
    "hostile_partial{code=\"2";
constexpr int kGarbledBadLines = 10;

const std::string kGarbageBody =
    "<!DOCTYPE html>\n"
    "<html><head><title>Down for maintenance</title></head>\n"
    "<body><h1>We'll be back soon</h1></body></html>\n";
constexpr int kGarbageBadLines = 3;

// Valid exposition lines up to at least `bytes`.
std::string padding(std::size_t bytes) {
  std::string out;
  out.reserve(bytes + 64);
  for (std::size_t i = 0; out.size() < bytes; ++i) {
    out += "hostile_padding_total{i=\"" + std::to_string(i) + "\"} 1\n";
  }
  return out;
}

/// A hostile source and what its reason for being down must say.
struct DownSource {
  std::string id;
  std::vector<std::string> reason_patterns;  // ECMAScript regexes, all searched in last_error
};

class HostileSourcesTest : public AgentFixture {
 protected:
  // No PostgreSQL: these plans have no database source.
  static void SetUpTestSuite() {}
  static void TearDownTestSuite() {}

  void SetUp() override {
    AgentFixture::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    const TestCertificate& self_signed = localhost_certificate();
    const TestCertificate& other_host = other_host_certificate();
    ASSERT_FALSE(self_signed.cert_file.empty() || other_host.cert_file.empty());

    auto oversized = std::make_shared<const std::string>(padding(1 << 20));
    auto unframed = std::make_shared<const std::string>(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nConnection: close\r\n\r\n" +
        *oversized);
    auto huge = std::make_shared<const std::string>(padding((16u << 20) + 4096));
    plain_ =
        std::make_unique<TestHttpServer>(io_, [oversized, unframed, huge](const TestRequest& req) {
          TestResponse r;
          r.headers = {{"Content-Type", "text/plain; version=0.0.4"}};
          if (req.target == "/garbled") {
            r.body = kGarbledBody;
          } else if (req.target == "/garbage") {
            r.headers = {{"Content-Type", "text/html"}};
            r.body = kGarbageBody;
          } else if (req.target == "/oversized") {
            r.body = *oversized;
          } else if (req.target == "/unframed") {
            r.raw = *unframed;
          } else if (req.target == "/huge") {
            r.body = *huge;
          } else if (req.target == "/silent") {
            r.mode = TestResponse::Mode::kNeverAnswer;
          } else {
            r.status = 404;
          }
          return r;
        });
    const TestHandler ok = [](const TestRequest&) {
      TestResponse r;
      r.body = "ok\n";
      return r;
    };
    TestHttpServer::Options tls;
    tls.tls = true;
    tls.certificate = self_signed;
    self_signed_ = std::make_unique<TestHttpServer>(io_, ok, tls);
    tls.certificate = other_host;
    wrong_host_ = std::make_unique<TestHttpServer>(io_, ok, tls);
    work_.emplace(io_.get_executor());
    io_thread_ = std::thread([this] { io_.run(); });

    TestPlanOptions o;
    o.with_postgres = false;
    o.start_in = 1s;
    const std::string p = plain_->url("");
    const std::string fast = "every: 500ms, timeout: 1s";
    std::string& src = o.extra_sources;
    src += "  garbled: { kind: prometheus, url: " + p + "/garbled, " + fast + " }\n";
    src += "  garbage: { kind: prometheus, url: " + p + "/garbage, " + fast + " }\n";
    src += "  oversized: { kind: prometheus, url: " + p + "/oversized, " + fast +
           ", max_body_bytes: 65536 }\n";
    src += "  unframed: { kind: prometheus, url: " + p + "/unframed, " + fast +
           ", max_body_bytes: 65536 }\n";
    src += "  huge: { kind: prometheus, url: " + p + "/huge, every: 2s, timeout: 2s }\n";
    src += "  silent: { kind: prometheus, url: " + p + "/silent, " + fast + " }\n";
    src += "  self_signed: { kind: http, url: " + self_signed_->url("/") + ", " + fast + " }\n";
    src += "  wrong_host: { kind: http, url: " + wrong_host_->url("/") + ", " + fast +
           ", ca_file: \"" + other_host.cert_file + "\" }\n";
    // Proves the valid sample among the garbage reaches the rules (value 42, far from 100).
    o.extra_triggers = R"(  - id: garbled_value
    name: Valid sample among garbage
    measure: value(garbled.hostile_ok_value)
    over: 10s
    when: "> 100"
    severity: minor
)";
    write_plan(o);
    start_agent();
  }

  void TearDown() override {
    if (HasFailure() && port_ != 0) {
      std::cerr << "status:\n" << json::serialize(status()) << "\n";
    }
    AgentFixture::TearDown();  // the agent first: nothing more reaches the servers
    work_.reset();
    io_.stop();
    if (io_thread_.joinable()) {
      io_thread_.join();
    }
    plain_.reset();
    self_signed_.reset();
    wrong_host_.reset();
  }

  /// The source's entry in /api/v1/status (empty when missing).
  json::object source_status(const std::string& id) {
    json::object st = status();
    if (auto it = st.find("sources"); it != st.end() && it->value().is_array()) {
      for (const auto& s : it->value().as_array()) {
        if (s.is_object() && field(s.as_object(), "id") == id) {
          return s.as_object();
        }
      }
    }
    return {};
  }
  /// nullopt before the first attempt (or when the source is missing).
  std::optional<bool> source_up(const json::object& s) {
    const json::value* up = s.if_contains("up");
    return up != nullptr && up->is_bool() ? std::optional<bool>(up->as_bool()) : std::nullopt;
  }
  json::object trigger_status(const std::string& id) {
    json::object st = status();
    if (auto it = st.find("triggers"); it != st.end() && it->value().is_array()) {
      for (const auto& t : it->value().as_array()) {
        if (t.is_object() && field(t.as_object(), "id") == id) {
          return t.as_object();
        }
      }
    }
    return {};
  }
  static std::optional<double> number(const json::object& o, const char* key) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || !v->is_number()) {
      return std::nullopt;
    }
    return v->to_number<double>();
  }

  /// The hostile sources that cannot be read, with what their reason must say.
  static std::vector<DownSource> down_sources() {
    return {
        {"garbage", {"^no valid sample in the response \\(not the Prometheus text format\\?\\); "
                     "line [0-9]+: "}},
        {"oversized", {"^response body over 64 KiB \\(Content-Length [0-9]+\\)$"}},
        {"unframed", {"^response body over 64 KiB$"}},
        {"huge", {"^response body over 16 MiB \\(Content-Length [0-9]+\\)$"}},
        {"silent", {"^timeout after 1s$"}},
        {"self_signed", {"^TLS: ", "certificate verify failed", "self.signed certificate"}},
        {"wrong_host", {"^TLS: ", "certificate verify failed", "(IP address|host ?name) mismatch"}},
    };
  }
  static bool matches_all(const std::string& text, const std::vector<std::string>& patterns) {
    for (const std::string& p : patterns) {
      if (!std::regex_search(text, std::regex(p, std::regex::icase))) {
        return false;
      }
    }
    return true;
  }
  /// Waits until every source of down_sources() is down with its reason.
  void wait_all_down() {
    for (const DownSource& d : down_sources()) {
      json::object s;
      EXPECT_TRUE(eventually(
          [&] {
            s = source_status(d.id);
            return source_up(s) == false && matches_all(field(s, "last_error"), d.reason_patterns);
          },
          10s))
          << d.id << ": " << json::serialize(s);
    }
  }

  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread io_thread_;
  std::unique_ptr<TestHttpServer> plain_;
  std::unique_ptr<TestHttpServer> self_signed_;
  std::unique_ptr<TestHttpServer> wrong_host_;
};

TEST_F(HostileSourcesTest, EachUnreadableSourceIsReportedDownWithAReadableReason) {
  wait_all_down();
  for (const DownSource& d : down_sources()) {
    SCOPED_TRACE(d.id);
    const json::object s = source_status(d.id);
    const std::string reason = field(s, "last_error");
    // Readable: one short line of text, none of the target's bytes.
    EXPECT_LT(reason.size(), 200u) << reason;
    EXPECT_TRUE(std::all_of(reason.begin(), reason.end(), [](unsigned char c) {
      return c >= 0x20 && c < 0x7f;
    })) << reason;
    EXPECT_EQ(metric("backout_source_up", {{"source", d.id}}), 0.0);
    EXPECT_GE(metric_or_zero("backout_source_failures_total", {{"source", d.id}}), 1.0);
    EXPECT_GE(metric_or_zero("backout_source_attempts_total", {{"source", d.id}}), 1.0);
    // The operator's log says it once (not on every failed attempt), with the same reason.
    const std::vector<std::string> lines = log_lines();
    EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                            [&](const std::string& l) {
                              return l.find("source " + d.id + " is down: ") != std::string::npos;
                            }),
              1)
        << log();
    EXPECT_NE(log().find("source " + d.id + " is down: " + reason), std::string::npos) << log();
  }
  // The timeline has a `source` event, down with its error, for each.
  const std::vector<json::object> events = timeline_of("source");
  for (const DownSource& d : down_sources()) {
    bool found = false;
    for (const json::object& e : events) {
      const json::value* up = e.if_contains("up");
      found = found || (field(e, "source") == d.id && up != nullptr && up->is_bool() &&
                        !up->as_bool() && matches_all(field(e, "error"), d.reason_patterns));
    }
    EXPECT_TRUE(found) << d.id << " has no down event in the timeline";
  }
}

TEST_F(HostileSourcesTest, MalformedLinesAreCountedAndSkippedKeepingTheValidSamples) {
  // garbled: up (the scrape itself worked), every bad line counted, the valid sample delivered.
  json::object s;
  ASSERT_TRUE(eventually(
      [&] {
        s = source_status("garbled");
        return source_up(s) == true;
      },
      10s))
      << json::serialize(s);
  EXPECT_TRUE(s.at("last_error").is_null()) << json::serialize(s);
  EXPECT_EQ(metric("backout_source_up", {{"source", "garbled"}}), 1.0);
  EXPECT_TRUE(eventually(
      [&] {
        return metric_or_zero("backout_source_malformed_total", {{"source", "garbled"}}) >=
               kGarbledBadLines;
      },
      10s))
      << "malformed lines counted: "
      << metric_or_zero("backout_source_malformed_total", {{"source", "garbled"}});
  EXPECT_EQ(metric_or_zero("backout_source_failures_total", {{"source", "garbled"}}), 0.0);
  json::object t;
  EXPECT_TRUE(eventually(
      [&] {
        t = trigger_status("garbled_value");
        return field(t, "state") == "ok" && number(t, "value") == 42.0;
      },
      10s))
      << json::serialize(t);
  // The operator hears of it (a few times, not on every scrape), with the first bad line.
  EXPECT_NE(log().find("source garbled: " + std::to_string(kGarbledBadLines) +
                       " malformed lines skipped (line "),
            std::string::npos)
      << log();

  // garbage: not one valid line, every one counted; it is down (down_sources() has its reason).
  EXPECT_TRUE(eventually(
      [&] {
        return metric_or_zero("backout_source_malformed_total", {{"source", "garbage"}}) >=
               kGarbageBadLines;
      },
      10s))
      << json::serialize(source_status("garbage"));
}

TEST_F(HostileSourcesTest, TheAgentKeepsWatchingTheHealthySources) {
  wait_all_down();
  ASSERT_FALSE(agent_->wait_exit(0ms)) << "the agent exited: " << log();
  EXPECT_EQ(http_get(port_, "/healthz").status, 200);
  EXPECT_EQ(http_get(port_, "/readyz").status, 200);

  for (const char* id : {"portal", "home_page", "api"}) {
    json::object s = source_status(id);
    EXPECT_EQ(source_up(s), true) << json::serialize(s);
    EXPECT_EQ(metric("backout_source_up", {{"source", id}}), 1.0) << id;
    // Not held up behind the hostile ones: its scrape still takes milliseconds.
    EXPECT_LT(metric_or_zero("backout_source_scrape_duration_seconds", {{"source", id}}), 0.5)
        << id;
  }
  EXPECT_TRUE(wait_recommendation("go", 10s)) << json::serialize(status());
  json::object login;
  EXPECT_TRUE(eventually(
      [&] {
        login = trigger_status("login_failure_rate");
        const auto v = number(login, "value");
        const auto n = number(login, "observations");
        return field(login, "state") == "ok" && v && std::isfinite(*v) && n && *n >= 20;
      },
      15s))
      << json::serialize(login);
  json::object page;
  EXPECT_TRUE(eventually(
      [&] {
        page = trigger_status("page_load_time");
        const auto v = number(page, "value");
        return field(page, "state") == "ok" && v && *v < 0.5;
      },
      10s))
      << json::serialize(page);

  // Still going: the portal is scraped and the triggers evaluated, tick after tick.
  const double scrapes = metric_or_zero("backout_source_attempts_total", {{"source", "portal"}});
  const double ticks = metric_or_zero("backout_evaluation_duration_seconds_count", {});
  EXPECT_TRUE(eventually(
      [&] {
        return metric_or_zero("backout_source_attempts_total", {{"source", "portal"}}) >=
                   scrapes + 2 &&
               metric_or_zero("backout_evaluation_duration_seconds_count", {}) >= ticks + 5;
      },
      5s))
      << "scrapes " << scrapes << ", ticks " << ticks;
  // A hostile exchange in flight (the silent target holds its connection) does not delay a stop.
  std::chrono::milliseconds took{0};
  EXPECT_EQ(agent_->stop(5s, &took), 0) << log();
  EXPECT_LT(took.count(), 1000) << "SIGTERM must stop the agent within a second";
}

}  // namespace
}  // namespace backout::testing
