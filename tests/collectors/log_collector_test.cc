// The log collector on real files in a temp dir: appends, rotation by rename, truncation, a file
// that appears late, partial and overlong lines. The collector polls every 100 ms (the minimum
// the plan allows); each step waits, bounded, for the poll that shows the change.
#include "log/log_kind.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "log/log_matcher.h"
#include "support/sample_recorder.h"

namespace backout::collectors {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::SampleRecorder;
using Clock = std::chrono::steady_clock;

const std::map<std::string, std::string> kMatch = {
    {"login_failures", "login failed"},
    {"requests", R"(request (?<status>\d{3}) took (?<latency_ms>[0-9.]+)ms)"},
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "backout-log-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  bool ok() const { return !path_.empty(); }

 private:
  std::string path_;
};

void append(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << text;
}

void overwrite(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

Source log_source(const std::string& path, bool from_start = false,
                         const std::map<std::string, std::string>& match = kMatch) {
  Source s;
  s.id = "app_log";
  s.kind = "log";
  s.options.set("path", path);
  s.options.set("match", match);
  s.options.set("from_start", from_start);
  s.options.set("every", Duration{100ms});
  return s;
}

// An io thread, a strand for the collector and a recorder as its sink.
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

  void start(const Source& source) {
    CollectorContext ctx;
    ctx.executor = strand_;
    ctx.sink = &recorder_;
    Result<std::unique_ptr<Collector>> c = create_log_collector(source, ctx);
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

  // Waits for a poll after which `metric` was last recorded as `value`; at most 5 s.
  bool wait_value(const std::string& metric, double value) {
    const auto deadline = Clock::now() + 5s;
    while (Clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      std::optional<SampleRecorder::Attempt> a = recorder_.next_attempt(left);
      if (a && recorder_.values(metric, a->index) == std::vector<double>{value}) {
        return true;
      }
    }
    return false;
  }
  // The next poll, so that what was written before this call has been read.
  std::optional<SampleRecorder::Attempt> settle() {
    recorder_.next_attempt(2s);
    return recorder_.next_attempt(2s);
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

TEST(LogCollectorTest, CountsMatchingLinesAndRecordsGroupsAsObservations) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("app.log");
  append(path, "login failed for bob\n");  // before the start: not counted
  Harness h;
  h.start(log_source(path));
  std::optional<SampleRecorder::Attempt> first = h.recorder().next_attempt(5s);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->outcome.up) << first->outcome.error;
  EXPECT_EQ(h.recorder().values("login_failures", first->index), std::vector<double>{0});
  EXPECT_EQ(h.recorder().values("requests", first->index), std::vector<double>{0});

  append(path,
         "login failed for alice\n"
         "request 200 took 12ms\n"
         "noise\n"
         "request 503 took 1500.5ms\n"
         "login failed for carol\r\n");
  ASSERT_TRUE(h.wait_value("login_failures", 2));
  EXPECT_EQ(h.recorder().last("requests"), 2);
  EXPECT_EQ(h.recorder().values("status"), (std::vector<double>{200, 503}));
  std::vector<double> latency = h.recorder().values("latency");
  ASSERT_EQ(latency.size(), 2u);
  EXPECT_DOUBLE_EQ(latency[0], 0.012);
  EXPECT_DOUBLE_EQ(latency[1], 1.5005);
  EXPECT_TRUE(h.recorder().values("latency_ms").empty());
}

TEST(LogCollectorTest, CountersAreRecordedOnEveryPollAndStayCumulative) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  overwrite(path, "");
  Harness h;
  h.start(log_source(path));
  append(path, "login failed\n");
  ASSERT_TRUE(h.wait_value("login_failures", 1));
  std::optional<SampleRecorder::Attempt> quiet = h.settle();
  ASSERT_TRUE(quiet);
  EXPECT_EQ(h.recorder().values("login_failures", quiet->index), std::vector<double>{1});
  append(path, "login failed\n");
  EXPECT_TRUE(h.wait_value("login_failures", 2));
}

TEST(LogCollectorTest, FromStartReadsWhatIsAlreadyThere) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  append(path, "login failed\nlogin failed\nrequest 200 took 5ms\n");
  Harness h;
  h.start(log_source(path, /*from_start=*/true));
  std::optional<SampleRecorder::Attempt> first = h.recorder().next_attempt(5s);
  ASSERT_TRUE(first);
  EXPECT_EQ(h.recorder().values("login_failures", first->index), std::vector<double>{2});
  EXPECT_EQ(h.recorder().values("latency", first->index), std::vector<double>{0.005});
}

TEST(LogCollectorTest, BacklogLargerThanOnePollIsReadInFullAcrossPolls) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  // 13-byte lines: chunk and budget boundaries fall inside lines.
  constexpr int kLines = 200'000;  // about 2.5 MiB, more than two polls' budget
  std::string text;
  for (int i = 0; i < kLines; ++i) {
    text += "login failed\n";
  }
  overwrite(path, text);
  Harness h;
  h.start(log_source(path, /*from_start=*/true));
  ASSERT_TRUE(h.wait_value("login_failures", kLines));
  std::vector<collectors::AttemptOutcome> attempts = h.recorder().attempts();
  EXPECT_GE(attempts.size(), 3u);
  for (const auto& a : attempts) {
    EXPECT_EQ(a.malformed, 0u);
  }
}

TEST(LogCollectorTest, StartingAtTheEndSkipsTheTailOfAnUnfinishedLine) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  append(path, "request 200 took 1");  // its end arrives after the start
  Harness h;
  h.start(log_source(path));
  ASSERT_TRUE(h.recorder().next_attempt(5s));
  append(path, "0ms\nlogin failed\n");
  ASSERT_TRUE(h.wait_value("login_failures", 1));
  EXPECT_EQ(h.recorder().last("requests"), 0);
  EXPECT_TRUE(h.recorder().values("latency").empty());
}

TEST(LogCollectorTest, PartialLineWaitsForItsNewline) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  overwrite(path, "");
  Harness h;
  h.start(log_source(path));
  ASSERT_TRUE(h.recorder().next_attempt(5s));
  append(path, "login fai");
  ASSERT_TRUE(h.settle());
  EXPECT_EQ(h.recorder().last("login_failures"), 0);
  append(path, "led at last\n");
  EXPECT_TRUE(h.wait_value("login_failures", 1));
}

TEST(LogCollectorTest, RotationByRenameFinishesTheOldFileAndFollowsTheNewOne) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  overwrite(path, "");
  Harness h;
  h.start(log_source(path));
  ASSERT_TRUE(h.recorder().next_attempt(5s));
  append(path, "login failed 1\n");
  ASSERT_TRUE(h.wait_value("login_failures", 1));

  // Written to the old file just before the rename, then the new file appears.
  append(path, "login failed 2\nlogin failed 3 without newline");
  fs::rename(path, path + ".1");
  append(path, "login failed 4\n");
  ASSERT_TRUE(h.wait_value("login_failures", 4));
  std::optional<SampleRecorder::Attempt> a = h.settle();
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->outcome.up) << a->outcome.error;

  append(path, "login failed 5\n");
  EXPECT_TRUE(h.wait_value("login_failures", 5));
}

TEST(LogCollectorTest, MissingPathAfterRenameIsDownUntilANewFileAppears) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  overwrite(path, "");
  Harness h;
  h.start(log_source(path));
  ASSERT_TRUE(h.recorder().next_attempt(5s));
  fs::rename(path, path + ".1");
  append(path + ".1", "login failed\n");  // the writer has not reopened yet
  std::optional<SampleRecorder::Attempt> a = h.settle();
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->outcome.up);
  EXPECT_NE(a->outcome.error.find("is gone"), std::string::npos) << a->outcome.error;
  EXPECT_EQ(h.recorder().last("login_failures"), 1);  // the old file is still read

  append(path, "login failed\n");
  ASSERT_TRUE(h.wait_value("login_failures", 2));
  a = h.settle();
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->outcome.up) << a->outcome.error;
}

TEST(LogCollectorTest, TruncationStartsAgainFromTheBeginning) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  overwrite(path, "");
  Harness h;
  h.start(log_source(path));
  ASSERT_TRUE(h.recorder().next_attempt(5s));
  append(path, "login failed\nlogin failed\nlogin failed\n");
  ASSERT_TRUE(h.wait_value("login_failures", 3));
  overwrite(path, "login failed\n");  // copytruncate: shorter than what was read
  EXPECT_TRUE(h.wait_value("login_failures", 4));
}

TEST(LogCollectorTest, MissingFileIsDownThenFollowedFromItsStartOnceCreated) {
  TempDir dir;
  const std::string path = dir.file("later.log");
  Harness h;
  h.start(log_source(path));
  std::optional<SampleRecorder::Attempt> a = h.recorder().next_attempt(5s);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->outcome.up);
  EXPECT_NE(a->outcome.error.find("does not exist"), std::string::npos) << a->outcome.error;
  EXPECT_NE(a->outcome.error.find(path), std::string::npos) << a->outcome.error;
  EXPECT_TRUE(h.recorder().values("login_failures").empty());

  append(path, "login failed\nlogin failed\n");  // all of it is new: read from 0
  ASSERT_TRUE(h.wait_value("login_failures", 2));
  a = h.settle();
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->outcome.up);
}

TEST(LogCollectorTest, LongLinesAreCutAndCountedAsMalformed) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  overwrite(path, "");
  Harness h;
  h.start(log_source(path));
  ASSERT_TRUE(h.recorder().next_attempt(5s));
  // 200 KiB in one line: the start still matches, the rest is dropped up to the newline.
  append(path, "login failed " + std::string(200 * 1024, 'x') + " request 200 took 1ms\n" +
                   "request 201 took 2ms\n");
  ASSERT_TRUE(h.wait_value("requests", 1));
  EXPECT_EQ(h.recorder().last("login_failures"), 1);
  EXPECT_EQ(h.recorder().values("status"), std::vector<double>{201});
  std::size_t malformed = 0;
  for (const auto& a : h.recorder().attempts()) {
    malformed += a.malformed;
  }
  EXPECT_EQ(malformed, 1u);
}

TEST(LogCollectorTest, PathologicalLinesDoNotCrashOrHang) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  overwrite(path, "");
  Harness h;
  // std::regex overflows its stack on `.*error.*` over 30 KiB lines; this must survive.
  h.start(log_source(path, false, {{"errors", ".*error.*"}, {"nested", "(a|b)*c"}}));
  ASSERT_TRUE(h.recorder().next_attempt(5s));
  append(path, std::string(60 * 1024, 'a') + " error\n" + "error\n");
  EXPECT_TRUE(h.wait_value("errors", 2));
}

TEST(LogCollectorTest, StopEndsPollingAndNoSampleFollows) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  overwrite(path, "");
  Harness h;
  h.start(log_source(path));
  ASSERT_TRUE(h.recorder().wait_for_attempts(2, 5s));
  h.stop();
  const std::size_t calls = h.recorder().calls();
  append(path, "login failed\n");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(h.recorder().calls(), calls);
}

TEST(LogMatcherTest, NonNumericGroupIsMalformedAndOptionalGroupIsSkipped) {
  Result<LogMatcher> m =
      LogMatcher::compile({{"hits", R"(hit (?<size>\w+)(?: in (?<wait_ms>\d+)ms)?)"}});
  ASSERT_TRUE(m.ok()) << m.error();
  std::vector<std::pair<std::string, double>> seen;
  auto observe = [&](const std::string& s, double v) { seen.emplace_back(s, v); };
  EXPECT_EQ(m.value().match("hit 12 in 250ms", observe), 0u);
  EXPECT_EQ(m.value().match("hit 7", observe), 0u);
  EXPECT_EQ(m.value().match("hit big", observe), 1u);
  EXPECT_EQ(m.value().entries()[0].count, 3u);
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, double>>{
                      {"size", 12}, {"wait", 0.25}, {"size", 7}}));
}

}  // namespace
}  // namespace backout::collectors
