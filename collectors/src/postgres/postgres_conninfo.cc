#include "postgres/postgres_conninfo.h"

#include <arpa/inet.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace backout::collectors {
namespace {

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t comma = s.find(',', begin);
    out.push_back(s.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin));
    if (comma == std::string::npos) {
      return out;
    }
    begin = comma + 1;
  }
}

std::string join_commas(const std::vector<std::string>& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    out += parts[i];
  }
  return out;
}

void replace_all(std::string& s, const std::string& what, const std::string& with) {
  if (what.empty()) {
    return;
  }
  for (std::size_t pos = s.find(what); pos != std::string::npos;
       pos = s.find(what, pos + with.size())) {
    s.replace(pos, what.size(), with);
  }
}

bool iequals_at(const std::string& s, std::size_t pos, const std::string& lower) {
  if (pos + lower.size() > s.size()) {
    return false;
  }
  for (std::size_t i = 0; i < lower.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[pos + i])) != lower[i]) {
      return false;
    }
  }
  return true;
}

// `password = value` / `password='quoted \' value'` -> `password=***`, wherever it appears.
std::string redact_password_fragments(const std::string& s) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (!iequals_at(s, i, "password")) {
      out += s[i++];
      continue;
    }
    std::size_t j = i + 8;
    while (j < s.size() && s[j] == ' ') {
      ++j;
    }
    if (j >= s.size() || s[j] != '=') {
      out += s.substr(i, j - i);
      i = j;
      continue;
    }
    ++j;
    while (j < s.size() && s[j] == ' ') {
      ++j;
    }
    if (j < s.size() && s[j] == '\'') {
      ++j;
      while (j < s.size() && s[j] != '\'') {
        j += s[j] == '\\' ? 2 : 1;
      }
      j = std::min(j + 1, s.size());
    } else {
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) && s[j] != '&' &&
             s[j] != '"') {
        ++j;
      }
    }
    out += "password=***";
    i = j;
  }
  return out;
}

// postgresql://user:secret@host -> postgresql://user:***@host.
std::string redact_uri_credentials(std::string s) {
  for (std::size_t scheme = s.find("://"); scheme != std::string::npos;
       scheme = s.find("://", scheme + 3)) {
    const std::size_t start = scheme + 3;
    const std::size_t end = s.find_first_of("@/ \t\n\"", start);
    if (end == std::string::npos || s[end] != '@') {
      continue;
    }
    const std::size_t colon = s.find(':', start);
    if (colon != std::string::npos && colon < end) {
      s.replace(colon + 1, end - colon - 1, "***");
    }
  }
  return s;
}

// libpq messages span lines ("...failed: Connection refused\n\tIs the server running...").
std::string one_line(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) {
      out += ' ';
      space = false;
    }
    out += c;
  }
  return out;
}

// `missing "=" after "abc" in connection info string`: the quoted part may be the password.
std::string elide_quoted(const std::string& s) {
  std::string out;
  bool quoted = false;
  for (char c : s) {
    if (c == '"') {
      out += quoted ? "...\"" : "\"";
      quoted = !quoted;
    } else if (!quoted) {
      out += c;
    }
  }
  return one_line(out);
}

}  // namespace

Result<PostgresConnInfo> PostgresConnInfo::parse(const std::string& dsn) {
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &err);
  if (options == nullptr) {
    std::string why = err != nullptr ? elide_quoted(err) : "out of memory";
    PQfreemem(err);
    return Error{"the dsn is not a valid libpq connection string or URI (" + why + ")"};
  }
  PostgresConnInfo info;
  info.dsn_ = dsn;
  std::string host;
  std::string port;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) {
      continue;
    }
    const std::string key = o->keyword;
    info.params_.emplace_back(key, o->val);
    if (key == "host") {
      host = o->val;
    } else if (key == "port") {
      port = o->val;
    } else if (key == "hostaddr") {
      info.has_hostaddr_ = *o->val != '\0';
    } else if (key == "service") {
      info.has_service_ = true;
    } else if (key == "password") {
      info.password_ = o->val;
    }
  }
  PQconninfoFree(options);

  // libpq would read these itself; a host name from $PGHOST must not reach its blocking lookup.
  const char* env_hostaddr = std::getenv("PGHOSTADDR");
  const char* env_host = std::getenv("PGHOST");
  const char* env_service = std::getenv("PGSERVICE");
  if (host.empty() && !info.has_hostaddr_) {
    if (env_hostaddr != nullptr && *env_hostaddr != '\0') {
      info.has_hostaddr_ = true;
    } else if (env_host != nullptr && *env_host != '\0') {
      host = env_host;
      info.params_.emplace_back("host", host);
    }
  }
  if (env_service != nullptr && *env_service != '\0') {
    info.has_service_ = true;
  }
  if (!host.empty()) {
    info.hosts_ = split_commas(host);
  }
  if (!port.empty()) {
    info.ports_ = split_commas(port);
  }
  return info;
}

bool PostgresConnInfo::is_host_name(const std::string& host) {
  if (host.empty() || host.front() == '/' || host.front() == '@') {
    return false;
  }
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) != 1 && inet_pton(AF_INET6, host.c_str(), buf) != 1;
}

bool PostgresConnInfo::needs_resolution() const {
  if (has_hostaddr_ || has_service_) {
    return false;
  }
  for (const std::string& h : hosts_) {
    if (is_host_name(h)) {
      return true;
    }
  }
  return false;
}

std::pair<std::vector<std::string>, std::vector<std::string>> PostgresConnInfo::params(
    const std::vector<std::vector<std::string>>& addresses) const {
  std::vector<std::string> keys;
  std::vector<std::string> values;
  if (addresses.empty()) {
    for (const auto& [k, v] : params_) {
      keys.push_back(k);
      values.push_back(v);
    }
    return {keys, values};
  }
  const bool port_per_host = ports_.size() > 1 && ports_.size() == hosts_.size();
  std::vector<std::string> host_out;
  std::vector<std::string> addr_out;
  std::vector<std::string> port_out;
  for (std::size_t i = 0; i < hosts_.size() && i < addresses.size(); ++i) {
    for (const std::string& addr : addresses[i]) {
      host_out.push_back(hosts_[i]);
      addr_out.push_back(addr);
      if (port_per_host) {
        port_out.push_back(ports_[i]);
      }
    }
  }
  for (const auto& [k, v] : params_) {
    if (k == "host" || k == "hostaddr" || (k == "port" && port_per_host)) {
      continue;
    }
    keys.push_back(k);
    values.push_back(v);
  }
  keys.emplace_back("host");
  values.push_back(join_commas(host_out));
  keys.emplace_back("hostaddr");
  values.push_back(join_commas(addr_out));
  if (port_per_host) {
    keys.emplace_back("port");
    values.push_back(join_commas(port_out));
  }
  return {keys, values};
}

std::string PostgresConnInfo::redact(const std::string& message) const {
  std::string s = message;
  if (dsn_.size() >= 4) {
    replace_all(s, dsn_, "***");
  }
  // Short passwords would blank out ordinary words; the fragment rules below still apply.
  if (password_.size() >= 4) {
    replace_all(s, password_, "***");
  }
  return one_line(redact_uri_credentials(redact_password_fragments(s)));
}

}  // namespace backout::collectors
