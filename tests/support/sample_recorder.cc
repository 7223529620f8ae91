#include "support/sample_recorder.h"

namespace backout::testing {

void SampleRecorder::record(const std::string& metric, const Labels& labels, double value) {
  std::lock_guard lock(mu_);
  records_.push_back({metric, labels, value, attempts_.size()});
  ++calls_;
}

void SampleRecorder::end_attempt(const collectors::AttemptOutcome& outcome) {
  {
    std::lock_guard lock(mu_);
    attempts_.push_back(outcome);
    ++calls_;
  }
  cv_.notify_all();
}

bool SampleRecorder::wait_for_attempts(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return attempts_.size() >= n; });
}

std::optional<SampleRecorder::Attempt> SampleRecorder::next_attempt(
    std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const std::size_t want = awaited_ + 1;
  if (!cv_.wait_for(lock, timeout, [&] { return attempts_.size() >= want; })) {
    return std::nullopt;
  }
  awaited_ = want;
  return Attempt{want - 1, attempts_[want - 1]};
}

std::size_t SampleRecorder::attempt_count() const {
  std::lock_guard lock(mu_);
  return attempts_.size();
}

std::vector<collectors::AttemptOutcome> SampleRecorder::attempts() const {
  std::lock_guard lock(mu_);
  return attempts_;
}

std::vector<SampleRecorder::Record> SampleRecorder::records() const {
  std::lock_guard lock(mu_);
  return records_;
}

std::vector<double> SampleRecorder::values(const std::string& metric,
                                           std::optional<std::size_t> attempt) const {
  std::lock_guard lock(mu_);
  std::vector<double> out;
  for (const Record& r : records_) {
    if (r.metric == metric && (!attempt || r.attempt == *attempt)) {
      out.push_back(r.value);
    }
  }
  return out;
}

std::optional<double> SampleRecorder::last(const std::string& metric) const {
  std::lock_guard lock(mu_);
  for (auto it = records_.rbegin(); it != records_.rend(); ++it) {
    if (it->metric == metric) {
      return it->value;
    }
  }
  return std::nullopt;
}

std::size_t SampleRecorder::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

}  // namespace backout::testing
