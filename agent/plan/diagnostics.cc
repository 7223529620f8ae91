#include "plan/diagnostics.h"

#include <algorithm>

namespace backout::plan {

std::string Diagnostic::format() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
         (is_error() ? "error: " : "warning: ") + message;
}

void Diagnostics::error(int line, int column, std::string message) {
  items_.push_back({Diagnostic::Level::kError, file_, line, column, std::move(message)});
}

void Diagnostics::warning(int line, int column, std::string message) {
  items_.push_back({Diagnostic::Level::kWarning, file_, line, column, std::move(message)});
}

bool Diagnostics::has_errors() const { return error_count() > 0; }

std::size_t Diagnostics::error_count() const {
  return static_cast<std::size_t>(std::count_if(
      items_.begin(), items_.end(), [](const Diagnostic& d) { return d.is_error(); }));
}

std::vector<Diagnostic> Diagnostics::sorted() const {
  std::vector<Diagnostic> out = items_;
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  return out;
}

}  // namespace backout::plan
