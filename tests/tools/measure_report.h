// What the measuring tools (agent-measure, agent-compare) share to write their Markdown reports:
// the machine they ran on, summary statistics of a sample, and number and time formatting.
// Plain functions, thread-safe; the /proc readers and run_capture() read the system at call time.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace backout::measure {

using SysTime = std::chrono::system_clock::time_point;

/// A whole file (empty when it cannot be read).
std::string read_text(const std::string& path);
/// Without leading and trailing white space.
std::string trim(std::string s);
/// A fixed shell command's standard output, trimmed (versions, git).
std::string run_capture(const std::string& cmd);

/// `v` with `digits` decimals; "n/a" for NaN (the statistic of an empty sample).
std::string fixed(double v, int digits);
double seconds_between(SysTime a, SysTime b);
/// "01:02:03.456" (UTC).
std::string clock_text(SysTime t);
/// strftime of `t` in UTC.
std::string utc_text(SysTime t, const char* format);

/// Nearest-rank percentile (q in (0, 1]); NaN for an empty sample, as are the others.
double percentile(std::vector<double> v, double q);
double median(std::vector<double> v);
double max_of(const std::vector<double>& v);
double min_of(const std::vector<double>& v);
double mean_of(const std::vector<double>& v);

/// "nproc 2 (Intel(R) Xeon(R) ...), Linux 6.1.0, 23.5 GiB RAM".
std::string machine_text();
/// The 1, 5 and 15 minute load averages, as /proc/loadavg has them.
std::string loadavg_text();
/// The directory of the running executable ("." when /proc/self/exe cannot be read).
std::string self_dir();

}  // namespace backout::measure
