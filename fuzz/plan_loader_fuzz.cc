// libFuzzer target: the plan loader must never crash, hang or report an error that is not
// `FILE:LINE:COL: error: message` on one line, whatever bytes the plan holds.
//   ./build-fuzz/fuzz/plan_loader_fuzz -max_total_time=180 fuzz/corpus/plan_loader
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "app/kinds/kinds.h"
#include "plan/plan_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  backout::plan::LoadResult r =
      backout::plan::load_plan_text(text, "fuzz.yaml", backout::agent::builtin_kinds().catalog);
  // The contract the fuzzer checks beyond "no crash": a plan xor at least one error, and every
  // diagnostic a single line with a real position.
  if (r.ok() == (r.errors() > 0)) {
    std::abort();
  }
  for (const backout::plan::Diagnostic& d : r.diagnostics) {
    if (d.line < 1 || d.column < 1 || d.message.empty() ||
        d.message.find('\n') != std::string::npos || d.file != "fuzz.yaml") {
      std::abort();
    }
  }
  return 0;
}
