#include <ostream>

#include "app/commands.h"
#include "app/kinds/kinds.h"
#include "plan/plan_loader.h"
#include "plan/plan_summary.h"

namespace backout::agent {

int check_command(const Args& args, std::ostream& out, std::ostream& err) {
  const std::string path = *args.value("plan");
  plan::LoadResult r = plan::load_plan_file(path, agent::builtin_kinds().catalog);
  for (const plan::Diagnostic& d : r.diagnostics) {
    err << d.format() << "\n";
  }
  if (!r.ok()) {
    err << path << ": " << r.errors() << (r.errors() == 1 ? " error" : " errors");
    if (r.warnings() > 0) {
      err << ", " << r.warnings() << (r.warnings() == 1 ? " warning" : " warnings");
    }
    err << "; the plan was not accepted\n";
    return kExitBadInput;
  }
  out << plan::summarize(*r.plan);
  if (r.warnings() > 0) {
    out << "\n" << r.warnings() << (r.warnings() == 1 ? " warning" : " warnings")
        << " (see above); the plan is usable.\n";
  }
  return kExitOk;
}

}  // namespace backout::agent
