#include "app/runtime/secrets.h"

#include "backout/alerting/secret_resolver.h"

namespace backout::agent {

Result<std::string> resolve_secret(const SecretRef& ref, const std::string& what) {
  auto r = alerting::resolve_secret(ref);
  if (r.ok()) {
    return r;
  }
  std::string msg = r.error() + (what.empty() ? "" : " (" + what + ")");
  if (ref.from == SecretRef::From::kEnv) {
    msg += "; export it before starting the agent (under systemd: Environment= or "
           "EnvironmentFile= in the unit)";
  }
  return Error{msg};
}

}  // namespace backout::agent
