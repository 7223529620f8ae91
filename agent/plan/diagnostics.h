// Diagnostics of the plan loader: every problem found in a plan, each with its position, so that
// the operator gets all of them at once as `FILE:LINE:COL: error: message`.
// Not thread-safe (one per load).
#pragma once

#include <string>
#include <vector>

namespace backout::plan {

struct Diagnostic {
  enum class Level { kError, kWarning };
  Level level = Level::kError;
  std::string file;
  int line = 1;    // 1-based
  int column = 1;  // 1-based
  std::string message;

  bool is_error() const { return level == Level::kError; }
  /// `FILE:LINE:COL: error: message` (or `warning:`).
  std::string format() const;
};

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  void error(int line, int column, std::string message);
  void warning(int line, int column, std::string message);

  bool has_errors() const;
  std::size_t error_count() const;
  /// All diagnostics in file order (line, then column); for one position, in the order found.
  std::vector<Diagnostic> sorted() const;

 private:
  std::string file_;
  std::vector<Diagnostic> items_;
  std::size_t errors_ = 0;  // kept so that error_count() stays O(1) in the loader's loops
};

}  // namespace backout::plan
