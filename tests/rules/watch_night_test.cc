// The watch through the whole night (DESIGN section 9), on manual time: planned downtime while
// deploying pages nobody while an unexpected trigger still pages; the expected trigger starts
// afresh at go-live, so the downtime does not leak into a late breach; a backout walks its steps
// with each owner paged and wrong `done`s refused; a breach the backout expects closes without a
// "back to normal"; the reversal is verified against its check; a restart mid-step is still in
// that step.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "backout/rules/watch.h"
#include "support/test_plan.h"

namespace backout::rules {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TimePoint minute(double m) { return backout::testing::at(m * 60); }

MeasureCheck check(const std::string& name, const std::string& measure, const std::string& when) {
  Trigger t = backout::testing::trigger("c", measure, when, Severity::kCritical, 1min);
  return MeasureCheck{name, t.measure, t.levels.front().condition, 1min};
}

// login (major, expected while deploying and backing out), db (critical, expected only while
// backing out), three steps (5m, 30m, 5m) and one verify check on the database version.
Plan night_plan() {
  Plan p = backout::testing::base_plan();
  p.triggers.push_back(backout::testing::trigger(
      "login", "ratio(portal.f_total, portal.a_total)", "> 5%", Severity::kMajor, 5min,
      Duration{0}, 50));
  p.triggers.push_back(
      backout::testing::trigger("db", "failures(portal_db)", "> 0", Severity::kCritical, 1min));
  p.deployment = Deployment{30min, {"login"}};
  Backout b;
  b.expect_outage = {"login", "db"};
  for (auto [id, owner, minutes] : {std::tuple{"stop_traffic", "project_manager", 5},
                                    std::tuple{"restore_db", "deployment_lead", 30},
                                    std::tuple{"resume_traffic", "project_manager", 5}}) {
    BackoutStep s;
    s.id = id;
    s.action = id;
    s.owner = owner;
    s.duration = std::chrono::minutes{minutes};
    b.steps.push_back(s);
  }
  b.steps[1].check = check("db restored", "value(portal.db_version)", "> 0");
  b.checks = {check("Database version is v1.9", "value(portal.db_version)", ">= 19")};
  p.backout = b;
  return p;
}

// Drives a Watch second by second with the portal's login counters and the database probe.
class WatchNightTest : public ::testing::Test {
 protected:
  WatchNightTest() : plan_(night_plan()), watch_(std::make_unique<Watch>(plan_)) {}

  // One tick at `m` minutes, after a batch: `fail_share` of 200 logins failed, the database
  // probe `db_up`, and the version gauge when given.
  TickResult tick(double m, double fail_share, bool db_up = true,
                  std::optional<double> version = std::nullopt) {
    all_ += 200;
    failed_ += 200 * fail_share;
    SourceRouter* portal = watch_->router("portal");
    portal->record("f_total", {}, failed_);
    portal->record("a_total", {}, all_);
    if (version) {
      portal->record("db_version", {}, *version);
    }
    portal->end_batch();
    SourceRouter* db = watch_->router("portal_db");
    db->record("up", {}, db_up ? 1 : 0);
    db->end_batch();
    TickResult r = watch_->tick(minute(m));
    for (const Page& p : r.pages) {
      pages_.push_back(p);
    }
    return r;
  }

  // Ticks every 5 s over [from, to) minutes.
  void run(double from, double to, double fail_share, bool db_up = true,
           std::optional<double> version = std::nullopt) {
    for (double m = from; m < to; m += 5.0 / 60) {
      tick(m, fail_share, db_up, version);
    }
  }

  std::vector<std::string> page_keys(PageKind kind) const {
    std::vector<std::string> out;
    for (const Page& p : pages_) {
      if (p.kind == kind) {
        out.push_back(p.key);
      }
    }
    return out;
  }

  std::size_t index(const std::string& trigger) const {
    for (std::size_t i = 0; i < plan_.triggers.size(); ++i) {
      if (plan_.triggers[i].id == trigger) {
        return i;
      }
    }
    return plan_.triggers.size();
  }

  Plan plan_;
  std::unique_ptr<Watch> watch_;
  std::vector<Page> pages_;
  double all_ = 0;
  double failed_ = 0;
};

TEST_F(WatchNightTest, PlannedDowntimeWhileDeployingPagesNobodyButAnUnexpectedTriggerPages) {
  run(-35, 0, 0.01);
  run(0, 10, 0.6);  // the deployment stops the portal: 60% of logins fail
  EXPECT_EQ(watch_->lifecycle().phase(), NightPhase::kDeploying);
  EXPECT_EQ(watch_->evaluator().statuses()[index("login")].state, TriggerState::kBreached);
  EXPECT_TRUE(watch_->expected(index("login")));
  EXPECT_THAT(page_keys(PageKind::kBreach), IsEmpty());
  EXPECT_EQ(watch_->decision().recommendation, Recommendation::kGo);
  // Chat hears once that the phase began and what it expects.
  ASSERT_THAT(page_keys(PageKind::kPhase), ElementsAre("phase:deploying"));
  const auto phase = std::find_if(pages_.begin(), pages_.end(),
                                  [](const Page& p) { return p.kind == PageKind::kPhase; });
  EXPECT_THAT(phase->expected, ElementsAre("login"));
  EXPECT_THAT(phase->mention, IsEmpty());

  // The database is not expected to fail while deploying: it pages its critical decider.
  run(10, 11, 0.6, false);
  ASSERT_EQ(page_keys(PageKind::kBreach).size(), 1u);
  EXPECT_EQ(pages_.back().decides, "deployment_lead");
  EXPECT_THAT(pages_.back().triggers, ElementsAre("db"));
  EXPECT_EQ(watch_->decision().recommendation, Recommendation::kBackout);
  EXPECT_FALSE(watch_->expected(index("db")));
}

TEST_F(WatchNightTest, AfterGoLiveTheExpectedTriggerStartsAfreshAndTheDowntimeDoesNotLeak) {
  run(-35, 0, 0.01);
  run(0, 20, 0.6);
  ASSERT_TRUE(watch_->deployed("@jane.doe", minute(20)).ok());
  EXPECT_FALSE(watch_->deployed("@jane.doe", minute(20)).ok());  // once
  // Healthy from go-live: the 5m window would still hold 5 minutes of the downtime, but the
  // trigger counts only what came after go-live.
  run(20, 30, 0.01);
  EXPECT_EQ(watch_->lifecycle().phase(), NightPhase::kInWindow);
  EXPECT_EQ(watch_->evaluator().statuses()[index("login")].state, TriggerState::kOk);
  EXPECT_THAT(page_keys(PageKind::kBreach), IsEmpty());
  EXPECT_THAT(page_keys(PageKind::kPhase), ElementsAre("phase:deploying", "phase:in_window"));
  // A real fault after go-live pages as always.
  run(30, 35, 0.3);
  EXPECT_THAT(page_keys(PageKind::kBreach), ElementsAre("breach:login#1"));
}

TEST_F(WatchNightTest, NoGoLiveByThePlannedEndPagesTheCriticalDeciderAndEndsTheExpectation) {
  run(-35, 0, 0.01);
  run(0, 31, 0.01);
  ASSERT_THAT(page_keys(PageKind::kDeployOverrun), ElementsAre("deploy_overrun"));
  const auto p = std::find_if(pages_.begin(), pages_.end(),
                              [](const Page& x) { return x.kind == PageKind::kDeployOverrun; });
  EXPECT_EQ(p->decides, "deployment_lead");
  EXPECT_THAT(p->mention, ElementsAre("@jane.doe"));
  EXPECT_EQ(watch_->lifecycle().phase(), NightPhase::kInWindow);
}

TEST_F(WatchNightTest, ABackoutWalksItsStepsQuietlyAndVerifiesTheReversal) {
  run(-35, 0, 0.01);
  run(0, 20, 0.01);
  ASSERT_TRUE(watch_->deployed("@jane.doe", minute(20)).ok());
  run(20, 40, 0.3);  // a fault after go-live: login breaches, its decider is paged
  ASSERT_THAT(page_keys(PageKind::kBreach), ElementsAre("breach:login#1"));
  ASSERT_TRUE(watch_->decide(HumanDecision::Kind::kBackout, "@john.smith", "", minute(40)).ok());
  tick(40, 0.3);
  EXPECT_EQ(watch_->lifecycle().phase(), NightPhase::kBackingOut);
  // The login breach is now the backout's own: it closes without "back to normal".
  EXPECT_THAT(page_keys(PageKind::kResolve), IsEmpty());
  EXPECT_TRUE(watch_->expected(index("login")));
  ASSERT_THAT(page_keys(PageKind::kStep), ElementsAre("step:stop_traffic"));
  EXPECT_EQ(pages_.back().kind, PageKind::kStep);
  EXPECT_EQ(pages_.back().decides, "project_manager");
  EXPECT_THAT(pages_.back().mention, ElementsAre("@john.smith"));
  EXPECT_EQ(*pages_.back().projected_end, minute(80));  // 40 + 5 + 30 + 5

  // `done` for anything but the current step is refused with the reason.
  Status wrong = watch_->done("restore_db", "@jane.doe", "", false, minute(44));
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(wrong.error(), HasSubstr("the current one is 'stop_traffic' (1 of 3)"));
  EXPECT_FALSE(watch_->done("stop_trafic", "@jane.doe", "", false, minute(44)).ok());
  EXPECT_FALSE(watch_->done("stop_traffic", "", "", false, minute(44)).ok());

  ASSERT_TRUE(watch_->done("stop_traffic", "@john.smith", "", false, minute(44)).ok());
  run(44, 60, 0.9, false);  // the restore stops the portal and its database: expected, quiet
  EXPECT_THAT(page_keys(PageKind::kStep), ElementsAre("step:stop_traffic", "step:restore_db"));
  EXPECT_THAT(page_keys(PageKind::kBreach), ElementsAre("breach:login#1"));
  ASSERT_TRUE(watch_->done("restore_db", "@jane.doe", "restored from the 01:00 backup", false,
                           minute(60))
                  .ok());
  run(60, 65, 0.01, true, 19);
  EXPECT_THAT(page_keys(PageKind::kStepVerified), ElementsAre("verified:restore_db"));
  ASSERT_TRUE(watch_->done("resume_traffic", "@john.smith", "", false, minute(65)).ok());
  tick(65, 0.01, true, 19);
  EXPECT_EQ(watch_->lifecycle().phase(), NightPhase::kVerifying);
  // Verify: every trigger counts again and the check must hold for verify.hold (5m).
  run(65 + 5.0 / 60, 69, 0.01, true, 19);
  EXPECT_THAT(page_keys(PageKind::kReversalVerified), IsEmpty());
  run(69, 72, 0.01, true, 19);
  ASSERT_THAT(page_keys(PageKind::kReversalVerified), ElementsAre("reversal_verified"));
  EXPECT_EQ(watch_->lifecycle().phase(), NightPhase::kBackedOut);
  const auto v = std::find_if(pages_.begin(), pages_.end(), [](const Page& x) {
    return x.kind == PageKind::kReversalVerified;
  });
  EXPECT_THAT(v->mention, ElementsAre("@jane.doe", "@john.smith", "@sarah.williams"));
  ASSERT_EQ(v->check_values.size(), 1u);
  EXPECT_EQ(v->check_values[0], 19);
  EXPECT_THAT(page_keys(PageKind::kReversalIncomplete), IsEmpty());
}

TEST_F(WatchNightTest, AReversalThatDoesNotHoldIsReportedIncompleteNamingWhatFails) {
  run(-35, 0, 0.01);
  ASSERT_TRUE(watch_->decide(HumanDecision::Kind::kBackout, "@john.smith", "", minute(0)).ok());
  for (const char* step : {"stop_traffic", "restore_db", "resume_traffic"}) {
    ASSERT_TRUE(watch_->done(step, "@jane.doe", "", false, minute(1)).ok()) << step;
  }
  run(1, 32, 0.01, true, 18);  // the old version did not come back
  ASSERT_THAT(page_keys(PageKind::kReversalIncomplete), ElementsAre("reversal_incomplete"));
  EXPECT_EQ(pages_.back().decides, "deployment_lead");
  EXPECT_THAT(pages_.back().failing, ElementsAre("Database version is v1.9"));
  EXPECT_EQ(watch_->lifecycle().phase(), NightPhase::kVerifying);
}

TEST_F(WatchNightTest, ARestartInTheMiddleOfAStepIsStillInThatStepWithItsStartTime) {
  run(-35, 0, 0.01);
  ASSERT_TRUE(watch_->deployed("@jane.doe", minute(10)).ok());
  ASSERT_TRUE(watch_->decide(HumanDecision::Kind::kBackout, "@john.smith", "", minute(40)).ok());
  ASSERT_TRUE(watch_->done("stop_traffic", "@john.smith", "", false, minute(44)).ok());
  run(40, 50, 0.9);
  const HumanActs acts = watch_->acts();

  Watch restarted(plan_);
  restarted.restore_acts(acts, minute(50));
  EXPECT_EQ(restarted.lifecycle().phase(), NightPhase::kBackingOut);
  ASSERT_EQ(restarted.lifecycle().current_step(), 1u);
  EXPECT_EQ(*restarted.lifecycle().steps()[1].started_at, minute(44));
  EXPECT_EQ(*restarted.lifecycle().deployed_at(), minute(10));
  EXPECT_EQ(*restarted.lifecycle().projected_end(minute(50)), minute(79));
  EXPECT_TRUE(restarted.done("restore_db", "@jane.doe", "", false, minute(51)).ok());
}

// A trigger that cannot be judged (its source is down) past notify.blind_after pages its decider
// once per spell, and says so when it sees again; while the phase expects its outage (the
// deployment stops the portal) nobody is told.
TEST_F(WatchNightTest, ABlindTriggerIsToldOncePerSpellAndWhenItSeesAgain) {
  run(-35, 0, 0.01);
  watch_->router("portal")->set_up(false);
  run(0, 5, 0.01);  // deploying: login is expected to be out, blind or not
  EXPECT_TRUE(watch_->blind_since(index("login")).has_value());
  EXPECT_THAT(page_keys(PageKind::kBlind), IsEmpty());
  watch_->router("portal")->set_up(true);
  run(5, 6, 0.01);
  ASSERT_TRUE(watch_->deployed("@jane.doe", minute(6)).ok());
  run(6, 10, 0.01);
  watch_->router("portal")->set_up(false);
  run(10, 11.9, 0.01);
  EXPECT_THAT(page_keys(PageKind::kBlind), IsEmpty()) << "inconclusive, but not for 2m yet";
  run(11.9, 14, 0.01);
  ASSERT_THAT(page_keys(PageKind::kBlind), ElementsAre("blind:login#1"));
  const auto p = std::find_if(pages_.begin(), pages_.end(),
                              [](const Page& x) { return x.kind == PageKind::kBlind; });
  EXPECT_EQ(p->decides, "project_manager");
  EXPECT_THAT(p->mention, ElementsAre("@john.smith"));
  EXPECT_THAT(p->triggers, ElementsAre("login"));
  EXPECT_GE(p->at - *watch_->blind_since(index("login")), 2min);
  EXPECT_LT(p->at - *watch_->blind_since(index("login")), 2min + 5s) << "at the first tick after";
  watch_->router("portal")->set_up(true);
  run(14, 15, 0.01);
  EXPECT_THAT(page_keys(PageKind::kBlindResolved), ElementsAre("blind_resolved:login#1"));
  EXPECT_FALSE(watch_->blind_since(index("login")).has_value());
  watch_->router("portal")->set_up(false);
  run(15, 18, 0.01);
  EXPECT_THAT(page_keys(PageKind::kBlind), ElementsAre("blind:login#1", "blind:login#2"));
}

// Triggers that turn blind together are one page per role told, not one page each.
TEST(WatchBlindTest, TriggersBlindTogetherAreOnePagePerDecider) {
  Plan p = backout::testing::base_plan();
  for (const char* id : {"a", "b"}) {
    p.triggers.push_back(backout::testing::trigger(id, "ratio(portal.f_total, portal.a_total)",
                                                   "> 5%", Severity::kMajor, 5min, Duration{0},
                                                   50));
  }
  p.triggers.push_back(backout::testing::trigger("c", "rate(portal.x_total)", "> 5",
                                                 Severity::kCritical, 5min));
  Watch watch(p);
  std::vector<Page> pages;
  for (int s = 0; s <= 180; s += 5) {
    for (Page& x : watch.tick(minute(0) + std::chrono::seconds{s}).pages) {
      pages.push_back(std::move(x));
    }
  }
  std::vector<std::string> keys;
  for (const Page& x : pages) {
    if (x.kind == PageKind::kBlind) {
      keys.push_back(x.key + " to " + x.decides);
    }
  }
  EXPECT_THAT(keys, ElementsAre("blind:a#1,b#1 to project_manager", "blind:c#1 to deployment_lead"));
}

}  // namespace
}  // namespace backout::rules
