// What the collector tests share: an io_context with one strand for the collector, the shared
// HTTP client, a RecordingSink and the built-in registry; creating a collector of the source's
// kind, starting and stopping it on its strand, and running the io_context until it has made a
// number of attempts. Each test's fixture derives from it and adds its sources.
// Time: every wait runs the io_context with testing::run_until's bound.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <cstddef>
#include <memory>
#include <string>

#include "backout/collectors/collector.h"
#include "backout/net/http_client.h"
#include "support/recording_sink.h"
#include "support/test_http_server.h"

namespace backout::collectors::testing_support {

/// A resolver that knows one secret (`name` = `value`, or none) and says any other is not set.
inline SecretResolver only_secret(std::string name = {}, std::string value = {}) {
  return [name = std::move(name),
          value = std::move(value)](const SecretRef& ref) -> Result<std::string> {
    if (!name.empty() && ref.name == name) {
      return value;
    }
    return Error{"environment variable " + ref.name + " is not set"};
  };
}

class CollectorFixture : public ::testing::Test {
 protected:
  /// A collector of `s.kind` from the built-in registry, on strand_, feeding sink_.
  Result<std::unique_ptr<Collector>> create(const Source& s) {
    const SourceKind* kind = registry_.find(s.kind);
    if (kind == nullptr) {
      return Error{s.kind + " is not registered"};
    }
    return kind->create(s, {strand_, &sink_, &http_, secrets_});
  }

  /// create() and start() on the strand; null (with a test failure) if it cannot be created.
  std::unique_ptr<Collector> start(const Source& s) {
    auto made = create(s);
    EXPECT_TRUE(made.ok()) << made.error();
    if (!made.ok()) {
      return nullptr;
    }
    std::unique_ptr<Collector> c = std::move(made).value();
    boost::asio::post(strand_, [p = c.get()] { p->start(); });
    return c;
  }

  /// stop() on the strand, waiting until it has run.
  void stop(Collector& c) {
    bool stopped = false;
    boost::asio::post(strand_, [&] {
      c.stop();
      stopped = true;
    });
    ASSERT_TRUE(testing::run_until(ioc_, [&] { return stopped; }));
  }

  /// Runs the io_context until the sink has seen `n` attempts in all.
  bool wait_attempts(std::size_t n) {
    return testing::run_until(ioc_, [&] { return sink_.attempt_count() >= n; });
  }

  boost::asio::io_context ioc_;
  boost::asio::any_io_executor strand_ = boost::asio::make_strand(ioc_);
  net::HttpClient http_{ioc_.get_executor()};
  testing::RecordingSink sink_;
  SecretResolver secrets_ = only_secret();
  Registry registry_ = builtin_registry();
};

}  // namespace backout::collectors::testing_support
