#include "plan/diagnostics.h"

#include <algorithm>

namespace backout::plan {
namespace {

// A diagnostic is one line that editors and scripts parse as FILE:LINE:COL: level: message, and
// messages quote what the plan says: control characters from a quoted scalar ("a\nb") are
// escaped, and a quoted megabyte-long value is cut, so that one mistake stays one readable line.
std::string one_line(std::string message) {
  constexpr std::size_t kMax = 2000;
  std::string out;
  out.reserve(std::min(message.size(), kMax + 40));
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (out.size() >= kMax) {
      // Do not leave half a UTF-8 character behind.
      std::size_t rest = message.size() - i;
      if ((static_cast<unsigned char>(message[i]) & 0xc0) == 0x80) {
        while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xc0) == 0x80) {
          out.pop_back();
          ++rest;
        }
        if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xc0) {
          out.pop_back();
          ++rest;
        }
      }
      out += "... (" + std::to_string(rest) + " more bytes)";
      break;
    }
    unsigned char c = static_cast<unsigned char>(message[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      static const char* const kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

std::string Diagnostic::format() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
         (is_error() ? "error: " : "warning: ") + message;
}

void Diagnostics::error(int line, int column, std::string message) {
  items_.push_back({Diagnostic::Level::kError, file_, line, column, one_line(std::move(message))});
  ++errors_;
}

void Diagnostics::warning(int line, int column, std::string message) {
  items_.push_back(
      {Diagnostic::Level::kWarning, file_, line, column, one_line(std::move(message))});
}

bool Diagnostics::has_errors() const { return error_count() > 0; }

std::size_t Diagnostics::error_count() const { return errors_; }

std::vector<Diagnostic> Diagnostics::sorted() const {
  std::vector<Diagnostic> out = items_;
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  return out;
}

}  // namespace backout::plan
