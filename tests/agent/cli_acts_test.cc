// The human acts from the command line (ack, fix-forward, decide, raise), run in-process through
// main_entry against a loopback HttpServer (port 0) whose Router records every request: method,
// path, Authorization and JSON body sent; the answer printed; exit codes 0 / 2 / 1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app/cli.h"
#include "app/http/http_server.h"
#include "app/http/router.h"
#include "support/paths.h"
#include "support/test_http_server.h"

namespace backout::agent {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::HasSubstr;

constexpr const char* kTokenVar = "BACKOUT_CLI_ACTS_TEST_TOKEN";
constexpr const char* kToken = "s3cret-token";

struct Recorded {
  std::string method;
  std::string path;
  std::string authorization;
  std::string content_type;
  json::value body;
};

// A stand-in for the agent's API: records the acts and answers what the test scripted.
class FakeAgent {
 public:
  using Answer = std::function<http::HttpResponse(const json::object& body)>;

  FakeAgent() {
    for (const char* endpoint : {"ack", "fix-forward", "decision", "raise", "deployed", "done"}) {
      router_.add("POST", std::string("/api/v1/") + endpoint,
                  [this, endpoint](const http::HttpRequest& req, const http::PathParams&) {
                    Recorded r;
                    r.method = req.method;
                    r.path = req.path;
                    if (auto it = req.headers.find("Authorization"); it != req.headers.end()) {
                      r.authorization = it->second;
                    }
                    if (auto it = req.headers.find("Content-Type"); it != req.headers.end()) {
                      r.content_type = it->second;
                    }
                    boost::system::error_code ec;
                    r.body = json::parse(req.body, ec);
                    std::lock_guard lock(mu_);
                    requests_.push_back(r);
                    json::object body = r.body.is_object() ? r.body.as_object() : json::object{};
                    auto it = answers_.find(endpoint);
                    return it != answers_.end() ? it->second(body) : ok(endpoint, body);
                  });
    }
    server_ = std::make_unique<http::HttpServer>(
        ioc_, [this](const http::HttpRequest& req) { return router_.dispatch(req); });
    server_->listen("127.0.0.1", 0);
    thread_ = std::thread([this] { ioc_.run(); });
  }

  ~FakeAgent() {
    server_->stop();
    work_.reset();
    thread_.join();
    server_.reset();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  std::uint16_t port() const { return server_->port(); }

  void answer(const std::string& endpoint, Answer a) {
    std::lock_guard lock(mu_);
    answers_[endpoint] = std::move(a);
  }

  std::vector<Recorded> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  static http::HttpResponse json_response(int status, const json::value& v) {
    http::HttpResponse r;
    r.status = status;
    r.content_type = "application/json";
    r.body = json::serialize(v);
    return r;
  }

  // What the real API answers to a well-formed act (agent/app/api/api.cc).
  static http::HttpResponse ok(const std::string& endpoint, const json::object& b) {
    if (endpoint == "done") {
      return json_response(200, json::object{{"item", b.at("item")},
                                             {"failed", b.contains("failed")},
                                             {"phase", "backing_out"},
                                             {"next", "restore_app"}});
    }
    if (endpoint == "deployed") {
      return json_response(200, json::object{{"deployed_at", "2026-06-07T02:41:00+01:00"},
                                             {"by", b.at("by")}});
    }
    if (b.contains("decision")) {
      return json_response(200, b);
    }
    if (b.contains("eta")) {
      return json_response(200, json::object{{"trigger", b.at("trigger")},
                                             {"eta", "2026-06-07T03:40:00+01:00"},
                                             {"honoured", true},
                                             {"note", ""}});
    }
    if (b.contains("clear")) {
      return json_response(200, json::object{{"cleared", b.at("clear")}});
    }
    if (b.contains("severity")) {
      return json_response(200, json::object{{"id", "manual_1"}, {"severity", b.at("severity")}});
    }
    json::array ids;
    ids.push_back(b.contains("trigger") ? b.at("trigger") : json::value("db_connectivity"));
    return json_response(200, json::object{{"acknowledged", ids}, {"by", b.at("by")}});
  }

  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      ioc_.get_executor()};
  http::Router router_;
  std::unique_ptr<http::HttpServer> server_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Recorded> requests_;
  std::map<std::string, Answer> answers_;
};

struct CliRun {
  int code = 0;
  std::string out;
  std::string err;
};

CliRun cli(std::vector<std::string> args) {
  args.insert(args.begin(), "backout-agent");
  std::ostringstream out;
  std::ostringstream err;
  CliRun r;
  r.code = main_entry(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

class CliActsTest : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv(kTokenVar, kToken, 1); }
  void TearDown() override {
    ::unsetenv(kTokenVar);
    for (const fs::path& p : temp_files_) {
      fs::remove(p);
    }
  }

  // The options every act here shares: the fake agent and the test's token variable.
  std::vector<std::string> with_agent(std::vector<std::string> args) const {
    args.insert(args.end(), {"--agent", agent_.url(), "--token-env", kTokenVar});
    return args;
  }

  std::string temp_file(const std::string& name, const std::string& content) {
    fs::path p = fs::temp_directory_path() /
                 ("backout-cli-acts-" + std::to_string(::getpid()) + "-" + name);
    std::ofstream(p, std::ios::binary) << content;
    temp_files_.push_back(p);
    return p.string();
  }

  FakeAgent agent_;
  std::vector<fs::path> temp_files_;
};

TEST_F(CliActsTest, AckPostsTheTriggerAndWhoWithTheBearerToken) {
  CliRun r = cli(with_agent({"ack", "--trigger", "db_connectivity", "--by", "@jane.doe"}));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "acknowledged db_connectivity (by @jane.doe)\n");
  EXPECT_EQ(r.err, "");
  auto reqs = agent_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].path, "/api/v1/ack");
  EXPECT_EQ(reqs[0].authorization, std::string("Bearer ") + kToken);
  EXPECT_EQ(reqs[0].content_type, "application/json");
  EXPECT_EQ(reqs[0].body, (json::value{{"trigger", "db_connectivity"}, {"by", "@jane.doe"}}));
}

TEST_F(CliActsTest, AckWithoutTriggerAcknowledgesEverythingOpen) {
  CliRun r = cli(with_agent({"ack", "--by", "@jane.doe"}));
  EXPECT_EQ(r.code, 0) << r.err;
  auto reqs = agent_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].body, (json::value{{"by", "@jane.doe"}}));
}

TEST_F(CliActsTest, FixForwardWithTokenFile) {
  const std::string token_file = temp_file("token", "file-token\n");
  CliRun r = cli({"fix-forward", "--trigger", "login_failure_rate", "--eta", "30m", "--by",
               "@john.smith", "--agent", agent_.url(), "--token-file", token_file});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "fix-forward declared for login_failure_rate, ETA 2026-06-07T03:40:00+01:00\n");
  auto reqs = agent_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/api/v1/fix-forward");
  EXPECT_EQ(reqs[0].authorization, "Bearer file-token");
  EXPECT_EQ(reqs[0].body, (json::value{{"trigger", "login_failure_rate"},
                                       {"eta", "30m"},
                                       {"by", "@john.smith"}}));
}

TEST_F(CliActsTest, FixForwardNotHonouredSaysSo) {
  agent_.answer("fix-forward", [](const json::object&) {
    http::HttpResponse r;
    r.content_type = "application/json";
    r.body = R"({"trigger": "login_failure_rate", "eta": "2026-06-07T04:30:00+01:00", )"
             R"("honoured": false, "note": "the ETA is after the point of no return: the )"
             R"(recommendation stays backout"})";
    return r;
  });
  CliRun r = cli(with_agent({"fix-forward", "--trigger", "login_failure_rate", "--eta",
                          "2026-06-07T04:30:00+01:00", "--by", "@john.smith"}));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("; NOT honoured: the ETA is after the point of no return"));
}

TEST_F(CliActsTest, FixForwardWithABadEtaSendsNothing) {
  CliRun r = cli(with_agent({"fix-forward", "--trigger", "login_failure_rate", "--eta", "soon",
                          "--by", "@john.smith"}));
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--eta 'soon' is neither an RFC 3339 time"));
  EXPECT_TRUE(agent_.requests().empty());
}

TEST_F(CliActsTest, DecideBackoutWithANote) {
  CliRun r = cli(with_agent({"decide", "--decision", "backout", "--by", "@jane.doe", "--note",
                          "database unreachable"}));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "decision recorded: backout by @jane.doe: database unreachable\n");
  auto reqs = agent_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/api/v1/decision");
  EXPECT_EQ(reqs[0].body, (json::value{{"decision", "backout"},
                                       {"by", "@jane.doe"},
                                       {"note", "database unreachable"}}));
}

// DESIGN section 9: `done ITEM` names the step before its options.
TEST_F(CliActsTest, DoneSendsTheItemWhoTheNoteAndFailed) {
  CliRun r = cli(with_agent({"done", "restore_db", "--by", "@mike.brown", "--note",
                             "restored from the 01:00 backup", "--failed"}));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "restore_db recorded as failed; next step: restore_app\n");
  auto reqs = agent_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/api/v1/done");
  EXPECT_EQ(reqs[0].body, (json::value{{"item", "restore_db"},
                                       {"by", "@mike.brown"},
                                       {"note", "restored from the 01:00 backup"},
                                       {"failed", true}}));
  CliRun missing = cli(with_agent({"done", "--by", "@mike.brown"}));
  EXPECT_EQ(missing.code, 2);
  EXPECT_THAT(missing.err, HasSubstr("say which ITEM"));
  CliRun two = cli(with_agent({"done", "restore_db", "restore_app", "--by", "@mike.brown"}));
  EXPECT_EQ(two.code, 2);
  EXPECT_THAT(two.err, HasSubstr("unexpected argument 'restore_app'"));
  EXPECT_EQ(agent_.requests().size(), 1u) << "a wrong command line sends nothing";
}

TEST_F(CliActsTest, DeployedDeclaresGoLive) {
  CliRun r = cli(with_agent({"deployed", "--by", "@jane.doe"}));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "go-live recorded at 2026-06-07T02:41:00+01:00 (by @jane.doe)\n");
  auto reqs = agent_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/api/v1/deployed");
  EXPECT_EQ(reqs[0].body, (json::value{{"by", "@jane.doe"}}));
}

TEST_F(CliActsTest, DecideExtendNeedsUntil) {
  CliRun r = cli(with_agent({"decide", "--decision", "extend", "--by", "@sarah.williams"}));
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--decision extend needs --until TIME"));
  CliRun bad = cli(with_agent({"decide", "--decision", "rollback", "--by", "@jane.doe"}));
  EXPECT_EQ(bad.code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--decision must be backout, go or extend"));
  EXPECT_TRUE(agent_.requests().empty());

  CliRun ok = cli(with_agent(
      {"decide", "--decision", "extend", "--by", "@sarah.williams", "--until", "1h"}));
  EXPECT_EQ(ok.code, 0) << ok.err;
  auto reqs = agent_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].body,
            (json::value{{"decision", "extend"}, {"by", "@sarah.williams"}, {"until", "1h"}}));
}

TEST_F(CliActsTest, RaiseAndClear) {
  CliRun r = cli(with_agent({"raise", "--severity", "critical", "--reason",
                          "customer data visible to other users", "--by", "@dave.jones"}));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "raised manual_1 (critical)\n");
  CliRun c = cli(with_agent({"raise", "--clear", "manual_1", "--by", "@dave.jones"}));
  EXPECT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(c.out, "cleared manual_1\n");
  auto reqs = agent_.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].path, "/api/v1/raise");
  EXPECT_EQ(reqs[0].body, (json::value{{"severity", "critical"},
                                       {"reason", "customer data visible to other users"},
                                       {"by", "@dave.jones"}}));
  EXPECT_EQ(reqs[1].body, (json::value{{"clear", "manual_1"}, {"by", "@dave.jones"}}));

  CliRun minor = cli(with_agent({"raise", "--severity", "minor", "--reason", "x", "--by", "@a"}));
  EXPECT_EQ(minor.code, 2);
  EXPECT_THAT(minor.err, HasSubstr("--severity must be critical, major or discretionary"));
  EXPECT_EQ(agent_.requests().size(), 2u);
}

TEST_F(CliActsTest, ARefusalIsExitTwoWithTheAgentsMessage) {
  agent_.answer("ack", [](const json::object&) {
    return http::json_error(409, "no open breach of db_connectivity to acknowledge");
  });
  CliRun r = cli(with_agent({"ack", "--trigger", "db_connectivity", "--by", "@jane.doe"}));
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "backout-agent ack: the agent refused (HTTP 409): no open breach of db_connectivity "
            "to acknowledge\n");
}

TEST_F(CliActsTest, AWrongTokenIsExitTwoWithAHint) {
  agent_.answer("decision", [](const json::object&) { return http::json_error(401, "wrong token"); });
  CliRun r = cli(with_agent({"decide", "--decision", "go", "--by", "@jane.doe"}));
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("the agent refused (HTTP 401): wrong token; check the token"));
}

TEST_F(CliActsTest, AServerErrorIsExitOne) {
  agent_.answer("raise", [](const json::object&) { return http::json_error(500, "internal error"); });
  CliRun r = cli(with_agent({"raise", "--severity", "major", "--reason", "x", "--by", "@a"}));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("the agent failed (HTTP 500): internal error"));
}

TEST_F(CliActsTest, AnUnreachableAgentIsExitOneNamingTheUrl) {
  const std::string url = "http://127.0.0.1:" + std::to_string(backout::testing::unused_loopback_port());
  CliRun r = cli({"ack", "--by", "@jane.doe", "--agent", url, "--token-env", kTokenVar});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("cannot reach the agent at " + url));
  EXPECT_THAT(r.err, HasSubstr("the agent may not be running"));
}

TEST_F(CliActsTest, MissingTokenIsExitTwoAndSendsNothing) {
  ::unsetenv(kTokenVar);
  CliRun r = cli(with_agent({"ack", "--by", "@jane.doe"}));
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr(std::string("no token: $") + kTokenVar + " is not set"));
  EXPECT_TRUE(agent_.requests().empty());
}

TEST_F(CliActsTest, AnHttpsOrMalformedAgentUrlIsExitTwo) {
  CliRun r = cli({"ack", "--by", "@jane.doe", "--agent", "https://127.0.0.1:9750", "--token-env",
               kTokenVar});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("plain HTTP"));
}

TEST_F(CliActsTest, PlanGivesTheAddressAndTheToken) {
  std::string plan = backout::testing::read_file(backout::testing::reference_plan_path());
  const std::string listen = "listen: 127.0.0.1:9750";
  const std::string token = "token_env: BACKOUT_AGENT_TOKEN";
  ASSERT_NE(plan.find(listen), std::string::npos);
  ASSERT_NE(plan.find(token), std::string::npos);
  plan.replace(plan.find(listen), listen.size(),
               "listen: 127.0.0.1:" + std::to_string(agent_.port()));
  plan.replace(plan.find(token), token.size(), std::string("token_env: ") + kTokenVar);
  const std::string plan_file = temp_file("plan.yaml", plan);
  CliRun r = cli({"decide", "--decision", "go", "--by", "@jane.doe", "--plan", plan_file});
  EXPECT_EQ(r.code, 0) << r.err;
  auto reqs = agent_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].authorization, std::string("Bearer ") + kToken);
}

TEST_F(CliActsTest, EveryActHasHelp) {
  for (const char* act : {"ack", "fix-forward", "decide", "raise", "report", "deployed", "done"}) {
    CliRun r = cli({act, "--help"});
    EXPECT_EQ(r.code, 0) << act;
    EXPECT_THAT(r.out, HasSubstr(std::string("Usage: backout-agent ") + act)) << act;
  }
  CliRun usage = cli({"--help"});
  for (const char* act : {"ack", "fix-forward", "decide", "raise", "report"}) {
    EXPECT_THAT(usage.out, HasSubstr(std::string("  ") + act + " ")) << act;
  }
}

}  // namespace
}  // namespace backout::agent
