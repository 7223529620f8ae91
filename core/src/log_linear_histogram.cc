#include "backout/core/log_linear_histogram.h"

#include <algorithm>

namespace backout {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

Histogram::Histogram() : counts_(LogLinearBins::kBins, 0) {}

void Histogram::add_to_bin(int bin, std::uint64_t n) {
  auto b = static_cast<std::size_t>(bin);
  auto g = static_cast<std::size_t>(group_of(bin));
  counts_[b] += n;
  group_counts_[g] += n;
  masks_[g] |= std::uint64_t{1} << (bin - first_bin(static_cast<int>(g)));
  count_ += n;
}

std::uint64_t Histogram::take_from_bin(int bin, std::uint64_t n) {
  auto b = static_cast<std::size_t>(bin);
  auto g = static_cast<std::size_t>(group_of(bin));
  std::uint64_t taken = std::min(n, counts_[b]);
  counts_[b] -= taken;
  group_counts_[g] -= taken;
  if (counts_[b] == 0) {
    masks_[g] &= ~(std::uint64_t{1} << (bin - first_bin(static_cast<int>(g))));
  }
  count_ -= taken;
  return taken;
}

void Histogram::observe(double seconds, std::uint64_t n) {
  if (n == 0) {
    return;
  }
  add_to_bin(LogLinearBins::bin_of(seconds), n);
  sum_ += LogLinearBins::sanitize(seconds) * static_cast<double>(n);
}

void Histogram::add_bin(int bin, std::uint64_t n, double sum_of_values) {
  if (n != 0) {
    add_to_bin(log_linear_detail::clamp_bin(bin), n);
  }
  sum_ += sum_of_values;
}

void Histogram::merge(const Histogram& other) {
  if (&other == this) {
    Histogram copy = other;
    merge(copy);
    return;
  }
  other.for_each_bin([this](int b, std::uint64_t c) { add_to_bin(b, c); });
  sum_ += other.sum_;
}

void Histogram::subtract(const Histogram& other) {
  if (&other == this) {
    clear();
    return;
  }
  other.for_each_bin([this](int b, std::uint64_t c) { take_from_bin(b, c); });
  sum_ = count_ == 0 ? 0.0 : sum_ - other.sum_;
}

void Histogram::clear() {
  for (int g = 0; g < kGroups; ++g) {
    for (std::uint64_t m = masks_[static_cast<std::size_t>(g)]; m != 0; m &= m - 1) {
      counts_[static_cast<std::size_t>(first_bin(g) + std::countr_zero(m))] = 0;
    }
  }
  group_counts_.fill(0);
  masks_.fill(0);
  count_ = 0;
  sum_ = 0;
}

std::uint64_t Histogram::bin_count(int bin) const {
  if (bin < 0 || bin >= LogLinearBins::kBins) {
    return 0;
  }
  return counts_[static_cast<std::size_t>(bin)];
}

double Histogram::quantile(double q) const {
  if (count_ == 0 || std::isnan(q)) {
    return kNaN;
  }
  double x = std::ceil(q * static_cast<double>(count_) - 1e-9);
  std::uint64_t rank =
      x < 1 ? 1 : (x >= static_cast<double>(count_) ? count_ : static_cast<std::uint64_t>(x));
  std::uint64_t below = 0;
  int g = 0;
  while (below + group_counts_[static_cast<std::size_t>(g)] < rank) {
    below += group_counts_[static_cast<std::size_t>(g)];
    ++g;
  }
  for (std::uint64_t m = masks_[static_cast<std::size_t>(g)]; m != 0; m &= m - 1) {
    int b = first_bin(g) + std::countr_zero(m);
    below += counts_[static_cast<std::size_t>(b)];
    if (below >= rank) {
      return LogLinearBins::representative(b);
    }
  }
  return kNaN;  // unreachable while the index is consistent
}

double Histogram::max() const {
  for (int g = kGroups - 1; g >= 0; --g) {
    std::uint64_t m = masks_[static_cast<std::size_t>(g)];
    if (m != 0) {
      return LogLinearBins::representative(first_bin(g) + 63 - std::countl_zero(m));
    }
  }
  return kNaN;
}

double Histogram::mean() const { return count_ == 0 ? kNaN : sum_ / static_cast<double>(count_); }

std::uint64_t Histogram::count_above(double threshold) const {
  if (std::isnan(threshold) || count_ == 0) {
    return 0;
  }
  // The first bin whose representative is above the threshold: representatives increase with the
  // bin, and the threshold's own bin may be on either side.
  int start = LogLinearBins::bin_of(threshold);
  if (!(LogLinearBins::representative(start) > threshold)) {
    ++start;
  }
  if (start >= LogLinearBins::kBins) {
    return 0;
  }
  int g = group_of(start);
  std::uint64_t total = 0;
  for (std::uint64_t m = masks_[static_cast<std::size_t>(g)]; m != 0; m &= m - 1) {
    int b = first_bin(g) + std::countr_zero(m);
    if (b >= start) {
      total += counts_[static_cast<std::size_t>(b)];
    }
  }
  for (int h = g + 1; h < kGroups; ++h) {
    total += group_counts_[static_cast<std::size_t>(h)];
  }
  return total;
}

bool Histogram::operator==(const Histogram& other) const {
  return count_ == other.count_ && sum_ == other.sum_ && counts_ == other.counts_;
}

}  // namespace backout
