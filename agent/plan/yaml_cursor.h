// The YAML cursor the plan loader's section readers share: positions (LINE:COL of a key, a value
// or a byte inside a scalar), the map and scalar readers, which report every problem as a
// diagnostic naming the key and return nullopt / skip the entry, and a bounded did-you-mean.
// One per load; not thread-safe. No plan semantics: the sections (plan/sections/) hold those.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "backout/core/kind_spec.h"
#include "backout/core/time.h"
#include "plan/diagnostics.h"

namespace backout::plan {

struct Pos {
  int line = 1;
  int col = 1;
};

/// One key of a YAML map with its value and where the key was written.
struct Entry {
  std::string key;
  YAML::Node value;
  Pos key_pos;
};

using Entries = std::vector<Entry>;
using KeyList = std::vector<std::string_view>;

/// Plans nest a handful of levels; deeper is refused before yaml-cpp recurses (see
/// nesting_too_deep).
constexpr int kMaxNesting = 64;

const Entry* find(const Entries& es, std::string_view key);
/// "a, b, c"
std::string list_keys(const KeyList& keys);
/// At most a dozen names of a user-made list, then "and N more".
std::string list_some(const std::vector<std::string>& names);
bool is_null(const YAML::Node& n);
std::string lower(std::string s);
/// True (and the line) when `text` nests flow collections or indentation deeper than
/// kMaxNesting, so that yaml-cpp's recursion cannot exhaust the stack.
bool nesting_too_deep(std::string_view text, int* line);

class YamlCursor {
 public:
  /// `text` must outlive the cursor; `path` names the file in diagnostics.
  YamlCursor(std::string_view text, const std::string& path) : text_(text), diag_(path) {}

  // --- positions and reporting -------------------------------------------------------------
  static Pos pos(const YAML::Node& n) {
    const YAML::Mark m = n.Mark();
    return {std::max(m.line, 0) + 1, std::max(m.column, 0) + 1};
  }
  static Pos value_pos(const Entry& e) { return is_null(e.value) ? e.key_pos : pos(e.value); }
  // Position of byte `offset` inside the scalar value of `e` (skipping an opening quote).
  Pos inner_pos(const Entry& e, std::size_t offset) const {
    if (is_null(e.value) || !e.value.IsScalar()) {
      return value_pos(e);
    }
    Pos p = pos(e.value);
    const YAML::Mark m = e.value.Mark();
    if (m.pos >= 0 && static_cast<std::size_t>(m.pos) < text_.size()) {
      const std::size_t open = static_cast<std::size_t>(m.pos);
      const char q = text_[open];
      if (q == '|' || q == '>') {
        return p;  // block scalar: offsets do not map to one line
      }
      if (q == '"' || q == '\'') {
        // `offset` counts characters of the unescaped value; walk the written text, where
        // `\"` (double quotes) and `''` (single quotes) take two columns for one character.
        std::size_t i = open + 1;
        for (std::size_t n = 0; n < offset && i < text_.size() && text_[i] != '\n'; ++n) {
          if (q == '"' && text_[i] == '\\' && i + 1 < text_.size()) {
            const char k = text_[i + 1];
            i += k == 'x' ? 4 : k == 'u' ? 6 : k == 'U' ? 10 : 2;
          } else if (q == '\'' && text_[i] == '\'' && i + 1 < text_.size() &&
                     text_[i + 1] == '\'') {
            i += 2;
          } else {
            i += 1;
          }
        }
        p.col += static_cast<int>(i - open);
        return p;
      }
    }
    p.col += static_cast<int>(offset);
    return p;
  }
  void error(Pos p, std::string msg) { diag_.error(p.line, p.col, std::move(msg)); }
  void warning(Pos p, std::string msg) { diag_.warning(p.line, p.col, std::move(msg)); }

  // --- did-you-mean ------------------------------------------------------------------------
  // closest_match() for a likely typo, else a candidate sharing a long stem with the word
  // (`query` -> `queries`, `baseline_for` -> `baseline`), which edit distance alone misses.
  // Bounded: after kSuggestBudget characters compared in one load, no more suggestions, so that
  // a huge plan full of unknown names cannot make the loader quadratic.
  std::optional<std::string> suggest(std::string_view word, const std::vector<std::string>& cands);
  std::optional<std::string> suggest(std::string_view word, const KeyList& cands) {
    return suggest(word, std::vector<std::string>(cands.begin(), cands.end()));
  }
  // Records that `key` was offered as the fix of an unknown key in the map at `path`, so that
  // the same typo is not also reported as "missing 'key'".
  void offered(const std::string& path, const std::string& key) {
    offered_.insert(path + '\n' + key);
  }
  bool was_offered(const std::string& path, std::string_view key) const {
    return offered_.count(path + '\n' + std::string(key)) != 0;
  }

  // --- structure ---------------------------------------------------------------------------
  // The entries of a map; reports duplicates and keys not in `allowed` (with a did-you-mean).
  // A null node (key written with nothing after it) is an empty map.
  Entries entries(const YAML::Node& map, Pos where, const std::string& path, const KeyList& allowed,
                  const std::string& what);
  Entries entries_any(const YAML::Node& map, Pos where, const std::string& path,
                      const std::string& what);
  bool require(const Entries& es, std::string_view key, Pos where, const std::string& path,
               const std::string& hint) {
    if (find(es, key) != nullptr) {
      return true;
    }
    if (was_offered(path, key)) {
      return false;  // "unknown key 'decide'; did you mean 'decides'?" says it already
    }
    error(where, path + ": missing '" + std::string(key) + "' (" + hint + ")");
    return false;
  }

  // --- scalars -----------------------------------------------------------------------------
  std::optional<std::string> scalar(const Entry& e, const std::string& path,
                                    const std::string& expected, bool allow_empty = false);
  std::optional<Duration> duration(const Entry& e, const std::string& path,
                                   Duration minimum = Duration{0});
  std::optional<ZonedTime> timestamp(const Entry& e, const std::string& path);
  std::optional<std::int64_t> integer(const Entry& e, const std::string& path, std::int64_t lo,
                                      std::int64_t hi, const std::string& noun = "a whole number");
  std::optional<bool> boolean(const Entry& e, const std::string& path);
  std::optional<SecretRef> secret(const Entries& es, const std::string& base, Pos where,
                                  const std::string& path, bool required, const std::string& hint);

 protected:
  std::string_view text_;
  Diagnostics diag_;

 private:
  std::set<std::string> offered_;
  std::size_t suggest_work_ = 0;
};

}  // namespace backout::plan
