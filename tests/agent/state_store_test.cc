// The state store when its disk fills or turns read-only (issue 14, defect 0): the outbox keeps
// delivering from memory, sends nothing twice, and records every change once the store takes
// writes again; the timeline holds its events and catches up in order.
//
// The store lives on a small tmpfs mounted for the test (root only; the CI runs as root), so
// the failures are the real ENOSPC and EROFS that SQLite sees, not a fake.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "app/metrics/agent_metrics.h"
#include "app/runtime/delivery_recorder.h"
#include "app/store/state_store.h"
#include "backout/alerting/dispatcher.h"
#include "support/test_plan.h"

namespace backout::agent {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

TimePoint t0() { return backout::testing::at(0); }

// A tmpfs of `size` mounted on a fresh directory, which a filler file can fill to the last
// byte .
class SmallDisk {
 public:
  explicit SmallDisk(const std::string& size) {
    char tmpl[] = "/tmp/backout-disk-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    const std::string opts = "size=" + size;
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, opts.c_str()) != 0) {
      error_ = std::strerror(errno);
    }
  }
  ~SmallDisk() {
    if (error_.empty()) {
      ::umount2(dir_.c_str(), MNT_DETACH);
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  bool mounted() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::string path(const std::string& name) const { return (fs::path(dir_) / name).string(); }

  /// Writes a filler file until the disk has no byte left.
  void fill() {
    std::ofstream f(path("filler"), std::ios::binary | std::ios::app);
    const std::string block(4096, 'x');
    while (f.write(block.data(), static_cast<std::streamsize>(block.size())) && f.flush()) {
    }
  }
  void free_space() { fs::remove(path("filler")); }

 private:
  std::string dir_;
  std::string error_;
};

class StateStoreFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    disk_ = std::make_unique<SmallDisk>("1m");
    if (!disk_->mounted()) {
      GTEST_SKIP() << "cannot mount a tmpfs (" << disk_->error() << "); run as root";
    }
    open_store();
  }
  void open_store() {
    auto opened = StateStore::open(disk_->path("state"));
    ASSERT_TRUE(opened.ok()) << opened.error();
    store_ = std::move(opened).value();
  }
  std::function<void(const std::string&)> count_errors() {
    return [this](const std::string& e) {
      ++errors_;
      last_error_ = e;
    };
  }

  std::unique_ptr<SmallDisk> disk_;
  std::unique_ptr<StateStore> store_;
  int errors_ = 0;
  std::string last_error_;
};

TEST(StoreRetryGateTest, RetriesAtOnceThenAfterADoublingDelayCappedAt30s) {
  StoreRetryGate gate;
  EXPECT_TRUE(gate.due(t0()));
  gate.failed(t0());
  EXPECT_FALSE(gate.due(t0() + std::chrono::milliseconds{999}));
  EXPECT_TRUE(gate.due(t0() + std::chrono::seconds{1}));
  gate.failed(t0() + std::chrono::seconds{1});
  EXPECT_FALSE(gate.due(t0() + std::chrono::milliseconds{2999}));
  EXPECT_TRUE(gate.due(t0() + std::chrono::seconds{3}));
  TimePoint t = t0() + std::chrono::seconds{3};
  for (int i = 0; i < 10; ++i) {
    gate.failed(t);
  }
  EXPECT_FALSE(gate.due(t + std::chrono::seconds{29}));
  EXPECT_TRUE(gate.due(t + std::chrono::seconds{30}));
  // A wall clock stepped back does not hold the writes for the length of the step.
  EXPECT_TRUE(gate.due(t - std::chrono::hours{1}));
  gate.succeeded();
  EXPECT_TRUE(gate.due(t));
}

TEST_F(StateStoreFaultTest, FullDiskMessageIsDeliveredOnceAndRecordedWhenSpaceReturns) {
  auto outbox = std::make_unique<StoreOutbox>(*store_, count_errors());
  disk_->fill();
  TimePoint now = t0();
  // Decided while the disk is full: queued in memory, not refused as "already in the outbox".
  ASSERT_TRUE(outbox->enqueue("chat", "breach:login#1", "{\"text\": \"BACKOUT\"}", now));
  EXPECT_EQ(errors_, 1);
  EXPECT_THAT(last_error_, HasSubstr("full"));
  std::optional<alerting::OutboxMessage> head = outbox->head("chat");
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->key, "breach:login#1");
  EXPECT_EQ(outbox->stats("chat", now).depth, 1u);

  // Delivered while the disk is still full: gone from the queue, whatever the store says.
  outbox->delivered(head->id, now);
  EXPECT_FALSE(outbox->head("chat").has_value());
  EXPECT_FALSE(outbox->enqueue("chat", "breach:login#1", "{}", now)) << "a key is used once";
  // Writes are retried on the gate's schedule only: no write per call while the disk is full.
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(outbox->flush(now + std::chrono::milliseconds{i}), 1u);
  }
  EXPECT_EQ(errors_, 1);
  EXPECT_EQ(outbox->flush(now + std::chrono::seconds{1}), 1u);
  EXPECT_EQ(errors_, 2);
  EXPECT_TRUE(store_->outbox_all().empty());

  disk_->free_space();
  EXPECT_EQ(outbox->flush(now + std::chrono::seconds{3}), 0u);
  std::vector<alerting::OutboxMessage> all = store_->outbox_all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].key, "breach:login#1");
  EXPECT_EQ(all[0].attempts, 1);
  EXPECT_TRUE(store_->outbox_pending().empty()) << "recorded as delivered";

  // After a restart the key is still used and nothing is pending.
  outbox.reset();
  store_.reset();
  open_store();
  StoreOutbox again(*store_, count_errors());
  EXPECT_FALSE(again.head("chat").has_value());
  EXPECT_FALSE(again.enqueue("chat", "breach:login#1", "{}", now));
  EXPECT_TRUE(again.enqueue("chat", "breach:login#2", "{}", now));
  EXPECT_GT(again.head("chat")->id, all[0].id);
}

TEST_F(StateStoreFaultTest, ReadOnlyStoreKeepsRetriesInMemoryAndWritesTheLatestState) {
  StoreOutbox outbox(*store_, count_errors());
  TimePoint now = t0();
  ASSERT_TRUE(outbox.enqueue("chat", "a", "{}", now));
  ASSERT_TRUE(outbox.enqueue("chat", "b", "{}", now));
  ASSERT_EQ(store_->outbox_pending().size(), 2u);
  ASSERT_TRUE(store_->set_query_only(true).ok());
  const std::int64_t a = outbox.head("chat")->id;
  outbox.retry(a, now + std::chrono::seconds{2}, "HTTP 503", now);
  EXPECT_EQ(errors_, 1);
  EXPECT_THAT(last_error_, HasSubstr("readonly"));
  EXPECT_EQ(outbox.head("chat")->attempts, 1);
  EXPECT_EQ(outbox.head("chat")->next_attempt_at, now + std::chrono::seconds{2});
  outbox.delivered(a, now + std::chrono::seconds{2});
  ASSERT_TRUE(outbox.enqueue("chat", "c", "{}", now + std::chrono::seconds{2}));
  EXPECT_EQ(outbox.head("chat")->key, "b");

  ASSERT_TRUE(store_->set_query_only(false).ok());
  EXPECT_EQ(outbox.flush(now + std::chrono::seconds{5}), 0u);
  std::vector<alerting::OutboxMessage> pending = store_->outbox_pending();
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].key, "b");
  EXPECT_EQ(pending[1].key, "c");
  std::vector<alerting::OutboxMessage> all = store_->outbox_all();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].key, "a");
  EXPECT_EQ(all[0].attempts, 2) << "one retry and the delivery";
  EXPECT_EQ(all[0].last_error, "HTTP 503");
}

TEST_F(StateStoreFaultTest, TimelineHoldsEventsWhileTheDiskIsFullAndCatchesUpInOrder) {
  StoreTimeline timeline(*store_, count_errors());
  auto event = [](int i) {
    return "{\"at\": \"2026-06-07T02:00:00+01:00\", \"kind\": \"test\", \"n\": " +
           std::to_string(i) + "}";
  };
  // A kind this build does not know is kept exactly as written.
  timeline.append(*record::decode(event(0)));
  disk_->fill();
  for (int i = 1; i <= 5; ++i) {
    timeline.append(*record::decode(event(i)));
  }
  EXPECT_EQ(errors_, 1) << "the later appends wait for the retry gate";
  // Readers see every event, the held ones after the stored one.
  std::vector<std::string> read = timeline.read(0, 100);
  ASSERT_EQ(read.size(), 6u);
  for (int i = 0; i <= 5; ++i) {
    EXPECT_EQ(read[static_cast<std::size_t>(i)], event(i));
  }
  EXPECT_EQ(timeline.read(4, 100).size(), 2u);
  EXPECT_EQ(timeline.read(2, 2), (std::vector<std::string>{event(2), event(3)}));
  EXPECT_TRUE(timeline.read(6, 100).empty());
  EXPECT_EQ(store_->event_count(), 1u);

  disk_->free_space();
  EXPECT_EQ(timeline.flush(t0() + std::chrono::seconds{10}), 0u);
  EXPECT_EQ(store_->events(0, 100), read);
}

// The defect as the chat receiver saw it: with the disk full, one page went out 12,017 times in
// 15 s. Through the real dispatcher, the page is delivered exactly once, and a page decided
// while the disk is full is delivered too.
class CountingChannel final : public alerting::Channel {
 public:
  std::string name() const override { return "chat"; }
  bool wants(const rules::Page&) const override { return true; }
  std::string render(const alerting::MessageContext& ctx) const override {
    return "{\"key\": \"" + ctx.page.key + "\"}";
  }
  void deliver(const std::string& payload, const std::string&,
               std::function<void(alerting::DeliveryResult)> done) override {
    {
      std::lock_guard lock(mu);
      received.push_back(payload);
    }
    done({alerting::Delivery::kDelivered, "HTTP 200", std::nullopt});
  }
  std::vector<std::string> payloads() {
    std::lock_guard lock(mu);
    return received;
  }

 private:
  std::mutex mu;
  std::vector<std::string> received;
};

TEST_F(StateStoreFaultTest, DispatcherSendsEachPageOnceWhileTheDiskIsFull) {
  rules::Plan plan = backout::testing::base_plan();
  AgentMetrics metrics(plan);
  StoreOutbox outbox(*store_, count_errors());
  MemoryTimeline timeline;
  net::TimeSource& clock = net::real_time();
  boost::asio::io_context io;
  DeliveryRecorder recorder(metrics, timeline, std::chrono::minutes{60});
  alerting::Dispatcher dispatcher(io.get_executor(), outbox, clock, recorder);
  auto channel = std::make_unique<CountingChannel>();
  CountingChannel* chat = channel.get();
  dispatcher.add_channel(std::move(channel));
  dispatcher.start();
  disk_->fill();

  rules::Page first;
  first.key = "breach:login#1";
  first.at = clock.now();
  alerting::MessageContext ctx;
  ctx.plan = &plan;
  dispatcher.submit({first}, ctx);
  rules::Page second = first;
  second.key = "repeat:login#1:2";
  dispatcher.submit({second}, ctx);
  // Long enough for thousands of repeats had a failed write sent the page again.
  io.run_for(std::chrono::milliseconds{300});
  EXPECT_EQ(chat->payloads(), (std::vector<std::string>{"{\"key\": \"breach:login#1\"}",
                                                        "{\"key\": \"repeat:login#1:2\"}"}));
  EXPECT_GE(errors_, 1);
  EXPECT_LE(errors_, 2) << "failed writes are paced, not repeated per delivery";

  disk_->free_space();
  EXPECT_EQ(outbox.flush(clock.now() + std::chrono::minutes{1}), 0u);
  ASSERT_EQ(store_->outbox_all().size(), 2u);
  EXPECT_TRUE(store_->outbox_pending().empty());
  dispatcher.stop();
  io.run_for(std::chrono::milliseconds{50});
}

}  // namespace
}  // namespace backout::agent
