// The fixture of end-to-end tests that stop, kill and restart the real agent on one state_dir:
// a temp directory per test (plan file and state), the PortalApp, a chat receiver that takes
// both the Slack-shaped chat posts (/hook) and, when the plan asks, the generic webhook's
// payloads with their idempotency keys (/generic), a real PostgreSQL per suite, and readers for
// the agent's API (status, timeline, metrics) and log (the pages it decided, in order, across
// restarts). Header-only: the test folder compiles *_test.cc only. One test thread.
//
// Time: every wait is bounded and polls a condition (the agent's API, the receiver, the log);
// a test that needs time to pass (an outage of a given length, a quiet stretch in which nothing
// may be paged) says so where it waits.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/apps/agent_process.h"
#include "support/apps/portal_app.h"
#include "support/apps/test_plans.h"
#include "support/apps/webhook_receiver.h"
#include "support/postgres_server.h"

namespace backout::testing {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

inline constexpr const char* kToken = "integration-test-token";

/// One delivery event of the timeline.
struct DeliveryEvent {
  std::string channel;
  std::string key;
  std::string outcome;
};

/// A page the agent decided, from its log line "page KEY (KIND) to ...".
struct DecidedPage {
  std::string key;
  std::string kind;
};

/// Polls `pred` every 100 ms until it holds or `timeout` passes.
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(100ms);  // polling a condition, not letting time pass
  }
}

class AgentFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pg_ = new PostgresServer();
    Status s = pg_->start();
    ASSERT_TRUE(s.ok()) << s.error();
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }

  void SetUp() override {
    // Suites without PostgreSQL hide SetUpTestSuite (their plans have no portal_db source).
    if (pg_ != nullptr && !pg_->running()) {
      ASSERT_TRUE(pg_->start().ok());
    }
    dir_ = fs::temp_directory_path() /
           ("backout-it-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "state");
  }
  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "agent log:\n" << log() << "\n";
    }
    agent_.reset();
    fs::remove_all(dir_);
  }

  /// Writes the plan once (its window is fixed then; restarts reuse the file).
  void write_plan(TestPlanOptions o) {
    o.portal = portal_.base_url();
    o.state_dir = (dir_ / "state").string();
    plan_options_ = o;
    std::ofstream(plan_path()) << agent_plan_text(o);
  }
  std::string plan_path() const { return (dir_ / "plan.yaml").string(); }

  /// Starts the agent on the plan and state_dir; waits for its port and for the window to be
  /// open (polling the status: a restarted agent logs no phase change).
  void start_agent() {
    if (agent_) {
      for (auto& l : agent_->log()) {
        earlier_log_.push_back(std::move(l));
      }
      agent_.reset();
    }
    std::map<std::string, std::string> env{{"ONCALL_CHAT_WEBHOOK", chat_.url("/hook")},
                                           {"GENERIC_WEBHOOK", chat_.url("/generic")},
                                           {"BACKOUT_AGENT_TOKEN", kToken}};
    if (pg_ != nullptr) {
      env["PORTAL_DB_DSN"] = pg_->dsn();
    }
    for (const auto& [k, v] : extra_env_) {
      env[k] = v;
    }
    std::vector<std::string> args{"run",    "--plan", plan_path(), "--listen", "127.0.0.1:0",
                                  "--tick", tick_};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    agent_ = std::make_unique<AgentProcess>(BACKOUT_AGENT_BIN, std::move(args), std::move(env));
    port_ = agent_->wait_for_port(20s);
    ASSERT_NE(port_, 0) << log();
    ASSERT_TRUE(eventually([&] { return phase() == "in_window"; }, 20s)) << log();
  }
  /// SIGTERM: a clean stop, exit code 0.
  void stop_agent() {
    ASSERT_TRUE(agent_);
    EXPECT_EQ(agent_->stop(10s), 0) << log();
  }
  /// SIGKILL: the crash of the durability requirement.
  void kill_agent() {
    ASSERT_TRUE(agent_);
    agent_->kill9();
  }

  // ---- The agent's API ----------------------------------------------------------------------

  json::object status() {
    HttpResult r = http_get(port_, "/api/v1/status");
    if (r.status != 200) {
      return {};
    }
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    return !ec && v.is_object() ? v.as_object() : json::object{};
  }
  std::string phase() { return field(status(), "phase"); }
  std::string recommendation() { return field(status(), "recommendation"); }
  bool wait_recommendation(const std::string& want, std::chrono::milliseconds timeout) {
    return eventually([&] { return recommendation() == want; }, timeout);
  }
  /// The trigger's state in the status ("" when unknown).
  std::string trigger_state(const std::string& id) {
    json::object st = status();
    if (auto it = st.find("triggers"); it != st.end() && it->value().is_array()) {
      for (const auto& t : it->value().as_array()) {
        if (t.is_object() && field(t.as_object(), "id") == id) {
          return field(t.as_object(), "state");
        }
      }
    }
    return "";
  }
  /// The open episode of `trigger` in the status (empty when none).
  json::object open_breach(const std::string& trigger) {
    json::object st = status();
    if (auto it = st.find("open_breaches"); it != st.end() && it->value().is_array()) {
      for (const auto& e : it->value().as_array()) {
        if (e.is_object() && field(e.as_object(), "trigger") == trigger) {
          return e.as_object();
        }
      }
    }
    return {};
  }

  HttpResult post(const std::string& path, const json::object& body,
                  const std::string& token = kToken) {
    return http_post(port_, path, json::serialize(body), token);
  }

  /// The whole timeline, oldest first.
  std::vector<json::object> timeline() {
    std::vector<json::object> out;
    for (std::size_t from = 0;;) {
      HttpResult r = http_get(port_, "/api/v1/timeline?from=" + std::to_string(from) +
                                         "&limit=10000");
      if (r.status != 200) {
        ADD_FAILURE() << "GET /api/v1/timeline: " << r.status;
        return out;
      }
      json::object page = json::parse(r.body).as_object();
      const json::array& events = page["events"].as_array();
      for (const auto& e : events) {
        out.push_back(e.as_object());
      }
      if (events.empty()) {
        return out;
      }
      from += events.size();
    }
  }
  std::vector<json::object> timeline_of(const std::string& kind) {
    std::vector<json::object> out;
    for (json::object& e : timeline()) {
      if (field(e, "kind") == kind) {
        out.push_back(std::move(e));
      }
    }
    return out;
  }
  /// The timeline's delivery events of `channel` with `outcome` ("" for all), in order.
  std::vector<DeliveryEvent> deliveries(const std::string& channel,
                                        const std::string& outcome = "delivered") {
    std::vector<DeliveryEvent> out;
    for (const json::object& e : timeline_of("delivery")) {
      DeliveryEvent d{field(e, "channel"), field(e, "key"), field(e, "outcome")};
      if (d.channel == channel && (outcome.empty() || d.outcome == outcome)) {
        out.push_back(std::move(d));
      }
    }
    return out;
  }

  /// A sample of /metrics: `name` with every label of `labels` (nullopt when absent).
  std::optional<double> metric(const std::string& name,
                               const std::map<std::string, std::string>& labels) {
    HttpResult r = http_get(port_, "/metrics");
    if (r.status != 200) {
      return std::nullopt;
    }
    std::istringstream in(r.body);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(name + "{", 0) != 0 && line.rfind(name + " ", 0) != 0) {
        continue;
      }
      bool all = true;
      for (const auto& [k, v] : labels) {
        all = all && line.find(k + "=\"" + v + "\"") != std::string::npos;
      }
      if (all) {
        return std::stod(line.substr(line.rfind(' ') + 1));
      }
    }
    return std::nullopt;
  }
  double metric_or_zero(const std::string& name,
                        const std::map<std::string, std::string>& labels) {
    return metric(name, labels).value_or(0);
  }

  // ---- The agent's log ----------------------------------------------------------------------

  /// Every log line of this test's agent processes, oldest first.
  std::vector<std::string> log_lines() const {
    std::vector<std::string> out = earlier_log_;
    if (agent_) {
      for (auto& l : agent_->log()) {
        out.push_back(std::move(l));
      }
    }
    return out;
  }
  std::string log() const {
    std::string out;
    for (const auto& l : log_lines()) {
      out += l + "\n";
    }
    return out;
  }
  /// The pages the paging policy decided, in order, across restarts.
  std::vector<DecidedPage> decided() const {
    static const std::regex re(" page (\\S+) \\((\\w+)\\) to ");
    std::vector<DecidedPage> out;
    for (const auto& l : log_lines()) {
      std::smatch m;
      if (std::regex_search(l, m, re)) {
        out.push_back({m[1], m[2]});
      }
    }
    return out;
  }
  std::vector<std::string> decided_keys() const {
    std::vector<std::string> out;
    for (const auto& p : decided()) {
      out.push_back(p.key);
    }
    return out;
  }
  bool wait_decided(const std::string& key, std::chrono::milliseconds timeout) const {
    return eventually(
        [&] {
          for (const auto& p : decided()) {
            if (p.key == key) {
              return true;
            }
          }
          return false;
        },
        timeout);
  }

  // ---- What the receiver got ----------------------------------------------------------------

  /// Posts to `path` ("/hook": chat, "/generic": the generic webhook), in arrival order.
  std::vector<ReceivedPost> posts_to(const std::string& path) const {
    std::vector<ReceivedPost> out;
    for (auto& p : chat_.posts()) {
      if (p.path == path) {
        out.push_back(std::move(p));
      }
    }
    return out;
  }
  /// The generic webhook's payloads, in arrival order, without the echoes of people's acts
  /// (those are not pages of the paging policy).
  std::vector<json::object> generic_pages() const {
    std::vector<json::object> out;
    for (const auto& p : posts_to("/generic")) {
      json::object o = json::parse(p.body).as_object();
      if (field(o, "kind") != "act") {
        out.push_back(std::move(o));
      }
    }
    return out;
  }
  static std::vector<std::string> keys_of(const std::vector<json::object>& payloads) {
    std::vector<std::string> out;
    for (const auto& o : payloads) {
      out.push_back(field(o, "key"));
    }
    return out;
  }
  static std::vector<std::string> duplicates(const std::vector<std::string>& v) {
    std::set<std::string> seen;
    std::vector<std::string> out;
    for (const auto& s : v) {
      if (!seen.insert(s).second) {
        out.push_back(s);
      }
    }
    return out;
  }
  static bool is_act_key(const std::string& key) { return key.rfind("act:", 0) == 0; }

  static std::string field(const json::object& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                    : std::string();
  }
  static std::string join_all(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) {
      out += (out.empty() ? "" : ", ") + s;
    }
    return out;
  }

  inline static PostgresServer* pg_ = nullptr;
  std::string tick_ = "100ms";  // the agent's --tick
  std::map<std::string, std::string> extra_env_;  // added to the agent's environment
  std::vector<std::string> extra_args_;           // appended to `run`'s options
  fs::path dir_;
  PortalApp portal_;
  WebhookReceiver chat_;
  TestPlanOptions plan_options_;
  std::unique_ptr<AgentProcess> agent_;
  std::vector<std::string> earlier_log_;
  std::uint16_t port_ = 0;
};

}  // namespace backout::testing
