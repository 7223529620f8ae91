#include "backout/core/sample.h"

#include <algorithm>

namespace backout {

std::string labels_key(const Labels& labels) {
  std::vector<const Label*> sorted;
  sorted.reserve(labels.size());
  for (const Label& l : labels) {
    sorted.push_back(&l);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const Label* a, const Label* b) { return a->name < b->name; });
  std::string out;
  for (const Label* l : sorted) {
    if (!out.empty()) {
      out += ',';
    }
    out += l->name;
    out += "=\"";
    for (char c : l->value) {
      if (c == '"' || c == '\\') {
        out += '\\';
      }
      out += c;
    }
    out += '"';
  }
  return out;
}

}  // namespace backout
