#include <chrono>
#include <ostream>

#include "app/commands.h"
#include "app/kinds/kinds.h"
#include "backout/core/time.h"
#include "plan/plan_loader.h"
#include "plan/plan_summary.h"

namespace backout::agent {

int check_command(const Args& args, std::ostream& out, std::ostream& err) {
  const std::string path = *args.value("plan");
  TimePoint now = std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  if (auto text = args.value("now")) {
    std::string why;
    auto t = parse_rfc3339(*text, &why);
    if (!t) {
      err << "backout-agent check: --now must be an RFC 3339 time (" << why << ")\n";
      return kExitBadInput;
    }
    now = t->at;
  }
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
  // A stale plan (DESIGN section 9): `run` refuses it without --start-now.
  std::size_t warnings = r.warnings();
  const rules::Window& w = r.plan->window;
  if (now >= w.end.at) {
    err << path << ": warning: this plan's window ended at "
        << format_rfc3339(w.end.at, w.offset())
        << "; `run` refuses it unless --start-now rehearses it now\n";
    ++warnings;
  }
  out << plan::summarize(*r.plan);
  if (warnings > 0) {
    out << "\n" << warnings << (warnings == 1 ? " warning" : " warnings")
        << " (see above); the plan is usable.\n";
  }
  return kExitOk;
}

}  // namespace backout::agent
