// Human acts on the Watch: each names who did it.
#include "backout/rules/watch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_plan.h"

namespace backout::rules {
namespace {

using ::testing::HasSubstr;

// Issue 14, item 13: a raise could be cleared without `by`, leaving the timeline with nobody
// to answer for it.
TEST(WatchActsTest, ClearingARaiseNeedsWhoClearsIt) {
  const Plan plan = backout::testing::base_plan();
  Watch watch(plan);
  const TimePoint now = backout::testing::at(60);
  auto id = watch.raise(Severity::kCritical, "Credentials in a public repository", "@jane.doe",
                        now);
  ASSERT_TRUE(id.ok()) << id.error();
  Status s = watch.clear_raise(*id, "", now);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error(), HasSubstr("say who clears it ('by')"));
  EXPECT_FALSE(watch.acts().raises.front().cleared);
  EXPECT_TRUE(watch.clear_raise(*id, "@jane.doe", now).ok());
}

}  // namespace
}  // namespace backout::rules
