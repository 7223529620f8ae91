#include "backout/core/kind_spec.h"

namespace backout {

const OptionValue* KindOptions::find(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

namespace {
template <typename T>
const T* get(const KindOptions& o, const std::string& name) {
  const OptionValue* v = o.find(name);
  return v == nullptr ? nullptr : std::get_if<T>(v);
}
}  // namespace

std::string KindOptions::string(const std::string& name, const std::string& fallback) const {
  const auto* v = get<std::string>(*this, name);
  return v ? *v : fallback;
}

Duration KindOptions::duration(const std::string& name, Duration fallback) const {
  const auto* v = get<Duration>(*this, name);
  return v ? *v : fallback;
}

std::int64_t KindOptions::integer(const std::string& name, std::int64_t fallback) const {
  const auto* v = get<std::int64_t>(*this, name);
  return v ? *v : fallback;
}

bool KindOptions::boolean(const std::string& name, bool fallback) const {
  const auto* v = get<bool>(*this, name);
  return v ? *v : fallback;
}

std::vector<std::string> KindOptions::strings(const std::string& name) const {
  const auto* v = get<std::vector<std::string>>(*this, name);
  return v ? *v : std::vector<std::string>{};
}

std::map<std::string, std::string> KindOptions::string_map(const std::string& name) const {
  const auto* v = get<std::map<std::string, std::string>>(*this, name);
  return v ? *v : std::map<std::string, std::string>{};
}

std::vector<std::int64_t> KindOptions::integers(const std::string& name) const {
  const auto* v = get<std::vector<std::int64_t>>(*this, name);
  return v ? *v : std::vector<std::int64_t>{};
}

std::optional<SecretRef> KindOptions::secret(const std::string& base) const {
  auto it = secrets_.find(base);
  if (it == secrets_.end()) {
    return std::nullopt;
  }
  return it->second;
}

}  // namespace backout
