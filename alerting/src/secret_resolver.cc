#include "backout/alerting/secret_resolver.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace backout::alerting {

Result<std::string> resolve_secret(const SecretRef& ref) {
  if (ref.from == SecretRef::From::kEnv) {
    const char* v = std::getenv(ref.name.c_str());
    if (v == nullptr) {
      return Error{"environment variable " + ref.name + " is not set"};
    }
    if (*v == '\0') {
      return Error{"environment variable " + ref.name + " is empty"};
    }
    return std::string(v);
  }
  std::ifstream in(ref.name, std::ios::binary);
  if (!in) {
    return Error{"cannot read file " + ref.name + ": " + std::strerror(errno)};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string value = ss.str();
  // Editors and `echo` add a final newline; it is never part of a key or URL.
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r' || value.back() == ' ')) {
    value.pop_back();
  }
  if (value.empty()) {
    return Error{"file " + ref.name + " is empty"};
  }
  return value;
}

}  // namespace backout::alerting
