// The act rows of a `simulate` replay (DESIGN section 9): `time,act,"WHAT"`, so that a whole
// night, people included, is rehearsed offline. WHAT is one of
//   deployed by WHO
//   decide backout|go by WHO [note TEXT]        decide extend until TIME by WHO [note TEXT]
//   done ITEM by WHO [failed] [note TEXT]
//   ack [TRIGGER] by WHO
//   fix_forward TRIGGER eta TIME by WHO
// TIME is seconds from the window start (as the time column) or RFC 3339; `note` takes the rest
// of the text. E.g. `600,act,"decide backout by @jane.doe note database unreachable"`.
// Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "app/record/timeline_event.h"
#include "backout/core/result.h"
#include "backout/core/time.h"
#include "backout/rules/watch.h"

namespace backout::agent {

struct ReplayAct {
  enum class Kind { kDeployed, kDecide, kDone, kAck, kFixForward };
  Kind kind = Kind::kDeployed;
  std::string by;
  std::string item;  // done: the step; ack (optional) and fix_forward: the trigger
  rules::HumanDecision::Kind decision = rules::HumanDecision::Kind::kBackout;
  std::optional<TimePoint> time;  // decide extend: until; fix_forward: the ETA
  std::string note;
  bool failed = false;
};

/// Reads WHAT; `window_start` anchors relative times. The error says what was expected.
Result<ReplayAct> parse_replay_act(std::string_view text, TimePoint window_start);

/// Applies the act to the watch at `at`, as the API would; returns the timeline event recorded
/// for it, or the watch's refusal.
Result<record::TimelineEvent> apply_replay_act(const ReplayAct& act, rules::Watch& watch,
                                               TimePoint at);

}  // namespace backout::agent
