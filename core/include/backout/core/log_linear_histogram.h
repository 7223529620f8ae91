// Log-linear latency histogram: a fixed bin layout from 1 µs to ~71 min with at most 0.8% relative
// error, and Histogram, a plain value type of counts per bin. Histogram is not thread-safe (one
// owner; the concurrent writer side is HistogramRecorder in recorder.h); it has no notion of time
// (windows over time are in sliding_window.h).
//
// Layout (LogLinearBins): bin 0 is the underflow (values < 1 µs, including 0, negatives and NaN),
// then 32 octaves [1 µs·2^o, 1 µs·2^(o+1)) each split into 64 equal linear sub-bins, then the
// overflow bin (>= 1 µs·2^32 = 4294.97 s).
//
// Worked example: 0.25 s = 1 µs × 250,000; 2^17 = 131,072 <= 250,000 < 2^18, so the octave is 17
// and the sub-bin is floor((250,000 / 131,072 - 1) × 64) = 58: bin 1 + 17×64 + 58 = 1147, which is
// [0.249856 s, 0.251904 s); its representative (the midpoint) is 0.25088 s, 0.35% off.
//
// Values reported for a bin are its representative: the midpoint for the 2048 regular bins (within
// 1/(2×(64+s)) <= 1/128 of any value in sub-bin s); 0 for the underflow (the bin means "below
// 1 µs", and probes that measured nothing report 0); the overflow's lower bound, 4294.97 s, for the
// overflow (a floor: "at least 71 min").
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace backout {

/// The bin layout shared by all latency histograms. Pure, constexpr data; thread-safe.
struct LogLinearBins {
  static constexpr double kMin = 1e-6;                   // seconds
  static constexpr int kSubBins = 64;                    // linear sub-bins per power of two
  static constexpr int kOctaves = 32;                    // 1e-6 * 2^32 s ~ 71 min
  static constexpr int kBins = kOctaves * kSubBins + 2;  // + underflow (bin 0) and overflow (last)
  static constexpr int kOverflow = kBins - 1;

  /// The bin holding `seconds`: bins partition the real line, so lower_bound(b) <= x <
  /// upper_bound(b) exactly (bin_of is monotonic). NaN goes to the underflow. Cost: a multiply,
  /// a few bit operations and one or two table loads.
  static int bin_of(double seconds) noexcept;
  /// Inclusive lower edge of `bin`; -inf for the underflow. Out-of-range bins are clamped.
  static double lower_bound(int bin) noexcept;
  /// Exclusive upper edge of `bin`; +inf for the overflow.
  static double upper_bound(int bin) noexcept;
  /// The reported value of `bin` (see the header comment): midpoint, 0 for the underflow, the
  /// lower bound for the overflow.
  static double representative(int bin) noexcept;
  /// The value an observation adds to a histogram's sum: NaN and negatives count as 0 and +inf as
  /// the overflow's lower bound, so that one bad observation cannot poison a running sum.
  static double sanitize(double seconds) noexcept;
};

namespace log_linear_detail {

// kEdges[b] = lower_bound(b); kEdges[kBins] = +inf. Computed once at compile time with the same
// double arithmetic everywhere, so bin_of and the bounds agree to the last bit.
inline constexpr std::array<double, LogLinearBins::kBins + 1> kEdges = [] {
  std::array<double, LogLinearBins::kBins + 1> e{};
  e[0] = -std::numeric_limits<double>::infinity();
  double scale = 1.0;  // 2^octave
  for (int o = 0; o <= LogLinearBins::kOctaves; ++o) {
    for (int s = 0; s < LogLinearBins::kSubBins; ++s) {
      int b = 1 + o * LogLinearBins::kSubBins + s;
      if (b > LogLinearBins::kOverflow) {
        break;
      }
      e[static_cast<std::size_t>(b)] =
          LogLinearBins::kMin * static_cast<double>(64 + s) / 64.0 * scale;
    }
    scale *= 2.0;
  }
  e[LogLinearBins::kBins] = std::numeric_limits<double>::infinity();
  return e;
}();

inline int clamp_bin(int bin) noexcept {
  return bin < 0 ? 0 : (bin > LogLinearBins::kOverflow ? LogLinearBins::kOverflow : bin);
}

}  // namespace log_linear_detail

inline int LogLinearBins::bin_of(double seconds) noexcept {
  const auto& edges = log_linear_detail::kEdges;
  if (!(seconds >= kMin)) {  // also NaN
    return 0;
  }
  if (seconds >= edges[kOverflow]) {
    return kOverflow;
  }
  // Estimate from the binary representation of seconds / kMin (in [1, 2^32)): the exponent is the
  // octave and the top 6 mantissa bits the sub-bin. The multiply rounds, so near an edge the
  // estimate can be one bin off; the table settles it.
  auto bits = std::bit_cast<std::uint64_t>(seconds * 1e6);
  int octave = static_cast<int>(bits >> 52) - 1023;
  int sub = static_cast<int>((bits >> 46) & 63);
  int b = 1 + octave * kSubBins + sub;
  b = b < 1 ? 1 : (b > kOverflow - 1 ? kOverflow - 1 : b);
  while (seconds < edges[static_cast<std::size_t>(b)]) {
    --b;
  }
  while (seconds >= edges[static_cast<std::size_t>(b) + 1]) {
    ++b;
  }
  return b;
}

inline double LogLinearBins::lower_bound(int bin) noexcept {
  return log_linear_detail::kEdges[static_cast<std::size_t>(log_linear_detail::clamp_bin(bin))];
}

inline double LogLinearBins::upper_bound(int bin) noexcept {
  return log_linear_detail::kEdges[static_cast<std::size_t>(log_linear_detail::clamp_bin(bin)) + 1];
}

inline double LogLinearBins::representative(int bin) noexcept {
  bin = log_linear_detail::clamp_bin(bin);
  if (bin == 0) {
    return 0.0;
  }
  const auto& edges = log_linear_detail::kEdges;
  auto b = static_cast<std::size_t>(bin);
  if (bin == kOverflow) {
    return edges[b];
  }
  return 0.5 * (edges[b] + edges[b + 1]);
}

inline double LogLinearBins::sanitize(double seconds) noexcept {
  if (!(seconds > 0)) {  // also NaN
    return 0.0;
  }
  if (seconds == std::numeric_limits<double>::infinity()) {
    return log_linear_detail::kEdges[kOverflow];
  }
  return seconds;
}

class HistogramRecorder;
class HistogramWindow;

/// Counts per LogLinearBins bin, with the exact count and sum. A single-threaded value type
/// (copyable; about 17 KiB, the counts on the heap); no time semantics. Besides the counts it keeps
/// per-octave totals and a bitmask of non-empty bins per octave, so that quantile(), max(),
/// count_above() and the bulk operations (merge, subtract, clear) skip empty octaves: their cost is
/// O(34 + non-empty bins), not O(2050).
class Histogram {
 public:
  Histogram();

  /// Records `n` observations of `seconds` (see LogLinearBins::sanitize for what the sum adds).
  void observe(double seconds, std::uint64_t n = 1);
  /// Adds `n` observations to `bin` (clamped into range) and `sum_of_values` (as given) to the sum.
  void add_bin(int bin, std::uint64_t n, double sum_of_values);
  /// *this += other.
  void merge(const Histogram& other);
  /// *this -= other. `other` must be contained in *this (every bin count <= ours); a bin that would
  /// go negative is left at 0 instead. When the count reaches 0 the sum is set to exactly 0.
  void subtract(const Histogram& other);
  void clear();

  std::uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  bool empty() const { return count_ == 0; }
  std::uint64_t bin_count(int bin) const;

  /// Nearest rank: the representative of the bin holding the observation of rank ceil(q × count)
  /// (1-based, computed as ceil(q × count - 1e-9) so that 0.95 × 20 is rank 19 despite rounding).
  /// q is meant to be in (0, 1]; q <= 0 gives the smallest bin, q > 1 the largest. NaN if empty or
  /// q is NaN. Error: within 1/128 of the exact nearest-rank value (between 1 µs and 71 min).
  double quantile(double q) const;
  /// Representative of the highest non-empty bin; NaN if empty.
  double max() const;
  /// sum / count; NaN if empty.
  double mean() const;
  /// Observations whose bin representative is > threshold (0 for a NaN threshold).
  std::uint64_t count_above(double threshold) const;

  /// Calls f(bin, count) for every non-empty bin, in increasing bin order.
  template <typename F>
  void for_each_bin(F&& f) const {
    for (int g = 0; g < kGroups; ++g) {
      for (std::uint64_t m = masks_[static_cast<std::size_t>(g)]; m != 0; m &= m - 1) {
        int b = first_bin(g) + std::countr_zero(m);
        f(b, counts_[static_cast<std::size_t>(b)]);
      }
    }
  }

  /// Same counts in every bin and the same sum.
  bool operator==(const Histogram& other) const;

 private:
  friend class HistogramRecorder;  // fills counts and index in bulk from its shards
  friend class HistogramWindow;    // expires buckets bin by bin, sets the recomputed sum

  // Groups: 0 = underflow, 1..32 = octaves, 33 = overflow. A group holds at most 64 bins.
  static constexpr int kGroups = LogLinearBins::kOctaves + 2;
  static int group_of(int bin) { return (bin + 63) >> 6; }
  static int first_bin(int group) { return group == 0 ? 0 : 64 * (group - 1) + 1; }

  void add_to_bin(int bin, std::uint64_t n);
  std::uint64_t take_from_bin(int bin, std::uint64_t n);  // returns what was taken

  std::vector<std::uint64_t> counts_;
  std::array<std::uint64_t, kGroups> group_counts_{};
  std::array<std::uint64_t, kGroups> masks_{};
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

}  // namespace backout
