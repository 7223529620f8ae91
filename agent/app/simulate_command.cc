#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <sstream>

#include "app/commands.h"
#include "app/kinds/kinds.h"
#include "app/simulate/replay_act.h"
#include "app/simulate/replay_csv.h"
#include "app/simulate/timeline_json.h"
#include "backout/core/text.h"
#include "backout/rules/watch.h"
#include "plan/plan_loader.h"

namespace backout::agent {

int simulate_command(const Args& args, std::ostream& out, std::ostream& err) {
  const std::string plan_path = *args.value("plan");
  const std::string replay_path = *args.value("replay");
  Duration tick = std::chrono::milliseconds{250};
  if (auto t = args.value("tick")) {
    std::string why;
    auto d = parse_duration(*t, &why);
    if (!d || *d < std::chrono::milliseconds{10}) {
      err << "backout-agent simulate: --tick '" << *t << "': "
          << (d ? std::string("at least 10ms") : why) << "\n";
      return kExitBadInput;
    }
    tick = *d;
  }
  plan::LoadResult loaded = plan::load_plan_file(plan_path, agent::builtin_kinds().catalog);
  for (const plan::Diagnostic& d : loaded.diagnostics) {
    if (d.is_error()) {
      err << d.format() << "\n";
    }
  }
  if (!loaded.ok()) {
    return kExitBadInput;
  }
  const rules::Plan& plan = *loaded.plan;

  std::ifstream in(replay_path, std::ios::binary);
  if (!in) {
    err << replay_path << ": error: cannot read the replay: " << std::strerror(errno) << "\n";
    return kExitBadInput;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  ReplayParse replay = parse_replay_csv(ss.str(), replay_path, plan.window.start.at);
  std::vector<std::string> ids;
  for (const auto& s : plan.sources) {
    ids.push_back(s.id);
  }
  std::set<std::string> reported;
  std::map<int, ReplayAct> acts;  // by line
  for (const ReplayRow& row : replay.rows) {
    if (row.act) {
      auto a = parse_replay_act(*row.act, plan.window.start.at);
      if (a.ok()) {
        acts.emplace(row.line, a.value());
      } else {
        replay.errors.push_back(replay_path + ":" + std::to_string(row.line) + ": error: " +
                                a.error());
      }
      continue;
    }
    if (plan.source(row.sample.source) == nullptr && reported.insert(row.sample.source).second) {
      std::string msg = replay_path + ":" + std::to_string(row.line) + ": error: unknown source '" +
                        row.sample.source + "'";
      if (auto near = closest_match(row.sample.source, ids)) {
        msg += "; did you mean '" + *near + "'?";
      } else {
        msg += "; the plan's sources are " + join(ids, ", ");
      }
      replay.errors.push_back(msg);
    }
  }
  for (const std::string& e : replay.errors) {
    err << e << "\n";
  }
  if (!replay.errors.empty()) {
    return kExitBadInput;
  }
  if (replay.rows.empty()) {
    err << replay_path << ": error: the replay has no rows\n";
    return kExitBadInput;
  }

  rules::Watch watch(plan);
  // Ticks on the live agent's grid (multiples of the tick), from the first row to the last.
  auto align_up = [&](TimePoint t) {
    auto n = t.time_since_epoch().count();
    auto k = tick.count();
    auto q = n / k + (n % k > 0 ? 1 : 0);
    return TimePoint{Duration{q * k}};
  };
  TimePoint now = align_up(replay.rows.front().sample.at);
  const TimePoint last = align_up(replay.rows.back().sample.at);
  std::size_t next = 0;
  for (; now <= last; now += tick) {
    // Rows of one source at one time are one scrape (a batch).
    while (next < replay.rows.size() && replay.rows[next].sample.at <= now) {
      const ReplayRow& row = replay.rows[next];
      if (row.act) {
        // A person's act, at its time, as the API would take it; a refusal is a script error.
        auto e = apply_replay_act(acts.at(row.line), watch, row.sample.at);
        if (!e.ok()) {
          err << replay_path << ":" << row.line << ": error: the agent refuses '" << *row.act
              << "': " << e.error() << "\n";
          return kExitBadInput;
        }
        out << record::encode(e.value(), record::Encoding::kSimulate) << "\n";
        ++next;
        continue;
      }
      const Sample& s = row.sample;
      rules::SourceRouter* router = watch.router(s.source);
      router->record(s.metric, s.labels, s.value);
      bool batch_end = next + 1 >= replay.rows.size() || replay.rows[next + 1].act ||
                       replay.rows[next + 1].sample.at != s.at ||
                       replay.rows[next + 1].sample.source != s.source;
      if (batch_end) {
        router->end_batch();
      }
      ++next;
    }
    rules::TickResult r = watch.tick(now);
    for (const std::string& line : timeline_lines(plan, r)) {
      out << line << "\n";
    }
  }
  return kExitOk;
}

}  // namespace backout::agent
