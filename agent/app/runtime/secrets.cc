#include "app/runtime/secrets.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace backout::agent {

Result<std::string> resolve_secret(const rules::SecretRef& ref, const std::string& what) {
  const std::string for_what = what.empty() ? "" : " (" + what + ")";
  if (ref.from == rules::SecretRef::From::kEnv) {
    const char* v = std::getenv(ref.name.c_str());
    if (v == nullptr || *v == '\0') {
      return Error{"environment variable " + ref.name + " is not set" + for_what +
                   "; export it before starting the agent (systemd: Environment= or "
                   "EnvironmentFile=)"};
    }
    return std::string(v);
  }
  std::ifstream in(ref.name, std::ios::binary);
  if (!in) {
    return Error{"cannot read secret file " + ref.name + for_what + ": " + std::strerror(errno)};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string v = ss.str();
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) {
    v.pop_back();
  }
  if (v.empty()) {
    return Error{"secret file " + ref.name + for_what + " is empty"};
  }
  return v;
}

}  // namespace backout::agent
