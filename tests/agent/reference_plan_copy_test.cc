// deploy/examples/customer-portal-2.0.yaml is the project's copy of the reference plan
// ../shared/plans/customer-portal-2.0.yaml (the product contract's plan). The README, the demo
// and the tests use the copy; this test keeps it identical to the original, byte for byte.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/paths.h"

namespace backout::testing {
namespace {

namespace fs = std::filesystem;

TEST(ReferencePlanCopy, IsIdenticalToTheSharedPlan) {
  const fs::path shared =
      (fs::path(source_dir()) / ".." / "shared" / "plans" / "customer-portal-2.0.yaml")
          .lexically_normal();
  if (!fs::exists(shared)) {
    GTEST_SKIP() << "no " << shared.string()
                 << " beside this checkout (CI and fresh-ci have it): nothing to compare with";
  }
  const std::string original = read_file(shared.string());
  const std::string copy = read_file(reference_plan_path());
  ASSERT_FALSE(original.empty());
  EXPECT_EQ(copy, original) << reference_plan_path() << " differs from " << shared.string()
                            << ": copy the shared plan over it (cp " << shared.string() << " "
                            << reference_plan_path() << ")";
}

}  // namespace
}  // namespace backout::testing
