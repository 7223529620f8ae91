// The plan file's `sources` section: each source's kind and its options, read against the
// kind's declared spec (KindSpec) so that every kind is checked by the same path.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <regex>
#include <string>

#include "backout/core/text.h"
#include "plan/loader.h"

namespace backout::plan::detail {

void Loader::load_sources(const Entry& e) {
  Entries sources = entries_any(e.value, e.key_pos, "sources", "a map of id: {kind, ...}");
  if (sources.empty() && (is_null(e.value) || e.value.IsMap())) {
    error(e.key_pos,
          "sources: no source; add where the signals come from, e.g. portal: { kind: "
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
    error(e.key_pos, path +
                         ": a source id must be a name like portal_db ([A-Za-z_][A-Za-z0-9_]*) "
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

}  // namespace backout::plan::detail
