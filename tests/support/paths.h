// Where tests find the project's files (plans, replays), independent of the working directory.
#pragma once

#include <string>

namespace backout::testing {

/// The source tree root: $BACKOUT_SOURCE_DIR (set by ctest), else the compile-time path.
std::string source_dir();

/// deploy/examples/customer-portal-2.0.yaml, the reference plan.
std::string reference_plan_path();

/// Reads a whole file; fails the test if it cannot.
std::string read_file(const std::string& path);

}  // namespace backout::testing
