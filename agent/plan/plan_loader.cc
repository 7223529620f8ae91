#include "plan/plan_loader.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "backout/core/text.h"
#include "backout/rules/expression_parser.h"

namespace backout::plan {
namespace {

using rules::Severity;

constexpr std::size_t kMaxPlanBytes = 4 << 20;
constexpr int kMaxNesting = 64;

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

class Loader {
 public:
  Loader(std::string_view text, std::string path, const KindCatalog& kinds)
      : text_(text),
        path_(std::move(path)),
        kinds_(kinds.sources),
        channel_kinds_(kinds.channels),
        diag_(path_) {}

  LoadResult run();

 private:
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
  std::optional<std::string> role(const Entry& e, const std::string& path);
  std::optional<SecretRef> secret(const Entries& es, const std::string& base, Pos where,
                                         const std::string& path, bool required,
                                         const std::string& hint);

  // --- sections ----------------------------------------------------------------------------
  void load_plan_header(const Entry& e);
  void load_window(const Entry& e);
  void load_contacts(const Entry& e);
  void load_authority(const Entry& e);
  void load_sources(const Entry& e);
  void load_source(const Entry& e);
  std::optional<OptionValue> option_value(const OptionSpec& spec, const Entry& e,
                                          const std::string& path);
  void load_triggers(const Entry& e);
  void load_trigger(const YAML::Node& node, std::size_t index);
  void check_measure(const rules::Measure& m, const Entry& e, const std::string& path);
  void check_condition(const rules::Trigger& t, const rules::Level& level, const Entry& e,
                       const std::string& path);
  void load_early(rules::Trigger& t, const Entry* e, const std::string& path);
  void load_notify(const Entry& e);
  std::optional<rules::Channel> load_channel(const Entry& e);
  const KindSpec* chat_kind(const Entry& kind, const std::string& path);
  /// A kind's options from a source's or a notify entry's keys: values, defaults, required
  /// keys, secrets and the kind's own cross-checks; false if any was wrong (reported).
  bool read_options(const KindSpec& spec, const Entries& all, Pos where, const std::string& path,
                    KindOptions& out);
  void load_server(const Entry& e);
  void cross_checks(const Entries& top);

  const KindSpec* kind_spec(const std::string& kind) const {
    for (const auto& k : kinds_) {
      if (k.kind == kind) {
        return &k;
      }
    }
    return nullptr;
  }

  std::string_view text_;
  std::string path_;
  std::span<const KindSpec> kinds_;          // source kinds
  std::span<const KindSpec> channel_kinds_;  // channel kinds (notify entries)
  Diagnostics diag_;
  rules::Plan plan_;
  bool window_ok_ = false;
  std::set<std::string> broken_sources_;  // sources with errors: no series checks against them
  std::map<std::string, Pos> contact_pos_;
  std::map<std::string, std::size_t> source_index_;  // id -> plan_.sources index
  std::vector<std::string> source_ids_;              // for messages, built on first need
  std::vector<std::string> roles_;                   // for messages, built on first need
  std::set<std::string> offered_;
  std::size_t suggest_work_ = 0;
  std::set<Severity> authority_written_;  // severities under `authority`, valid or not
  const KindSpec* current_spec_ = nullptr;  // kind of the source being loaded
  std::map<std::string, Pos> trigger_pos_;
  std::vector<std::pair<Severity, Pos>> used_severities_;
};

constexpr std::size_t kSuggestBudget = 50'000'000;

std::optional<std::string> Loader::suggest(std::string_view word,
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

Entries Loader::entries_any(const YAML::Node& map, Pos where, const std::string& path,
                            const std::string& what) {
  Entries out;
  if (is_null(map)) {
    return out;
  }
  if (!map.IsMap()) {
    error(pos(map), path + " must be " + what + ", not " +
                        (map.IsSequence() ? "a list" : "a single value"));
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

Entries Loader::entries(const YAML::Node& map, Pos where, const std::string& path,
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

std::optional<std::string> Loader::scalar(const Entry& e, const std::string& path,
                                          const std::string& expected, bool allow_empty) {
  if (is_null(e.value)) {
    if (allow_empty) {
      return std::string();
    }
    error(e.key_pos, path + ": no value; expected " + expected);
    return std::nullopt;
  }
  if (!e.value.IsScalar()) {
    error(pos(e.value), path + ": expected " + expected + ", not " +
                            (e.value.IsSequence() ? "a list" : "a map"));
    return std::nullopt;
  }
  std::string s = e.value.Scalar();
  if (s.empty() && !allow_empty) {
    error(value_pos(e), path + ": empty value; expected " + expected);
    return std::nullopt;
  }
  return s;
}

std::optional<Duration> Loader::duration(const Entry& e, const std::string& path,
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
    error(value_pos(e), path + ": " + *s + " is too short; the minimum is " +
                            format_duration(minimum));
    return std::nullopt;
  }
  return d;
}

std::optional<ZonedTime> Loader::timestamp(const Entry& e, const std::string& path) {
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

std::optional<std::int64_t> Loader::integer(const Entry& e, const std::string& path,
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
    std::string range = hi == INT64_MAX ? "at least " + std::to_string(lo)
                                        : "between " + std::to_string(lo) + " and " +
                                              std::to_string(hi);
    error(value_pos(e), path + ": " + *s + " is out of range; it must be " + range);
    return std::nullopt;
  }
  return v;
}

std::optional<bool> Loader::boolean(const Entry& e, const std::string& path) {
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

std::optional<std::string> Loader::role(const Entry& e, const std::string& path) {
  auto s = scalar(e, path, "a role from contacts");
  if (!s) {
    return std::nullopt;
  }
  if (contact_pos_.count(*s) == 0) {
    if (roles_.size() != plan_.contacts.size()) {
      roles_.clear();
      for (const auto& c : plan_.contacts) {
        roles_.push_back(c.role);
      }
    }
    const std::vector<std::string>& roles = roles_;
    std::string msg = path + ": role '" + *s + "' is not in contacts";
    if (auto near = suggest(*s, roles)) {
      msg += "; did you mean '" + *near + "'?";
    } else if (!roles.empty()) {
      msg += "; contacts has " + list_some(roles);
    } else {
      msg += "; add it under contacts";
    }
    error(value_pos(e), msg);
    return std::nullopt;
  }
  return s;
}

std::optional<SecretRef> Loader::secret(const Entries& es, const std::string& base,
                                               Pos where, const std::string& path, bool required,
                                               const std::string& hint) {
  const Entry* inline_value = find(es, base);
  const Entry* env = find(es, base + "_env");
  const Entry* file = find(es, base + "_file");
  if (inline_value != nullptr) {
    error(inline_value->key_pos, path + "." + base + ": secrets are never written in the plan; "
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

// --- top level ------------------------------------------------------------------------------

const KeyList kTopKeys = {"version", "plan",    "window", "contacts",  "authority",
                              "sources", "triggers", "notify", "server",   "state_dir"};

LoadResult Loader::run() {
  LoadResult result;
  if (text_.size() > kMaxPlanBytes) {
    error({1, 1}, "the plan is " + std::to_string(text_.size()) +
                      " bytes; plans are limited to 4 MiB");
  }
  int deep_line = 0;
  if (!diag_.has_errors() && nesting_too_deep(text_, &deep_line)) {
    error({deep_line, 1}, "the plan nests more than " + std::to_string(kMaxNesting) +
                              " levels deep; a backout plan needs a handful");
  }
  YAML::Node root;
  if (!diag_.has_errors()) {
    try {
      root = YAML::Load(std::string(text_));
    } catch (const YAML::DeepRecursion& e) {
      // yaml-cpp's own guard ("bad file"), for nesting the scan above did not see.
      error({std::max(e.mark.line, 0) + 1, std::max(e.mark.column, 0) + 1},
            "the plan nests too deeply (" + std::to_string(e.depth()) +
                " levels); a backout plan needs a handful");
    } catch (const YAML::Exception& e) {
      std::string msg = "YAML syntax: " + e.msg;
      // `when: > 5%` starts a YAML folded block; the fix is quoting.
      std::size_t line_start = 0;
      for (int l = 0; l < e.mark.line && line_start != std::string_view::npos; ++l) {
        line_start = text_.find('\n', line_start);
        if (line_start != std::string_view::npos) {
          ++line_start;
        }
      }
      if (line_start != std::string_view::npos && line_start < text_.size()) {
        std::string_view line = text_.substr(line_start);
        line = line.substr(0, line.find('\n'));
        // yaml-cpp's messages name the grammar rule; add what to change in the plan.
        if (line.find(": >") != std::string_view::npos ||
            line.find(": <") != std::string_view::npos ||
            line.find(": |") != std::string_view::npos) {
          msg += "; quote conditions that start with > or <, e.g. when: \"> 5%\"";
        } else if (line.find('\t') != std::string_view::npos) {
          msg += "; YAML does not allow tabs for indentation, use spaces";
        } else if (e.msg.find("flow not found") != std::string::npos) {
          msg += "; a '{' or '[' opened on this line or above is not closed";
        } else if (e.msg.find("anchor") != std::string::npos) {
          msg +=
              "; a value starting with * names an anchor (&name); quote it if it is text, "
              "e.g. \"*mike\"";
        } else if (e.msg.find("illegal map value") != std::string::npos) {
          msg +=
              "; quote a value that contains ': ' (e.g. owner: \"PM: John Smith\"), or check "
              "the indentation";
        } else {
          msg += "; check the indentation and quote values that contain ': ' or ' #'";
        }
      }
      error({std::max(e.mark.line, 0) + 1, std::max(e.mark.column, 0) + 1}, msg);
    } catch (const std::exception& e) {
      error({1, 1}, std::string("YAML: ") + e.what());
    }
  }
  if (!diag_.has_errors()) {
    try {
      if (is_null(root)) {
        error({1, 1}, "the plan is empty; start from deploy/examples/customer-portal-2.0.yaml");
      } else if (!root.IsMap()) {
        error(pos(root), "the plan must be a YAML map with the keys " + list_keys(kTopKeys));
      } else {
        Entries top = entries(root, {1, 1}, "plan file", kTopKeys, "a map");
        // Order matters: contacts before authority, sources before triggers, window before
        // triggers (their warnings use the point of no return).
        if (const Entry* v = find(top, "version")) {
          if (auto n = integer(*v, "version", 0, INT32_MAX, "a whole number; write version: 1")) {
            if (*n != 1) {
              error(value_pos(*v), "version: this agent reads plan version 1, not " +
                                       std::to_string(*n));
            }
          }
        } else {
          error({1, 1}, "missing 'version: 1' at the top of the plan (the schema version)");
        }
        if (const Entry* e = find(top, "plan")) {
          load_plan_header(*e);
        } else {
          error({1, 1}, "missing 'plan' (project, release, owner, revision, status)");
        }
        if (const Entry* e = find(top, "window")) {
          load_window(*e);
        } else {
          error({1, 1}, "missing 'window' (start, end, backout_duration)");
        }
        if (const Entry* e = find(top, "contacts")) {
          load_contacts(*e);
        } else {
          error({1, 1}, "missing 'contacts' (role: {name, chat, phone, availability})");
        }
        if (const Entry* e = find(top, "sources")) {
          load_sources(*e);
        } else {
          error({1, 1}, "missing 'sources' (where the signals come from)");
        }
        if (const Entry* e = find(top, "triggers")) {
          load_triggers(*e);
        } else {
          error({1, 1}, "missing 'triggers' (what is measured and when it is a breach)");
        }
        if (const Entry* e = find(top, "authority")) {
          load_authority(*e);
        } else {
          error({1, 1}, "missing 'authority' (who decides each severity and who is told)");
        }
        if (const Entry* e = find(top, "notify")) {
          load_notify(*e);
        } else {
          error({1, 1}, "missing 'notify' (the chat channel pages go to)");
        }
        if (const Entry* e = find(top, "server")) {
          load_server(*e);
        } else {
          warning({1, 1}, "no 'server': the API listens on 127.0.0.1:9750 and its POST "
                          "endpoints (ack, fix-forward, decision, raise) are disabled without "
                          "server.token_env");
        }
        plan_.state_dir = "/var/lib/backout-agent";
        if (const Entry* e = find(top, "state_dir")) {
          if (auto s = scalar(*e, "state_dir", "a directory path")) {
            plan_.state_dir = *s;
          }
        }
        cross_checks(top);
      }
    } catch (const YAML::Exception& e) {
      // yaml-cpp throws on some malformed nodes; report, never crash.
      error({std::max(e.mark.line, 0) + 1, std::max(e.mark.column, 0) + 1},
            "YAML: " + e.msg);
    }
  }
  result.diagnostics = diag_.sorted();
  if (!diag_.has_errors()) {
    plan_.path = path_;
    result.plan = std::move(plan_);
  }
  return result;
}

void Loader::load_plan_header(const Entry& e) {
  Entries es = entries(e.value, e.key_pos, "plan",
                       {"project", "release", "owner", "revision", "status"}, "a map");
  require(es, "project", e.key_pos, "plan", "the project's name");
  require(es, "release", e.key_pos, "plan", "the release being deployed, e.g. \"2.0\"");
  require(es, "status", e.key_pos, "plan", "draft or approved");
  for (const Entry& x : es) {
    if (x.key == "status") {
      if (auto s = scalar(x, "plan.status", "draft or approved")) {
        if (*s == "approved") {
          plan_.header.approved = true;
        } else if (*s == "draft") {
          plan_.header.approved = false;
        } else {
          std::string msg = "plan.status: '" + *s + "' is not a status; use draft or approved";
          error(value_pos(x), msg);
        }
      }
      continue;
    }
    auto s = scalar(x, "plan." + x.key, "text", x.key == "owner" || x.key == "revision");
    if (!s) {
      continue;
    }
    if (x.key == "project") {
      plan_.header.project = *s;
    } else if (x.key == "release") {
      plan_.header.release = *s;
    } else if (x.key == "owner") {
      plan_.header.owner = *s;
    } else if (x.key == "revision") {
      plan_.header.revision = *s;
    }
  }
}

void Loader::load_window(const Entry& e) {
  Entries es = entries(e.value, e.key_pos, "window",
                       {"start", "end", "backout_duration", "warn_before_point_of_no_return",
                        "baseline"},
                       "a map");
  bool ok = require(es, "start", e.key_pos, "window", "e.g. start: 2026-06-07T02:00:00+01:00");
  ok = require(es, "end", e.key_pos, "window", "e.g. end: 2026-06-07T06:00:00+01:00") && ok;
  ok = require(es, "backout_duration", e.key_pos, "window",
               "how long the rehearsed backout takes, e.g. 100m") &&
       ok;
  rules::Window& w = plan_.window;
  w.warn_before_pnr = std::chrono::minutes{15};
  w.baseline = std::chrono::minutes{30};
  const Entry* start = find(es, "start");
  const Entry* end = find(es, "end");
  const Entry* backout = find(es, "backout_duration");
  if (start != nullptr) {
    if (auto t = timestamp(*start, "window.start")) {
      w.start = *t;
    } else {
      ok = false;
    }
  }
  if (end != nullptr) {
    if (auto t = timestamp(*end, "window.end")) {
      w.end = *t;
    } else {
      ok = false;
    }
  }
  if (backout != nullptr) {
    if (auto d = duration(*backout, "window.backout_duration", std::chrono::seconds{1})) {
      w.backout_duration = *d;
    } else {
      ok = false;
    }
  }
  if (const Entry* x = find(es, "warn_before_point_of_no_return")) {
    if (auto d = duration(*x, "window.warn_before_point_of_no_return")) {
      w.warn_before_pnr = *d;
    }
  }
  if (const Entry* x = find(es, "baseline")) {
    if (auto d = duration(*x, "window.baseline")) {
      w.baseline = *d;
    }
  }
  if (!ok) {
    return;
  }
  if (w.end.at <= w.start.at) {
    error(value_pos(*end), "window.end: " + format_rfc3339(w.end.at, w.end.offset) +
                               " is not after window.start " +
                               format_rfc3339(w.start.at, w.start.offset));
    return;
  }
  if (w.backout_duration >= w.length()) {
    error(value_pos(*backout),
          "window.backout_duration: " + format_duration(w.backout_duration) +
              " is not shorter than the window (" + format_duration(w.length()) +
              "), so a backout could never finish inside it; lengthen the window or check the "
              "rehearsed backout time");
    return;
  }
  if (w.end.offset != w.start.offset) {
    warning(value_pos(*end), "window.end: its UTC offset " + format_offset(w.end.offset) +
                                 " differs from window.start's " + format_offset(w.start.offset) +
                                 "; times are shown in the start's offset");
  }
  if (const Entry* x = find(es, "warn_before_point_of_no_return")) {
    if (w.point_of_no_return() - w.warn_before_pnr < w.start.at) {
      warning(value_pos(*x), "window.warn_before_point_of_no_return: " +
                                 format_duration(w.warn_before_pnr) +
                                 " before the point of no return is before the window starts; "
                                 "the warning will come as soon as a major breach opens");
    }
  }
  window_ok_ = true;
}

void Loader::load_contacts(const Entry& e) {
  Entries roles = entries_any(e.value, e.key_pos, "contacts", "a map of role: {name, chat, ...}");
  if (is_null(e.value) || (e.value.IsMap() && e.value.size() == 0)) {
    error(e.key_pos, "contacts: no contact; add at least the deciding roles, e.g. "
                     "deployment_lead: { name: Jane Doe, chat: \"@jane.doe\" }");
  }
  for (const Entry& r : roles) {
    std::string path = "contacts." + r.key;
    if (!is_identifier(r.key)) {
      error(r.key_pos, path + ": a role must be a name like deployment_lead "
                              "([A-Za-z_][A-Za-z0-9_]*)");
      continue;
    }
    Entries fields = entries(r.value, r.key_pos, path,
                             {"name", "chat", "phone", "availability"}, "a map");
    rules::Contact c;
    c.role = r.key;
    bool ok = require(fields, "name", r.key_pos, path, "the person's or group's name");
    ok = require(fields, "chat", r.key_pos, path,
                 "the chat handle pages mention, e.g. \"@jane.doe\"") &&
         ok;
    for (const Entry& f : fields) {
      auto s = scalar(f, path + "." + f.key, "text", f.key == "phone" || f.key == "availability");
      if (!s) {
        ok = false;
        continue;
      }
      if (f.key == "name") {
        c.name = *s;
      } else if (f.key == "chat") {
        c.chat = *s;
        if (s->find_first_of(" \t") != std::string::npos) {
          error(value_pos(f), path + ".chat: '" + *s +
                                  "' contains a space; a chat handle is one word such as "
                                  "\"@jane.doe\"");
          ok = false;
        }
      } else if (f.key == "phone") {
        c.phone = *s;
      } else if (f.key == "availability") {
        c.availability = *s;
      }
    }
    contact_pos_[c.role] = r.key_pos;
    // Keep the contact even if a field is wrong, so that references to it are not reported too.
    plan_.contacts.push_back(std::move(c));
    (void)ok;
  }
}

void Loader::load_authority(const Entry& e) {
  Entries levels = entries(e.value, e.key_pos, "authority", {"critical", "major", "discretionary"},
                           "a map of severity: {decides, notify, ack_within, escalate_to}");
  for (const Entry& l : levels) {
    std::string path = "authority." + l.key;
    Severity sev = *rules::parse_severity(l.key);
    authority_written_.insert(sev);
    Entries fields = entries(l.value, l.key_pos, path,
                             {"decides", "notify", "ack_within", "escalate_to"}, "a map");
    rules::Authority a;
    a.severity = sev;
    bool ok = require(fields, "decides", l.key_pos, path,
                      "the role that decides, e.g. decides: deployment_lead");
    for (const Entry& f : fields) {
      std::string fpath = path + "." + f.key;
      if (f.key == "decides") {
        if (auto r = role(f, fpath)) {
          a.decides = *r;
        } else {
          ok = false;
        }
      } else if (f.key == "escalate_to") {
        if (auto r = role(f, fpath)) {
          a.escalate_to = *r;
        } else {
          ok = false;
        }
      } else if (f.key == "ack_within") {
        if (auto d = duration(f, fpath, std::chrono::seconds{1})) {
          a.ack_within = *d;
        } else {
          ok = false;
        }
      } else if (f.key == "notify") {
        if (is_null(f.value)) {
          continue;
        }
        if (f.value.IsScalar()) {
          if (auto r = role(f, fpath)) {
            a.notify.push_back(*r);
          }
        } else if (f.value.IsSequence()) {
          for (std::size_t i = 0; i < f.value.size(); ++i) {
            Entry item{f.key, f.value[i], pos(f.value[i])};
            if (auto r = role(item, fpath)) {
              if (std::find(a.notify.begin(), a.notify.end(), *r) != a.notify.end()) {
                warning(pos(f.value[i]), fpath + ": '" + *r + "' is listed twice");
              } else {
                a.notify.push_back(*r);
              }
            }
          }
        } else {
          error(pos(f.value), fpath + ": expected a role or a list of roles, e.g. "
                                      "[project_manager, sponsor]");
        }
      }
    }
    const Entry* ack = find(fields, "ack_within");
    const Entry* esc = find(fields, "escalate_to");
    if (esc != nullptr && ack == nullptr) {
      error(esc->key_pos, path + ": escalate_to needs ack_within (how long the decider has to "
                                 "acknowledge before " + esc->value.Scalar() + " is paged)");
      ok = false;
    }
    if (ack != nullptr && esc == nullptr && sev != Severity::kDiscretionary) {
      warning(ack->key_pos, path + ": ack_within without escalate_to: an unacknowledged page is "
                                   "repeated but nobody else is paged");
    }
    if (ok && a.escalate_to && *a.escalate_to == a.decides) {
      warning(esc->key_pos, path + ".escalate_to: escalates to the deciding role itself");
    }
    if (ok) {
      plan_.authority[sev] = std::move(a);
    }
  }
  for (Severity s : {Severity::kCritical, Severity::kMajor}) {
    if (find(levels, rules::to_string(s)) == nullptr && !is_null(e.value) && e.value.IsMap()) {
      error(e.key_pos, "authority: missing '" + std::string(rules::to_string(s)) +
                           "' (who decides a " + std::string(rules::to_string(s)) +
                           " breach, e.g. " + std::string(rules::to_string(s)) +
                           ": { decides: deployment_lead })");
    }
  }
}

void Loader::load_sources(const Entry& e) {
  Entries sources = entries_any(e.value, e.key_pos, "sources", "a map of id: {kind, ...}");
  if (sources.empty() && (is_null(e.value) || e.value.IsMap())) {
    error(e.key_pos, "sources: no source; add where the signals come from, e.g. portal: { kind: "
                     "prometheus, url: http://127.0.0.1:8080/metrics }");
  }
  for (const Entry& s : sources) {
    load_source(s);  // adds exactly one entry to plan_.sources, broken or not
    source_index_[s.key] = plan_.sources.size() - 1;
  }
}

void Loader::load_source(const Entry& e) {
  std::string path = "sources." + e.key;
  Source src;
  src.id = e.key;
  if (!is_identifier(e.key)) {
    error(e.key_pos, path + ": a source id must be a name like portal_db ([A-Za-z_][A-Za-z0-9_]*) "
                            "so that measures can refer to it");
    broken_sources_.insert(e.key);
  }
  Entries all = entries_any(e.value, e.key_pos, path, "a map with 'kind' and its options");
  const Entry* kind = find(all, "kind");
  if (kind == nullptr) {
    if (!is_null(e.value) && !e.value.IsMap()) {
      broken_sources_.insert(e.key);
      plan_.sources.push_back(std::move(src));
      return;
    }
    std::vector<std::string> names;
    for (const auto& k : kinds_) {
      names.push_back(k.kind);
    }
    // `knd: http` is more likely than a forgotten kind; point at the typo.
    const Entry* typo = nullptr;
    for (const Entry& x : all) {
      if (typo == nullptr && suggest(x.key, KeyList{"kind"})) {
        typo = &x;
      }
    }
    if (typo != nullptr) {
      error(typo->key_pos, path + ": unknown key '" + typo->key + "'; did you mean 'kind'?");
    } else {
      error(e.key_pos, path + ": missing 'kind' (one of " + join(names, ", ") + ")");
    }
    broken_sources_.insert(e.key);
    plan_.sources.push_back(std::move(src));
    return;
  }
  auto kind_name = scalar(*kind, path + ".kind", "a source kind");
  const KindSpec* spec = kind_name ? kind_spec(*kind_name) : nullptr;
  if (spec == nullptr) {
    if (kind_name) {
      std::vector<std::string> names;
      for (const auto& k : kinds_) {
        names.push_back(k.kind);
      }
      std::string msg = path + ".kind: unknown kind '" + *kind_name + "'";
      if (auto near = suggest(*kind_name, names)) {
        msg += "; did you mean '" + *near + "'?";
      } else {
        msg += "; kinds are " + join(names, ", ");
      }
      error(value_pos(*kind), msg);
    }
    broken_sources_.insert(e.key);
    src.kind = kind_name.value_or("");
    plan_.sources.push_back(std::move(src));
    return;
  }
  src.kind = spec->kind;
  // Allowed keys: kind, the options, and for each secret `base_env` / `base_file`. The inline
  // `base` is accepted here only to give the secret error below instead of "unknown key".
  std::vector<std::string> allowed{"kind"};
  for (const auto& o : spec->options) {
    allowed.push_back(o.name);
  }
  for (const auto& sec : spec->secrets) {
    allowed.push_back(sec.base + "_env");
    allowed.push_back(sec.base + "_file");
  }
  bool ok = true;
  for (const Entry& x : all) {
    bool known = std::find(allowed.begin(), allowed.end(), x.key) != allowed.end();
    bool inline_secret = std::any_of(spec->secrets.begin(), spec->secrets.end(),
                                     [&](const auto& sec) { return sec.base == x.key; });
    if (!known && !inline_secret) {
      std::string msg = path + ": unknown key '" + x.key + "' for a " + spec->kind + " source";
      if (auto near = suggest(x.key, allowed)) {
        msg += "; did you mean '" + *near + "'?";
        offered(path, *near);
      } else {
        std::vector<std::string> shown(allowed.begin() + 1, allowed.end());
        msg += "; expected one of " + join(shown, ", ");
      }
      error(x.key_pos, msg);
      ok = false;
    }
  }
  if (!read_options(*spec, all, e.key_pos, path, src.options)) {
    ok = false;
  }
  if (!ok) {
    broken_sources_.insert(e.key);
  }
  plan_.sources.push_back(std::move(src));
}

bool Loader::read_options(const KindSpec& spec, const Entries& all, Pos where,
                          const std::string& path, KindOptions& out) {
  bool ok = true;
  for (const OptionSpec& o : spec.options) {
    const Entry* x = find(all, o.name);
    if (x == nullptr) {
      if (o.required) {
        if (!was_offered(path, o.name)) {
          error(where, path + ": missing '" + o.name + "' (" + o.help + ")");
        }
        ok = false;
      } else if (o.default_value) {
        out.set(o.name, *o.default_value);
      }
      continue;
    }
    current_spec_ = &spec;
    auto v = option_value(o, *x, path + "." + o.name);
    current_spec_ = nullptr;
    if (v) {
      out.set(o.name, std::move(*v));
    } else {
      ok = false;
    }
  }
  for (const auto& sec : spec.secrets) {
    std::size_t before = diag_.error_count();
    if (auto ref = secret(all, sec.base, where, path, sec.required, sec.help)) {
      out.set_secret(sec.base, *ref);
    }
    if (diag_.error_count() != before) {
      ok = false;
    }
  }
  if (ok && spec.check) {
    std::vector<OptionIssue> issues;
    spec.check(out, issues);
    for (const auto& issue : issues) {
      const Entry* x = issue.option.empty() ? nullptr : find(all, issue.option);
      Pos p = x != nullptr ? value_pos(*x) : where;
      std::string at = issue.option.empty() ? path : path + "." + issue.option;
      if (issue.warning) {
        warning(p, at + ": " + issue.message);
      } else {
        error(p, at + ": " + issue.message);
        ok = false;
      }
    }
  }
  return ok;
}

std::optional<OptionValue> Loader::option_value(const OptionSpec& spec, const Entry& e,
                                                const std::string& path) {
  switch (spec.type) {
    case OptionType::kString: {
      auto s = scalar(e, path, "text (" + spec.help + ")", true);
      if (!s) {
        return std::nullopt;
      }
      return OptionValue{*s};
    }
    case OptionType::kPath: {
      auto s = scalar(e, path, "a file path (" + spec.help + ")");
      if (!s) {
        return std::nullopt;
      }
      return OptionValue{*s};
    }
    case OptionType::kUrl: {
      auto s = scalar(e, path, "a URL (" + spec.help + ")");
      if (!s) {
        return std::nullopt;
      }
      std::string l = lower(*s);
      std::size_t scheme = l.starts_with("http://") ? 7 : l.starts_with("https://") ? 8 : 0;
      if (scheme == 0) {
        error(value_pos(e), path + ": '" + *s + "' is not an http:// or https:// URL");
        return std::nullopt;
      }
      std::string rest = s->substr(scheme);
      std::string authority = rest.substr(0, rest.find_first_of("/?#"));
      if (authority.find('@') != std::string::npos) {
        // Only kinds with a bearer_token secret can take the credentials another way.
        bool bearer = current_spec_ != nullptr &&
                      std::any_of(current_spec_->secrets.begin(), current_spec_->secrets.end(),
                                  [](const auto& sec) { return sec.base == "bearer_token"; });
        error(value_pos(e), path +
                                ": the URL carries credentials (user:password@), which are "
                                "secrets and would be shown in logs; remove them" +
                                (bearer ? std::string(" and give a token with bearer_token_env "
                                                      "or bearer_token_file")
                                        : std::string()));
        return std::nullopt;
      }
      if (authority.empty() || authority.front() == ':') {
        error(value_pos(e), path + ": '" + *s + "' has no host");
        return std::nullopt;
      }
      return OptionValue{*s};
    }
    case OptionType::kDuration: {
      auto d = duration(e, path, spec.min_duration);
      if (!d) {
        return std::nullopt;
      }
      return OptionValue{*d};
    }
    case OptionType::kInteger: {
      auto v = integer(e, path, spec.min_int, spec.max_int);
      if (!v) {
        return std::nullopt;
      }
      return OptionValue{*v};
    }
    case OptionType::kBoolean: {
      auto v = boolean(e, path);
      if (!v) {
        return std::nullopt;
      }
      return OptionValue{*v};
    }
    case OptionType::kEnum: {
      auto s = scalar(e, path, "one of " + join(spec.choices, ", "));
      if (!s) {
        return std::nullopt;
      }
      for (const auto& c : spec.choices) {
        if (c == *s || lower(c) == lower(*s)) {
          return OptionValue{c};
        }
      }
      error(value_pos(e), path + ": '" + *s + "' is not one of " + join(spec.choices, ", "));
      return std::nullopt;
    }
    case OptionType::kRegex: {
      auto s = scalar(e, path, "a regular expression");
      if (!s) {
        return std::nullopt;
      }
      try {
        std::regex re(*s, std::regex::ECMAScript);
      } catch (const std::regex_error& ex) {
        error(value_pos(e), path + ": the regular expression does not compile: " + ex.what());
        return std::nullopt;
      }
      return OptionValue{*s};
    }
    case OptionType::kAddress: {
      auto s = scalar(e, path, "host:port");
      if (!s) {
        return std::nullopt;
      }
      const std::string example = spec.name == "listen"          ? "127.0.0.1:9750"
                                  : spec.name == "statsd_listen" ? "127.0.0.1:8125"
                                                                 : "127.0.0.1:5432";
      std::size_t colon = s->rfind(':');
      // `::1` alone is an IPv6 address without a port: a port follows `]` or a non-colon.
      bool has_port = colon != std::string::npos && colon > 0 && colon + 1 < s->size() &&
                      ((*s)[0] != '[' || (*s)[colon - 1] == ']') &&
                      ((*s)[0] == '[' || s->find(':') == colon);
      if (!has_port) {
        error(value_pos(e),
              path + ": '" + *s + "' is not host:port; write e.g. " + example +
                  (s->find(':') != colon ? " (an IPv6 host in brackets: [::1]:9750)" : ""));
        return std::nullopt;
      }
      std::int64_t port = 0;
      auto [ptr, ec] = std::from_chars(s->data() + colon + 1, s->data() + s->size(), port);
      if (ec != std::errc() || ptr != s->data() + s->size() || port < 1 || port > 65535) {
        error(value_pos(e), path + ": '" + s->substr(colon + 1) + "' in '" + *s +
                                "' is not a port; ports are 1 to 65535, e.g. " + example);
        return std::nullopt;
      }
      return OptionValue{*s};
    }
    case OptionType::kStringList: {
      std::vector<std::string> out;
      if (!is_null(e.value) && e.value.IsScalar()) {
        out.push_back(e.value.Scalar());
        return OptionValue{out};
      }
      if (is_null(e.value) || !e.value.IsSequence()) {
        error(value_pos(e), path + ": expected a list, e.g. [a, b]");
        return std::nullopt;
      }
      for (std::size_t i = 0; i < e.value.size(); ++i) {
        if (!e.value[i].IsScalar()) {
          error(pos(e.value[i]), path + ": list items must be plain values");
          return std::nullopt;
        }
        out.push_back(e.value[i].Scalar());
      }
      return OptionValue{out};
    }
    case OptionType::kStatusList: {
      std::vector<std::int64_t> out;
      auto one = [&](const YAML::Node& n) -> bool {
        Entry item{e.key, n, pos(n)};
        auto v = integer(item, path, 100, 599, "an HTTP status code such as 200");
        if (v) {
          out.push_back(*v);
        }
        return v.has_value();
      };
      if (!is_null(e.value) && e.value.IsScalar()) {
        if (!one(e.value)) {
          return std::nullopt;
        }
        return OptionValue{out};
      }
      if (is_null(e.value) || !e.value.IsSequence()) {
        error(value_pos(e), path + ": expected a status code or a list of them, e.g. [200, 204]");
        return std::nullopt;
      }
      for (std::size_t i = 0; i < e.value.size(); ++i) {
        if (!one(e.value[i])) {
          return std::nullopt;
        }
      }
      return OptionValue{out};
    }
    case OptionType::kStringMap: {
      std::map<std::string, std::string> out;
      if (is_null(e.value) || !e.value.IsMap()) {
        error(value_pos(e), path + ": expected a map of name: value (" + spec.help + ")");
        return std::nullopt;
      }
      Entries items = entries_any(e.value, e.key_pos, path, "a map");
      bool good = true;
      for (const Entry& item : items) {
        auto s = scalar(item, path + "." + item.key, "text");
        if (!s) {
          good = false;
          continue;
        }
        out[item.key] = *s;
      }
      if (!good) {
        return std::nullopt;
      }
      return OptionValue{out};
    }
  }
  return std::nullopt;
}

// --- triggers -------------------------------------------------------------------------------

const KeyList kTriggerKeys = {"id",       "name",      "measure",     "over",
                                  "when",     "severity",  "for",         "min_count",
                                  "early",    "clear_after"};

void Loader::load_triggers(const Entry& e) {
  if (is_null(e.value) || (e.value.IsSequence() && e.value.size() == 0)) {
    error(e.key_pos, "triggers: no trigger; the plan would watch nothing");
    return;
  }
  if (!e.value.IsSequence()) {
    error(pos(e.value), "triggers must be a list, each item starting with '- id: ...'");
    return;
  }
  for (std::size_t i = 0; i < e.value.size(); ++i) {
    load_trigger(e.value[i], i);
  }
}

void Loader::load_trigger(const YAML::Node& node, std::size_t index) {
  Pos where = pos(node);
  std::string path = "triggers[" + std::to_string(index + 1) + "]";
  if (!node.IsMap()) {
    error(where, path + " must be a map with id, name, measure, over, when, severity, ...");
    return;
  }
  // Name the trigger by its id in every message about it (`triggers.error_rate.when`), also for
  // the key checks below, which run before the id itself is validated.
  for (const auto& kv : node) {
    const YAML::Node key = kv.first;
    const YAML::Node value = kv.second;
    if (key.IsScalar() && key.Scalar() == "id" && !is_null(value) && value.IsScalar() &&
        is_identifier(value.Scalar()) && trigger_pos_.count(value.Scalar()) == 0) {
      path = "triggers." + value.Scalar();
      break;
    }
  }
  const std::size_t errors_before = diag_.error_count();
  Entries es = entries(node, where, path, kTriggerKeys, "a map");
  // An unknown or duplicate key (say `min_cout`) makes the advice below about missing keys noise.
  const bool keys_ok = diag_.error_count() == errors_before;
  rules::Trigger t;
  bool ok = keys_ok;
  if (const Entry* id = find(es, "id")) {
    if (auto s = scalar(*id, path + ".id", "an identifier such as login_failure_rate")) {
      if (!is_identifier(*s)) {
        error(value_pos(*id), path + ".id: '" + *s +
                                  "' is not an identifier ([A-Za-z_][A-Za-z0-9_]*)");
        ok = false;
      } else if (auto prev = trigger_pos_.find(*s); prev != trigger_pos_.end()) {
        error(value_pos(*id), path + ".id: duplicate trigger id '" + *s + "' (first at line " +
                                  std::to_string(prev->second.line) + ")");
        ok = false;
      } else {
        t.id = *s;
        trigger_pos_[*s] = value_pos(*id);
      }
    } else {
      ok = false;
    }
  } else {
    if (!was_offered(path, "id")) {
      error(where, path + ": missing 'id' (a short name such as login_failure_rate)");
    }
    ok = false;
  }
  t.name = t.id;
  if (const Entry* x = find(es, "name")) {
    if (auto s = scalar(*x, path + ".name", "text")) {
      t.name = *s;
    }
  }
  t.over = std::chrono::minutes{5};
  if (const Entry* x = find(es, "over")) {
    if (auto d = duration(*x, path + ".over", std::chrono::seconds{1})) {
      t.over = *d;
    } else {
      ok = false;
    }
  }
  if (const Entry* x = find(es, "for")) {
    if (auto d = duration(*x, path + ".for")) {
      t.for_duration = *d;
    } else {
      ok = false;
    }
  }
  t.clear_after = std::max<Duration>(t.for_duration, std::chrono::seconds{30});
  if (const Entry* x = find(es, "clear_after")) {
    if (auto d = duration(*x, path + ".clear_after")) {
      t.clear_after = *d;
    } else {
      ok = false;
    }
  }
  bool measure_ok = false;
  const Entry* measure = find(es, "measure");
  if (measure != nullptr) {
    if (auto s = scalar(*measure, path + ".measure", "a measure such as ratio(a, b) or p95(s)")) {
      auto parsed = rules::parse_measure(*s);
      if (auto* err = std::get_if<rules::ParseError>(&parsed)) {
        error(inner_pos(*measure, err->pos), path + ".measure: " + err->message);
        ok = false;
      } else {
        t.measure = std::get<rules::Measure>(std::move(parsed));
        measure_ok = true;
        check_measure(t.measure, *measure, path + ".measure");
      }
    } else {
      ok = false;
    }
  } else {
    if (!was_offered(path, "measure")) {
      error(where, path +
                       ": missing 'measure' (e.g. measure: ratio(portal.failed_total, "
                       "portal.requests_total))");
    }
    ok = false;
  }
  // when + severity: either one condition and its `severity`, or a map severity -> condition.
  // Both halves are checked even when the other is wrong, so that every mistake is reported.
  const Entry* when = find(es, "when");
  const Entry* severity = find(es, "severity");
  const bool per_severity = when != nullptr && !is_null(when->value) && when->value.IsMap();
  std::optional<Severity> sev;
  if (when == nullptr) {
    if (!was_offered(path, "when")) {
      error(where, path + ": missing 'when' (the breach condition, e.g. when: \"> 5%\")");
    }
    ok = false;
  }
  if (!per_severity) {
    if (severity == nullptr) {
      if (!was_offered(path, "severity")) {
        error(where, path +
                         ": missing 'severity' (critical, major, minor or discretionary), "
                         "e.g. severity: major");
      }
      ok = false;
    } else if (auto sv = scalar(*severity, path + ".severity",
                                "critical, major, minor or discretionary")) {
      sev = rules::parse_severity(*sv);
      if (sev) {
        used_severities_.emplace_back(*sev, value_pos(*severity));
      } else {
        std::string msg = path + ".severity: '" + *sv + "' is not a severity";
        if (auto near = closest_match(*sv, {"critical", "major", "minor", "discretionary"})) {
          msg += "; did you mean '" + *near + "'?";
        } else {
          msg += "; use critical, major, minor or discretionary";
        }
        error(value_pos(*severity), msg);
        ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (per_severity) {
    if (severity != nullptr) {
      error(severity->key_pos, path + ".severity: with a 'when' per severity, the severities are "
                                      "its keys; remove 'severity'");
      ok = false;
    }
    Entries levels = entries(when->value, when->key_pos, path + ".when",
                             {"critical", "major", "discretionary", "minor"},
                             "a condition or a map severity: condition");
    if (levels.empty()) {
      error(when->key_pos, path + ".when: no condition; e.g. when: { critical: \"> 25%\", "
                                  "major: \"> 1%\" }");
      ok = false;
    }
    for (const Entry& l : levels) {
      rules::Level level;
      level.severity = *rules::parse_severity(l.key);
      auto s = scalar(l, path + ".when." + l.key, "a condition such as \"> 5%\"");
      if (!s) {
        ok = false;
        continue;
      }
      auto parsed = rules::parse_condition(*s);
      if (auto* err = std::get_if<rules::ParseError>(&parsed)) {
        error(inner_pos(l, err->pos), path + ".when." + l.key + ": " + err->message);
        ok = false;
        continue;
      }
      level.condition = std::get<rules::Condition>(std::move(parsed));
      if (measure_ok) {
        check_condition(t, level, l, path + ".when." + l.key);
      }
      used_severities_.emplace_back(level.severity, l.key_pos);
      t.levels.push_back(std::move(level));
    }
    std::stable_sort(t.levels.begin(), t.levels.end(),
                     [](const rules::Level& a, const rules::Level& b) {
                       return a.severity > b.severity;
                     });
  } else if (when != nullptr) {
    auto s = scalar(*when, path + ".when", "a condition such as \"> 5%\"");
    if (!s) {
      ok = false;
    } else {
      auto parsed = rules::parse_condition(*s);
      if (auto* err = std::get_if<rules::ParseError>(&parsed)) {
        error(inner_pos(*when, err->pos), path + ".when: " + err->message);
        ok = false;
      } else {
        rules::Level level;
        level.condition = std::get<rules::Condition>(std::move(parsed));
        level.severity = sev.value_or(Severity::kMajor);
        if (measure_ok) {
          check_condition(t, level, *when, path + ".when");
        }
        t.levels.push_back(std::move(level));
      }
    }
  }
  if (const Entry* x = find(es, "min_count")) {
    if (auto n = integer(*x, path + ".min_count", 0, INT64_MAX)) {
      t.min_count = static_cast<std::uint64_t>(*n);
      if (measure_ok && !t.measure.has_count() && *n > 0) {
        warning(x->key_pos, path + ".min_count: " + t.measure.function +
                                "() has no count of observations; min_count has no effect");
      }
    } else {
      ok = false;
    }
  } else if (keys_ok && measure_ok && t.measure.kind == rules::MeasureKind::kRatio) {
    warning(measure->key_pos, path + ": ratio() without min_count: one failure out of one "
                                     "attempt is 100%; set min_count (e.g. 50) so that a quiet "
                                     "minute cannot trigger a backout");
  }
  load_early(t, find(es, "early"), path);
  // Levels of a multi-level `when` that can never apply.
  for (std::size_t i = 0; i + 1 < t.levels.size(); ++i) {
    const auto& hi = t.levels[i];
    for (std::size_t j = i + 1; j < t.levels.size(); ++j) {
      const auto& lo = t.levels[j];
      if (hi.condition.relative || lo.condition.relative ||
          hi.condition.upward() != lo.condition.upward()) {
        continue;
      }
      bool shadowed = hi.condition.upward() ? lo.condition.value >= hi.condition.value
                                            : lo.condition.value <= hi.condition.value;
      if (shadowed && when != nullptr) {
        warning(when->key_pos,
                path + ".when: " + std::string(rules::to_string(lo.severity)) + " (" +
                    lo.condition.text + ") can never apply: " +
                    std::string(rules::to_string(hi.severity)) + " (" + hi.condition.text +
                    ") is checked first and is met before it");
      }
    }
  }
  if (ok && measure_ok) {
    if (t.for_duration > t.over && find(es, "for") != nullptr) {
      warning(find(es, "for")->key_pos,
              path + ".for: " + format_duration(t.for_duration) + " is longer than over (" +
                  format_duration(t.over) + "); the breach must outlast its own window");
    }
    if (window_ok_) {
      const rules::Window& w = plan_.window;
      Duration to_pnr = w.point_of_no_return() - w.start.at;
      if (t.measure.kind != rules::MeasureKind::kValue && t.over + t.for_duration > to_pnr) {
        warning(where, path + ": over (" + format_duration(t.over) + ") plus for (" +
                           format_duration(t.for_duration) + ") is longer than the " +
                           format_duration(to_pnr) +
                           " from the window start to the point of no return; a fault that "
                           "starts with the window is confirmed only after that point");
      }
      if (t.relative() && w.baseline > Duration{0} && t.over > w.baseline &&
          t.measure.kind != rules::MeasureKind::kValue) {
        warning(where, path + ": its window (over: " + format_duration(t.over) +
                           ") is longer than window.baseline (" + format_duration(w.baseline) +
                           "); the baseline is measured over the shorter period");
      }
    }
  }
  if (ok && !t.levels.empty()) {
    plan_.triggers.push_back(std::move(t));
  }
}

void Loader::check_measure(const rules::Measure& m, const Entry& e, const std::string& path) {
  for (const rules::SeriesSelector& sel : m.args) {
    auto found = source_index_.find(sel.source);
    if (found == source_index_.end()) {
      if (source_ids_.size() != plan_.sources.size()) {
        source_ids_.clear();
        for (const auto& s : plan_.sources) {
          source_ids_.push_back(s.id);
        }
      }
      const std::vector<std::string>& ids = source_ids_;
      std::string msg = "unknown source '" + sel.source + "'";
      if (auto near = suggest(sel.source, ids)) {
        msg += "; did you mean '" + *near + "'?";
      } else if (!ids.empty()) {
        msg += "; sources are " + list_some(ids);
      }
      error(inner_pos(e, sel.pos), path + ": " + msg);
      continue;
    }
    const Source* src = &plan_.sources[found->second];
    for (const rules::LabelMatcher& lm : sel.matchers) {
      if (lm.op == rules::MatchOp::kRegex || lm.op == rules::MatchOp::kNotRegex) {
        try {
          std::regex re(lm.value, std::regex::ECMAScript);
        } catch (const std::regex_error& ex) {
          error(inner_pos(e, lm.pos), path + ": label regex \"" + lm.value +
                                          "\" does not compile: " + ex.what());
        }
      }
    }
    if (broken_sources_.count(sel.source) != 0) {
      continue;
    }
    const KindSpec* spec = kind_spec(src->kind);
    if (spec == nullptr) {
      continue;
    }
    bool probe_fn = m.kind == rules::MeasureKind::kFailures ||
                    m.kind == rules::MeasureKind::kAvailability;
    if (probe_fn) {
      if (!spec->has_up) {
        error(inner_pos(e, sel.pos), path + ": " + m.function + "() needs a source that is "
                                           "probed or scraped; '" + sel.source + "' is a " +
                                           src->kind + " source, which has no up/down outcome");
      }
      continue;
    }
    std::vector<std::string> series;
    bool any = true;
    if (spec->series) {
      if (auto list = spec->series(src->options)) {
        series = *list;
        any = false;
      }
    }
    if (spec->has_up) {
      for (const char* implied : {"up", "duration"}) {
        if (std::find(series.begin(), series.end(), implied) == series.end()) {
          series.emplace_back(implied);
        }
      }
    }
    if (!any && std::find(series.begin(), series.end(), sel.metric) == series.end()) {
      std::string msg = "source '" + sel.source + "' (" + src->kind + ") has no series '" +
                        sel.metric + "'";
      if (auto near = suggest(sel.metric, series)) {
        msg += "; did you mean '" + *near + "'?";
      } else {
        msg += "; it has " + list_some(series);
      }
      error(inner_pos(e, sel.metric_pos), path + ": " + msg);
    }
  }
}

void Loader::check_condition(const rules::Trigger& t, const rules::Level& level, const Entry& e,
                             const std::string& path) {
  const rules::Condition& c = level.condition;
  const rules::Measure& m = t.measure;
  Pos p = inner_pos(e, 0);
  if (c.relative) {
    if (window_ok_ && plan_.window.baseline == Duration{0}) {
      error(p, path + ": '" + c.text + "' compares with a baseline, but window.baseline is 0; "
                                       "set window.baseline (e.g. 30m)");
    }
    return;
  }
  std::string fn = m.function + "()";
  if (m.is_fraction()) {
    if (c.unit != rules::ThresholdUnit::kPercent) {
      error(p, path + ": " + fn + " is a share; write the threshold as a percentage, e.g. \"" +
                   std::string(rules::to_string(c.op)) + " 5%\"");
    } else if (c.value > 1.0) {
      error(p, path + ": " + c.text + " can never be reached; a share is at most 100%");
    }
  } else if (m.is_latency()) {
    if (c.unit != rules::ThresholdUnit::kSeconds) {
      error(p, path + ": " + fn + " is a duration; give the threshold a time unit, e.g. \"" +
                   std::string(rules::to_string(c.op)) + " 10s\" or \"" +
                   std::string(rules::to_string(c.op)) + " 500ms\"");
    }
  } else if (m.kind != rules::MeasureKind::kValue) {
    if (c.unit != rules::ThresholdUnit::kNone) {
      std::string what = m.kind == rules::MeasureKind::kFailures ? "counts failed checks"
                         : m.kind == rules::MeasureKind::kRate  ? "is a rate per second"
                                                                 : "is a count";
      error(p, path + ": " + fn + " " + what + "; write a plain number, e.g. \"> 0\"");
    }
  }
  if (m.kind == rules::MeasureKind::kAvailability && c.upward()) {
    warning(p, path + ": availability " + c.text +
                   " fires when the source is up; did you mean \"< ...\"?");
  }
  if (m.kind == rules::MeasureKind::kFailures && !c.upward()) {
    warning(p, path + ": failures " + c.text +
                   " fires when there are few failures; did you mean \"> ...\"?");
  }
}

void Loader::load_early(rules::Trigger& t, const Entry* e, const std::string& path) {
  const rules::Measure& m = t.measure;
  // Eligible: ratio and availability in either direction (the CUSUM watches the share of the
  // bad outcome), pNN against an upper bound (the share of observations above it).
  auto eligible = [&]() {
    if (t.levels.empty()) {
      return false;
    }
    if (m.kind == rules::MeasureKind::kRatio || m.kind == rules::MeasureKind::kAvailability) {
      return true;
    }
    if (m.kind == rules::MeasureKind::kQuantile) {
      return std::all_of(t.levels.begin(), t.levels.end(),
                         [](const rules::Level& l) { return l.condition.upward(); });
    }
    return false;
  };
  t.early.enabled = eligible();
  if (e == nullptr) {
    return;
  }
  std::string epath = path + ".early";
  bool want = false;
  if (!is_null(e->value) && e->value.IsMap()) {
    Entries es = entries(e->value, e->key_pos, epath, {"shift"}, "on, off or { shift: N }");
    want = true;
    if (const Entry* s = find(es, "shift")) {
      auto text = scalar(*s, epath + ".shift", "a number above 1, e.g. 2");
      if (text) {
        char* end = nullptr;
        double v = std::strtod(text->c_str(), &end);
        if (end == text->c_str() || *end != '\0' || !(v > 1.0) || v > 100) {
          error(value_pos(*s), epath + ".shift: '" + *text +
                                   "' must be a number above 1 (the multiple of the threshold "
                                   "rate to detect, default 2)");
        } else {
          t.early.shift = v;
        }
      }
    }
  } else {
    auto b = boolean(*e, epath);
    if (!b) {
      return;
    }
    want = *b;
  }
  if (want && !eligible()) {
    error(e->key_pos, epath + ": early detection works on ratio(), availability() and pNN() "
                              "with a '>' threshold; remove 'early' or set it to off");
    t.early.enabled = false;
    return;
  }
  t.early.enabled = want;
}

void Loader::load_notify(const Entry& e) {
  // Entries: `chat` (any chat kind, named "chat"), each channel kind under its own name, and
  // the paging cadence.
  KeyList keys{"chat"};
  for (const KindSpec& k : channel_kinds_) {
    keys.push_back(k.kind);
  }
  keys.push_back("repeat_every");
  keys.push_back("group_wait");
  Entries es = entries(e.value, e.key_pos, "notify", keys, "a map");
  rules::Notify& n = plan_.notify;
  n.repeat_every = std::chrono::minutes{10};
  n.group_wait = std::chrono::seconds{2};
  bool any_channel = false;
  for (const Entry& x : es) {
    if (x.key == "repeat_every" || x.key == "group_wait") {
      continue;
    }
    any_channel = true;
    if (auto ch = load_channel(x)) {
      n.channels.push_back(std::move(*ch));
    }
  }
  if (const Entry* x = find(es, "repeat_every")) {
    if (auto d = duration(*x, "notify.repeat_every")) {
      n.repeat_every = *d;
    }
  }
  if (const Entry* x = find(es, "group_wait")) {
    if (auto d = duration(*x, "notify.group_wait")) {
      n.group_wait = *d;
      if (*d > std::chrono::seconds{30}) {
        warning(value_pos(*x), "notify.group_wait: " + format_duration(*d) +
                                   " delays every page by as much; a few seconds is usual");
      }
    }
  }
  if (!any_channel) {
    error(e.key_pos, "notify: no channel, so nobody would be paged; add chat: { kind: slack, "
                     "url_env: ONCALL_CHAT_WEBHOOK }");
  }
}

namespace {

// The keys a notify entry of these kinds may have: `kind` for the chat entry, each option,
// and each secret as `base_env` / `base_file` (the inline `base` too, so that it gets the
// "secrets are never written in the plan" error rather than "unknown key").
std::vector<std::string> channel_keys(const std::vector<const KindSpec*>& specs, bool chat) {
  std::vector<std::string> out;
  auto add = [&](std::string k) {
    if (std::find(out.begin(), out.end(), k) == out.end()) {
      out.push_back(std::move(k));
    }
  };
  if (chat) {
    add("kind");
  }
  for (const KindSpec* spec : specs) {
    for (const OptionSpec& o : spec->options) {
      add(o.name);
    }
    for (const SecretSpec& sec : spec->secrets) {
      add(sec.base);
      add(sec.base + "_env");
      add(sec.base + "_file");
    }
  }
  return out;
}

// "a map { kind: slack, url_env: VAR }": the entry's shape, from its kind's required keys.
std::string channel_shape(const KindSpec& spec, bool chat) {
  std::vector<std::string> parts;
  if (chat) {
    parts.push_back("kind: " + spec.kind);
  }
  for (const OptionSpec& o : spec.options) {
    if (o.required) {
      parts.push_back(o.name + (o.type == OptionType::kUrl ? ": http://host:port" : ": ..."));
    }
  }
  for (const SecretSpec& sec : spec.secrets) {
    if (sec.required) {
      parts.push_back(sec.base + "_env: VAR");
    }
  }
  return "a map { " + join(parts, ", ") + " }";
}

std::string or_list(const std::vector<std::string>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    out += i == 0 ? "" : (i + 1 == v.size() ? " or " : ", ");
    out += v[i];
  }
  return out;
}

}  // namespace

const KindSpec* Loader::chat_kind(const Entry& kind, const std::string& path) {
  std::vector<std::string> names;
  std::vector<std::string> described;
  for (const KindSpec& k : channel_kinds_) {
    if (k.chat) {
      names.push_back(k.kind);
      described.push_back(k.kind + " (" + k.summary + ")");
    }
  }
  auto k = scalar(kind, path + ".kind", or_list(names));
  if (!k) {
    return nullptr;
  }
  for (const KindSpec& spec : channel_kinds_) {
    if (spec.chat && spec.kind == *k) {
      return &spec;
    }
  }
  std::string msg = path + ".kind: '" + *k + "' is not a chat kind";
  if (auto near = closest_match(*k, names)) {
    msg += "; did you mean '" + *near + "'?";
  } else {
    msg += "; use " + or_list(described);
  }
  error(value_pos(kind), msg);
  return nullptr;
}

std::optional<rules::Channel> Loader::load_channel(const Entry& e) {
  const std::string path = "notify." + e.key;
  const bool chat = e.key == "chat";
  // The kind: the chat entry names it; any other entry is named after its kind.
  std::vector<const KindSpec*> candidates;
  for (const KindSpec& k : channel_kinds_) {
    if (chat ? k.chat : k.kind == e.key) {
      candidates.push_back(&k);
    }
  }
  if (candidates.empty()) {
    return std::nullopt;  // not a channel kind: entries() reported the key
  }
  // The chat entry's keys are its kind's when the kind can be read, else any chat kind's.
  if (chat && e.value.IsMap() && e.value["kind"].IsScalar()) {
    for (const KindSpec* k : candidates) {
      if (k->kind == e.value["kind"].Scalar()) {
        candidates = {k};
        break;
      }
    }
  }
  const std::vector<std::string> keys = channel_keys(candidates, chat);
  const KeyList allowed(keys.begin(), keys.end());
  Entries es = entries(e.value, e.key_pos, path, allowed, channel_shape(*candidates.front(), chat));
  const KindSpec* spec = candidates.front();
  if (chat) {
    std::vector<std::string> names;
    for (const KindSpec* k : candidates) {
      names.push_back(k->kind);
    }
    if (!require(es, "kind", e.key_pos, path, or_list(names))) {
      return std::nullopt;
    }
    spec = chat_kind(*find(es, "kind"), path);
    if (spec == nullptr) {
      return std::nullopt;
    }
  }
  rules::Channel ch{e.key, spec->kind, {}};
  if (!read_options(*spec, es, e.key_pos, path, ch.options)) {
    return std::nullopt;
  }
  return ch;
}

void Loader::load_server(const Entry& e) {
  Entries es = entries(e.value, e.key_pos, "server", {"listen", "token", "token_env", "token_file"},
                       "a map");
  if (const Entry* x = find(es, "listen")) {
    OptionSpec spec{.name = "listen", .type = OptionType::kAddress};
    if (auto v = option_value(spec, *x, "server.listen")) {
      const std::string& addr = std::get<std::string>(*v);
      std::size_t colon = addr.rfind(':');
      plan_.server.host = addr.substr(0, colon);
      if (plan_.server.host.size() > 2 && plan_.server.host.front() == '[' &&
          plan_.server.host.back() == ']') {
        plan_.server.host = plan_.server.host.substr(1, plan_.server.host.size() - 2);
      }
      plan_.server.port = static_cast<std::uint16_t>(std::stoi(addr.substr(colon + 1)));
      const std::string& h = plan_.server.host;
      if (h != "127.0.0.1" && h != "localhost" && h != "::1" && !h.starts_with("127.")) {
        warning(value_pos(*x), "server.listen: " + addr +
                                   " is reachable from other hosts; the dashboard and status are "
                                   "readable without a token, so keep it behind a firewall");
      }
    }
  }
  plan_.server.token = secret(es, "token", e.key_pos, "server", false, "");
  // Only for a readable `server` map without any token key: a broken one has its own errors.
  if ((is_null(e.value) || e.value.IsMap()) && find(es, "token") == nullptr &&
      find(es, "token_env") == nullptr && find(es, "token_file") == nullptr &&
      !was_offered("server", "token_env") && !was_offered("server", "token_file")) {
    warning(e.key_pos, "server: no token_env or token_file; the POST endpoints (ack, "
                       "fix-forward, decision, raise) are disabled");
  }
}

void Loader::cross_checks(const Entries& top) {
  // Every severity used by a trigger needs a decider.
  for (const auto& [sev, p] : used_severities_) {
    if (sev == Severity::kMinor) {
      continue;
    }
    // A written but broken entry has its own errors; only a missing one is reported here.
    if (authority_written_.count(sev) == 0 && find(top, "authority") != nullptr &&
        sev == Severity::kDiscretionary) {
      error(p, "severity discretionary is used but authority has no 'discretionary' entry; add "
               "authority.discretionary: { decides: sponsor }");
    }
  }
  // Roles that are paged must have a chat handle (checked in contacts); contacts nobody uses are
  // fine (they are the plan's phone list).
}

}  // namespace

std::size_t LoadResult::errors() const {
  return static_cast<std::size_t>(std::count_if(diagnostics.begin(), diagnostics.end(),
                                                [](const Diagnostic& d) { return d.is_error(); }));
}

std::size_t LoadResult::warnings() const { return diagnostics.size() - errors(); }

LoadResult load_plan_text(std::string_view text, const std::string& path,
                          const KindCatalog& kinds) {
  Loader loader(text, path, kinds);
  return loader.run();
}

LoadResult load_plan_file(const std::string& path, const KindCatalog& kinds) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r;
    r.diagnostics.push_back({Diagnostic::Level::kError, path, 1, 1,
                             "cannot read the plan file: " + std::string(std::strerror(errno))});
    return r;
  }
  std::ostringstream ss;
  char buf[65536];
  std::size_t total = 0;
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    total += static_cast<std::size_t>(in.gcount());
    if (total > kMaxPlanBytes + 1) {
      break;
    }
    ss.write(buf, in.gcount());
  }
  return load_plan_text(ss.str(), path, kinds);
}

}  // namespace backout::plan
