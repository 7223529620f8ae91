// Issue 14, defect 5: a reload (SIGHUP) was a full stop and start: every window, early-detection
// statistic and `for` in progress was lost, so a fault building up was seen later. A reload now
// hands the running watch to the new one (Watch::carry_over). These tests replay one scenario
// twice, once with a reload in the middle, and compare what the two watches do.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "backout/rules/watch.h"
#include "support/test_plan.h"

namespace backout::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

Plan scenario_plan() {
  Plan plan = backout::testing::base_plan();
  plan.triggers.push_back(backout::testing::trigger(
      "login", "ratio(portal.f_total, portal.a_total)", "> 5%", Severity::kMajor,
      std::chrono::minutes{5}, std::chrono::minutes{2}, 50));
  backout::testing::add_level(plan.triggers.back(), Severity::kCritical, "> 25%");
  plan.triggers.push_back(backout::testing::trigger("errors", "increase(portal.e_total)", "> 1000",
                                                    Severity::kMinor, std::chrono::minutes{5}));
  return plan;
}

struct Replay {
  std::string seen;  // one line per change, page and minute
  CarryOver carried;
  std::vector<Episode> episodes;
};

// 30 minutes from 02:10 (in the window): the login failure ratio rises to 10% from minute 5 to
// 20 (major after `for` 2m), the errors counter grows 100 a minute. At `reload_at` seconds the
// running watch is replaced by one on `next` (the same plan unless the test changes it).
Replay run(int reload_at, const std::function<void(Plan&)>& change = {}) {
  auto plans = std::vector<std::unique_ptr<Plan>>{};
  plans.push_back(std::make_unique<Plan>(scenario_plan()));
  auto watch = std::make_unique<Watch>(*plans.back());
  const TimePoint t0 = backout::testing::at(10 * 60);
  double failed = 0;
  double all = 0;
  double errors = 5000;  // a counter that was already high when the agent started
  Replay out;
  for (int s = 0; s <= 30 * 60; ++s) {
    const TimePoint now = t0 + std::chrono::seconds{s};
    if (s == reload_at) {
      plans.push_back(std::make_unique<Plan>(*plans.back()));
      if (change) {
        change(*plans.back());
      }
      auto next = std::make_unique<Watch>(*plans.back());
      out.carried = next->carry_over(*watch);
      watch = std::move(next);  // the previous plan stays alive, as the runtime keeps it
    }
    if (s % 5 == 0) {
      SourceRouter* portal = watch->router("portal");
      all += 200;
      failed += (s >= 5 * 60 && s < 20 * 60) ? 20 : 2;
      errors += 100.0 / 12;
      portal->record("f_total", {}, failed);
      portal->record("a_total", {}, all);
      portal->record("e_total", {}, errors);
      portal->end_batch(true);
    }
    TickResult r = watch->tick(now);
    for (const TriggerChange& c : r.changes) {
      out.seen += std::to_string(s) + " s: " + watch->plan().triggers[c.trigger].id + " " +
                  std::string(to_string(c.to.state)) + "\n";
    }
    for (const Page& p : r.pages) {
      out.seen += std::to_string(s) + " s: page " + std::string(to_string(p.kind)) + " " + p.key +
                  "\n";
    }
    if (s % 60 == 0) {
      for (const TriggerStatus& st : watch->evaluator().statuses()) {
        out.seen += std::to_string(s) + " s: " + st.id + " value " +
                    std::to_string(st.value.value_or(-1)) + " count " + std::to_string(st.count) +
                    "\n";
      }
    }
  }
  out.episodes = watch->paging().episodes();
  return out;
}

std::string first_line_with(const std::string& seen, const std::string& what) {
  const std::size_t at = seen.find(what);
  if (at == std::string::npos) {
    return "";
  }
  const std::size_t begin = seen.rfind('\n', at) == std::string::npos ? 0 : seen.rfind('\n', at) + 1;
  return seen.substr(begin, seen.find('\n', at) - begin);
}

// The same plan reloaded during the `for` (pending from 431 s), while breached (from 551 s) and
// during the clear_after (the ratio is back under 5% from about 1,390 s, ok at 1,485 s): the watch does exactly what a watch never reloaded does, to the
// value and the page.
TEST(WatchReloadTest, TheSamePlanReloadedChangesNothing) {
  const Replay plain = run(-1);
  for (int at : {8 * 60, 12 * 60, 23 * 60 + 40}) {
    const Replay reloaded = run(at);
    EXPECT_EQ(reloaded.seen, plain.seen) << "reloaded at " << at << " s";
    EXPECT_THAT(reloaded.carried.kept, ElementsAre("login", "errors"));
    EXPECT_THAT(reloaded.carried.changed, IsEmpty());
    EXPECT_THAT(reloaded.carried.sources_fresh, IsEmpty());
  }
  // The scenario does breach and page (the comparison is not between two quiet runs).
  EXPECT_THAT(plain.seen, HasSubstr("login breached"));
  EXPECT_THAT(plain.seen, HasSubstr("page breach breach:login#1"));
}

// A renamed trigger is the same trigger: the name only labels messages.
TEST(WatchReloadTest, ARenameKeepsTheTriggersState) {
  const Replay plain = run(-1);
  const Replay reloaded = run(8 * 60, [](Plan& p) { p.triggers[0].name = "Login failures"; });
  EXPECT_EQ(reloaded.seen, plain.seen);
  EXPECT_THAT(reloaded.carried.kept, ElementsAre("login", "errors"));
}

// A changed threshold is a new trigger definition: its `for` starts over at the reload (the
// windows belong to the source, which did not change, so the new threshold reads the last
// 5 minutes at once).
TEST(WatchReloadTest, AChangedTriggerStartsItsForAfresh) {
  const Replay plain = run(-1);
  const int reload_at = 8 * 60;  // pending from 431 s, breached at 551 s
  const Replay reloaded = run(reload_at, [](Plan& p) {
    for (Level& l : p.triggers[0].levels) {
      if (l.severity == Severity::kMajor) {
        l.condition.value = 0.06;
        l.condition.text = "> 6%";
      }
    }
  });
  EXPECT_THAT(reloaded.carried.changed, ElementsAre("login"));
  EXPECT_THAT(reloaded.carried.kept, ElementsAre("errors"));
  const std::string before = first_line_with(plain.seen, "login breached");
  const std::string after = first_line_with(reloaded.seen, "login breached");
  ASSERT_FALSE(before.empty());
  ASSERT_FALSE(after.empty());
  const int breached_plain = std::stoi(before);
  const int breached_reloaded = std::stoi(after);
  EXPECT_GE(breached_reloaded, reload_at + 120) << reloaded.seen;
  EXPECT_LT(breached_plain, reload_at + 120) << plain.seen;
  // The windows went on: the first minute after the reload reads what the plain run reads.
  EXPECT_NE(first_line_with(plain.seen, "540 s: login value"), "");
  EXPECT_EQ(first_line_with(reloaded.seen, "540 s: login value"),
            first_line_with(plain.seen, "540 s: login value"));
}

// A source whose definition changed is another source: its windows start empty, and so do the
// triggers that read it.
TEST(WatchReloadTest, AChangedSourceStartsItsWindowsEmpty) {
  const Replay reloaded = run(12 * 60, [](Plan& p) {
    for (Source& s : p.sources) {
      if (s.id == "portal") {
        s.options.set("url", std::string("http://127.0.0.1:9999/metrics"));
      }
    }
  });
  EXPECT_THAT(reloaded.carried.sources_fresh, ElementsAre("portal"));
  EXPECT_THAT(reloaded.carried.changed, ElementsAre("login", "errors"));
  // One minute after the reload the window holds one minute of data, not five.
  EXPECT_THAT(reloaded.seen, HasSubstr("780 s: login value 0.100000 count 2400"));
  // The breach that was open stays breached (as after a restart) and is not paged again.
  EXPECT_EQ(reloaded.seen.find("page breach breach:login#2"), std::string::npos) << reloaded.seen;
}

// A trigger added by the reload, on a counter that was already at 5,000: the counter's value is
// its starting point, not an increase of 5,000 (the source's router is past its first batch).
TEST(WatchReloadTest, AnAddedTriggerDoesNotCountACountersWholeValue) {
  const Replay reloaded = run(12 * 60, [](Plan& p) {
    p.triggers.push_back(backout::testing::trigger("errors_10m", "increase(portal.e_total)",
                                                   "> 2000", Severity::kMinor,
                                                   std::chrono::minutes{10}));
  });
  EXPECT_THAT(reloaded.carried.added, ElementsAre("errors_10m"));
  EXPECT_EQ(reloaded.seen.find("errors_10m breached"), std::string::npos) << reloaded.seen;
  // Two minutes later it has counted two minutes of 100 a minute.
  EXPECT_THAT(reloaded.seen, HasSubstr("840 s: errors_10m value 200"));
}

// A trigger removed while breached: its episode is closed rather than left open for the night.
TEST(WatchReloadTest, ARemovedTriggersOpenBreachIsClosed) {
  const Replay reloaded = run(12 * 60, [](Plan& p) { p.triggers.erase(p.triggers.begin()); });
  EXPECT_THAT(reloaded.carried.removed, ElementsAre("login"));
  ASSERT_FALSE(reloaded.episodes.empty());
  for (const Episode& e : reloaded.episodes) {
    EXPECT_FALSE(e.open()) << e.key();
  }
}

}  // namespace
}  // namespace backout::rules
