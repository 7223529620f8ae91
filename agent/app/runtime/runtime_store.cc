// The state store at start and reload: opening it (moving a damaged one aside), its identity
// (which night it holds), the --start-now shift it keeps across a restart, and restoring the
// watch, the outbox and the baselines from it.
#include <spdlog/spdlog.h>

#include <charconv>

#include "app/runtime/runtime_impl.h"

namespace backout::agent {

Status AgentRuntime::Impl::open_store_file() {
  if (store) {
    return {};
  }
  const std::string now_suffix = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count());
  auto opened = StateStore::open_or_recover(plan.state_dir, now_suffix);
  if (!opened.ok()) {
    return Error{opened.error()};
  }
  store = std::move(opened).value();
  return {};
}

// The state belongs to one plan's window (as the plan gives it); a different release or window
// starts afresh.
std::string AgentRuntime::Impl::identity() const {
  return plan.header.project + "|" + plan.header.release + "|" +
         format_rfc3339(planned_start, plan.window.offset()) +
         (options.start_now ? "|start-now" : "");
}

// --start-now: the window starts now and keeps its length, unless `stored` (the store of this
// plan's rehearsal) says it was shifted already and that window has not ended: a restart keeps it.
void AgentRuntime::Impl::shift_window(StateStore* stored) {
  const Duration length = plan.window.length();
  const TimePoint now = clock.now();
  TimePoint start = now;
  if (stored != nullptr && stored->identity() == identity()) {
    if (std::optional<std::string> f = stored->flag("shifted_start")) {
      long long ns = 0;
      const auto [end, ec] = std::from_chars(f->data(), f->data() + f->size(), ns);
      if (ec != std::errc{} || end != f->data() + f->size()) {
        metrics.on_error("state_store_flag");
        spdlog::error("the stored shifted_start '{}' is not a time: the window starts now", *f);
      } else if (TimePoint stored_start{Duration{ns}}; stored_start + length > now) {
        start = stored_start;
      }
    }
  }
  shift_is_new = start == now;
  plan.window.start.at = start;
  plan.window.end.at = start + length;
  spdlog::info("--start-now: the window runs {} to {} ({}), point of no return {}",
               format_clock(plan.window.start.at, plan.window.offset()),
               format_clock(plan.window.end.at, plan.window.offset()),
               format_offset(plan.window.offset()),
               format_clock(plan.window.point_of_no_return(), plan.window.offset()));
}

Status AgentRuntime::Impl::open_store(bool reload) {
  if (Status s = open_store_file(); !s.ok()) {
    return s;
  }
  if (store->recovered() && !reload) {
    // Issue 14, item 11: a watch without last night's history beats no watch.
    store_recovered = *store->recovered();
    metrics.on_error("state_store_damaged");
    spdlog::error(
        "{}; started a fresh state store: acknowledgements, open breaches and "
        "undelivered messages from before are not restored",
        *store_recovered);
  }
  auto on_error = [this](const std::string& e) {
    metrics.on_error("state_store");
    spdlog::error("{}; continuing, but this event may not survive a restart", e);
  };
  const std::string identity = this->identity();
  const std::string stored = store->identity();
  // A stale plan (DESIGN section 9): a window that has ended is refused, unless this state is
  // of that night (a restart after the window's end goes on watching) or it is a rehearsal.
  if (!reload && !options.start_now && clock.now() >= plan.window.end.at && stored != identity) {
    return Error{"this plan's window ended at " +
                 format_rfc3339(plan.window.end.at, plan.window.offset()) +
                 "; use --start-now to rehearse it, or write the next night's window"};
  }
  timeline_store = std::make_unique<StoreTimeline>(*store, on_error);
  outbox = std::make_unique<StoreOutbox>(*store, on_error);
  if (!stored.empty() && stored != identity) {
    std::string suffix = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count());
    spdlog::info(
        "the state in {} belongs to another plan or window ({}); moving it aside as "
        "state-{}.db",
        store->path(), stored, suffix);
    if (Status s = store->archive_and_reset(suffix); !s.ok()) {
      return s;
    }
    same_night = false;
  }
  if (Status s = store->set_identity(identity); !s.ok()) {
    return s;
  }
  if (options.start_now && shift_is_new) {
    // Kept across restarts while the rehearsal's window lasts (shift_window).
    (void)store->set_flag("shifted_start",
                          std::to_string(plan.window.start.at.time_since_epoch().count()));
  }
  // Restore: acts from the timeline, baselines, episodes (with their breaches), flags.
  const std::size_t n = store->event_count();
  const std::vector<std::string> events = store->events(0, n);
  rules::HumanActs acts = acts_from_timeline(events);
  std::vector<std::string> unusable_baselines;
  std::map<std::string, double> baselines = store->load_baselines(&unusable_baselines);
  for (const std::string& u : unusable_baselines) {
    metrics.on_error("state_store_baseline");
    spdlog::error(
        "the stored baseline {} is not a number: not restored; a relative trigger "
        "without its baseline is inconclusive rather than measured against 0",
        u);
  }
  std::vector<rules::Episode> episodes = store->load_episodes();
  const bool final_sent = store->flag("final_sent").has_value();
  for (std::size_t i = 0; i < plan.triggers.size(); ++i) {
    if (auto it = baselines.find(plan.triggers[i].id); it != baselines.end()) {
      watch->evaluator().restore_baseline(i, it->second);
      baselines_saved = true;
    }
  }
  std::size_t open_breaches = 0;
  for (const rules::Episode& e : episodes) {
    if (!e.open()) {
      continue;
    }
    for (std::size_t i = 0; i < plan.triggers.size(); ++i) {
      if (plan.triggers[i].id == e.trigger) {
        watch->evaluator().restore_breach(i, e.severity, e.opened_at);
        ++open_breaches;
      }
    }
  }
  watch->restore_acts(acts, clock.now());
  watch->paging().restore(episodes, final_sent, last_recommendation(events));
  final_flag_saved = final_sent;
  timeline().append({{clock.now(), plan.window.offset()}, record::snapshot_of(plan)});
  if (reload) {
    return {};  // finish() records the reload once the watch has been carried over
  }
  if (n > 0) {
    spdlog::info(
        "restored from {}: {} timeline events, {} baselines, {} open breaches, {} "
        "fix-forwards, {} decisions, {} raises",
        store->path(), n, baselines.size(), open_breaches, acts.fix_forwards.size(),
        acts.decisions.size(), acts.raises.size());
    timeline().append({{clock.now(), plan.window.offset()},
                       record::AgentLifecycle{record::AgentLifecycle::What::kRestarted}});
  } else {
    timeline().append({{clock.now(), plan.window.offset()},
                       record::AgentLifecycle{record::AgentLifecycle::What::kStarted}});
  }
  if (store_recovered) {
    timeline().append(
        {{clock.now(), plan.window.offset()},
         record::AgentLifecycle{record::AgentLifecycle::What::kStoreRecovered, *store_recovered}});
  }
  return {};
}

}  // namespace backout::agent
