// The postgres collector against a real PostgreSQL on loopback (PostgresServer), a silent
// listener for timeouts, and a closed port for outages. Every wait is bounded; checks run every
// 100 ms so that periodic behaviour shows within a second.
#include "postgres/postgres_kind.h"

#include <gtest/gtest.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <list>
#include <memory>
#include <string>
#include <thread>

#include "postgres/postgres_conninfo.h"
#include "support/postgres_server.h"
#include "support/sample_recorder.h"

namespace backout::collectors {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::PostgresServer;
using testing::SampleRecorder;
using Clock = std::chrono::steady_clock;

// The dsn comes from this variable, as it would in production (dsn_env).
constexpr const char* kDsnVar = "BACKOUT_TEST_PG_DSN";

Result<std::string> resolve_from_env(const SecretRef& ref) {
  const char* v = std::getenv(ref.name.c_str());
  if (v == nullptr || *v == '\0') {
    return Error{"environment variable " + ref.name + " is not set"};
  }
  return std::string(v);
}

Source postgres_source(const std::string& query, Duration every = 100ms,
                              Duration timeout = 2s, const std::string& dsn_var = kDsnVar) {
  Source s;
  s.id = "portal_db";
  s.kind = "postgres";
  s.options.set("query", query);
  s.options.set("every", every);
  s.options.set("timeout", timeout);
  s.options.set_secret("dsn", {SecretRef::From::kEnv, dsn_var});
  return s;
}

// An io thread, a strand for the collector and a recorder as its sink. start/stop/destruction
// run on the strand, as the agent does.
class Harness {
 public:
  Harness() : strand_(asio::make_strand(io_)), work_(io_.get_executor()) {
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Harness() {
    on_strand([this] {
      if (collector_) {
        collector_->stop();
        collector_.reset();
      }
    });
    work_.reset();
    io_.stop();
    thread_.join();
  }

  Result<std::unique_ptr<Collector>> make(const Source& source) {
    CollectorContext ctx;
    ctx.executor = strand_;
    ctx.sink = &recorder_;
    ctx.resolve_secret = resolve_from_env;
    return create_postgres_collector(source, ctx);
  }

  // Creates and starts the collector; fails the test when creation fails.
  void start(const Source& source) {
    Result<std::unique_ptr<Collector>> c = make(source);
    ASSERT_TRUE(c.ok()) << c.error();
    collector_ = std::move(c).value();
    on_strand([this] { collector_->start(); });
  }
  void stop() {
    on_strand([this] { collector_->stop(); });
  }

  void on_strand(std::function<void()> f) {
    std::promise<void> done;
    asio::dispatch(strand_, [&] {
      f();
      done.set_value();
    });
    ASSERT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
  }

  // Waits for attempts until one satisfies `pred`; at most `timeout`.
  std::optional<SampleRecorder::Attempt> wait_for(
      const std::function<bool(const SampleRecorder::Attempt&)>& pred,
      std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      std::optional<SampleRecorder::Attempt> a = recorder_.next_attempt(left);
      if (a && pred(*a)) {
        return a;
      }
    }
    return std::nullopt;
  }

  SampleRecorder& recorder() { return recorder_; }

 private:
  asio::io_context io_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  SampleRecorder recorder_;
  std::unique_ptr<Collector> collector_;
};

// Accepts TCP connections and never says a word: a server that hangs. Its own io thread, so
// that it outlives nothing it depends on.
class SilentServer {
 public:
  SilentServer() : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~SilentServer() {
    io_.stop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, asio::ip::tcp::socket s) {
      if (ec) {
        return;
      }
      held_.push_back(std::move(s));
      accept();
    });
  }
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::list<asio::ip::tcp::socket> held_;
  int port_ = 0;
  std::thread thread_;
};

class PostgresCollectorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new PostgresServer();
    const auto t0 = Clock::now();
    Status s = server_->start();
    ASSERT_TRUE(s.ok()) << s.error();
    std::printf("PostgreSQL ready in %.2f s\n",
                std::chrono::duration<double>(Clock::now() - t0).count());
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    ASSERT_TRUE(server_->running()) << "the shared server did not start";
    ::setenv(kDsnVar, server_->dsn().c_str(), 1);
  }
  void TearDown() override { ::unsetenv(kDsnVar); }

  static PostgresServer* server_;
};

PostgresServer* PostgresCollectorTest::server_ = nullptr;

TEST_F(PostgresCollectorTest, ConstantQueryIsUpWithItsValue) {
  Harness h;
  h.start(postgres_source("SELECT 42"));
  std::optional<SampleRecorder::Attempt> a = h.recorder().next_attempt(5s);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->outcome.up) << a->outcome.error;
  EXPECT_EQ(a->outcome.error, "");
  EXPECT_EQ(a->outcome.samples, 3u);
  EXPECT_EQ(h.recorder().values("up", a->index), std::vector<double>{1});
  EXPECT_EQ(h.recorder().values("value", a->index), std::vector<double>{42});
  std::vector<double> duration = h.recorder().values("duration", a->index);
  ASSERT_EQ(duration.size(), 1u);
  EXPECT_GT(duration[0], 0);
  EXPECT_LT(duration[0], 2.0);
  EXPECT_DOUBLE_EQ(duration[0], to_seconds(a->outcome.duration));
}

TEST_F(PostgresCollectorTest, CountFollowsInsertsAcrossAttempts) {
  Status created =
      server_->execute("CREATE TABLE orders (id int); INSERT INTO orders VALUES (1), (2), (3)");
  ASSERT_TRUE(created.ok()) << created.error();
  Harness h;
  h.start(postgres_source("SELECT COUNT(*) FROM orders"));
  std::optional<SampleRecorder::Attempt> a = h.recorder().next_attempt(5s);
  ASSERT_TRUE(a);
  EXPECT_EQ(h.recorder().values("value", a->index), std::vector<double>{3});

  Status inserted = server_->execute("INSERT INTO orders VALUES (4), (5)");
  ASSERT_TRUE(inserted.ok()) << inserted.error();
  std::optional<SampleRecorder::Attempt> later = h.wait_for(
      [&](const SampleRecorder::Attempt& x) {
        return h.recorder().values("value", x.index) == std::vector<double>{5};
      },
      5s);
  EXPECT_TRUE(later) << "the count never reached 5";
}

TEST_F(PostgresCollectorTest, UnusableFirstValueIsUpWithoutValueAndSaysWhy) {
  struct Case {
    std::string query;
    std::string why;
    std::size_t malformed;
  };
  for (const Case& c :
       {Case{"SELECT 'abc'", "is not a number", 1}, Case{"SELECT NULL::int", "is NULL", 0},
        Case{"SELECT 1 WHERE false", "no rows", 0}}) {
    SCOPED_TRACE(c.query);
    Harness h;
    h.start(postgres_source(c.query));
    std::optional<SampleRecorder::Attempt> a = h.recorder().next_attempt(5s);
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->outcome.up);
    EXPECT_NE(a->outcome.error.find(c.why), std::string::npos) << a->outcome.error;
    EXPECT_EQ(a->outcome.malformed, c.malformed);
    EXPECT_TRUE(h.recorder().values("value", a->index).empty());
    EXPECT_EQ(h.recorder().values("up", a->index), std::vector<double>{1});
  }
}

TEST_F(PostgresCollectorTest, BooleansAndDecimalsAreNumbers) {
  for (auto [query, want] :
       {std::pair{"SELECT true", 1.0}, std::pair{"SELECT false", 0.0},
        std::pair{"SELECT 2.5::numeric", 2.5}, std::pair{"SELECT 7, 'second column'", 7.0},
        std::pair{"SELECT g FROM generate_series(11, 50000) g", 11.0}}) {
    SCOPED_TRACE(query);
    Harness h;
    h.start(postgres_source(query));
    std::optional<SampleRecorder::Attempt> a = h.recorder().next_attempt(5s);
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->outcome.up) << a->outcome.error;
    EXPECT_EQ(h.recorder().values("value", a->index), std::vector<double>{want});
  }
}

TEST_F(PostgresCollectorTest, QueryErrorIsDownWithTheServersMessage) {
  Harness h;
  h.start(postgres_source("SELECT * FROM no_such_table"));
  std::optional<SampleRecorder::Attempt> a = h.recorder().next_attempt(5s);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->outcome.up);
  EXPECT_NE(a->outcome.error.find("relation \"no_such_table\" does not exist"), std::string::npos)
      << a->outcome.error;
  EXPECT_NE(a->outcome.error.find("42P01"), std::string::npos) << a->outcome.error;
  EXPECT_EQ(h.recorder().values("up", a->index), std::vector<double>{0});
  EXPECT_TRUE(h.recorder().values("value", a->index).empty());
}

TEST_F(PostgresCollectorTest, HostNameIsResolvedWithoutLibpq) {
  // "localhost" goes through Asio's resolver and reaches libpq as hostaddr entries.
  ::setenv(
      kDsnVar,
      ("host=localhost port=" + std::to_string(server_->port()) + " dbname=postgres user=postgres")
          .c_str(),
      1);
  Harness h;
  h.start(postgres_source("SELECT 1"));
  std::optional<SampleRecorder::Attempt> a = h.recorder().next_attempt(5s);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->outcome.up) << a->outcome.error;
}

// Its own server: stopping the shared one would disturb the other tests.
TEST(PostgresOutageTest, DownQuicklyWhenTheServerStopsAndUpAgainAfterRestart) {
  PostgresServer server;
  Status started = server.start();
  ASSERT_TRUE(started.ok()) << started.error();
  ::setenv(kDsnVar, server.dsn().c_str(), 1);

  Harness h;
  h.start(postgres_source("SELECT 1", 100ms, 2s));
  auto up = [](const SampleRecorder::Attempt& a) { return a.outcome.up; };
  ASSERT_TRUE(h.wait_for(up, 5s));

  server.stop();
  std::optional<SampleRecorder::Attempt> down =
      h.wait_for([](const SampleRecorder::Attempt& a) { return !a.outcome.up; }, 5s);
  ASSERT_TRUE(down);
  // Refused at once, not after the 2 s timeout (an attempt in flight at the stop may differ).
  std::optional<SampleRecorder::Attempt> refused = h.wait_for(
      [](const SampleRecorder::Attempt& a) {
        return !a.outcome.up && a.outcome.error.find("Connection refused") != std::string::npos;
      },
      5s);
  ASSERT_TRUE(refused) << down->outcome.error;
  EXPECT_LT(refused->outcome.duration, 1s);
  EXPECT_EQ(h.recorder().values("up", refused->index), std::vector<double>{0});

  started = server.start();
  ASSERT_TRUE(started.ok()) << started.error();
  EXPECT_TRUE(h.wait_for(up, 5s)) << "not up again after the restart";
  h.stop();
  ::unsetenv(kDsnVar);
}

// The held connection (watch_connection, on by default): a stopped server is seen at once, not at
// the next check 30 s later, and the error says why the check ran early.
TEST(PostgresWatchTest, StoppedServerIsSeenAtOnceNotAtTheNextCheck) {
  PostgresServer server;
  Status started = server.start();
  ASSERT_TRUE(started.ok()) << started.error();
  ::setenv(kDsnVar, server.dsn().c_str(), 1);

  Harness h;
  h.start(postgres_source("SELECT 1", 30s, 2s));
  std::optional<SampleRecorder::Attempt> first = h.recorder().next_attempt(5s);
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->outcome.up) << first->outcome.error;

  const auto t0 = Clock::now();
  server.stop();
  std::optional<SampleRecorder::Attempt> down = h.recorder().next_attempt(5s);
  const auto seen = Clock::now() - t0;
  ASSERT_TRUE(down) << "no check within 5 s of the stop (the next scheduled one is 30 s away)";
  EXPECT_FALSE(down->outcome.up);
  EXPECT_LT(seen, 2s);
  EXPECT_NE(down->outcome.error.find("checked at once: the server had closed the connection"),
            std::string::npos)
      << down->outcome.error;
  // The server's own word for the closure (fast shutdown: SQLSTATE 57P01).
  EXPECT_NE(down->outcome.error.find("57P01"), std::string::npos) << down->outcome.error;
  EXPECT_EQ(h.recorder().values("up", down->index), std::vector<double>{0});
  h.stop();
  ::unsetenv(kDsnVar);
}

// Ending the held connection is not an outage: the early check connects afresh and is up. A
// second closure right after gets no second early check (at most one between scheduled ones).
TEST_F(PostgresCollectorTest, TerminatedConnectionIsCheckedAgainAndStaysUp) {
  const std::string terminate =
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE application_name = 'backout-agent'";
  Harness h;
  h.start(postgres_source("SELECT 1", 30s, 2s));
  std::optional<SampleRecorder::Attempt> first = h.recorder().next_attempt(5s);
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->outcome.up) << first->outcome.error;
  // One connection is held between checks, named in pg_stat_activity.
  ASSERT_TRUE(server_
                  ->execute("DO $$ BEGIN IF (SELECT count(*) FROM pg_stat_activity WHERE "
                            "application_name = 'backout-agent') <> 1 THEN RAISE EXCEPTION "
                            "'expected one held connection'; END IF; END $$")
                  .ok());

  ASSERT_TRUE(server_->execute(terminate).ok());
  std::optional<SampleRecorder::Attempt> early = h.recorder().next_attempt(5s);
  ASSERT_TRUE(early) << "no early check after the held connection was terminated";
  EXPECT_TRUE(early->outcome.up) << early->outcome.error;
  EXPECT_EQ(h.recorder().values("up", early->index), std::vector<double>{1});

  ASSERT_TRUE(server_->execute(terminate).ok());
  EXPECT_FALSE(h.recorder().next_attempt(1500ms))
      << "a second early check before the next scheduled one";
  h.stop();
}

// The held connection is closed before the next check connects: a role allowed one connection
// is never refused by its own idle session.
TEST_F(PostgresCollectorTest, HeldConnectionIsClosedBeforeTheNextCheckConnects) {
  ASSERT_TRUE(server_->execute("DROP ROLE IF EXISTS limited; "
                               "CREATE ROLE limited LOGIN CONNECTION LIMIT 1")
                  .ok());
  std::string dsn = server_->dsn();
  dsn.replace(dsn.find("user=postgres"), 13, "user=limited");
  ::setenv(kDsnVar, dsn.c_str(), 1);
  Harness h;
  h.start(postgres_source("SELECT 1", 200ms, 2s));
  ASSERT_TRUE(h.recorder().wait_for_attempts(12, 10s));
  h.stop();
  for (const AttemptOutcome& a : h.recorder().attempts()) {
    EXPECT_TRUE(a.up) << a.error;
  }
}

TEST_F(PostgresCollectorTest, WatchConnectionOffHoldsNothingBetweenChecks) {
  Source source = postgres_source("SELECT 1", 30s, 2s);
  source.options.set("watch_connection", false);
  Harness h;
  h.start(source);
  std::optional<SampleRecorder::Attempt> first = h.recorder().next_attempt(5s);
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->outcome.up) << first->outcome.error;
  Status none = server_->execute(
      "DO $$ BEGIN IF (SELECT count(*) FROM pg_stat_activity WHERE application_name = "
      "'backout-agent') <> 0 THEN RAISE EXCEPTION 'a connection is held'; END IF; END $$");
  EXPECT_TRUE(none.ok()) << none.error();
  h.stop();
}

TEST(PostgresTimeoutTest, SilentServerIsDownAfterTheTimeout) {
  Harness h;
  SilentServer silent;
  ::setenv(kDsnVar,
           ("host=127.0.0.1 port=" + std::to_string(silent.port()) + " dbname=x user=y").c_str(),
           1);
  h.start(postgres_source("SELECT 1", 5s, 300ms));
  std::optional<SampleRecorder::Attempt> a = h.recorder().next_attempt(5s);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->outcome.up);
  EXPECT_NE(a->outcome.error.find("timed out after 300ms"), std::string::npos) << a->outcome.error;
  EXPECT_GE(a->outcome.duration, 300ms);
  EXPECT_LT(a->outcome.duration, 1500ms);
  EXPECT_EQ(h.recorder().values("up", a->index), std::vector<double>{0});
  h.stop();
  ::unsetenv(kDsnVar);
}

TEST(PostgresStopTest, StopMidAttemptCancelsPromptlyAndRecordsNothingAfter) {
  Harness h;
  SilentServer silent;
  ::setenv(kDsnVar,
           ("host=127.0.0.1 port=" + std::to_string(silent.port()) + " dbname=x user=y").c_str(),
           1);
  h.start(postgres_source("SELECT 1", 100ms, 400ms));
  std::this_thread::sleep_for(100ms);  // the first attempt is waiting for the silent server
  const auto t0 = Clock::now();
  h.stop();
  EXPECT_LT(Clock::now() - t0, 100ms);
  const std::size_t calls = h.recorder().calls();
  EXPECT_EQ(calls, 0u) << "the attempt in flight must not be reported after stop()";
  // Past the timeout and the next due time: still nothing.
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(h.recorder().calls(), calls);
  ::unsetenv(kDsnVar);
}

TEST_F(PostgresCollectorTest, StopBetweenAttemptsEndsTheSchedule) {
  Harness h;
  h.start(postgres_source("SELECT 1", 100ms));
  ASSERT_TRUE(h.recorder().wait_for_attempts(2, 5s));
  h.stop();
  const std::size_t calls = h.recorder().calls();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(h.recorder().calls(), calls);
}

TEST(PostgresCreationTest, UnsetDsnVariableIsACreationErrorNamingIt) {
  ::unsetenv("BACKOUT_TEST_UNSET_DSN");
  Harness h;
  Result<std::unique_ptr<Collector>> c =
      h.make(postgres_source("SELECT 1", 1s, 1s, "BACKOUT_TEST_UNSET_DSN"));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().find("$BACKOUT_TEST_UNSET_DSN"), std::string::npos) << c.error();
}

TEST(PostgresCreationTest, MalformedDsnIsACreationErrorWithoutTheSecret) {
  ::setenv(kDsnVar, "host=db.internal user=app passwordhunter2secret", 1);
  Harness h;
  Result<std::unique_ptr<Collector>> c = h.make(postgres_source("SELECT 1"));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().find("$" + std::string(kDsnVar)), std::string::npos) << c.error();
  EXPECT_EQ(c.error().find("hunter2"), std::string::npos) << c.error();
  ::unsetenv(kDsnVar);
}

TEST(PostgresConnInfoTest, RedactsPasswordsInEveryForm) {
  Result<PostgresConnInfo> info =
      PostgresConnInfo::parse("host=db.internal user=app password='hunter2secret' dbname=x");
  ASSERT_TRUE(info.ok()) << info.error();
  for (const std::string msg :
       {"connection to server failed: hunter2secret", "bad option password=hunter2secret near",
        "bad option PASSWORD = 'hunter2 secret' near",
        "uri postgresql://app:hunter2secret@db.internal/x",
        "host=db.internal user=app password='hunter2secret' dbname=x"}) {
    const std::string out = info->redact(msg);
    EXPECT_EQ(out.find("hunter2"), std::string::npos) << out;
    EXPECT_NE(out.find("***"), std::string::npos) << out;
  }
  EXPECT_EQ(info->redact("line one\n\tline two\n"), "line one line two");
}

TEST(PostgresConnInfoTest, ResolvedAddressesBecomeHostEntriesWithTheirPorts) {
  Result<PostgresConnInfo> info =
      PostgresConnInfo::parse("host=db1,/run/postgresql,db2 port=5432,5433,5434 dbname=x");
  ASSERT_TRUE(info.ok()) << info.error();
  EXPECT_TRUE(info->needs_resolution());
  auto [keys, values] = info->params({{"10.0.0.1", "10.0.0.2"}, {""}, {"::1"}});
  std::map<std::string, std::string> p;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    p[keys[i]] = values[i];
  }
  EXPECT_EQ(p["host"], "db1,db1,/run/postgresql,db2");
  EXPECT_EQ(p["hostaddr"], "10.0.0.1,10.0.0.2,,::1");
  EXPECT_EQ(p["port"], "5432,5432,5433,5434");
  EXPECT_EQ(p["dbname"], "x");

  Result<PostgresConnInfo> numeric = PostgresConnInfo::parse("postgresql://u@127.0.0.1:5432/x");
  ASSERT_TRUE(numeric.ok());
  EXPECT_FALSE(numeric->needs_resolution());
}

}  // namespace
}  // namespace backout::collectors
