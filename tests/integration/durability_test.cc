// End to end, the issue "Never lose a page and always reach the decider": the real agent with
// its chat endpoint down for a minute, failing, rate limiting; killed with SIGKILL while pages
// wait in its outbox; restarted in the middle of an episode (acknowledged, or waiting for its
// escalation); and a fix-forward's ETA against the point of no return.
//
// How a page is followed: the plan has two channels on one receiver, chat (Slack-shaped, /hook)
// and the generic webhook (/generic), whose payload carries the page's idempotency key. The
// agent logs each page it decides ("page KEY (KIND) to ..."), and records each delivery in its
// timeline with the key. Both channels get every page, each from its own outbox queue.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "backout/core/time.h"
#include "integration/agent_fixture.h"

namespace backout::testing {
namespace {

using std::chrono::steady_clock;
using std::chrono::system_clock;

class DurabilityTest : public AgentFixture {
 protected:
  /// The keys decided, each once, in the order first decided (a SIGKILL may make the agent
  /// decide a page again after its restart; the outbox must then send it once).
  std::vector<std::string> decided_once() const {
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const auto& k : decided_keys()) {
      if (seen.insert(k).second) {
        out.push_back(k);
      }
    }
    return out;
  }

  /// Pending messages of a channel, from /metrics (the gauge is refreshed by the channel's
  /// delivery worker whenever it looks at its queue).
  double queued(const std::string& channel) {
    return metric_or_zero("backout_outbox_messages", {{"channel", channel}});
  }
  double retries(const std::string& channel) {
    return metric_or_zero("backout_notifications_total",
                          {{"channel", channel}, {"outcome", "retry"}});
  }

  /// Both outbox queues are empty and the receiver has `pages` pages on the generic webhook.
  bool all_delivered(std::size_t pages) {
    return generic_pages().size() >= pages && queued("chat") == 0 && queued("webhook") == 0;
  }

  /// Every decided page reached both channels exactly once, in the order decided; chat posts
  /// match the timeline's delivery events one for one.
  void expect_each_page_once_in_order() {
    const std::vector<std::string> want = decided_once();
    // The generic webhook: its payloads carry the keys.
    const std::vector<json::object> generic = generic_pages();
    const std::vector<std::string> got = keys_of(generic);
    EXPECT_TRUE(duplicates(got).empty()) << "delivered twice: " << join_all(duplicates(got));
    EXPECT_EQ(got, want) << "the generic webhook got the pages out of order, or not all of them";

    // Chat: the receiver's posts and the agent's delivery records, one for one.
    const std::vector<ReceivedPost> chat = posts_to("/hook");
    const std::vector<DeliveryEvent> delivered = deliveries("chat");
    ASSERT_EQ(chat.size(), delivered.size())
        << "the chat endpoint accepted a different number of posts than the agent recorded";
    std::vector<std::string> chat_keys;
    std::set<std::string> bodies;
    for (std::size_t i = 0; i < chat.size(); ++i) {
      EXPECT_TRUE(bodies.insert(chat[i].body).second) << "chat got this twice: " << chat[i].body;
      const std::string& key = delivered[i].key;
      if (is_act_key(key)) {
        continue;  // the echo of a person's act, not a page
      }
      chat_keys.push_back(key);
      // The post is that page: it names the page's triggers as the generic payload does.
      for (const json::object& g : generic) {
        if (field(g, "key") != key) {
          continue;
        }
        for (const auto& t : g.at("triggers").as_array()) {
          const std::string name = field(t.as_object(), "name");
          EXPECT_NE(chat[i].body.find(name), std::string::npos)
              << "chat post " << i << " should be " << key << " (about " << name
              << "): " << chat[i].body;
        }
      }
    }
    EXPECT_TRUE(duplicates(chat_keys).empty()) << join_all(duplicates(chat_keys));
    EXPECT_EQ(chat_keys, want) << "chat got the pages out of order, or not all of them";
  }

  /// The timeline's notify events (one per page and trigger, in the order decided) against what
  /// the generic webhook received, page by page and trigger by trigger.
  void expect_timeline_order_matches_receiver() {
    std::vector<std::string> notified;
    for (const json::object& e : timeline_of("notify")) {
      notified.push_back(field(e, "page") + " " + field(e, "trigger"));
    }
    std::vector<std::string> received;
    for (const json::object& g : generic_pages()) {
      for (const auto& t : g.at("triggers").as_array()) {
        received.push_back(field(g, "kind") + " " + field(t.as_object(), "id"));
      }
    }
    EXPECT_EQ(received, notified);
  }

  static system_clock::time_point arrival(const std::vector<ReceivedPost>& posts,
                                          const std::string& key) {
    for (const ReceivedPost& p : posts) {
      if (p.path == "/generic" && p.body.find("\"key\":\"" + key + "\"") != std::string::npos) {
        return p.at;
      }
    }
    return {};
  }
  bool wait_arrival(const std::string& key_prefix, std::size_t n,
                    std::chrono::milliseconds timeout) {
    return chat_.wait_for(
        [&](const std::vector<ReceivedPost>& posts) {
          std::size_t found = 0;
          for (const ReceivedPost& p : posts) {
            if (p.path == "/generic" &&
                p.body.find("\"key\":\"" + key_prefix) != std::string::npos) {
              ++found;
            }
          }
          return found >= n;
        },
        timeout);
  }
  /// Arrival time of the `n`th (0-based) generic post whose key starts with `key_prefix`.
  system_clock::time_point nth_arrival(const std::string& key_prefix, std::size_t n) {
    std::size_t seen = 0;
    for (const ReceivedPost& p : posts_to("/generic")) {
      if (p.body.find("\"key\":\"" + key_prefix) != std::string::npos && seen++ == n) {
        return p.at;
      }
    }
    return {};
  }

  void set_home_latency(std::chrono::milliseconds latency) {
    PortalConditions c = portal_.conditions();
    c.home_latency = latency;
    portal_.set(c);
  }
};

// Scenario 1. The chat endpoint refuses connections for a full minute while the agent decides
// six pages (breaches of three triggers at different times, a manual raise, their resolves).
// When it is back, each arrives once, in the order decided, on both channels.
TEST_F(DurabilityTest, ChatDownForAMinuteGetsEveryPageOnceInOrder) {
  TestPlanOptions o;
  o.with_webhook = true;
  write_plan(o);
  start_agent();
  ASSERT_TRUE(wait_recommendation("go", 15s)) << log();

  chat_.go_down();
  const auto down_at = steady_clock::now();
  double max_queued = 0;
  double max_retries = 0;
  auto sample = [&] {
    max_queued = std::max(max_queued, queued("chat"));
    max_retries = std::max(max_retries, retries("chat"));
  };

  set_home_latency(800ms);
  ASSERT_TRUE(wait_decided("breach:page_load_time#1", 20s)) << log();
  sample();
  HttpResult r = post("/api/v1/raise", {{"severity", "discretionary"},
                                        {"reason", "Security drill on the login service"},
                                        {"by", "@sarah.williams"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(wait_decided("breach:manual_1#1", 10s)) << log();
  set_home_latency(20ms);
  ASSERT_TRUE(wait_decided("resolve:page_load_time#1", 20s)) << log();
  sample();
  pg_->stop();
  ASSERT_TRUE(wait_decided("breach:db_connectivity#1", 15s)) << log();
  ASSERT_TRUE(pg_->start().ok());
  ASSERT_TRUE(wait_decided("resolve:db_connectivity#1", 20s)) << log();
  r = post("/api/v1/raise", {{"clear", "manual_1"}, {"by", "@sarah.williams"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(wait_decided("resolve:manual_1#1", 10s)) << log();

  const std::vector<std::string> want = {"breach:page_load_time#1", "breach:manual_1#1",
                                         "resolve:page_load_time#1", "breach:db_connectivity#1",
                                         "resolve:db_connectivity#1", "resolve:manual_1#1"};
  ASSERT_EQ(decided_keys(), want);
  ASSERT_TRUE(eventually(
      [&] {
        sample();
        return max_queued >= want.size() && max_retries > 0;
      },
      10s))
      << "during the outage /metrics shows the queue (" << max_queued << ") and the retries ("
      << max_retries << ")";
  EXPECT_TRUE(chat_.posts().empty());

  // The outage lasts a full minute (the case): long enough for the backoff to reach its
  // 60 s cap. Here time has to pass; the agent is sampled meanwhile.
  while (steady_clock::now() < down_at + 60s) {
    sample();
    std::this_thread::sleep_for(1s);  // the outage's length is the point of this wait
  }
  EXPECT_GE(queued("chat"), static_cast<double>(want.size())) << "nothing may leave the queue";
  const double retries_in_outage = retries("chat");
  // Backoff 2^n s with jitter in [50%, 100%]: retries 1-2, 2-4, 4-8, 8-16 and 16-32 s apart,
  // so the minute (which began before the first page was decided) holds 4 to 6 of them.
  EXPECT_GE(retries_in_outage, 4) << "the endpoint must be retried through the outage";
  EXPECT_LE(retries_in_outage, 8) << "the backoff must grow, not hammer the endpoint";

  chat_.come_back();
  const auto back_at = steady_clock::now();
  // The next attempt is at most the 60 s backoff cap away.
  ASSERT_TRUE(eventually([&] { return all_delivered(want.size()); }, 100s))
      << "after the chat endpoint came back, not everything was delivered; queued chat="
      << queued("chat") << " webhook=" << queued("webhook") << "\n"
      << log();
  std::cerr << "[ info ] delivered everything "
            << std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() -
                                                                     back_at)
                   .count()
            << " ms after the endpoint came back\n";
  expect_each_page_once_in_order();
  expect_timeline_order_matches_receiver();
}

// Scenario 1, HTTP 500: the same payload is retried until the endpoint takes it, once.
TEST_F(DurabilityTest, ChatAnswering500IsRetriedUntilItTakesEachPageOnce) {
  TestPlanOptions o;
  o.with_webhook = true;
  write_plan(o);
  start_agent();
  ASSERT_TRUE(wait_recommendation("go", 15s)) << log();

  chat_.set_mode(WebhookReceiver::Mode::kFail500);
  HttpResult r = post("/api/v1/raise", {{"severity", "critical"},
                                        {"reason", "Card numbers visible in the access log"},
                                        {"by", "@jane.doe"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(wait_decided("breach:manual_1#1", 10s)) << log();
  ASSERT_TRUE(eventually(
      [&] {
        std::size_t n = 0;
        for (const auto& p : chat_.refused()) {
          n += p.path == "/hook" ? 1 : 0;
        }
        return n >= 2 && retries("chat") > 0 && queued("chat") > 0;
      },
      15s))
      << log();
  chat_.set_mode(WebhookReceiver::Mode::kOk);
  ASSERT_TRUE(eventually([&] { return all_delivered(1); }, 30s)) << log();
  r = post("/api/v1/raise", {{"clear", "manual_1"}, {"by", "@jane.doe"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(wait_decided("resolve:manual_1#1", 10s)) << log();
  ASSERT_TRUE(eventually([&] { return all_delivered(2); }, 20s)) << log();
  expect_each_page_once_in_order();
  // A retry sends the stored payload again, byte for byte.
  std::set<std::string> accepted;
  for (const auto& p : posts_to("/hook")) {
    accepted.insert(p.body);
  }
  for (const auto& p : chat_.refused()) {
    if (p.path == "/hook") {
      EXPECT_EQ(accepted.count(p.body), 1u) << "a retried payload differs: " << p.body;
    }
  }
}

// Scenario 1, HTTP 429 with Retry-After: the agent waits at least that long between attempts,
// although its own backoff would try again sooner (0.5-1 s, then 1-2 s).
TEST_F(DurabilityTest, ChatRateLimitingIsHonouredAndLosesNothing) {
  TestPlanOptions o;
  o.with_webhook = true;
  write_plan(o);
  start_agent();
  ASSERT_TRUE(wait_recommendation("go", 15s)) << log();

  chat_.set_retry_after("3");
  chat_.set_mode(WebhookReceiver::Mode::kTooMany);
  HttpResult r = post("/api/v1/raise", {{"severity", "critical"},
                                        {"reason", "Payment provider reports double charges"},
                                        {"by", "@jane.doe"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(wait_decided("breach:manual_1#1", 10s)) << log();
  auto refused_hook = [&] {
    std::vector<system_clock::time_point> at;
    for (const auto& p : chat_.refused()) {
      if (p.path == "/hook") {
        at.push_back(p.at);
      }
    }
    return at;
  };
  ASSERT_TRUE(eventually([&] { return refused_hook().size() >= 3; }, 20s)) << log();
  chat_.set_mode(WebhookReceiver::Mode::kOk);
  const std::vector<system_clock::time_point> attempts = refused_hook();
  for (std::size_t i = 1; i < attempts.size(); ++i) {
    EXPECT_GE(attempts[i] - attempts[i - 1], 2900ms)
        << "attempt " << i + 1 << " came before the Retry-After of 3 s";
  }
  EXPECT_GT(retries("chat"), 0);
  ASSERT_TRUE(eventually([&] { return all_delivered(1); }, 30s)) << log();
  expect_each_page_once_in_order();
}

// Scenario 2. A page is delivered; then the endpoint goes down, two more pages (and an
// acknowledgement) are decided and wait in the outbox; the agent is killed with SIGKILL. The
// endpoint comes back and the agent restarts on the same plan and state_dir: both queued pages
// arrive once, the one delivered before the kill is not sent again, the timeline and the
// acknowledgement survived.
TEST_F(DurabilityTest, KillNineWithQueuedPagesDeliversEachOnceAfterTheRestart) {
  TestPlanOptions o;
  o.with_webhook = true;
  write_plan(o);
  start_agent();
  ASSERT_TRUE(wait_recommendation("go", 15s)) << log();

  pg_->stop();
  ASSERT_TRUE(wait_decided("breach:db_connectivity#1", 15s)) << log();
  auto delivered_on_both = [&](const std::string& key) {
    auto has = [&](const std::string& channel) {
      for (const DeliveryEvent& d : deliveries(channel)) {
        if (d.key == key) {
          return true;
        }
      }
      return false;
    };
    return has("chat") && has("webhook");
  };
  ASSERT_TRUE(eventually([&] { return delivered_on_both("breach:db_connectivity#1"); }, 15s))
      << log();

  chat_.go_down();
  ASSERT_TRUE(pg_->start().ok());
  ASSERT_TRUE(wait_decided("resolve:db_connectivity#1", 20s)) << log();
  HttpResult r = post("/api/v1/raise", {{"severity", "critical"},
                                        {"reason", "Customers see each other's orders"},
                                        {"by", "@jane.doe"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(wait_decided("breach:manual_1#1", 10s)) << log();
  r = post("/api/v1/ack", {{"trigger", "manual_1"}, {"by", "@jane.doe"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(eventually([&] { return queued("chat") >= 2 && retries("chat") > 0; }, 10s))
      << log();
  const std::vector<json::object> before = timeline();

  kill_agent();
  chat_.come_back();
  start_agent();

  ASSERT_TRUE(eventually([&] { return all_delivered(3); }, 40s))
      << "queued chat=" << queued("chat") << " webhook=" << queued("webhook") << "\n"
      << log();
  const std::vector<std::string> want = {"breach:db_connectivity#1", "resolve:db_connectivity#1",
                                         "breach:manual_1#1"};
  EXPECT_EQ(decided_once(), want);
  expect_each_page_once_in_order();

  // Nothing of the timeline was lost; the restart is recorded after it.
  const std::vector<json::object> after = timeline();
  ASSERT_GE(after.size(), before.size());
  for (std::size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(json::serialize(after[i]), json::serialize(before[i])) << "timeline entry " << i;
  }
  bool restarted = false;
  for (std::size_t i = before.size(); i < after.size(); ++i) {
    restarted = restarted || (field(after[i], "kind") == "agent" &&
                              field(after[i], "event") == "restarted");
  }
  EXPECT_TRUE(restarted);
  // The acknowledgement survived too.
  json::object e = open_breach("manual_1");
  ASSERT_FALSE(e.empty()) << json::serialize(status());
  EXPECT_EQ(field(e, "acknowledged_by"), "@jane.doe");
  EXPECT_EQ(recommendation(), "backout");
}

// Scenario 3. A critical breach is paged and acknowledged; the agent restarts (SIGTERM) while
// the database stays down. With repeats every 6 s and escalation after 8 s, an acknowledgement
// lost in the restart would page again within the quiet stretch that follows.
TEST_F(DurabilityTest, AnAcknowledgedBreachIsNotPagedAgainAfterARestart) {
  TestPlanOptions o;
  o.with_webhook = true;
  o.critical_ack_within = "8s";
  o.repeat_every = "6s";
  write_plan(o);
  start_agent();
  ASSERT_TRUE(wait_recommendation("go", 15s)) << log();

  pg_->stop();
  ASSERT_TRUE(wait_arrival("breach:db_connectivity#1", 1, 15s)) << log();
  const auto paged = nth_arrival("breach:db_connectivity#1", 0);
  HttpResult r = post("/api/v1/ack", {{"trigger", "db_connectivity"}, {"by", "@jane.doe"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(decided_keys(), std::vector<std::string>{"breach:db_connectivity#1"})
      << "the acknowledgement came too late for this test (machine too slow?)";

  stop_agent();
  start_agent();
  EXPECT_EQ(trigger_state("db_connectivity"), "breached");
  json::object e = open_breach("db_connectivity");
  EXPECT_EQ(field(e, "episode"), "db_connectivity#1") << json::serialize(status());
  EXPECT_EQ(field(e, "acknowledged_by"), "@jane.doe") << json::serialize(status());

  // A quiet stretch past the repeat (6 s) and the escalation (8 s) with margin: nothing may be
  // paged. Time has to pass for that.
  const bool paged_again = chat_.wait_for(
      [](const std::vector<ReceivedPost>& posts) {
        for (const auto& p : posts) {
          if (p.path == "/generic" && p.body.find("\"kind\":\"act\"") == std::string::npos &&
              p.body.find("\"key\":\"breach:db_connectivity#1\"") == std::string::npos) {
            return true;
          }
        }
        return false;
      },
      std::chrono::duration_cast<std::chrono::milliseconds>(
          paged + 14s - system_clock::now()));
  EXPECT_FALSE(paged_again) << "paged again after the restart: " << join_all(decided_keys());
  EXPECT_EQ(decided_keys(), std::vector<std::string>{"breach:db_connectivity#1"});
  EXPECT_EQ(trigger_state("db_connectivity"), "breached") << "the breach went on all along";
  EXPECT_EQ(recommendation(), "backout");
  EXPECT_FALSE(open_breach("db_connectivity").at("escalated").as_bool());
  expect_each_page_once_in_order();
  ASSERT_TRUE(pg_->start().ok());
}

// Scenario 3, escalation: critical ack_within 8 s, repeats every 3 s, nobody acknowledges. The
// agent restarts (SIGTERM) right after the first repeat, about 4 s into the episode. The
// escalation comes 8 s after the FIRST page, not 8 s after the restart; the repeats go on, each
// delivered (a repeat decided after the restart must not reuse a key from before it, or the
// outbox would swallow it as a duplicate).
TEST_F(DurabilityTest, EscalationAndRepeatTimersCarryOnAcrossARestart) {
  TestPlanOptions o;
  o.with_webhook = true;
  o.critical_ack_within = "8s";
  o.repeat_every = "3s";
  write_plan(o);
  start_agent();
  ASSERT_TRUE(wait_recommendation("go", 15s)) << log();

  pg_->stop();
  ASSERT_TRUE(wait_arrival("breach:db_connectivity#1", 1, 15s)) << log();
  const auto paged = nth_arrival("breach:db_connectivity#1", 0);
  ASSERT_TRUE(wait_arrival("repeat:db_connectivity#1", 1, 10s)) << log();
  ASSERT_TRUE(decided_once().size() == 2) << join_all(decided_keys());
  const auto restart_at = system_clock::now();
  stop_agent();
  start_agent();

  ASSERT_TRUE(wait_arrival("escalation:db_connectivity#1", 1, 20s)) << log();
  const auto escalated = nth_arrival("escalation:db_connectivity#1", 0);
  EXPECT_GE(escalated - paged, 7s) << "escalated before ack_within passed";
  EXPECT_LE(escalated - paged, 10500ms) << "the escalation timer did not carry on";
  EXPECT_LT(escalated, restart_at + 8s) << "the escalation timer restarted with the agent";

  // The repeat after the escalation (3 s after it), then everything decided was delivered once.
  ASSERT_TRUE(eventually(
      [&] {
        const auto k = decided_keys();
        auto esc = std::find(k.begin(), k.end(), "escalation:db_connectivity#1");
        return esc != k.end() && std::any_of(esc, k.end(), [](const std::string& s) {
                 return s.rfind("repeat:", 0) == 0;
               });
      },
      15s))
      << log();
  ASSERT_TRUE(eventually([&] { return all_delivered(decided_once().size()); }, 15s)) << log();
  EXPECT_TRUE(duplicates(decided_keys()).empty())
      << "after a clean restart the agent decided a page under a key it had used: "
      << join_all(duplicates(decided_keys()));
  for (const std::string& l : log_lines()) {
    EXPECT_EQ(l.find("already in the outbox"), std::string::npos) << l;
  }
  expect_each_page_once_in_order();
  // The escalation went to the escalation role.
  for (const json::object& g : generic_pages()) {
    if (field(g, "kind") == "escalation") {
      EXPECT_EQ(field(g.at("decides").as_object(), "chat"), "@john.smith");
    }
  }
  ASSERT_TRUE(pg_->start().ok());
}

// Scenario 4. A window whose point of no return is reachable: it opens 3 s from now and lasts
// 10 minutes, and the backout takes 8, so the PNR is 2 minutes after the start. Slow page loads
// (a major breach): a fix-forward with an ETA after the PNR leaves the recommendation at backout;
// one before it turns it to fix_forward; when that ETA passes with the breach open, the decider
// is paged (eta_passed) and the recommendation is backout again.
TEST_F(DurabilityTest, FixForwardEtaAgainstThePointOfNoReturn) {
  TestPlanOptions o;
  o.with_webhook = true;
  o.window_length = "10m";
  o.backout_duration = "8m";
  o.warn_before_pnr = "30s";
  write_plan(o);
  start_agent();
  ASSERT_TRUE(wait_recommendation("go", 15s)) << log();
  auto pnr = parse_rfc3339(field(status(), "point_of_no_return"));
  ASSERT_TRUE(pnr);

  set_home_latency(800ms);
  ASSERT_TRUE(wait_recommendation("backout", 20s)) << log();
  ASSERT_TRUE(wait_decided("breach:page_load_time#1", 10s)) << log();

  // After the PNR: not honoured.
  const std::string late = format_rfc3339(pnr->at + 1min, pnr->offset);
  HttpResult r = post("/api/v1/fix-forward",
                      {{"trigger", "page_load_time"}, {"eta", late}, {"by", "@john.smith"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(json::parse(r.body).at("honoured").as_bool()) << r.body;
  ASSERT_TRUE(eventually(
      [&] {
        json::object st = status();
        return field(st.at("decision").as_object(), "reason").find("after the point of no return") !=
               std::string::npos;
      },
      5s))
      << json::serialize(status());
  EXPECT_EQ(recommendation(), "backout");

  // Exactly at the PNR: still in time.
  const std::string at_pnr = format_rfc3339(pnr->at, pnr->offset);
  r = post("/api/v1/fix-forward",
           {{"trigger", "page_load_time"}, {"eta", at_pnr}, {"by", "@john.smith"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(json::parse(r.body).at("honoured").as_bool()) << r.body;
  ASSERT_TRUE(wait_recommendation("fix_forward", 5s)) << json::serialize(status());

  // Before the PNR, soon: fix_forward until the ETA passes, then backout and a page.
  r = post("/api/v1/fix-forward",
           {{"trigger", "page_load_time"}, {"eta", "8s"}, {"by", "@john.smith"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(json::parse(r.body).at("honoured").as_bool()) << r.body;
  const auto declared = steady_clock::now();
  EXPECT_EQ(recommendation(), "fix_forward");
  ASSERT_TRUE(wait_arrival("eta_passed:page_load_time#1", 1, 20s)) << log();
  EXPECT_GE(steady_clock::now() - declared, 7s) << "paged before the ETA";
  EXPECT_EQ(recommendation(), "backout");
  for (const json::object& g : generic_pages()) {
    if (field(g, "kind") == "eta_passed") {
      EXPECT_EQ(field(g.at("decides").as_object(), "chat"), "@john.smith");
      EXPECT_EQ(field(g, "recommendation"), "backout");
    }
  }
  ASSERT_TRUE(eventually([&] { return all_delivered(decided_once().size()); }, 15s)) << log();
  expect_each_page_once_in_order();
  // In chat too, the decider is asked to decide now.
  const std::vector<ReceivedPost> chat = posts_to("/hook");
  const std::vector<DeliveryEvent> delivered = deliveries("chat");
  for (std::size_t i = 0; i < chat.size() && i < delivered.size(); ++i) {
    if (delivered[i].key.rfind("eta_passed:", 0) == 0) {
      EXPECT_NE(chat[i].body.find("@john.smith"), std::string::npos) << chat[i].body;
      EXPECT_NE(chat[i].body.find("BACKOUT"), std::string::npos) << chat[i].body;
    }
  }
}

// Scenario 3 and 4 together: a fix-forward's ETA passes while the agent is stopped. The page
// that says so is due at the restart (the recommendation is back to backout), not lost.
TEST_F(DurabilityTest, AnEtaThatPassesWhileTheAgentIsDownStillPagesTheDecider) {
  TestPlanOptions o;
  o.with_webhook = true;
  write_plan(o);
  start_agent();
  ASSERT_TRUE(wait_recommendation("go", 15s)) << log();
  set_home_latency(800ms);
  ASSERT_TRUE(wait_recommendation("backout", 20s)) << log();
  HttpResult r = post("/api/v1/fix-forward",
                      {{"trigger", "page_load_time"}, {"eta", "5s"}, {"by", "@john.smith"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto eta = steady_clock::now() + 5s;
  ASSERT_TRUE(wait_recommendation("fix_forward", 5s)) << json::serialize(status());
  stop_agent();
  // The ETA has to pass while the agent is down: that is the case under test.
  std::this_thread::sleep_until(eta + 1s);
  start_agent();
  ASSERT_TRUE(wait_arrival("eta_passed:page_load_time#1", 1, 15s))
      << "the ETA passed during the restart and nobody was told: " << join_all(decided_keys())
      << "\n"
      << log();
  EXPECT_EQ(recommendation(), "backout");
  ASSERT_TRUE(eventually([&] { return all_delivered(decided_once().size()); }, 15s)) << log();
  expect_each_page_once_in_order();
}

}  // namespace
}  // namespace backout::testing
