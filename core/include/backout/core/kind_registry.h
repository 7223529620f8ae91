// The registry of kinds: source kinds (collectors::Registry) and channel kinds
// (alerting::ChannelRegistry) are one template over what a kind builds. A Kind has a `spec`
// (KindSpec: its name and option schema) and whatever factory its layer needs. An ordinary
// object: tests build one holding only fakes. Not thread-safe while being filled; read-only
// use afterwards is.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "backout/core/kind_spec.h"

namespace backout {

template <typename Kind>
class KindRegistry {
 public:
  void add(Kind kind) { kinds_.push_back(std::move(kind)); }

  const Kind* find(const std::string& name) const {
    for (const Kind& k : kinds_) {
      if (k.spec.kind == name) {
        return &k;
      }
    }
    return nullptr;
  }

  /// The specs, in registration order, for the plan loader.
  std::vector<KindSpec> specs() const {
    std::vector<KindSpec> out;
    for (const Kind& k : kinds_) {
      out.push_back(k.spec);
    }
    return out;
  }

 private:
  std::vector<Kind> kinds_;
};

}  // namespace backout
