#include "support/paths.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace backout::testing {

std::string source_dir() {
  if (const char* env = std::getenv("BACKOUT_SOURCE_DIR")) {
    return env;
  }
  return BACKOUT_SOURCE_DIR_DEFAULT;
}

std::string reference_plan_path() {
  return source_dir() + "/deploy/examples/customer-portal-2.0.yaml";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace backout::testing
