// `backout-agent simulate` on the shipped replays: the timelines match their expected output
// (reviewed by people), and the facts a release manager relies on hold in them.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/simulate/replay_csv.h"
#include "support/paths.h"

namespace backout::agent {
namespace {

using backout::testing::read_file;
using backout::testing::reference_plan_path;
using backout::testing::source_dir;

struct SimRun {
  int code = 0;
  std::string out;
  std::string err;
};

SimRun simulate(const std::string& replay, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv{"backout-agent", "simulate", "--plan", reference_plan_path(),
                                "--replay", replay};
  argv.insert(argv.end(), extra.begin(), extra.end());
  std::ostringstream out;
  std::ostringstream err;
  SimRun r;
  r.code = main_entry(argv, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

std::string replay_path(const std::string& name) {
  return source_dir() + "/deploy/examples/replays/" + name + ".csv";
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

class ShippedReplayTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ShippedReplayTest, MatchesItsExpectedTimeline) {
  SimRun r = simulate(replay_path(GetParam()));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  std::string expected = read_file(source_dir() + "/deploy/examples/replays/" + GetParam() +
                                   ".expected.jsonl");
  EXPECT_EQ(r.out, expected) << "if the change is intended, review it and run "
                                "scripts/update-replay-expectations.sh";
}

INSTANTIATE_TEST_SUITE_P(Replays, ShippedReplayTest,
                         ::testing::Values("clean-night", "login-failure-spike",
                                           "database-outage", "latency-regression",
                                           "data-integrity-drop"),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           std::string n = p.param;
                           for (char& c : n) {
                             c = c == '-' ? '_' : c;
                           }
                           return n;
                         });

TEST(SimulateTest, CleanNightIsGoAndPagesNobody) {
  SimRun r = simulate(replay_path("clean-night"));
  ASSERT_EQ(r.code, 0);
  EXPECT_TRUE(lines_with(r.out, "\"kind\": \"notify\"").empty());
  EXPECT_TRUE(lines_with(r.out, "\"breached\"").empty());
  auto recs = lines_with(r.out, "\"kind\": \"recommendation\"");
  ASSERT_FALSE(recs.empty());
  EXPECT_NE(recs.back().find("\"recommendation\": \"go\""), std::string::npos);
}

TEST(SimulateTest, LoginSpikeIsCaughtEarlyAndPagesTheProjectManager) {
  SimRun r = simulate(replay_path("login-failure-spike"));
  ASSERT_EQ(r.code, 0);
  auto breach = lines_with(r.out, "\"state\": \"breached\"");
  ASSERT_EQ(breach.size(), 1u);
  EXPECT_NE(breach[0].find("\"trigger\": \"login_failure_rate\""), std::string::npos);
  EXPECT_NE(breach[0].find("\"path\": \"early\""), std::string::npos);
  // The spike starts at 02:10:00; pending within seconds, breached after `for: 1m`.
  auto pending = lines_with(r.out, "\"state\": \"pending\"");
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_NE(pending[0].find("02:10:0"), std::string::npos) << pending[0];
  auto pages = lines_with(r.out, "\"page\": \"breach\"");
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_NE(pages[0].find("\"decides\": \"project_manager\", \"mention\": [\"@john.smith\", "
                          "\"@sarah.williams\"]"),
            std::string::npos);
  auto backout = lines_with(r.out, "\"recommendation\": \"backout\"");
  ASSERT_EQ(backout.size(), 1u);
  EXPECT_NE(backout[0].find("no fix-forward declared"), std::string::npos);
  EXPECT_NE(backout[0].find("with 99.9% confidence"), std::string::npos);
  EXPECT_EQ(lines_with(r.out, "\"page\": \"resolve\"").size(), 1u);
}

TEST(SimulateTest, DatabaseOutagePagesTheDeploymentLeadAtOnce) {
  SimRun r = simulate(replay_path("database-outage"));
  ASSERT_EQ(r.code, 0);
  auto pages = lines_with(r.out, "\"page\": \"breach\"");
  ASSERT_EQ(pages.size(), 1u);
  // The first failed check is at 02:08:00 (+8m); for: 0 and critical: no group wait.
  EXPECT_NE(pages[0].find("\"at\": \"2026-06-07T02:08:00+01:00\""), std::string::npos);
  EXPECT_NE(pages[0].find("\"decides\": \"deployment_lead\", \"mention\": [\"@jane.doe\""),
            std::string::npos);
}

TEST(SimulateTest, LatencyRegressionAgainstTheBaselineIsMajor) {
  SimRun r = simulate(replay_path("latency-regression"));
  ASSERT_EQ(r.code, 0);
  auto breach = lines_with(r.out, "\"state\": \"breached\"");
  ASSERT_EQ(breach.size(), 1u);
  EXPECT_NE(breach[0].find("performance_degradation"), std::string::npos);
  EXPECT_NE(breach[0].find("\"severity\": \"major\""), std::string::npos);
  EXPECT_NE(lines_with(r.out, "baseline 36")[0].find("+50% on the baseline"), std::string::npos);
}

TEST(SimulateTest, DataIntegrityDropIsCritical) {
  SimRun r = simulate(replay_path("data-integrity-drop"));
  ASSERT_EQ(r.code, 0);
  auto breach = lines_with(r.out, "\"state\": \"breached\"");
  ASSERT_EQ(breach.size(), 1u);
  EXPECT_NE(breach[0].find("\"trigger\": \"data_integrity\", \"state\": \"breached\", "
                           "\"severity\": \"critical\", \"value\": 124500"),
            std::string::npos);
}

TEST(SimulateTest, BadReplayRowsAreReportedWithTheirLines) {
  std::string dir = ::testing::TempDir();
  std::string path = dir + "/bad-replay.csv";
  {
    std::ofstream f(path);
    f << "time,series,value\n"
      << "0,portal.a_total,1\n"
      << "x,portal.a_total,2\n"
      << "1,portl.a_total,3\n"
      << "2,portal.a_total,abc\n"
      << "3,\"portal.http_requests_total{code=\"\"503\"\"}\",4\n"
      << "4,portal.a_total,5,6\n"
      << "5,portal,7\n";
  }
  SimRun r = simulate(path);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            path + ":3: error: time 'x' is neither seconds from the window start (e.g. -30, "
                   "12.5) nor an RFC 3339 timestamp\n" +
                path + ":5: error: value 'abc' is not a number\n" + path +
                ":7: error: expected 3 fields (time,series,value), found 4; quote a series that "
                "contains a comma\n" +
                path + ":8: error: series 'portal' is not source.metric (e.g. "
                       "portal.http_requests_total or api.duration)\n" +
                path + ":4: error: unknown source 'portl'; did you mean 'portal'?\n");
}

TEST(SimulateTest, HeaderIsRequired) {
  std::string path = ::testing::TempDir() + "/no-header.csv";
  {
    std::ofstream f(path);
    f << "0,portal.a_total,1\n";
  }
  SimRun r = simulate(path);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, path + ":1: error: the first line must be the header 'time,series,value', "
                          "not '0,portal.a_total,1'\n");
}

TEST(ReplayCsvTest, TimesAreSecondsFromTheStartOrRfc3339AndRowsAreSorted) {
  TimePoint start = parse_rfc3339("2026-06-07T02:00:00+01:00")->at;
  ReplayParse p = parse_replay_csv(
      "time,series,value\n"
      "# a comment\n"
      "\n"
      "2026-06-07T01:00:05Z,api.duration,0.25\n"
      "-1.5,api.up,1\r\n"
      "\"3\",\"portal.http_requests_total{code=\"\"503\"\",path=\"\"/a,b\"\"}\",7\n",
      "r.csv", start);
  ASSERT_TRUE(p.errors.empty()) << p.errors[0];
  ASSERT_EQ(p.rows.size(), 3u);
  EXPECT_EQ(p.rows[0].sample.metric, "up");
  EXPECT_EQ(p.rows[0].sample.at, start - std::chrono::milliseconds{1500});
  EXPECT_EQ(p.rows[0].line, 5);
  EXPECT_EQ(p.rows[1].sample.at, start + std::chrono::seconds{3});
  EXPECT_EQ(p.rows[1].sample.labels.size(), 2u);
  EXPECT_EQ(p.rows[1].sample.labels[1].value, "/a,b");
  EXPECT_EQ(p.rows[2].sample.at, start + std::chrono::seconds{5});
  EXPECT_DOUBLE_EQ(p.rows[2].sample.value, 0.25);
}

}  // namespace
}  // namespace backout::agent
