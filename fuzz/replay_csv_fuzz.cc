// libFuzzer target for the `simulate` CSV reader (issue 14, item 9): any text parses into rows
// (sorted by time) and errors ("FILE:LINE: error: ..."), without a crash, a sanitizer report or
// an exception; every act row's text parses into an act or an error that quotes it.
//   ./build-fuzz/fuzz/replay_csv_fuzz -max_total_time=60 fuzz/corpus/replay_csv
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "app/simulate/replay_act.h"
#include "app/simulate/replay_csv.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto start = backout::parse_rfc3339("2026-06-07T02:00:00+01:00")->at;
  const backout::agent::ReplayParse p = backout::agent::parse_replay_csv(text, "fuzz.csv", start);
  for (std::size_t i = 1; i < p.rows.size(); ++i) {
    if (p.rows[i].sample.at < p.rows[i - 1].sample.at) {
      std::fprintf(stderr, "rows out of time order\n");
      std::abort();
    }
  }
  for (const auto& row : p.rows) {
    if (row.act) {
      auto a = backout::agent::parse_replay_act(*row.act, start);
      if (!a.ok() && a.error().rfind("act '", 0) != 0) {
        std::fprintf(stderr, "an act error that does not quote the act: %s\n", a.error().c_str());
        std::abort();
      }
    }
  }
  for (const auto& e : p.errors) {
    if (e.rfind("fuzz.csv:", 0) != 0) {
      std::fprintf(stderr, "an error without FILE:LINE: %s\n", e.c_str());
      std::abort();
    }
  }
  return 0;
}
