// Issue 14, defect 5, against the real agent: SIGHUP used to be a full stop and start (every
// window emptied, STOPPING=1 sent to systemd, and a plan that parsed but could not start made the
// process exit 2). The test is systemd: it gives the agent a notify socket (NOTIFY_SOCKET) and
// reads what the agent tells it.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "integration/agent_fixture.h"

namespace backout::testing {
namespace {

// systemd's side of sd_notify(3): a datagram socket the agent sends its state changes to.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    ::unlink(path.c_str());
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ADD_FAILURE() << "cannot bind the notify socket " << path << ": " << std::strerror(errno);
    }
  }
  ~NotifySocket() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    ::unlink(path_.c_str());
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  /// Every message received so far, in order.
  const std::vector<std::string>& messages() {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        break;
      }
      messages_.emplace_back(buf, static_cast<std::size_t>(n));
    }
    return messages_;
  }
  /// Index of the first message from `from` on that contains `text`, or -1.
  int find(const std::string& text, std::size_t from = 0) {
    const auto& m = messages();
    for (std::size_t i = from; i < m.size(); ++i) {
      if (m[i].find(text) != std::string::npos) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }
  bool wait_for(const std::string& text, std::size_t from, std::chrono::milliseconds timeout) {
    return eventually([&] { return find(text, from) >= 0; }, timeout);
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
};

class ReloadTest : public AgentFixture {
 protected:
  // No PostgreSQL: the plan has no portal_db source.
  static void SetUpTestSuite() {}
  static void TearDownTestSuite() {}

  void SetUp() override {
    AgentFixture::SetUp();
    notify_ = std::make_unique<NotifySocket>((dir_ / "notify.sock").string());
    extra_env_["NOTIFY_SOCKET"] = (dir_ / "notify.sock").string();
    TestPlanOptions o;
    o.with_postgres = false;
    write_plan(o);
    start_agent();
    ASSERT_TRUE(notify_->wait_for("READY=1", 0, 10s));
  }
  void TearDown() override {
    AgentFixture::TearDown();
    notify_.reset();
  }

  /// Sends SIGHUP and waits for systemd's reload protocol: RELOADING=1 (with MONOTONIC_USEC),
  /// then READY=1. Returns the index of the READY=1 message.
  int reload() {
    const std::size_t before = notify_->messages().size();
    agent_->signal(SIGHUP);
    EXPECT_TRUE(notify_->wait_for("RELOADING=1", before, 10s)) << log();
    const int reloading = notify_->find("RELOADING=1", before);
    if (reloading < 0) {
      return -1;
    }
    EXPECT_NE(notify_->messages()[static_cast<std::size_t>(reloading)].find("MONOTONIC_USEC="),
              std::string::npos);
    EXPECT_TRUE(notify_->wait_for("READY=1", static_cast<std::size_t>(reloading) + 1, 10s))
        << log();
    return notify_->find("READY=1", static_cast<std::size_t>(reloading) + 1);
  }

  int chat_posts_about(const std::string& text) const {
    int n = 0;
    for (const ReceivedPost& p : chat_.posts()) {
      n += p.body.find(text) != std::string::npos ? 1 : 0;
    }
    return n;
  }

  double observations(const std::string& trigger) {
    json::object st = status();
    if (auto it = st.find("triggers"); it != st.end() && it->value().is_array()) {
      for (const auto& t : it->value().as_array()) {
        if (t.is_object() && field(t.as_object(), "id") == trigger) {
          if (const auto* o = t.as_object().if_contains("observations"); o && o->is_number()) {
            return o->to_number<double>();
          }
        }
      }
    }
    return -1;
  }

  std::string agent_event(const std::string& what) {
    for (const json::object& e : timeline_of("agent")) {
      if (field(e, "event") == what) {
        return field(e, "detail");
      }
    }
    return "";
  }

  std::unique_ptr<NotifySocket> notify_;
};

// A breach open before a reload of the same plan is still breached right after it, its window
// still full, and it is not paged again; systemd is told RELOADING=1 and READY=1, never
// STOPPING=1; the agent answers on the same port throughout.
TEST_F(ReloadTest, AReloadOfTheSamePlanKeepsAnOpenBreachAndPagesNobody) {
  ASSERT_TRUE(wait_recommendation("go", 10s)) << log();
  PortalConditions c = portal_.conditions();
  c.login_failure_rate = 0.20;
  portal_.set(c);
  ASSERT_TRUE(wait_decided("breach:login_failure_rate#1", 20s)) << log();
  ASSERT_TRUE(eventually([&] { return chat_posts_about("Login failure rate") > 0; }, 10s))
      << log();
  const int posts_before = chat_posts_about("Login failure rate");
  const int port_before = port_;

  ASSERT_GE(reload(), 0);
  // Right after the reload: still breached, with the window's observations (an emptied window
  // starts from the next scrape's counters, 0 observations).
  EXPECT_GE(observations("login_failure_rate"), 20) << log();
  EXPECT_EQ(trigger_state("login_failure_rate"), "breached") << log();
  EXPECT_EQ(port_, port_before);
  EXPECT_FALSE(open_breach("login_failure_rate").empty());
  EXPECT_NE(agent_event("reloaded").find("kept"), std::string::npos) << agent_event("reloaded");
  EXPECT_TRUE(agent_->wait_for_log("reloaded", 5s));

  // A quiet stretch: nothing may be paged because of the reload (group_wait is 500 ms, the
  // tick 100 ms; 3 s is many of both).
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(trigger_state("login_failure_rate"), "breached") << log();
  for (const std::string& key : decided_keys()) {
    EXPECT_NE(key, "breach:login_failure_rate#2") << log();
  }
  EXPECT_EQ(chat_posts_about("Login failure rate"), posts_before) << log();
  EXPECT_EQ(notify_->find("STOPPING=1"), -1);
  // The agent's process did not restart its watch: one start in the timeline, one reload.
  int started = 0;
  for (const json::object& e : timeline_of("agent")) {
    started += field(e, "event") == "started" || field(e, "event") == "restarted" ? 1 : 0;
  }
  EXPECT_EQ(started, 1);

  // And a stop is a stop: STOPPING=1 then.
  stop_agent();
  EXPECT_GE(notify_->find("STOPPING=1"), 0);
}

// A plan that parses but cannot start (an unset *_env) keeps the running one: the process goes
// on watching and paging, the refusal is logged, counted and in the timeline, and systemd gets
// READY=1 after RELOADING=1.
TEST_F(ReloadTest, APlanThatCannotStartKeepsTheRunningOne) {
  std::string text;
  {
    std::ifstream in(plan_path());
    std::ostringstream all;
    all << in.rdbuf();
    text = all.str();
  }
  const std::string var = "BACKOUT_AGENT_TOKEN";
  const std::size_t at = text.find(var);
  ASSERT_NE(at, std::string::npos);
  std::string broken = text;
  broken.replace(at, var.size(), "BACKOUT_AGENT_TOKEN_NOT_SET");
  std::ofstream(plan_path()) << broken;

  ASSERT_GE(reload(), 0);
  EXPECT_TRUE(agent_->wait_for_log("the new plan cannot start; keeping the running one", 5s))
      << log();
  EXPECT_FALSE(agent_->wait_exit(500ms).has_value()) << log();
  EXPECT_EQ(metric_or_zero("backout_errors_total", {{"kind", "reload_refused"}}), 1);
  EXPECT_NE(agent_event("reload_refused").find("BACKOUT_AGENT_TOKEN_NOT_SET"), std::string::npos)
      << agent_event("reload_refused");

  // A plan that does not even parse: refused the same way.
  std::ofstream(plan_path()) << "plan: [unclosed\n";
  ASSERT_GE(reload(), 0);
  EXPECT_TRUE(agent_->wait_for_log("the new plan is not valid; keeping the running one", 5s));
  EXPECT_EQ(metric_or_zero("backout_errors_total", {{"kind", "reload_refused"}}), 2);

  // Still watching and paging on the plan that was running.
  ASSERT_TRUE(wait_recommendation("go", 10s)) << log();
  PortalConditions c = portal_.conditions();
  c.login_failure_rate = 0.20;
  portal_.set(c);
  EXPECT_TRUE(wait_decided("breach:login_failure_rate#1", 20s)) << log();
  EXPECT_EQ(notify_->find("STOPPING=1"), -1);

  // The fixed plan reloads.
  std::ofstream(plan_path()) << text;
  ASSERT_GE(reload(), 0);
  EXPECT_TRUE(agent_->wait_for_log("reloaded", 5s)) << log();
  EXPECT_EQ(trigger_state("login_failure_rate"), "breached") << log();
}

}  // namespace
}  // namespace backout::testing
