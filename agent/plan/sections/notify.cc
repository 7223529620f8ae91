// The plan file's `notify` section: the channels pages go to, each read generically against
// its channel kind's spec, the paging cadence, and how long a trigger may be blind (inconclusive)
// before its decider is told.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>

#include "backout/core/text.h"
#include "plan/loader.h"

namespace backout::plan::detail {

void Loader::load_notify(const Entry& e) {
  // Entries: `chat` (any chat kind, named "chat"), each channel kind under its own name, and
  // the paging cadence.
  KeyList keys{"chat"};
  for (const KindSpec& k : channel_kinds_) {
    keys.push_back(k.kind);
  }
  keys.push_back("repeat_every");
  keys.push_back("group_wait");
  keys.push_back("blind_after");
  Entries es = entries(e.value, e.key_pos, "notify", keys, "a map");
  rules::Notify& n = plan_.notify;
  n.repeat_every = std::chrono::minutes{10};
  n.group_wait = std::chrono::seconds{2};
  n.blind_after = std::chrono::minutes{2};
  bool any_channel = false;
  for (const Entry& x : es) {
    if (x.key == "repeat_every" || x.key == "group_wait" || x.key == "blind_after") {
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
      anchor("notify.group_wait", value_pos(*x));
    }
  }
  if (const Entry* x = find(es, "blind_after")) {
    if (auto d = duration(*x, "notify.blind_after", std::chrono::seconds{1})) {
      n.blind_after = *d;
      anchor("notify.blind_after", value_pos(*x));
    }
  }
  if (!any_channel) {
    error(e.key_pos,
          "notify: no channel, so nobody would be paged; add chat: { kind: slack, "
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

}  // namespace backout::plan::detail
