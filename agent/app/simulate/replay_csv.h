// Reader of `simulate` replay files (DESIGN section 3): CSV with the header `time,series,value`.
//   time    seconds from the window start (negative before it, fractions allowed) or RFC 3339
//   series  source.metric{label="v",...}, CSV-quoted where it holds a comma or a quote
//   value   a number (NaN, +Inf, -Inf accepted); counters are cumulative scraped values
// or an act row (DESIGN section 9): series `act`, value what a person did (replay_act.h).
// Blank lines and lines starting with '#' are skipped. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backout/core/time.h"
#include "backout/core/sample.h"

namespace backout::agent {

struct ReplayRow {
  int line = 0;  // 1-based line in the file
  Sample sample;  // an act row: only sample.at
  std::optional<std::string> act;  // an act row: what the person did, as written
};

struct ReplayParse {
  std::vector<ReplayRow> rows;         // sorted by time (stable)
  std::vector<std::string> errors;     // "FILE:LINE: error: message", all of them
};

/// Parses a replay; `window_start` anchors relative times; `path` names the file in errors.
ReplayParse parse_replay_csv(std::string_view text, const std::string& path,
                             TimePoint window_start);

/// Parses `source.metric{label="v",...}` (only `=` in labels). Returns false with `*why` set.
bool parse_series_name(std::string_view text, Sample& out, std::string* why);

}  // namespace backout::agent
