#include "app/kinds/kinds.h"

namespace backout::agent {

const Kinds& builtin_kinds() {
  static const collectors::Registry sources = collectors::builtin_registry();
  static const KindCatalog catalog{sources.specs(), alerting::builtin_channels().specs()};
  static const Kinds kinds{sources, alerting::builtin_channels(), catalog};
  return kinds;
}

}  // namespace backout::agent
