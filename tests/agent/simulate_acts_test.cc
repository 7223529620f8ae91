// The act rows of `simulate` (DESIGN section 9): a night rehearsed with its people in it. The
// reference plan with a two-step backout: a decision at 10 minutes walks the steps, each owner is
// paged, the last step starts the verification; acts print as the timeline records them; an act
// the agent would refuse stops the rehearsal with the reason and the line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/simulate/replay_act.h"
#include "support/paths.h"

namespace backout::agent {
namespace {

using ::testing::HasSubstr;
using Kind = ReplayAct::Kind;

const TimePoint kStart = parse_rfc3339("2026-06-07T02:00:00+01:00")->at;

TEST(ReplayActTest, EveryFormReadsAsTheActItNames) {
  auto d = parse_replay_act("decide backout by @jane.doe note database unreachable", kStart);
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(d->kind, Kind::kDecide);
  EXPECT_EQ(d->decision, rules::HumanDecision::Kind::kBackout);
  EXPECT_EQ(d->by, "@jane.doe");
  EXPECT_EQ(d->note, "database unreachable");
  auto e = parse_replay_act("decide extend until 2026-06-07T07:00:00+01:00 by @sarah.williams",
                            kStart);
  ASSERT_TRUE(e.ok()) << e.error();
  EXPECT_EQ(*e->time, kStart + std::chrono::hours{5});
  auto done = parse_replay_act("done restore_db by @mike.brown failed note script failed", kStart);
  ASSERT_TRUE(done.ok()) << done.error();
  EXPECT_EQ(done->kind, Kind::kDone);
  EXPECT_EQ(done->item, "restore_db");
  EXPECT_TRUE(done->failed);
  EXPECT_EQ(done->note, "script failed");
  auto ff = parse_replay_act("fix_forward login_failure_rate eta 1800 by @john.smith", kStart);
  ASSERT_TRUE(ff.ok()) << ff.error();
  EXPECT_EQ(*ff->time, kStart + std::chrono::minutes{30});
  auto ack = parse_replay_act("ack by @jane.doe", kStart);
  ASSERT_TRUE(ack.ok()) << ack.error();
  EXPECT_EQ(ack->item, "");
  EXPECT_EQ(parse_replay_act("deployed by @jane.doe", kStart)->kind, Kind::kDeployed);
}

TEST(ReplayActTest, AWrongActSaysWhatWasExpected) {
  EXPECT_THAT(parse_replay_act("decid go by @x", kStart).error(),
              HasSubstr("act 'decid go by @x': unknown act 'decid'; did you mean 'decide'?"));
  EXPECT_THAT(parse_replay_act("deployed", kStart).error(), HasSubstr("say who with 'by WHO'"));
  EXPECT_THAT(parse_replay_act("decide extend by @x", kStart).error(),
              HasSubstr("extend needs 'until TIME'"));
  EXPECT_THAT(parse_replay_act("done by @x", kStart).error(), HasSubstr("done which item"));
  EXPECT_THAT(parse_replay_act("ack by @x loudly", kStart).error(),
              HasSubstr("unexpected 'loudly'"));
}

struct SimRun {
  int code = 0;
  std::string out;
  std::string err;
};

// The reference plan with a two-step backout, and a replay of 20 quiet minutes plus `acts`.
SimRun rehearse(const std::string& name, const std::string& acts) {
  const std::string dir = ::testing::TempDir();
  const std::string plan = dir + "/" + name + ".yaml";
  const std::string replay = dir + "/" + name + ".csv";
  std::ofstream(plan) << backout::testing::read_file(backout::testing::reference_plan_path())
                      << "backout:\n"
                         "  expect_outage: [db_connectivity]\n"
                         "  steps:\n"
                         "    - { id: announce, action: Announce backout to team, owner: "
                         "project_manager, duration: 2m }\n"
                         "    - { id: restore_db, action: Restore database, owner: dba, "
                         "duration: 30m, verify: DB restored }\n"
                         "  verify: { hold: 1m }\n";
  {
    std::ofstream f(replay);
    f << "time,series,value\n";
    for (int s = -60; s <= 1500; s += 30) {
      f << s << ",portal_db.up,1\n";
    }
    f << acts;
  }
  std::vector<std::string> argv{"backout-agent", "simulate", "--plan", plan, "--replay", replay,
                                "--tick", "5s"};
  std::ostringstream out;
  std::ostringstream err;
  SimRun r;
  r.code = main_entry(argv, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) {
      out.push_back(line);
    }
  }
  return out;
}

TEST(SimulateActsTest, ABackoutIsWalkedStepByStepAndTheReversalVerified) {
  SimRun r = rehearse("walk",
                      "600,act,\"decide backout by @jane.doe note database unreachable\"\n"
                      "700,act,\"done announce by @john.smith\"\n"
                      "900,act,\"done restore_db by @mike.brown note restored from 01:00\"\n");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines_with(r.out, "\"kind\": \"decision\""),
            std::vector<std::string>{
                R"({"at": "2026-06-07T02:10:00+01:00", "kind": "decision", "decision": "backout", )"
                R"("by": "@jane.doe", "note": "database unreachable"})"});
  const auto night = lines_with(r.out, "\"kind\": \"night\"");
  ASSERT_EQ(night.size(), 4u) << r.out;  // in_window, backing_out, verifying, backed_out
  EXPECT_THAT(night[1], HasSubstr(R"("at": "2026-06-07T02:10:00+01:00", "kind": "night", )"
                                  R"("phase": "backing_out")"));
  EXPECT_THAT(night[2], HasSubstr(R"("at": "2026-06-07T02:15:00+01:00", "kind": "night", )"
                                  R"("phase": "verifying")"));
  EXPECT_THAT(night[3], HasSubstr(R"("at": "2026-06-07T02:16:00+01:00", "kind": "night", )"
                                  R"("phase": "backed_out")"));
  const auto steps = lines_with(r.out, "\"page\": \"step\"");
  ASSERT_EQ(steps.size(), 2u) << r.out;
  EXPECT_THAT(steps[0], HasSubstr(R"("decides": "project_manager", "mention": ["@john.smith"])"));
  EXPECT_THAT(steps[1], HasSubstr(R"("at": "2026-06-07T02:11:40+01:00")"));
  EXPECT_THAT(steps[1], HasSubstr(R"("decides": "dba", "mention": ["@mike.brown"])"));
  EXPECT_EQ(lines_with(r.out, "\"kind\": \"done\"").size(), 2u);
  EXPECT_EQ(lines_with(r.out, "\"page\": \"reversal_verified\"").size(), 1u) << r.out;
}

TEST(SimulateActsTest, AnActTheAgentRefusesStopsTheRehearsalWithTheReason) {
  SimRun r = rehearse("refused",
                      "600,act,\"decide backout by @jane.doe\"\n"
                      "700,act,\"done restore_db by @mike.brown\"\n");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("refused.csv:56: error: the agent refuses 'done restore_db by "
                               "@mike.brown': 'restore_db' is not the current step; the current "
                               "one is 'announce' (1 of 2)"));
}

TEST(SimulateActsTest, ABadActIsReportedWithItsLineBeforeAnythingRuns) {
  SimRun r = rehearse("bad", "600,act,\"decid backout by @jane.doe\"\n");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("bad.csv:55: error: act 'decid backout by @jane.doe': unknown "
                               "act 'decid'; did you mean 'decide'?"));
}

}  // namespace
}  // namespace backout::agent
