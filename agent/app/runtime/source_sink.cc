#include "app/runtime/source_sink.h"

#include <spdlog/spdlog.h>

#include "backout/core/text.h"

namespace backout::agent {

void SourceSink::end_attempt(const collectors::AttemptOutcome& o) {
  const TimePoint now = clock_.now();
  router_->set_up(o.up);
  router_->end_batch(complete_batches_ && o.up);
  if (!complete_batches_) {
    router_->expire(now);
  }
  // Values the router refused (not finite, absurd increases) count as malformed samples.
  const std::uint64_t refused = router_->refused() - refused_seen_;
  refused_seen_ = router_->refused();
  if (refused > 0) {
    ++refusal_reports_;
    if ((refusal_reports_ & (refusal_reports_ - 1)) == 0) {  // 1st, 2nd, 4th, 8th, ... time
      spdlog::warn(
          "source {}: {} values refused, the windows would be poisoned by them ({}); "
          "fix what the source reports",
          id_, refused, router_->last_refusal());
    }
  }
  const std::uint64_t malformed = o.malformed + refused;
  if (o.lost > 0) {
    metrics_.on_lost(id_, o.lost);
    lost_ += o.lost;
    ++lost_reports_;
    if ((lost_reports_ & (lost_reports_ - 1)) == 0) {  // 1st, 2nd, 4th, 8th, ... time
      spdlog::warn(
          "source {}: the kernel dropped {} StatsD datagrams ({} so far): the "
          "socket's receive queue was full; raise net.core.rmem_max or have the "
          "application aggregate before it sends",
          id_, o.lost, lost_);
    }
  }
  std::optional<bool> before =
      table_.record(id_, now, o.up, o.duration, o.error, o.samples, malformed, o.dropped);
  metrics_.on_attempt(id_, o.up, o.duration, malformed, o.dropped);
  if (!before || *before != o.up) {
    if (o.up) {
      spdlog::info("source {} is up ({} samples in {})", id_, o.samples,
                   format_latency(o.duration));
    } else {
      spdlog::warn("source {} is down: {}", id_, o.error);
    }
    timeline_().append({{now, offset_}, record::SourceChanged{id_, o.up, o.up ? "" : o.error}});
  }
  // A first result counts as a change only when it is down (every source starts as unknown).
  if (before ? *before != o.up : !o.up) {
    on_change_();
  }
  if (o.malformed > 0 && malformed_logged_ < 3) {
    ++malformed_logged_;
    spdlog::warn("source {}: {} malformed lines skipped ({})", id_, o.malformed, o.error);
  }
}

}  // namespace backout::agent
