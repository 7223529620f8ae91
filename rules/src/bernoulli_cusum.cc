#include "backout/rules/bernoulli_cusum.h"

#include <algorithm>
#include <cmath>

namespace backout::rules {

BernoulliCusum::BernoulliCusum(double p0, double shift) : shift_(shift) { set_p0(p0); }

void BernoulliCusum::set_p0(double p0) {
  // Keep both shares strictly inside (0, 1) so that the logarithms are finite.
  p0_ = std::clamp(p0, 1e-9, 1 - 1e-9);
  p1_ = std::min(shift_ * p0_, 1 - (1 - p0_) / shift_);
  p1_ = std::clamp(p1_, p0_ * (1 + 1e-9), 1 - 1e-12);
  a_ = std::log(p1_ / p0_);
  b_ = std::log((1 - p1_) / (1 - p0_));
  reset();
}

void BernoulliCusum::reset() {
  s_ = 0;
  run_bad_ = 0;
  run_total_ = 0;
  run_start_.reset();
}

double BernoulliCusum::update(std::uint64_t k, std::uint64_t n, TimePoint now) {
  if (n == 0) {
    return s_;
  }
  k = std::min(k, n);
  double llr = static_cast<double>(k) * a_ + static_cast<double>(n - k) * b_;
  double next = s_ + llr;
  if (next <= 0) {
    reset();
    return s_;
  }
  if (s_ <= 0) {
    run_start_ = now;
  }
  run_bad_ += k;
  run_total_ += n;
  s_ = std::min(next, h_);
  return s_;
}

double BernoulliCusum::kl_h0() const { return -(p0_ * a_ + (1 - p0_) * b_); }

double BernoulliCusum::alarm_level_for(double expected_observations, double alpha) const {
  // Solve e^h - h - 1 = X by fixed point h = ln(X + h + 1); a few steps converge.
  const double x = std::max(expected_observations, 1.0) * kl_h0() / alpha;
  double h = std::log(x + 1);
  for (int i = 0; i < 4; ++i) {
    h = std::log(x + h + 1);
  }
  return std::max(h, 1.0);
}

}  // namespace backout::rules
