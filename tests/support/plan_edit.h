// Edits of a plan's text by anchor, for the plan loader's tests: a case names the lines it
// touches by text that occurs exactly once in the plan, and expects diagnostics whose line is a
// placeholder resolved in the edited text. Anchors (rather than line numbers) keep the cases
// readable and valid when the plan they edit grows. Not thread-safe (gtest assertions).
#pragma once

#include <string>
#include <vector>

namespace backout::testing {

/// The lines an anchor spans are replaced, deleted, or get new lines after or before them; a
/// whole edit replaces the text.
struct Edit {
  enum class Kind { kReplace, kDelete, kAfter, kBefore, kWhole };
  Kind kind;
  std::string anchor;
  std::string text;
};

Edit Replace(std::string anchor, std::string text);
Edit Delete(std::string anchor);
Edit After(std::string anchor, std::string text);
Edit Before(std::string anchor, std::string text);
Edit Whole(std::string text);

struct Edited {
  std::string text;
  int line = 1;  // where the first edit put its text (or removed lines): `{L}` in expectations
};

/// 1-based line of byte `offset` of `text`.
int line_at(const std::string& text, std::size_t offset);

/// `base` with the edits applied in order; an anchor that is missing or ambiguous fails the test.
Edited apply_edits(const std::string& base, const std::vector<Edit>& edits);

/// Expands the line of an expected `FILE:LINE:COL: ...` diagnostic when it is a placeholder:
/// `{L}` / `{L+n}` (the line of the first edit, or n lines below it) or `{@text}` (the line
/// holding the only occurrence of `text` in the edited plan). Braces in the message are left
/// alone.
std::string expand(const std::string& pattern, const Edited& edited);
std::vector<std::string> expand_all(const std::vector<std::string>& patterns, const Edited& edited);

}  // namespace backout::testing
