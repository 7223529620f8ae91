// libFuzzer target for the log source's matcher (issue 14, item 9): the input is split into a
// regex (first line) and log lines (the rest). A hostile regex compiles or is refused, a
// hostile line matches or is counted as malformed (too complex), never a crash, a hang beyond
// Boost.Regex's own limit, or an exception; every observed value is finite.
//   ./build-fuzz/fuzz/log_matcher_fuzz -max_total_time=60 fuzz/corpus/log_matcher
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "log/log_matcher.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = text.find('\n');
  const std::string regex(text.substr(0, nl));
  auto matcher = backout::collectors::LogMatcher::compile({{"errors", regex}});
  if (!matcher.ok() || nl == std::string_view::npos) {
    return 0;
  }
  backout::collectors::LogMatcher m = std::move(matcher).value();
  std::string_view rest = text.substr(nl + 1);
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    m.match(line, [](const std::string&, double value) {
      if (!std::isfinite(value)) {
        std::fprintf(stderr, "a non-finite observation\n");
        std::abort();
      }
    });
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  }
  return 0;
}
