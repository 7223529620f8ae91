// make_channel (secrets, errors naming what is missing) and delivery of every channel kind
// through net::HttpClient to a loopback receiver: 200, 429 with Retry-After, 503, 400 and a
// refused connection; what goes on the wire (method, path, headers, body, routing key).
#include "backout/alerting/channel.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "alerting/io_thread.h"
#include "alerting/loopback_receiver.h"
#include "alerting/scenarios.h"
#include "backout/alerting/alertmanager_payload.h"
#include "backout/alerting/chat_message.h"
#include "backout/alerting/pagerduty_payload.h"
#include "backout/alerting/secret_resolver.h"
#include "backout/alerting/slack_payload.h"
#include "backout/alerting/teams_payload.h"
#include "backout/alerting/webhook_payload.h"
#include "backout/net/http_client.h"

namespace backout::alerting {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using testing::LoopbackReceiver;
using ::testing::Not;

SecretRef env(const std::string& name) { return {SecretRef::From::kEnv, name}; }

rules::Channel spec(const std::string& kind) {
  rules::Channel c;
  c.kind = kind;
  c.name = kind;
  if (kind == "alertmanager") {
    c.options.set("url", std::string("http://127.0.0.1:9093"));
  } else if (kind == "pagerduty") {
    c.options.set_secret("routing_key", env("PD_ROUTING_KEY"));
  } else {
    c.options.set_secret("url", env("ONCALL_CHAT_WEBHOOK"));
  }
  return c;
}

// Resolves every secret to a fixed value, as the agent's resolver would from the environment.
SecretResolver fixed(std::string value) {
  return [value](const SecretRef&) -> Result<std::string> { return value; };
}

class ChannelTest : public ::testing::Test {
 protected:
  std::unique_ptr<Channel> make(const std::string& kind, const std::string& secret,
                                ChannelOptions options = {}) {
    Result<std::unique_ptr<Channel>> c = make_channel(spec(kind), http_, fixed(secret), options);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error());
    return c.ok() ? std::move(c).value() : nullptr;
  }

  testing::IoThread io_;
  net::HttpClient http_{io_.executor()};
  LoopbackReceiver receiver_;
  const testing::Scenario breach_ = testing::database_night()[0];
};

TEST_F(ChannelTest, UnsetEnvironmentVariableIsNamedInTheError) {
  rules::Channel c = spec("slack");
  c.options.set_secret("url", env("BACKOUT_TEST_SURELY_UNSET_WEBHOOK"));
  ::unsetenv("BACKOUT_TEST_SURELY_UNSET_WEBHOOK");
  Result<std::unique_ptr<Channel>> r = make_channel(c, http_, resolve_secret);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr("$BACKOUT_TEST_SURELY_UNSET_WEBHOOK"));
  EXPECT_THAT(r.error(), HasSubstr("environment variable BACKOUT_TEST_SURELY_UNSET_WEBHOOK is not "
                                   "set"));

  rules::Channel pd = spec("pagerduty");
  pd.options.set_secret("routing_key", env("BACKOUT_TEST_SURELY_UNSET_KEY"));
  Result<std::unique_ptr<Channel>> p = make_channel(pd, http_, resolve_secret);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.error(), HasSubstr("routing key"));
  EXPECT_THAT(p.error(), HasSubstr("BACKOUT_TEST_SURELY_UNSET_KEY"));
}

TEST_F(ChannelTest, SecretsComeFromTheEnvironmentOrAFile) {
  ::setenv("BACKOUT_TEST_WEBHOOK", "https://hooks.example.com/services/T/B/X", 1);
  Result<std::string> v = resolve_secret(env("BACKOUT_TEST_WEBHOOK"));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v.value(), "https://hooks.example.com/services/T/B/X");
  ::unsetenv("BACKOUT_TEST_WEBHOOK");

  const std::string path = ::testing::TempDir() + "/backout_routing_key";
  std::ofstream(path) << "R0UT1NGKEY\n";
  Result<std::string> f = resolve_secret({SecretRef::From::kFile, path});
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f.value(), "R0UT1NGKEY");
  std::ofstream(path, std::ios::trunc) << "\n";
  Result<std::string> empty = resolve_secret({SecretRef::From::kFile, path});
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.error(), HasSubstr("is empty"));
  std::remove(path.c_str());
}

TEST_F(ChannelTest, AWebhookUrlThatIsNotHttpIsRejectedWithoutShowingIt) {
  Result<std::unique_ptr<Channel>> r =
      make_channel(spec("slack"), http_, fixed("hooks.slack.com/services/T0/B0/SECRETPATH"));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr("$ONCALL_CHAT_WEBHOOK is not an http:// or https:// URL"));
  EXPECT_THAT(r.error(), Not(HasSubstr("SECRETPATH")));
}

TEST_F(ChannelTest, UnknownKindListsTheKnownOnes) {
  Result<std::unique_ptr<Channel>> r = make_channel(spec("discord"), http_, fixed("http://x/"));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr("unknown channel kind 'discord'"));
  EXPECT_THAT(r.error(), HasSubstr("'pagerduty'"));
}

TEST_F(ChannelTest, NamesAreTheMetricsLabels) {
  EXPECT_EQ(make("slack", receiver_.url())->name(), "chat");
  EXPECT_EQ(make("teams", receiver_.url())->name(), "chat");
  EXPECT_EQ(make("webhook", receiver_.url())->name(), "webhook");
  EXPECT_EQ(make("alertmanager", "")->name(), "alertmanager");
  EXPECT_EQ(make("pagerduty", "KEY")->name(), "pagerduty");
  EXPECT_EQ(make("webhook", receiver_.url(), {.name = "chat"})->name(), "chat");
}

TEST_F(ChannelTest, WhatEachChannelWants) {
  const rules::Page& minor = testing::minor_breach().ctx.page;
  const rules::Page& final_go = testing::final_go().ctx.page;
  for (const char* kind : {"slack", "teams", "webhook"}) {
    auto c = make(kind, receiver_.url());
    EXPECT_TRUE(c->wants(minor)) << kind;
    EXPECT_TRUE(c->wants(final_go)) << kind;
  }
  EXPECT_TRUE(make("alertmanager", "")->wants(minor));
  EXPECT_FALSE(make("alertmanager", "")->wants(final_go));
  EXPECT_FALSE(make("pagerduty", "KEY")->wants(minor));
  EXPECT_FALSE(make("pagerduty", "KEY")->wants(final_go));
  EXPECT_TRUE(make("pagerduty", "KEY")->wants(breach_.ctx.page));
}

TEST_F(ChannelTest, RenderIsThePurePayloadAndNeverHoldsASecret) {
  const std::string secret_url = "https://hooks.example.com/services/T0/B0/SECRETPATH";
  const std::string routing_key = "R0UT1NGKEYSECRET";
  auto slack = make("slack", secret_url);
  auto teams = make("teams", secret_url);
  auto webhook = make("webhook", secret_url);
  auto am = make("alertmanager", "");
  auto pd = make("pagerduty", routing_key);
  EXPECT_EQ(slack->render(breach_.ctx), slack_payload(compose_message(breach_.ctx)));
  EXPECT_EQ(teams->render(breach_.ctx), teams_payload(compose_message(breach_.ctx)));
  EXPECT_EQ(webhook->render(breach_.ctx), webhook_payload(breach_.ctx));
  EXPECT_EQ(am->render(breach_.ctx), alertmanager_payload(breach_.ctx, {}));
  EXPECT_EQ(pd->render(breach_.ctx), pagerduty_payload(breach_.ctx, {}));
  for (const testing::Scenario& s : testing::all_scenarios()) {
    for (Channel* c : {slack.get(), teams.get(), webhook.get(), am.get(), pd.get()}) {
      if (!c->wants(s.ctx.page)) {
        continue;
      }
      const std::string payload = c->render(s.ctx);
      EXPECT_THAT(payload, Not(HasSubstr("SECRETPATH"))) << s.name << " " << c->name();
      EXPECT_THAT(payload, Not(HasSubstr(routing_key))) << s.name << " " << c->name();
    }
  }
}

TEST_F(ChannelTest, SlackPostsJsonAndIsDeliveredOn200) {
  auto c = make("slack", receiver_.url("/services/T0/B0/X"));
  const std::string payload = c->render(breach_.ctx);
  auto r = testing::deliver_and_wait(*c, payload, breach_.ctx.page.key);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Delivery::kDelivered);
  EXPECT_EQ(r->detail, "HTTP 200");
  auto reqs = receiver_.wait_for(1, std::chrono::seconds{5});
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/services/T0/B0/X");
  EXPECT_THAT(reqs[0].headers["content-type"], HasSubstr("application/json"));
  EXPECT_EQ(reqs[0].body, payload);
  EXPECT_TRUE(json::parse(reqs[0].body).as_object().contains("blocks"));
}

TEST_F(ChannelTest, RateLimitIsRetriedAfterWhatTheServerSays) {
  receiver_.script({{429, {{"Retry-After", "7"}}, "rate_limited"}});
  auto c = make("teams", receiver_.url("/webhookb2/x"));
  auto r = testing::deliver_and_wait(*c, c->render(breach_.ctx), breach_.ctx.page.key);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Delivery::kRetry);
  ASSERT_TRUE(r->retry_after.has_value());
  EXPECT_EQ(*r->retry_after, std::chrono::seconds{7});
  EXPECT_EQ(r->detail, "HTTP 429: rate_limited");
}

TEST_F(ChannelTest, ServerErrorIsRetried) {
  receiver_.script({{503, {}, "upstream unavailable"}});
  auto c = make("webhook", receiver_.url("/hook"));
  auto r = testing::deliver_and_wait(*c, c->render(breach_.ctx), breach_.ctx.page.key);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Delivery::kRetry);
  EXPECT_FALSE(r->retry_after.has_value());
  EXPECT_EQ(r->detail, "HTTP 503: upstream unavailable");
}

TEST_F(ChannelTest, BadRequestIsDroppedWithTheStatusAndAnExcerpt) {
  receiver_.script({{400, {}, "invalid_blocks"}});
  auto c = make("slack", receiver_.url("/services/T0/B0/X"));
  auto r = testing::deliver_and_wait(*c, "{}", "k");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Delivery::kDrop);
  EXPECT_EQ(r->detail, "HTTP 400: invalid_blocks");
}

TEST_F(ChannelTest, RefusedConnectionIsRetriedAndTheDetailHasNoUrl) {
  std::string dead_url;
  {
    LoopbackReceiver gone;  // bound, then closed: nothing listens on its port afterwards
    dead_url = gone.url("/services/T0/B0/SECRETPATH");
  }
  auto c = make("slack", dead_url, {.timeout = std::chrono::seconds{3}});
  auto r = testing::deliver_and_wait(*c, "{}", "k");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Delivery::kRetry);
  EXPECT_THAT(r->detail, HasSubstr("refused"));
  EXPECT_THAT(r->detail, Not(HasSubstr("SECRETPATH")));
  EXPECT_THAT(r->detail, Not(HasSubstr("/services")));
}

TEST_F(ChannelTest, WebhookSendsTheIdempotencyKey) {
  auto c = make("webhook", receiver_.url("/hook"));
  auto r = testing::deliver_and_wait(*c, c->render(breach_.ctx), breach_.ctx.page.key);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Delivery::kDelivered);
  auto reqs = receiver_.wait_for(1, std::chrono::seconds{5});
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].headers["idempotency-key"], "breach:db_connectivity#1");
  EXPECT_EQ(json::parse(reqs[0].body).as_object().at("kind").as_string(), "breach");
}

TEST_F(ChannelTest, AlertmanagerPostsToTheV2AlertsEndpoint) {
  auto c = make("alertmanager", "", {.url = receiver_.url("/am/")});
  auto r = testing::deliver_and_wait(*c, c->render(breach_.ctx), breach_.ctx.page.key);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Delivery::kDelivered);
  auto reqs = receiver_.wait_for(1, std::chrono::seconds{5});
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/am/api/v2/alerts");
  EXPECT_TRUE(json::parse(reqs[0].body).is_array());
}

TEST_F(ChannelTest, PagerDutyAddsTheRoutingKeyOnTheWireAndPostsEachEvent) {
  receiver_.script({{202, {}, R"({"status":"success","dedup_key":"login_failure_rate#1"})"},
                    {202, {}, R"({"status":"success"})"}});
  auto c = make("pagerduty", "R0UT1NGKEY", {.url = receiver_.url("/v2/enqueue")});
  testing::Night n;
  n.breach("login_failure_rate", rules::Severity::kMajor, 0.071, testing::kLoginEvidence,
           testing::clock_at(3, 0));
  n.breach("transaction_errors", rules::Severity::kMajor, 0.035, "3.5% over 5m (threshold > 2%)",
           testing::clock_at(3, 0));
  n.tick(testing::clock_at(3, 0));
  MessageContext ctx = n.page(testing::clock_at(3, 0, 2), rules::PageKind::kBreach);
  const std::string stored = c->render(ctx);
  EXPECT_THAT(stored, Not(HasSubstr("R0UT1NGKEY")));
  auto r = testing::deliver_and_wait(*c, stored, ctx.page.key);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Delivery::kDelivered);
  auto reqs = receiver_.wait_for(2, std::chrono::seconds{5});
  ASSERT_EQ(reqs.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(reqs[i].target, "/v2/enqueue");
    json::object e = json::parse(reqs[i].body).as_object();
    EXPECT_EQ(e.at("routing_key").as_string(), "R0UT1NGKEY");
    EXPECT_EQ(e.at("event_action").as_string(), "trigger");
  }
  EXPECT_EQ(json::parse(reqs[0].body).as_object().at("dedup_key").as_string(),
            "login_failure_rate#1");
  EXPECT_EQ(json::parse(reqs[1].body).as_object().at("dedup_key").as_string(),
            "transaction_errors#1");
}

TEST_F(ChannelTest, PagerDutyStopsAtTheFirstEventThatFails) {
  receiver_.script(
      {{202, {}, "{}"},
       {400, {}, R"({"status":"invalid event","message":"Event object is invalid"})"}});
  auto c = make("pagerduty", "KEY", {.url = receiver_.url("/v2/enqueue")});
  auto r =
      testing::deliver_and_wait(*c, R"([{"event_action":"trigger"},{"event_action":"x"}])", "k");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Delivery::kDrop);
  EXPECT_THAT(r->detail, HasSubstr("event 2 of 2: HTTP 400"));
  EXPECT_THAT(r->detail, HasSubstr("invalid event"));
}

TEST_F(ChannelTest, PagerDutyAcknowledgementGoesThroughTheChannel) {
  auto c = make("pagerduty", "KEY", {.url = receiver_.url("/v2/enqueue")});
  testing::Night n;
  n.breach("db_connectivity", rules::Severity::kCritical, 3, testing::kDbEvidence,
           testing::clock_at(3, 8));
  MessageContext ctx = n.page(testing::clock_at(3, 8), rules::PageKind::kBreach);
  n.ack("db_connectivity", "@jane.doe", testing::clock_at(3, 9));
  ctx.episodes = n.episodes();
  std::optional<std::string> ack = c->render_acknowledgement(ctx);
  ASSERT_TRUE(ack.has_value());
  auto r = testing::deliver_and_wait(*c, *ack, "ack:db_connectivity#1");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Delivery::kDelivered);
  auto reqs = receiver_.wait_for(1, std::chrono::seconds{5});
  ASSERT_EQ(reqs.size(), 1u);
  json::object e = json::parse(reqs[0].body).as_object();
  EXPECT_EQ(e.at("event_action").as_string(), "acknowledge");
  EXPECT_EQ(e.at("routing_key").as_string(), "KEY");
  // Chat channels have nothing to add about acknowledgements.
  EXPECT_FALSE(make("slack", receiver_.url())->render_acknowledgement(ctx).has_value());
}

}  // namespace
}  // namespace backout::alerting
