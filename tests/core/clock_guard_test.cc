// ClockGuard: a wall-clock step is detected, taken only once it has held, and forgotten when the
// clock comes back (issue 14, defect 4).
#include "backout/core/clock_guard.h"

#include <gtest/gtest.h>

namespace backout {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

const TimePoint kStart = parse_rfc3339("2026-06-07T03:00:00+01:00")->at;

// Wall and monotonic readings of one machine: the wall clock can be stepped, the monotonic one
// only runs.
struct Machine {
  Duration mono{seconds{1000}};
  Duration wall_offset{0};
  TimePoint wall() const { return kStart + (mono - seconds{1000}) + wall_offset; }
  void run(Duration d) { mono += d; }
};

TEST(ClockGuardTest, WhileTheClocksAgreeTheAgentRunsOnTheWallClock) {
  Machine m;
  ClockGuard g(m.wall(), m.mono);
  for (int i = 0; i < 100; ++i) {
    m.run(milliseconds{1000});
    m.wall_offset = milliseconds{i % 2 == 0 ? 1500 : -1500};  // noise within the tolerance
    EXPECT_FALSE(g.observe(m.wall(), m.mono).has_value());
    EXPECT_EQ(g.now(m.mono), m.wall() - m.wall_offset);
  }
  EXPECT_FALSE(g.pending().has_value());
}

TEST(ClockGuardTest, AStepIsTakenOnlyAfterItHasHeldForTheSettleTime) {
  Machine m;
  ClockGuard g(m.wall(), m.mono, {seconds{2}, seconds{30}});
  m.run(seconds{10});
  m.wall_offset = hours{1};
  auto e = g.observe(m.wall(), m.mono);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->outcome, ClockGuard::Outcome::kDetected);
  EXPECT_EQ(e->by, hours{1});
  // Until it has held for 30 s, the agent keeps monotonic time.
  for (int i = 0; i < 29; ++i) {
    m.run(seconds{1});
    EXPECT_FALSE(g.observe(m.wall(), m.mono).has_value()) << i;
    EXPECT_EQ(g.now(m.mono), kStart + seconds{11 + i});
    EXPECT_EQ(g.pending(), hours{1});
  }
  m.run(seconds{1});
  e = g.observe(m.wall(), m.mono);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->outcome, ClockGuard::Outcome::kApplied);
  EXPECT_EQ(e->by, hours{1});
  EXPECT_EQ(g.now(m.mono), m.wall());
  EXPECT_FALSE(g.pending().has_value());
  m.run(seconds{5});
  EXPECT_FALSE(g.observe(m.wall(), m.mono).has_value());
  EXPECT_EQ(g.now(m.mono), m.wall());
}

TEST(ClockGuardTest, AStepAndItsCorrectionBeforeTheSettleAreNeverTaken) {
  Machine m;
  ClockGuard g(m.wall(), m.mono);
  m.run(seconds{1});
  m.wall_offset = hours{1};
  ASSERT_EQ(g.observe(m.wall(), m.mono)->outcome, ClockGuard::Outcome::kDetected);
  m.run(seconds{10});
  m.wall_offset = milliseconds{300};
  auto e = g.observe(m.wall(), m.mono);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->outcome, ClockGuard::Outcome::kReverted);
  EXPECT_EQ(e->by, hours{1});
  EXPECT_EQ(g.now(m.mono), kStart + seconds{11});
  m.run(seconds{60});
  EXPECT_FALSE(g.observe(m.wall(), m.mono).has_value());
}

TEST(ClockGuardTest, ASecondStepRestartsTheSettle) {
  Machine m;
  ClockGuard g(m.wall(), m.mono, {seconds{2}, seconds{30}});
  m.wall_offset = hours{1};
  ASSERT_EQ(g.observe(m.wall(), m.mono)->outcome, ClockGuard::Outcome::kDetected);
  m.run(seconds{20});
  m.wall_offset = -hours{2};
  auto e = g.observe(m.wall(), m.mono);
  ASSERT_EQ(e->outcome, ClockGuard::Outcome::kDetected);
  EXPECT_EQ(e->by, -hours{2});
  m.run(seconds{20});
  EXPECT_FALSE(g.observe(m.wall(), m.mono).has_value()) << "20 s of the new step, not 40";
  m.run(seconds{10});
  e = g.observe(m.wall(), m.mono);
  ASSERT_EQ(e->outcome, ClockGuard::Outcome::kApplied);
  EXPECT_EQ(e->by, -hours{2});
  EXPECT_EQ(g.now(m.mono), m.wall());
}

TEST(ClockGuardTest, ASettleOfZeroTakesAStepAtOnce) {
  Machine m;
  ClockGuard g(m.wall(), m.mono, {seconds{2}, Duration{0}});
  m.run(seconds{3});
  m.wall_offset = -seconds{90};
  auto e = g.observe(m.wall(), m.mono);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->outcome, ClockGuard::Outcome::kApplied);
  EXPECT_EQ(e->by, -seconds{90});
  EXPECT_EQ(g.now(m.mono), m.wall());
}

}  // namespace
}  // namespace backout
