#include "plan/yaml_cursor.h"

#include <algorithm>
#include <charconv>

#include "backout/core/text.h"

namespace backout::plan {

const Entry* find(const Entries& es, std::string_view key) {
  for (const Entry& e : es) {
    if (e.key == key) {
      return &e;
    }
  }
  return nullptr;
}

std::string list_keys(const KeyList& keys) {
  std::string out;
  for (std::string_view k : keys) {
    out += (out.empty() ? "" : ", ") + std::string(k);
  }
  return out;
}

// At most a dozen names of a user-made list (sources, roles, series) in one message: a plan with
// thousands of sources must not print thousands of names per error.
std::string list_some(const std::vector<std::string>& names) {
  constexpr std::size_t kShown = 12;
  if (names.size() <= kShown) {
    return join(names, ", ");
  }
  std::vector<std::string> head(names.begin(), names.begin() + kShown);
  return join(head, ", ") + " and " + std::to_string(names.size() - kShown) + " more";
}

bool is_null(const YAML::Node& n) { return !n.IsDefined() || n.IsNull(); }

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// yaml-cpp recurses once per nesting level; refuse absurd nesting before it can exhaust the stack.
// The scan mirrors YAML's lexical rules closely enough to err on the safe side: a quote opens a
// quoted scalar only where a scalar can start (so the `"` of `[x", [[[` does not hide the
// brackets after it), and `#` starts a comment only after a space (`a#[[[` is plain text, and
// in a flow collection the brackets after it still nest). Everything else is counted, which at
// worst over-counts brackets inside a multi-line quoted scalar.
bool nesting_too_deep(std::string_view text, int* line) {
  int depth = 0;
  int ln = 1;
  bool in_single = false;
  bool in_double = false;
  bool comment = false;
  char prev = '\n';        // previous character on the line; '\n' at the start of a line
  char prev_token = '\n';  // previous non-blank character on the line
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      ++ln;
      comment = false;
      in_single = false;  // flow scalars rarely span lines in plans; be conservative
      in_double = false;
      prev = prev_token = '\n';
      continue;
    }
    if (comment) {
      continue;
    }
    if (in_double) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_double = false;
        prev = prev_token = c;
      }
      continue;
    }
    if (in_single) {
      if (c == '\'') {
        in_single = false;
        prev = prev_token = c;
      }
      continue;
    }
    const bool after_blank = prev == '\n' || prev == ' ' || prev == '\t';
    const bool scalar_start = prev_token == '\n' || prev_token == '[' || prev_token == '{' ||
                              prev_token == ',' || prev_token == '-' || prev_token == '?' ||
                              (prev_token == ':' && after_blank);
    if (c == '#' && after_blank) {
      comment = true;
    } else if (c == '"' && scalar_start) {
      in_double = true;
    } else if (c == '\'' && scalar_start) {
      in_single = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxNesting) {
        *line = ln;
        return true;
      }
    } else if (c == ']' || c == '}') {
      depth = std::max(0, depth - 1);
    }
    prev = c;
    if (c != ' ' && c != '\t') {
      prev_token = c;
    }
  }
  // Block nesting: indentation deeper than the limit allows.
  std::size_t start = 0;
  ln = 1;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::size_t indent = 0;
    while (start + indent < end && (text[start + indent] == ' ' || text[start + indent] == '-')) {
      ++indent;
    }
    if (indent > static_cast<std::size_t>(kMaxNesting) * 4) {
      *line = ln;
      return true;
    }
    start = end + 1;
    ++ln;
  }
  return false;
}

constexpr std::size_t kSuggestBudget = 50'000'000;

std::optional<std::string> YamlCursor::suggest(std::string_view word,
                                               const std::vector<std::string>& cands) {
  for (const std::string& c : cands) {
    suggest_work_ += word.size() + c.size();
  }
  if (suggest_work_ > kSuggestBudget) {
    return std::nullopt;
  }
  auto best = closest_match(word, cands);
  if (best && edit_distance(word, *best, 1) <= 1) {
    return best;
  }
  std::optional<std::string> stem;
  std::size_t stem_len = 0;
  bool tie = false;  // `prom`: prometheus or promql? Better no guess than a wrong one.
  for (const std::string& c : cands) {
    std::size_t common = 0;
    while (common < word.size() && common < c.size() && word[common] == c[common]) {
      ++common;
    }
    std::size_t shorter = std::min(word.size(), c.size());
    if (common >= 4 && common * 5 >= shorter * 3) {
      if (common > stem_len) {
        stem = c;
        stem_len = common;
        tie = false;
      } else if (common == stem_len) {
        tie = true;
      }
    }
  }
  return stem && !tie ? stem : best;
}

Entries YamlCursor::entries_any(const YAML::Node& map, Pos where, const std::string& path,
                                const std::string& what) {
  Entries out;
  if (is_null(map)) {
    return out;
  }
  if (!map.IsMap()) {
    error(pos(map),
          path + " must be " + what + ", not " + (map.IsSequence() ? "a list" : "a single value"));
    return out;
  }
  (void)where;
  std::map<std::string, int> seen;
  // By value: yaml-cpp's iterator returns its key/value pair as a temporary, so a reference to
  // `it->first` dangles at the end of the statement (ASan: stack-use-after-scope).
  for (const auto& kv : map) {
    const YAML::Node k = kv.first;
    Pos kp = pos(k);
    if (!k.IsScalar()) {
      error(kp, path + ": a key must be a plain name, not a list or map");
      continue;
    }
    std::string key = k.Scalar();
    auto [at, fresh] = seen.emplace(key, kp.line);
    if (!fresh) {
      error(kp, path + ": duplicate key '" + key + "' (first at line " +
                    std::to_string(at->second) + "); remove one of them");
      continue;
    }
    out.push_back({key, kv.second, kp});
  }
  return out;
}

Entries YamlCursor::entries(const YAML::Node& map, Pos where, const std::string& path,
                            const KeyList& allowed, const std::string& what) {
  Entries all = entries_any(map, where, path, what);
  Entries out;
  for (Entry& e : all) {
    bool known = std::find(allowed.begin(), allowed.end(), e.key) != allowed.end();
    if (!known) {
      std::string msg = path + ": unknown key '" + e.key + "'";
      if (auto near = suggest(e.key, allowed)) {
        msg += "; did you mean '" + *near + "'?";
        offered(path, *near);
      } else {
        msg += "; expected one of " + list_keys(allowed);
      }
      error(e.key_pos, msg);
      continue;
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::optional<std::string> YamlCursor::scalar(const Entry& e, const std::string& path,
                                              const std::string& expected, bool allow_empty) {
  if (is_null(e.value)) {
    if (allow_empty) {
      return std::string();
    }
    error(e.key_pos, path + ": no value; expected " + expected);
    return std::nullopt;
  }
  if (!e.value.IsScalar()) {
    error(pos(e.value),
          path + ": expected " + expected + ", not " + (e.value.IsSequence() ? "a list" : "a map"));
    return std::nullopt;
  }
  std::string s = e.value.Scalar();
  if (s.empty() && !allow_empty) {
    error(value_pos(e), path + ": empty value; expected " + expected);
    return std::nullopt;
  }
  return s;
}

std::optional<Duration> YamlCursor::duration(const Entry& e, const std::string& path,
                                             Duration minimum) {
  auto s = scalar(e, path, "a duration such as 30s, 5m or 1h30m");
  if (!s) {
    return std::nullopt;
  }
  std::string why;
  auto d = parse_duration(*s, &why);
  if (!d) {
    error(value_pos(e), path + ": '" + *s + "' is not a duration: " + why);
    return std::nullopt;
  }
  if (*d < minimum) {
    error(value_pos(e),
          path + ": " + *s + " is too short; the minimum is " + format_duration(minimum));
    return std::nullopt;
  }
  return d;
}

std::optional<ZonedTime> YamlCursor::timestamp(const Entry& e, const std::string& path) {
  auto s = scalar(e, path, "an RFC 3339 time such as 2026-06-07T02:00:00+01:00");
  if (!s) {
    return std::nullopt;
  }
  std::string why;
  auto t = parse_rfc3339(*s, &why);
  if (!t) {
    error(value_pos(e), path + ": " + why);
  }
  return t;
}

std::optional<std::int64_t> YamlCursor::integer(const Entry& e, const std::string& path,
                                                std::int64_t lo, std::int64_t hi,
                                                const std::string& noun) {
  auto s = scalar(e, path, noun);
  if (!s) {
    return std::nullopt;
  }
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec == std::errc::result_out_of_range && ptr == s->data() + s->size()) {
    error(value_pos(e),
          path + ": " + *s + " is far too large; it must be " +
              (hi == INT64_MAX ? "at least " + std::to_string(lo)
                               : "between " + std::to_string(lo) + " and " + std::to_string(hi)));
    return std::nullopt;
  }
  if (ec != std::errc() || ptr != s->data() + s->size()) {
    error(value_pos(e), path + ": '" + *s + "' is not " + noun);
    return std::nullopt;
  }
  if (v < lo || v > hi) {
    std::string range = hi == INT64_MAX
                            ? "at least " + std::to_string(lo)
                            : "between " + std::to_string(lo) + " and " + std::to_string(hi);
    error(value_pos(e), path + ": " + *s + " is out of range; it must be " + range);
    return std::nullopt;
  }
  return v;
}

std::optional<bool> YamlCursor::boolean(const Entry& e, const std::string& path) {
  auto s = scalar(e, path, "true or false");
  if (!s) {
    return std::nullopt;
  }
  std::string l = lower(*s);
  if (l == "true" || l == "yes" || l == "on") {
    return true;
  }
  if (l == "false" || l == "no" || l == "off") {
    return false;
  }
  error(value_pos(e), path + ": '" + *s + "' is not true or false");
  return std::nullopt;
}

std::optional<SecretRef> YamlCursor::secret(const Entries& es, const std::string& base, Pos where,
                                            const std::string& path, bool required,
                                            const std::string& hint) {
  const Entry* inline_value = find(es, base);
  const Entry* env = find(es, base + "_env");
  const Entry* file = find(es, base + "_file");
  if (inline_value != nullptr) {
    error(inline_value->key_pos, path + "." + base +
                                     ": secrets are never written in the plan; "
                                     "give the name of an environment variable "
                                     "as " +
                                     base + "_env or a file as " + base + "_file");
    return std::nullopt;
  }
  if (env != nullptr && file != nullptr) {
    error(file->key_pos, path + ": give either " + base + "_env or " + base + "_file, not both");
    return std::nullopt;
  }
  if (env != nullptr) {
    auto s = scalar(*env, path + "." + base + "_env", "an environment variable name");
    if (!s) {
      return std::nullopt;
    }
    if (!is_env_name(*s)) {
      error(value_pos(*env), path + "." + base + "_env: '" + *s +
                                 "' is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)" +
                                 (s->find("://") != std::string::npos || s->size() > 40
                                      ? "; put the secret itself in the environment, not here"
                                      : ""));
      return std::nullopt;
    }
    return SecretRef{SecretRef::From::kEnv, *s};
  }
  if (file != nullptr) {
    auto s = scalar(*file, path + "." + base + "_file", "a file path");
    if (!s) {
      return std::nullopt;
    }
    return SecretRef{SecretRef::From::kFile, *s};
  }
  if (required && !was_offered(path, base + "_env") && !was_offered(path, base + "_file")) {
    error(where, path + ": missing " + base + "_env or " + base + "_file (" + hint + ")");
  }
  return std::nullopt;
}

}  // namespace backout::plan
