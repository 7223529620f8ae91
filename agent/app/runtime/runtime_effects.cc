// The effects of a tick and of an act: what a tick's result does to the timeline, the log, the
// dispatcher (pages and Alertmanager's re-posts) and the store; the chat echo of a person's act;
// a clock step. Runs on the tick strand (runtime_tick.cc calls it), so it takes no lock.
#include <spdlog/spdlog.h>

#include "app/runtime/runtime_impl.h"

namespace backout::agent {
namespace {

std::string severity_text(const std::optional<rules::Severity>& s) {
  return s ? std::string(rules::to_string(*s)) : std::string("-");
}

}  // namespace

void AgentRuntime::Impl::apply(const rules::TickResult& r, TimePoint now) {
  for (const record::TimelineEvent& e : record::tick_events(plan, r)) {
    timeline().append(e);
  }
  const auto off = plan.window.offset();
  if (r.phase_changed) {
    timeline().append({{now, off}, record::PhaseChanged{r.decision.phase}});
    if (last_phase_known) {
      // After a clock step (or an extension) any phase can follow any other: say which it is.
      const char* what = "the deployment window has closed; still watching";
      if (r.decision.phase == rules::Phase::kInWindow) {
        what = "the deployment window is open; paging is on";
      } else if (r.decision.phase == rules::Phase::kPreWindow) {
        what = "before the deployment window; paging starts when it opens";
      }
      spdlog::warn("phase {}: {} (window {} to {})", rules::to_string(r.decision.phase), what,
                   format_clock(plan.window.start.at, off),
                   format_clock(r.decision.window_end, off));
    }
    last_phase_known = true;
  }
  for (const rules::TriggerChange& ch : r.changes) {
    const rules::TriggerStatus& st = ch.to;
    auto level =
        st.state == rules::TriggerState::kBreached ? spdlog::level::warn : spdlog::level::info;
    const bool expected = ch.trigger < r.expected.size() && r.expected[ch.trigger];
    spdlog::log(level, "trigger {}: {} -> {} ({}) {}{}", plan.triggers[ch.trigger].id,
                rules::to_string(ch.from), rules::to_string(st.state), severity_text(st.severity),
                st.evidence, expected ? " [expected in this phase: pages nobody]" : "");
  }
  for (const rules::LifecycleEvent& e : r.lifecycle) {
    if (e.kind == rules::LifecycleEvent::Kind::kPhase) {
      spdlog::warn("night: {} (expected to breach now: {})", rules::to_string(e.phase),
                   e.phase == rules::NightPhase::kDeploying && plan.deployment
                       ? join(plan.deployment->expect_outage, ", ")
                   : e.phase == rules::NightPhase::kBackingOut && plan.backout
                       ? join(plan.backout->expect_outage, ", ")
                       : std::string("none"));
    } else if (e.kind == rules::LifecycleEvent::Kind::kStartAfresh) {
      spdlog::info("night: {} start afresh (their windows count from now)", join(e.triggers, ", "));
    }
  }
  if (r.recommendation_changed) {
    spdlog::warn("recommendation {}: {}", rules::headline(r.decision.recommendation),
                 r.decision.reason);
  }
  for (const rules::Page& p : r.pages) {
    spdlog::info("page {} ({}) to {} [{}] about {}", p.key, rules::to_string(p.kind),
                 p.decides.empty() ? "nobody (posted)" : p.decides, join(p.mention, " "),
                 join(p.triggers, ", "));
  }
  if (!r.pages.empty()) {
    dispatcher->submit(r.pages, message_context(now));
  }
  repost(now);
  persist_after_tick(r);
  status_changed(now);
}

alerting::MessageContext AgentRuntime::Impl::message_context(TimePoint now) const {
  alerting::MessageContext ctx;
  ctx.plan = &plan;
  ctx.statuses = watch->evaluator().statuses();
  ctx.decision = watch->decision();
  ctx.episodes = watch->paging().episodes();
  ctx.acts = watch->acts();
  ctx.now = now;
  return ctx;
}

// A person's act, echoed to the channels (act_echo). Called on the tick strand with the
// timeline event the API recorded.
void AgentRuntime::Impl::echo_act(const record::TimelineEvent& event) {
  const TimePoint now = clock.now();
  std::optional<ActEcho> echo = act_echo(event, *watch, now, ++act_seq);
  if (!echo) {
    return;
  }
  if (echo->acknowledgement) {
    alerting::MessageContext ctx = message_context(now);
    ctx.page = echo->page;
    dispatcher->submit_acknowledgement(ctx, *echo->acknowledgement);
  }
  dispatcher->submit({echo->page}, message_context(now));
}

// A wall-clock step (GuardedClock): logged, counted, in the timeline and the status; when taken,
// every duration in progress moves with the clock, so the step alone pages nobody.
void AgentRuntime::Impl::on_clock_event(const ClockGuard::Event& e) {
  const auto off = plan.window.offset();
  // Said to the second: the two clocks are read a few microseconds apart.
  const Duration size = std::chrono::round<std::chrono::seconds>(e.by < Duration{0} ? -e.by : e.by);
  const std::string step =
      std::string(e.by < Duration{0} ? "back " : "forward ") + format_span(size);
  const std::string outcome(to_string(e.outcome));
  metrics.on_clock_step(outcome);
  clock_state.last = e;
  switch (e.outcome) {
    case ClockGuard::Outcome::kDetected:
      ++clock_state.steps;
      clock_state.pending = e.by;
      spdlog::warn(
          "the wall clock stepped {} (it reads {}, the watch's clock {}): the watch "
          "keeps the time that really passed and takes the step once it has held for "
          "{}; check NTP (timedatectl timesync-status) if nobody set the clock",
          step, format_rfc3339(e.wall, off), format_rfc3339(clock.now(), off),
          format_span(guarded.options().settle));
      break;
    case ClockGuard::Outcome::kApplied:
      if (clock_state.pending != e.by) {
        ++clock_state.steps;  // taken at once (settle 0): never reported as detected
      }
      clock_state.pending.reset();
      watch->shift(e.by);
      if (dispatcher) {
        dispatcher->clock_stepped(e.by);
      }
      last_repost += e.by;
      spdlog::warn(
          "the wall clock's step {} has held: the watch now runs on it ({}); windows, "
          "`for`, acknowledgement, repeat and escalation timers keep the time that "
          "really passed, the window ({} to {}) is read on the new clock",
          step, format_rfc3339(e.wall, off), format_clock(plan.window.start.at, off),
          format_clock(watch->decision().window_end, off));
      break;
    case ClockGuard::Outcome::kReverted:
      clock_state.pending.reset();
      spdlog::warn(
          "the wall clock is back within {} of the watch's clock: its step {} was never "
          "taken",
          format_span(guarded.options().tolerance), step);
      break;
  }
  timeline().append(
      {{clock.now(), off}, record::ClockStepped{e.outcome, to_seconds(e.by), {e.wall, off}}});
  status_changed(clock.now());
}

// A channel whose receiver forgets (Alertmanager resolves an alert whose endsAt passed) gets
// its open pages again at its own cadence; what it re-posts is the channel's policy.
void AgentRuntime::Impl::repost(TimePoint now) {
  const std::optional<Duration> every = dispatcher->repost_every();
  if (!every || now - last_repost < *every) {
    return;
  }
  last_repost = now;
  dispatcher->submit_reposts(message_context(now));
}

void AgentRuntime::Impl::persist_after_tick(const rules::TickResult& r) {
  if (!r.changes.empty() || !r.pages.empty()) {
    episodes_unsaved = true;
  }
  persist(r.at);
}

// Writes what the store is owed. A write that fails is repeated on a later tick, paced by
// store_gate (a full disk costs a few failed writes a minute, not one per tick); meanwhile the
// outbox and the timeline hold their changes in memory (StoreOutbox, StoreTimeline), so paging
// goes on and nothing is sent twice.
void AgentRuntime::Impl::persist(TimePoint now) {
  if (store_gate.due(now)) {
    std::string failure;
    auto wrote = [&failure](const Status& s) {
      if (!s.ok() && failure.empty()) {
        failure = s.error();
      }
      return s.ok();
    };
    if (!baselines_saved && watch->evaluator().baselines_frozen()) {
      bool all = true;
      for (std::size_t i = 0; i < plan.triggers.size(); ++i) {
        if (auto b = watch->evaluator().baseline(i)) {
          all = wrote(store->save_baseline(plan.triggers[i].id, *b, now)) && all;
        }
      }
      baselines_saved = all;
    }
    if (episodes_unsaved) {
      episodes_unsaved = !wrote(store->save_episodes(watch->paging().episodes()));
    }
    if (!final_flag_saved && watch->paging().final_sent()) {
      final_flag_saved = wrote(store->set_flag("final_sent", "1"));
    }
    if (failure.empty()) {
      store_gate.succeeded();
    } else {
      store_gate.failed(now);
      metrics.on_error("state_store");
      spdlog::error("{}; kept in memory and written again when the store takes writes", failure);
    }
  }
  const std::size_t outbox_held = outbox->flush(now);
  const std::size_t timeline_held = timeline_store->flush(now);
  metrics.set_unsaved(static_cast<double>(outbox_held), static_cast<double>(timeline_held));
}

}  // namespace backout::agent
