// A libpq connection string taken apart once, at creation: so that the collector can resolve host
// names itself (asynchronously: libpq's own lookup inside PQconnectPoll blocks) and hand libpq
// numeric `hostaddr`es, and so that messages can be scrubbed of the secret before anyone sees
// them. Immutable after parse(); thread-safe to share. No time semantics.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "backout/core/result.h"

namespace backout::collectors {

class PostgresConnInfo {
 public:
  /// Parses a key=value string or a postgresql:// URI (PQconninfoParse). When neither `host` nor
  /// `hostaddr` is given, $PGHOST / $PGHOSTADDR are taken into account as libpq would. The error
  /// never quotes the string (a malformed one may hold the password).
  static Result<PostgresConnInfo> parse(const std::string& dsn);

  /// Entries of the comma-separated `host` list, in order (empty when libpq uses its default).
  const std::vector<std::string>& hosts() const { return hosts_; }
  /// Whether hosts() must be resolved here: not when `hostaddr` or a `service` is given (then
  /// libpq is left to it) or when every host is a socket directory or an address already.
  bool needs_resolution() const;
  /// Whether `host` names a TCP host that needs a DNS lookup (not a path, not an IP address).
  static bool is_host_name(const std::string& host);

  /// Keywords and values for PQconnectStartParams. `addresses[i]` holds the addresses of
  /// hosts()[i] (an empty string: let libpq use the entry as it is); each address becomes its own
  /// host entry, so libpq still tries them in turn. Empty `addresses`: the parameters as parsed.
  std::pair<std::vector<std::string>, std::vector<std::string>> params(
      const std::vector<std::vector<std::string>>& addresses) const;

  /// `message` on one line, with the password, `password=...` fragments, URI user:password@
  /// credentials and the connection string itself replaced by `***`.
  std::string redact(const std::string& message) const;

 private:
  std::vector<std::pair<std::string, std::string>> params_;  // keyword, value (set ones only)
  std::vector<std::string> hosts_;
  std::vector<std::string> ports_;
  bool has_hostaddr_ = false;
  bool has_service_ = false;
  std::string password_;
  std::string dsn_;
};

}  // namespace backout::collectors
