// The schema of a kind's options (a source kind or a channel kind), the validated option values
// and the plan's Source (what a collector is built from). Pure; thread-safe to share once built.
//
// Each kind describes its keys once (a KindSpec); the plan loader validates a source's or a
// notify entry's keys against it (types, required keys, secrets, defaults, did-you-mean) by one
// path, and hands the collector or channel a KindOptions whose values already have the declared
// types. A new kind adds its own spec; neither the loader nor other kinds change.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "backout/core/time.h"

namespace backout {

enum class OptionType {
  kString,
  kUrl,         // http:// or https:// URL without credentials
  kDuration,    // 250ms, 5s, 1h30m
  kInteger,
  kBoolean,
  kStringList,
  kStringMap,   // key: value pairs (e.g. extra labels, HTTP headers without secrets)
  kStatusList,  // one HTTP status or a list of them
  kRegex,       // ECMAScript regular expression, compiled when the plan is loaded
  kAddress,     // host:port
  kPath,        // a file path
  kEnum,        // one of `choices`
};

using OptionValue = std::variant<std::string, Duration, std::int64_t, bool,
                                 std::vector<std::string>, std::map<std::string, std::string>,
                                 std::vector<std::int64_t>>;

struct OptionSpec {
  std::string name;
  OptionType type = OptionType::kString;
  bool required = false;
  std::optional<OptionValue> default_value;
  std::string help;                   // one line, shown in errors ("the URL to scrape")
  std::vector<std::string> choices;   // for kEnum
  std::int64_t min_int = INT64_MIN;   // for kInteger
  std::int64_t max_int = INT64_MAX;
  Duration min_duration{0};           // for kDuration
};

/// Where a secret comes from: an environment variable or a file. Never the plan itself.
struct SecretRef {
  enum class From { kEnv, kFile };
  From from = From::kEnv;
  std::string name;  // variable name or file path

  /// `$ONCALL_CHAT_WEBHOOK` or `file /etc/backout/token` (for messages; never the secret).
  std::string describe() const { return from == From::kEnv ? "$" + name : "file " + name; }
  bool operator==(const SecretRef&) const = default;
};

/// A secret option `base`: given as `base_env` or `base_file`, never inline as `base`.
struct SecretSpec {
  std::string base;
  bool required = false;
  std::string help;
};

/// A source's validated options: every declared option with a value or its default.
class KindOptions {
 public:
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  const OptionValue* find(const std::string& name) const;
  std::string string(const std::string& name, const std::string& fallback = {}) const;
  Duration duration(const std::string& name, Duration fallback = Duration{0}) const;
  std::int64_t integer(const std::string& name, std::int64_t fallback = 0) const;
  bool boolean(const std::string& name, bool fallback = false) const;
  std::vector<std::string> strings(const std::string& name) const;
  std::map<std::string, std::string> string_map(const std::string& name) const;
  std::vector<std::int64_t> integers(const std::string& name) const;
  std::optional<SecretRef> secret(const std::string& base) const;

  /// Every value and secret reference, by name (for summaries).
  const std::map<std::string, OptionValue>& values() const { return values_; }
  const std::map<std::string, SecretRef>& secrets() const { return secrets_; }

  void set(const std::string& name, OptionValue v) { values_[name] = std::move(v); }
  void set_secret(const std::string& base, SecretRef ref) { secrets_[base] = std::move(ref); }

  bool operator==(const KindOptions&) const = default;

 private:
  std::map<std::string, OptionValue> values_;
  std::map<std::string, SecretRef> secrets_;
};

/// A finding of a kind's own cross-checks, attached to one of its options.
struct OptionIssue {
  std::string option;  // key it is about ("timeout"); empty for the source as a whole
  std::string message;
  bool warning = false;
};

/// A source of the plan: its id, its kind and the options its kind's spec validated.
struct Source {
  std::string id;
  std::string kind;
  KindOptions options;

  bool operator==(const Source&) const = default;
};

struct KindSpec {
  std::string kind;
  std::string summary;  // one line for `--help` and messages
  std::vector<OptionSpec> options;
  std::vector<SecretSpec> secrets;
  /// Channel kinds: whether it can be the chat entry (`notify.chat: { kind: slack, ... }`);
  /// every channel kind can also be given under its own name (`notify.pagerduty: {...}`).
  bool chat = false;
  /// Source kinds: whether the source is probed or scraped, so it reports `up` (1/0) and `duration` for each
  /// attempt and can be used with failures() and availability().
  bool has_up = false;
  /// Names of the series it exposes given its options; nullopt means any metric name (it is
  /// discovered at run time, e.g. scraped). `up` and `duration` are implied by has_up.
  std::function<std::optional<std::vector<std::string>>(const KindOptions&)> series;
  /// Cross-checks between the kind's own options.
  std::function<void(const KindOptions&, std::vector<OptionIssue>&)> check;
};

/// The kinds a build knows, as the plan loader sees them: what `sources.*.kind` and the
/// entries of `notify` may name.
struct KindCatalog {
  std::vector<KindSpec> sources;
  std::vector<KindSpec> channels;
};

}  // namespace backout
