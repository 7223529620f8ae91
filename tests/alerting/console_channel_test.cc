// The `console` channel: a page as the words a person reads in chat, appended to a file one
// block per message, and a write that cannot be done retried, not lost.
#include "console/console_channel.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "alerting/scenarios.h"
#include "backout/alerting/chat_message.h"
#include "backout/net/http_client.h"

namespace backout::alerting {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

rules::Channel console_spec_at(const std::string& path) {
  rules::Channel c;
  c.name = "console";
  c.kind = "console";
  c.options.set("path", path);
  return c;
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ConsoleChannelTest : public ::testing::Test {
 protected:
  ConsoleChannelTest()
      : dir_(fs::temp_directory_path() / ("console_test_" + std::to_string(::getpid()))),
        http_(io_.get_executor()) {
    fs::create_directories(dir_);
  }
  ~ConsoleChannelTest() override { fs::remove_all(dir_); }

  std::unique_ptr<Channel> make(const std::string& path) {
    const SecretResolver none = [](const SecretRef&) -> Result<std::string> {
      return Error{"no secrets here"};
    };
    Result<std::unique_ptr<Channel>> c = make_channel(console_spec_at(path), http_, none);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error());
    return c.ok() ? std::move(c).value() : nullptr;
  }

  DeliveryResult deliver(Channel& c, const std::string& payload) {
    DeliveryResult out;
    c.deliver(payload, "key", [&](DeliveryResult r) { out = r; });
    return out;
  }

  fs::path dir_;
  boost::asio::io_context io_;
  net::HttpClient http_;
};

TEST_F(ConsoleChannelTest, APageIsThePlainWordsOfTheChatMessageWithItsTimeAndKey) {
  testing::Night night;
  const TimePoint now = testing::clock_at(3, 8);
  night.breach("db_connectivity", rules::Severity::kCritical, 3, testing::kDbEvidence, now);
  MessageContext ctx = night.page(now, rules::PageKind::kBreach);
  std::unique_ptr<Channel> c = make((dir_ / "messages.txt").string());
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->name(), "console");
  const std::string text = c->render(ctx);
  EXPECT_EQ(text, console_text(ctx));
  EXPECT_TRUE(
      text.starts_with("--- 2026-06-07T03:08:00+01:00 breach (breach:db_connectivity#1) ---\n"))
      << text;
  EXPECT_THAT(text, HasSubstr(compose_message(ctx).plain_text()));
  EXPECT_THAT(text, HasSubstr("BACKOUT recommended"));
  EXPECT_THAT(text, HasSubstr("@jane.doe"));
  EXPECT_THAT(text, Not(HasSubstr("{\"")));  // no JSON
  EXPECT_TRUE(text.ends_with("\n\n"));
}

TEST_F(ConsoleChannelTest, MessagesAreAppendedOneBlockEachAndAFailedWriteIsRetried) {
  const fs::path file = dir_ / "messages.txt";
  std::unique_ptr<Channel> c = make(file.string());
  ASSERT_NE(c, nullptr);
  DeliveryResult first = deliver(*c, "--- one ---\nfirst\n\n");
  EXPECT_EQ(first.outcome, Delivery::kDelivered) << first.detail;
  EXPECT_EQ(deliver(*c, "--- two ---\nsecond\n\n").outcome, Delivery::kDelivered);
  EXPECT_EQ(read(file), "--- one ---\nfirst\n\n--- two ---\nsecond\n\n");
  // A file that cannot be opened: retried (the outbox keeps it), with the reason.
  std::unique_ptr<Channel> broken = make((dir_ / "missing-dir" / "messages.txt").string());
  ASSERT_NE(broken, nullptr);
  DeliveryResult r = deliver(*broken, "x\n");
  EXPECT_EQ(r.outcome, Delivery::kRetry);
  EXPECT_THAT(r.detail, HasSubstr("missing-dir/messages.txt: No such file or directory"));
}

TEST_F(ConsoleChannelTest, TheKindIsRegisteredAndCanBeTheChat) {
  const ChannelKind* k = builtin_channels().find("console");
  ASSERT_NE(k, nullptr);
  EXPECT_TRUE(k->spec.chat);
  ASSERT_EQ(k->spec.options.size(), 1u);
  EXPECT_EQ(k->spec.options[0].name, "path");
}

}  // namespace
}  // namespace backout::alerting
