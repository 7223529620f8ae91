// The Alertmanager channel against a real Alertmanager (Debian's prometheus-alertmanager): the
// test starts it on a free loopback port with a temp config that routes every alert to a webhook
// receiver run by the test, posts a breach and then its resolve, and checks that the receiver
// gets the firing alert with our labels and then the resolved one. Bounded waits throughout;
// Alertmanager is always killed by its PID.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "alerting/io_thread.h"
#include "alerting/loopback_receiver.h"
#include "alerting/scenarios.h"
#include "backout/core/clock.h"
#include "backout/net/http_client.h"
#include "support/apps/alertmanager_server.h"

namespace backout::alerting {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

// A real Alertmanager in a temp dir, routing every alert to `webhook_url` at once (group_wait
// 0s); stopped by PID (testing::AlertmanagerServer) and its dir removed on destruction.
class AlertmanagerProcess {
 public:
  explicit AlertmanagerProcess(const std::string& webhook_url) {
    char tmpl[] = "/tmp/backout-am-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    dir_ = tmpl;
    server_ = std::make_unique<testing::AlertmanagerServer>(dir_.string());
    start_status_ = server_->start(
        "route:\n"
        "  receiver: hook\n"
        "  group_by: ['alertname', 'trigger', 'severity']\n"
        "  group_wait: 0s\n"
        "  group_interval: 1s\n"
        "  repeat_interval: 1h\n"
        "receivers:\n"
        "  - name: hook\n"
        "    webhook_configs:\n"
        "      - url: " +
        webhook_url +
        "\n"
        "        send_resolved: true\n");
  }

  ~AlertmanagerProcess() {
    server_.reset();  // stops it
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  AlertmanagerProcess(const AlertmanagerProcess&) = delete;
  AlertmanagerProcess& operator=(const AlertmanagerProcess&) = delete;

  const Status& start_status() const { return start_status_; }
  std::string url() const { return server_->url(); }
  std::string log() const { return server_->log(); }

 private:
  fs::path dir_;
  std::unique_ptr<testing::AlertmanagerServer> server_;
  Status start_status_;
};

// Alertmanager's webhook notifications carrying `status` for our trigger.
bool has_notification(const std::vector<testing::LoopbackReceiver::Request>& reqs,
                      const std::string& status, json::object* alert_out) {
  for (const auto& r : reqs) {
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    if (ec || !v.is_object() || !v.as_object().contains("alerts")) {
      continue;
    }
    for (const json::value& a : v.as_object().at("alerts").as_array()) {
      const json::object& alert = a.as_object();
      if (alert.at("status").as_string() == status &&
          alert.at("labels").as_object().at("trigger").as_string() == "db_connectivity") {
        *alert_out = alert;
        return true;
      }
    }
  }
  return false;
}

// Posts until Alertmanager accepts (it may still be starting), within a bounded time.
DeliveryResult post_until_accepted(Channel& channel, const std::string& payload,
                                   std::chrono::seconds budget) {
  const auto deadline = std::chrono::steady_clock::now() + budget;
  DeliveryResult last{Delivery::kRetry, "not attempted", std::nullopt};
  while (std::chrono::steady_clock::now() < deadline) {
    std::optional<DeliveryResult> r = testing::deliver_and_wait(channel, payload, "k");
    if (r) {
      last = *r;
      if (last.outcome != Delivery::kRetry) {
        return last;
      }
    }
    ::usleep(100'000);  // Alertmanager is starting: poll its port, do not spin
  }
  return last;
}

TEST(AlertmanagerReal, ReceivesTheAlertWithOurLabelsAndThenItsResolve) {
  if (!testing::AlertmanagerServer::installed()) {
    GTEST_SKIP() << testing::kAlertmanagerBinary << " is not installed";
  }
  testing::LoopbackReceiver hook;
  AlertmanagerProcess am(hook.url("/hook"));
  ASSERT_TRUE(am.start_status().ok()) << am.start_status().error();

  // A window around the real time: Alertmanager judges endsAt against its own clock.
  const TimePoint now = std::chrono::time_point_cast<std::chrono::seconds>(SystemClock().now());
  rules::Plan plan = testing::reference_plan();
  plan.window.start.at = now - std::chrono::hours{1};
  plan.window.end.at = now + std::chrono::hours{3};
  testing::Night night(plan);
  night.breach("db_connectivity", rules::Severity::kCritical, 3, testing::kDbEvidence,
               now - std::chrono::seconds{10});
  MessageContext breach = night.page(now, rules::PageKind::kBreach);

  testing::IoThread io;
  net::HttpClient http(io.executor());
  rules::Channel spec;
  spec.kind = "alertmanager";
  spec.options.set("url", am.url());
  Result<std::unique_ptr<Channel>> made = make_channel(
      spec, http, [](const SecretRef&) -> Result<std::string> { return Error{"unused"}; },
      ChannelOptions{.timeout = std::chrono::seconds{2}});
  ASSERT_TRUE(made.ok()) << made.error();
  Channel& channel = *made.value();

  DeliveryResult posted =
      post_until_accepted(channel, channel.render(breach), std::chrono::seconds{15});
  ASSERT_EQ(posted.outcome, Delivery::kDelivered) << posted.detail << "\n" << am.log();

  json::object firing;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  while (!has_notification(hook.requests(), "firing", &firing) &&
         std::chrono::steady_clock::now() < deadline) {
    hook.wait_for(hook.requests().size() + 1, std::chrono::milliseconds{500});
  }
  ASSERT_FALSE(firing.empty()) << "no firing notification\n" << am.log();
  const json::object& labels = firing.at("labels").as_object();
  EXPECT_EQ(labels.at("alertname").as_string(), "BackoutTrigger");
  EXPECT_EQ(labels.at("trigger").as_string(), "db_connectivity");
  EXPECT_EQ(labels.at("severity").as_string(), "critical");
  EXPECT_EQ(labels.at("release").as_string(), "2.0");
  EXPECT_EQ(labels.at("project").as_string(), "Customer Portal Enhancement");
  EXPECT_EQ(firing.at("annotations").as_object().at("decides").as_string(),
            "@jane.doe (Deployment Lead)");

  // Re-posting the same alert is idempotent: still one alert for Alertmanager.
  ASSERT_EQ(testing::deliver_and_wait(channel, channel.render(breach), "k")->outcome,
            Delivery::kDelivered);

  // The resolve, at the real time now (a resolve time in the future would still be firing).
  night.clear("db_connectivity", 0, "0 failed checks over 1m (threshold > 0)", SystemClock().now());
  MessageContext resolve = night.page(SystemClock().now(), rules::PageKind::kResolve);
  ASSERT_EQ(testing::deliver_and_wait(channel, channel.render(resolve), "k")->outcome,
            Delivery::kDelivered);

  json::object resolved;
  const auto deadline2 = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  while (!has_notification(hook.requests(), "resolved", &resolved) &&
         std::chrono::steady_clock::now() < deadline2) {
    hook.wait_for(hook.requests().size() + 1, std::chrono::milliseconds{500});
  }
  ASSERT_FALSE(resolved.empty()) << "no resolved notification\n" << am.log();
  EXPECT_EQ(resolved.at("labels").as_object().at("trigger").as_string(), "db_connectivity");
  EXPECT_EQ(resolved.at("labels").as_object().at("severity").as_string(), "critical");
  // The firing alert was notified once: the re-post was deduplicated by its labels.
  int firing_notifications = 0;
  for (const auto& r : hook.requests()) {
    json::value v = json::parse(r.body);
    firing_notifications += v.as_object().at("status").as_string() == "firing" ? 1 : 0;
  }
  EXPECT_EQ(firing_notifications, 1);
}

}  // namespace
}  // namespace backout::alerting
