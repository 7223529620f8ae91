// Source kind `log`: tail a file (surviving rotation); each `match` entry counts matching lines
// as the counter series SRC.<name>, and each named group `(?<g>...)` of its regex becomes the
// observation series SRC.<g> (a number; groups ending in `_ms` are milliseconds and are
// recorded in seconds, as `SRC.<g without _ms>`).
#include <boost/regex.hpp>
#include <exception>

#include "backout/core/text.h"
#include "common_options.h"
#include "log/log_kind.h"

namespace backout::collectors {

std::vector<std::string> log_named_groups(const std::string& regex) {
  std::vector<std::string> names;
  bool escaped = false;
  bool in_class = false;
  for (std::size_t i = 0; i < regex.size(); ++i) {
    char c = regex[i];
    if (escaped) {
      escaped = false;
      continue;
    }
    if (c == '\\') {
      escaped = true;
    } else if (in_class) {
      in_class = c != ']';
    } else if (c == '[') {
      in_class = true;
    } else if (c == '(' && regex.compare(i, 3, "(?<") == 0 && i + 3 < regex.size() &&
               regex[i + 3] != '=' && regex[i + 3] != '!') {
      std::size_t end = regex.find('>', i + 3);
      if (end != std::string::npos) {
        names.push_back(regex.substr(i + 3, end - i - 3));
      }
    }
  }
  return names;
}

std::string log_series_for_group(const std::string& group) {
  if (group.size() > 3 && group.ends_with("_ms")) {
    return group.substr(0, group.size() - 3);
  }
  return group;
}

KindSpec log_spec() {
  KindSpec s;
  s.kind = "log";
  s.summary = "tail a log file: matching lines become counters, named groups observations";
  s.options = {
      {.name = "path",
       .type = OptionType::kPath,
       .required = true,
       .help = "the log file to follow (rotation by rename or truncation is followed)"},
      {.name = "match",
       .type = OptionType::kStringMap,
       .required = true,
       .help = "series name: regular expression; named groups (?<name>...) become observations"},
      {.name = "from_start",
       .type = OptionType::kBoolean,
       .default_value = false,
       .help = "read the file from its beginning instead of from its end at start-up"},
      every_option(std::chrono::milliseconds{250}),
  };
  s.has_up = false;
  s.series = [](const KindOptions& o) -> std::optional<std::vector<std::string>> {
    std::vector<std::string> names;
    for (const auto& [name, re] : o.string_map("match")) {
      names.push_back(name);
      for (const std::string& g : log_named_groups(re)) {
        names.push_back(log_series_for_group(g));
      }
    }
    return names;
  };
  s.check = [](const KindOptions& o, std::vector<OptionIssue>& issues) {
    for (const auto& [name, re] : o.string_map("match")) {
      if (!is_identifier(name)) {
        issues.push_back(
            {"match", "series name '" + name + "' must be an identifier ([A-Za-z_][A-Za-z0-9_]*)"});
      }
      // The engine the collector runs (log_matcher.h says why not std::regex), so that what the
      // plan loader accepts is exactly what runs.
      try {
        boost::regex compiled(re, boost::regex::ECMAScript);
      } catch (const std::exception& e) {
        issues.push_back(
            {"match", "regular expression of '" + name + "' does not compile: " + e.what()});
      }
      for (const std::string& g : log_named_groups(re)) {
        if (!is_identifier(g)) {
          issues.push_back(
              {"match", "group name '" + g + "' in '" + name + "' must be an identifier"});
        }
      }
    }
  };
  return s;
}

std::string log_strip_group_names(const std::string& regex) {
  std::string out;
  out.reserve(regex.size());
  bool escaped = false;
  bool in_class = false;
  for (std::size_t i = 0; i < regex.size(); ++i) {
    char c = regex[i];
    if (escaped) {
      escaped = false;
      out += c;
      continue;
    }
    if (c == '\\') {
      escaped = true;
    } else if (in_class) {
      in_class = c != ']';
    } else if (c == '[') {
      in_class = true;
    } else if (c == '(' && regex.compare(i, 3, "(?<") == 0 && i + 3 < regex.size() &&
               regex[i + 3] != '=' && regex[i + 3] != '!') {
      std::size_t end = regex.find('>', i + 3);
      if (end != std::string::npos) {
        out += '(';
        i = end;
        continue;
      }
    }
    out += c;
  }
  return out;
}

}  // namespace backout::collectors
