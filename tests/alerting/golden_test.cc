// Golden tests: every payload of every reference scenario, compared with the files in
// tests/alerting/golden/. After an intended change of wording or shape, regenerate them with
//   BACKOUT_UPDATE_GOLDEN=1 build-*/tests/alerting_tests --gtest_filter='Golden*'
// and review the diff like code: these files are what people on call will read.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>

#include "alerting/json_pretty.h"
#include "alerting/scenarios.h"
#include "backout/alerting/alertmanager_payload.h"
#include "backout/alerting/chat_message.h"
#include "backout/alerting/pagerduty_payload.h"
#include "backout/alerting/slack_payload.h"
#include "backout/alerting/teams_payload.h"
#include "backout/alerting/webhook_payload.h"
#include "support/paths.h"

namespace backout::alerting {
namespace {

namespace json = boost::json;

json::value parsed(const std::string& text) { return json::parse(text); }

// Every channel's payload of one page; null where the channel does not want the page.
json::object all_payloads(const MessageContext& ctx) {
  const ChatMessage m = compose_message(ctx);
  json::object o;
  o["slack"] = parsed(slack_payload(m));
  o["teams"] = parsed(teams_payload(m));
  o["webhook"] = parsed(webhook_payload(ctx));
  o["alertmanager"] =
      alertmanager_wants(ctx.page) ? parsed(alertmanager_payload(ctx, {})) : json::value(nullptr);
  o["pagerduty"] =
      pagerduty_wants(ctx.page) ? parsed(pagerduty_payload(ctx, {})) : json::value(nullptr);
  return o;
}

std::string golden_dir() { return testing::source_dir() + "/tests/alerting/golden/"; }

bool updating() {
  const char* v = std::getenv("BACKOUT_UPDATE_GOLDEN");
  return v != nullptr && *v != '\0' && std::string(v) != "0";
}

void check_golden(const std::string& file, const std::string& actual) {
  const std::string path = golden_dir() + file;
  if (updating()) {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << "missing golden file " << path
                         << " (run with BACKOUT_UPDATE_GOLDEN=1 to create it)";
  std::string expected((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(expected, actual) << "golden file " << path << " differs";
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, PayloadsMatch) {
  for (const testing::Scenario& s : testing::all_scenarios()) {
    if (s.name != GetParam()) {
      continue;
    }
    check_golden(s.name + ".json", testing::pretty_json(all_payloads(s.ctx)));
    check_golden(s.name + ".slack.txt", slack_text(compose_message(s.ctx)) + "\n");
    return;
  }
  FAIL() << "no scenario " << GetParam();
}

INSTANTIATE_TEST_SUITE_P(ReferenceScenarios, Golden,
                         ::testing::Values("critical_db_breach", "escalation", "repeat",
                                           "major_login_breach", "resolve",
                                           "major_login_fix_forward", "eta_passed",
                                           "early_detection", "pnr_warning", "severity_up",
                                           "minor_breach", "post_window_breach", "final_go",
                                           "final_backout"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(Golden, EveryScenarioIsCovered) { EXPECT_EQ(testing::all_scenarios().size(), 14u); }

}  // namespace
}  // namespace backout::alerting
