#include "support/test_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

#include "backout/rules/expression_parser.h"

namespace backout::testing {

TimePoint at(double seconds) {
  static const TimePoint start = parse_rfc3339("2026-06-07T02:00:00+01:00")->at;
  return start + from_seconds(seconds);
}

rules::Plan base_plan() {
  rules::Plan p;
  p.path = "test-plan.yaml";
  p.header = {"Customer Portal Enhancement", "2.0", "John Smith (PM)", "1.2", true};
  p.window.start = *parse_rfc3339("2026-06-07T02:00:00+01:00");
  p.window.end = *parse_rfc3339("2026-06-07T06:00:00+01:00");
  p.window.backout_duration = std::chrono::minutes{100};
  p.window.warn_before_pnr = std::chrono::minutes{15};
  p.window.baseline = std::chrono::minutes{30};
  p.contacts = {
      {"deployment_lead", "Jane Doe", "@jane.doe", "", "on-site"},
      {"project_manager", "John Smith", "@john.smith", "", "on-call"},
      {"sponsor", "Sarah Williams", "@sarah.williams", "", "on-call"},
      {"steering_group", "Steering Group", "@steering-group", "", ""},
  };
  using rules::Severity;
  p.authority[Severity::kCritical] = {Severity::kCritical, "deployment_lead",
                                      {"project_manager", "sponsor"}, std::chrono::minutes{5},
                                      "project_manager"};
  p.authority[Severity::kMajor] = {Severity::kMajor, "project_manager", {"sponsor"},
                                   std::chrono::minutes{10}, "sponsor"};
  p.authority[Severity::kDiscretionary] = {Severity::kDiscretionary, "sponsor",
                                           {"steering_group"}, std::nullopt, std::nullopt};
  for (const char* id : {"portal", "home_page", "api", "portal_db", "customers"}) {
    Source s;
    s.id = id;
    s.kind = std::string(id) == "portal" ? "prometheus" : "http";
    p.sources.push_back(s);
  }
  p.notify.repeat_every = std::chrono::minutes{10};
  p.notify.group_wait = std::chrono::seconds{2};
  p.state_dir = "/tmp";
  return p;
}

namespace {
rules::Condition condition(const std::string& when) {
  auto c = rules::parse_condition(when);
  if (auto* e = std::get_if<rules::ParseError>(&c)) {
    throw std::invalid_argument("bad condition in test: " + when + ": " + e->message);
  }
  return std::get<rules::Condition>(c);
}
}  // namespace

rules::Trigger trigger(const std::string& id, const std::string& measure, const std::string& when,
                       rules::Severity severity, Duration over, Duration for_duration,
                       std::uint64_t min_count) {
  rules::Trigger t;
  t.id = id;
  t.name = id;
  auto m = rules::parse_measure(measure);
  if (auto* e = std::get_if<rules::ParseError>(&m)) {
    throw std::invalid_argument("bad measure in test: " + measure + ": " + e->message);
  }
  t.measure = std::get<rules::Measure>(m);
  t.over = over;
  t.for_duration = for_duration;
  t.clear_after = std::max<Duration>(for_duration, std::chrono::seconds{30});
  t.min_count = min_count;
  t.levels.push_back({severity, condition(when)});
  t.early.enabled = false;
  return t;
}

void add_level(rules::Trigger& t, rules::Severity severity, const std::string& when) {
  t.levels.push_back({severity, condition(when)});
  std::stable_sort(t.levels.begin(), t.levels.end(),
                   [](const rules::Level& a, const rules::Level& b) {
                     return a.severity > b.severity;
                   });
}

}  // namespace backout::testing
