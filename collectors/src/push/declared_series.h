// The `series` a push source declares: samples of other metrics are dropped (and counted), so
// that a typo in the application cannot grow the windows behind the plan's back. Immutable after
// construction; thread-safe to share.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "backout/collectors/push_hub.h"

namespace backout::collectors {

class DeclaredSeries {
 public:
  /// nullopt: nothing declared, every metric is accepted.
  explicit DeclaredSeries(const std::optional<std::vector<std::string>>& names) {
    if (names) {
      names_.emplace(names->begin(), names->end());
    }
  }

  bool accepts(const std::string& metric) const { return !names_ || names_->count(metric) != 0; }

  /// Removes the samples of undeclared metrics, keeping the order of the others; returns how
  /// many were removed.
  std::size_t drop_undeclared(std::vector<PushedSample>& samples) const {
    if (!names_) {
      return 0;
    }
    const auto kept = std::remove_if(samples.begin(), samples.end(),
                                     [this](const PushedSample& s) { return !accepts(s.metric); });
    const auto removed = static_cast<std::size_t>(samples.end() - kept);
    samples.erase(kept, samples.end());
    return removed;
  }

 private:
  std::optional<std::unordered_set<std::string>> names_;
};

}  // namespace backout::collectors
