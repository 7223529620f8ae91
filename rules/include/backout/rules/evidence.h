// The evidence of one trigger: the sentences people read about it after a tick (in the status,
// the chat message, the report): why it is inconclusive, what the window measured against which
// threshold ("7.1% over 5m (threshold > 5%)"), or what early detection saw ("~20% over the last
// 4s (40 of 200), above 5% with 99.9% confidence; 5m average 5.3%").
// Pure; not thread-safe (one per trigger, owned by the evaluator's thread: it keeps text from
// tick to tick). Time enters only as the `now` of write(), which dates the length of an early
// detection run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "backout/core/time.h"
#include "backout/rules/bernoulli_cusum.h"
#include "backout/rules/evaluator.h"
#include "backout/rules/plan.h"

namespace backout::rules {

class Evidence {
 public:
  /// `trigger` must outlive the evidence.
  explicit Evidence(const Trigger& trigger);

  // Why a tick is inconclusive (TriggerInput::inconclusive_reason).
  static std::string source_down(const std::string& source);
  /// `settled`: the baseline was frozen or restored, or the window has started, so it is
  /// missing for good (too little data before the start) rather than not taken yet.
  static std::string no_baseline(bool settled, Duration baseline);
  std::string too_few_observations(std::uint64_t count) const;
  std::string no_data() const;

  /// Sets `st.evidence` from the status the tick produced. `shown` is the level the status shows
  /// (Trigger::levels index), `average_met` / `early_met` what the tick found for it, `cusum` its
  /// early-detection CUSUM (nullptr: none).
  void write(std::size_t shown, bool average_met, bool early_met, const BernoulliCusum* cusum,
             TimePoint now, TriggerStatus& st);

 private:
  std::string early_text(const BernoulliCusum& cusum, const TriggerStatus& st, TimePoint now) const;
  /// The threshold part of the average sentence, kept while its inputs are unchanged.
  const std::string& threshold_text(std::size_t shown, const TriggerStatus& st);

  const Trigger* trigger_;
  // The window length as written, and " over " + it.
  std::string over_name_;
  std::string over_text_;
  // The threshold text ("> 5%", "> 150ms, +50% on the baseline 100ms"), and the level shown,
  // its threshold and the baseline it was made from.
  std::string thr_text_;
  std::optional<std::size_t> thr_level_;
  std::optional<double> thr_threshold_;
  std::optional<double> thr_baseline_;
};

}  // namespace backout::rules
