// Pretty-prints JSON for golden files and readable test failures (two-space indent, keys in
// document order). Header-only; pure; thread-safe.
#pragma once

#include <boost/json.hpp>
#include <string>

namespace backout::testing {

inline void pretty_json(const boost::json::value& v, std::string& out, int indent = 0) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  const std::string inner(static_cast<std::size_t>(indent + 2), ' ');
  if (v.is_object()) {
    const auto& o = v.as_object();
    if (o.empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    bool first = true;
    for (const auto& kv : o) {
      out += first ? "" : ",\n";
      first = false;
      out += inner + boost::json::serialize(boost::json::value(kv.key())) + ": ";
      pretty_json(kv.value(), out, indent + 2);
    }
    out += "\n" + pad + "}";
  } else if (v.is_array()) {
    const auto& a = v.as_array();
    if (a.empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    bool first = true;
    for (const auto& e : a) {
      out += first ? "" : ",\n";
      first = false;
      out += inner;
      pretty_json(e, out, indent + 2);
    }
    out += "\n" + pad + "]";
  } else {
    out += boost::json::serialize(v);
  }
}

inline std::string pretty_json(const boost::json::value& v) {
  std::string out;
  pretty_json(v, out);
  return out + "\n";
}

}  // namespace backout::testing
