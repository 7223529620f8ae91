// `report`: reads the state store and (optionally) the plan, and writes the post-backout review.
// The review itself is built and rendered by the pure code in app/report/.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/kinds/kinds.h"
#include "app/report/review.h"
#include "app/report/review_markdown.h"
#include "app/store/state_store.h"
#include "backout/core/text.h"
#include "plan/plan_loader.h"

namespace backout::agent {
namespace {

namespace fs = std::filesystem;

// The archived stores of earlier releases in `dir` (state-<suffix>.db), for a hint.
std::vector<std::string> archived_stores(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with("state-") && name.ends_with(".db")) {
      out.push_back(name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

int report_command(const Args& args, std::ostream& out, std::ostream& err) {
  const std::string dir = *args.value("state-dir");
  const fs::path db = fs::path(dir) / "state.db";
  std::error_code ec;
  // Checked before opening: StateStore::open would create an empty store (and the directory).
  if (!fs::is_directory(dir, ec)) {
    err << "backout-agent report: no state store in " << dir
        << ": the directory does not exist; give the plan's state_dir (--state-dir DIR)\n";
    return kExitBadInput;
  }
  if (!fs::is_regular_file(db, ec)) {
    err << "backout-agent report: no state store in " << dir << " (no state.db there)";
    std::vector<std::string> archived = archived_stores(dir);
    if (!archived.empty()) {
      err << "; it holds the archived stores of earlier releases: " << join(archived, ", ")
          << " (copy one to a directory of its own as state.db to review it)";
    }
    err << "\n";
    return kExitBadInput;
  }

  std::optional<rules::Plan> plan;
  std::string plan_path;
  if (auto p = args.value("plan")) {
    plan_path = *p;
    plan::LoadResult loaded = plan::load_plan_file(plan_path, agent::builtin_kinds().catalog);
    for (const plan::Diagnostic& d : loaded.diagnostics) {
      if (d.is_error()) {
        err << d.format() << "\n";
      }
    }
    if (!loaded.ok()) {
      err << "backout-agent report: the plan " << plan_path
          << " is not valid; fix it or leave --plan out (the review then uses what the timeline "
             "says)\n";
      return kExitBadInput;
    }
    plan = std::move(loaded.plan);
  }

  auto opened = StateStore::open(dir);
  if (!opened.ok()) {
    err << "backout-agent report: cannot read the state store " << db.string() << ": "
        << opened.error() << "\n";
    return kExitBadInput;
  }
  StateStore& store = **opened;
  report::ReviewInput input;
  report::decode_timeline(store.events(0, store.event_count()), input);
  input.identity = store.identity();
  if (auto f = store.flag("shifted_start")) {
    try {
      input.shifted_start = TimePoint{Duration{std::stoll(*f)}};
    } catch (const std::exception&) {
      // A damaged flag only loses the rehearsal's shifted window in the header.
    }
  }
  input.outbox = store.outbox_all();
  input.episodes = store.load_episodes();
  input.plan = plan ? &*plan : nullptr;
  input.store_path = db.string();
  input.plan_path = plan_path;
  const std::string markdown = report::render_markdown(report::build_review(input));

  if (auto file = args.value("out")) {
    std::ofstream f(*file, std::ios::binary | std::ios::trunc);
    if (!f) {
      err << "backout-agent report: cannot write " << *file << ": " << std::strerror(errno)
          << "\n";
      return kExitBadInput;
    }
    f << markdown;
    f.close();
    if (!f) {
      err << "backout-agent report: writing " << *file << " failed: " << std::strerror(errno)
          << "\n";
      return kExitRuntime;
    }
    err << "wrote the post-backout review of " << input.events.size() + input.unreadable_events
        << " timeline events to " << *file << "\n";
  } else {
    out << markdown;
  }
  return kExitOk;
}

}  // namespace backout::agent
