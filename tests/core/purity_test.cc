// Issue 10, item 6: core/ and rules/ are pure: a file there includes the C++ standard library
// and its own layer's headers only (rules/ may use core/, core/ nothing else). No Boost, no
// spdlog, no POSIX, no Asio: a pure layer that needs I/O has lost its purity, and this test
// says which file and which include.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "support/paths.h"

namespace backout {
namespace {

namespace fs = std::filesystem;

// The C++20 standard library's headers (C++ and C compatibility headers), nothing else.
const std::set<std::string>& standard_headers() {
  static const std::set<std::string> h = {
      "algorithm", "any", "array", "atomic", "barrier", "bit", "bitset", "cassert", "cctype",
      "cerrno", "cfenv", "cfloat", "charconv", "chrono", "cinttypes", "climits", "clocale",
      "cmath", "codecvt", "compare", "complex", "concepts", "condition_variable", "coroutine",
      "csetjmp", "csignal", "cstdarg", "cstddef", "cstdint", "cstdio", "cstdlib", "cstring",
      "ctime", "cuchar", "cwchar", "cwctype", "deque", "exception", "execution", "filesystem",
      "format", "forward_list", "fstream", "functional", "future", "initializer_list",
      "iomanip", "ios", "iosfwd", "iostream", "istream", "iterator", "latch", "limits", "list",
      "locale", "map", "memory", "memory_resource", "mutex", "new", "numbers", "numeric",
      "optional", "ostream", "queue", "random", "ranges", "ratio", "regex", "scoped_allocator",
      "semaphore", "set", "shared_mutex", "source_location", "span", "sstream", "stack",
      "stdexcept", "stop_token", "streambuf", "string", "string_view", "syncstream",
      "system_error", "thread", "tuple", "type_traits", "typeindex", "typeinfo",
      "unordered_map", "unordered_set", "utility", "valarray", "variant", "vector", "version"};
  return h;
}

struct Layer {
  std::string dir;                    // under the source tree
  std::vector<std::string> may_use;  // quoted include prefixes allowed
  bool standard_library_only = true;  // false: any <...> header (Boost, spdlog, POSIX)
};

std::vector<std::string> impure_includes(const Layer& layer) {
  static const std::regex include_re(R"(^\s*#\s*include\s*([<"])([^>"]+)[>"])");
  std::vector<std::string> out;
  const fs::path root = fs::path(testing::source_dir()) / layer.dir;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".h" && ext != ".cc")) {
      continue;
    }
    std::ifstream in(entry.path());
    int line_no = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_no;
      std::smatch m;
      if (!std::regex_search(line, m, include_re)) {
        continue;
      }
      const std::string what = m[2];
      bool ok = false;
      if (m[1] == "<") {
        ok = !layer.standard_library_only || standard_headers().count(what) > 0;
      } else {
        for (const std::string& prefix : layer.may_use) {
          ok = ok || what.rfind(prefix, 0) == 0;
        }
      }
      if (!ok) {
        out.push_back(fs::relative(entry.path(), testing::source_dir()).string() + ":" +
                      std::to_string(line_no) + ": " + line);
      }
    }
  }
  return out;
}

std::string lines(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    out += s + "\n";
  }
  return out;
}

TEST(PurityTest, CoreIncludesTheStandardLibraryAndItselfOnly) {
  const std::vector<std::string> bad = impure_includes({"core", {"backout/core/"}});
  EXPECT_TRUE(bad.empty()) << "core/ must stay pure:\n" << lines(bad);
}

TEST(PurityTest, RulesIncludesTheStandardLibraryCoreAndItselfOnly) {
  const std::vector<std::string> bad =
      impure_includes({"rules", {"backout/rules/", "backout/core/"}});
  EXPECT_TRUE(bad.empty()) << "rules/ must stay pure:\n" << lines(bad);
}

// Issue 10, item 5: the agent's libraries include only what their CMake links allow, so the
// arrows of the README's code map hold: record, http and metrics know nothing of the others;
// store, report, simulate and api sit on them; only runtime wires them together; the channels
// (alerting/) never reach into the agent; and collectors/ depends on core/ and net/ only.
TEST(LayeringTest, EachAgentLibraryIncludesOnlyWhatItLinks) {
  const std::vector<std::string> pure = {"backout/core/", "backout/rules/"};
  auto with = [&](std::vector<std::string> more) {
    more.insert(more.end(), pure.begin(), pure.end());
    return more;
  };
  const std::vector<Layer> layers = {
      {"agent/app/record", with({"app/record/"}), false},
      {"agent/app/http", {"app/http/", "backout/core/"}, false},
      {"agent/app/metrics", with({"app/metrics/"}), false},
      {"agent/app/store", with({"app/store/", "app/record/", "backout/alerting/"}), false},
      {"agent/app/report", with({"app/report/", "app/record/", "backout/alerting/"}), false},
      {"agent/app/simulate", with({"app/simulate/", "app/record/"}), false},
      {"agent/app/api",
       with({"app/api/", "app/http/", "app/record/", "app/metrics/", "backout/collectors/"}),
       false},
      {"agent/app/kinds", with({"app/kinds/", "backout/alerting/", "backout/collectors/"}), false},
      {"agent/app/runtime",
       with({"app/runtime/", "app/kinds/", "app/api/", "app/http/", "app/record/", "app/metrics/",
             "app/store/", "backout/alerting/", "backout/collectors/", "backout/net/"}),
       false},
      {"agent/plan", with({"plan/"}), false},
      // Collectors emit core's samples and read core's source options: no rules/.
      {"collectors",
       {"backout/collectors/", "backout/core/", "backout/net/", "common_options.h",
        "periodic_runner.h", "http/", "log/", "postgres/", "prometheus/", "promql/", "push/",
        "tcp/"},
       false},
      {"alerting", with({"backout/alerting/", "backout/net/", "alertmanager/", "console/",
                         "http/", "pagerduty/", "render/", "slack/", "teams/", "webhook/",
                         "channel_setup.h"}),
       false},
  };
  for (const Layer& layer : layers) {
    const std::vector<std::string> bad = impure_includes(layer);
    EXPECT_TRUE(bad.empty()) << layer.dir << " reaches outside its links:\n" << lines(bad);
  }
}

// The check itself can fail: a file of another layer includes what core/ may not.
TEST(PurityTest, TheCheckFindsAnImpureInclude) {
  const std::vector<std::string> bad = impure_includes({"collectors", {"backout/core/"}});
  EXPECT_FALSE(bad.empty());
  const std::vector<std::string> store_to_runtime =
      impure_includes({"agent/app/runtime", {"app/runtime/"}, false});
  EXPECT_FALSE(store_to_runtime.empty()) << "runtime/ includes api/ and store/";
}

}  // namespace
}  // namespace backout
