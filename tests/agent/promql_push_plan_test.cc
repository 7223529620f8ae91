// The plan loader with `promql` and `push` sources, now that both kinds have collectors: the
// reference plan still loads, sources of both kinds with triggers on their series load, and the
// promql kind's own check (query names `up` and `duration` are taken) reports at the key.
#include <gtest/gtest.h>

#include <string>

#include "app/kinds/kinds.h"
#include "plan/plan_loader.h"
#include "support/paths.h"

namespace backout::plan {
namespace {

std::string reference() {
  return backout::testing::read_file(backout::testing::reference_plan_path());
}

LoadResult load(const std::string& text) {
  return load_plan_text(text, "plan.yaml", agent::builtin_kinds().catalog);
}

std::string errors(const LoadResult& r) {
  std::string out;
  for (const Diagnostic& d : r.diagnostics) {
    out += d.format() + "\n";
  }
  return out;
}

// The reference plan with `sources` added at the top of its sources and `triggers` at the end
// of its triggers.
std::string with(const std::string& sources, const std::string& triggers) {
  std::string text = reference();
  const std::size_t s = text.find("\nsources:\n");
  EXPECT_NE(s, std::string::npos);
  text.insert(s + 10, sources);
  const std::size_t n = text.find("\nnotify:\n");
  EXPECT_NE(n, std::string::npos);
  text.insert(n, triggers);
  return text;
}

constexpr char kSources[] =
    "  prom:\n"
    "    kind: promql\n"
    "    url: http://127.0.0.1:9090\n"
    "    every: 5s\n"
    "    queries:\n"
    "      error_ratio: 'sum(rate(http_requests_total{code=~\"5..\"}[1m])) / "
    "sum(rate(http_requests_total[1m]))'\n"
    "      queue_depth: max(queue_depth)\n"
    "  events:\n"
    "    kind: push\n"
    "    statsd_listen: 127.0.0.1:8125\n"
    "    series: [logins, login_failures, login_seconds]\n";

constexpr char kTriggers[] =
    "\n"
    "  - id: prom_error_ratio\n"
    "    name: Error ratio from Prometheus\n"
    "    measure: value(prom.error_ratio)\n"
    "    when: \"> 5%\"\n"
    "    severity: major\n"
    "\n"
    "  - id: pushed_login_failures\n"
    "    name: Pushed login failures\n"
    "    measure: ratio(events.login_failures, events.logins)\n"
    "    over: 5m\n"
    "    when: \"> 5%\"\n"
    "    severity: major\n"
    "\n"
    "  - id: pushed_login_time\n"
    "    name: Pushed login time\n"
    "    measure: p95(events.login_seconds)\n"
    "    over: 5m\n"
    "    when: \"> 2s\"\n"
    "    severity: major\n";

TEST(PromqlPushPlanTest, ReferencePlanStillLoads) {
  LoadResult r = load(reference());
  EXPECT_TRUE(r.ok()) << errors(r);
}

TEST(PromqlPushPlanTest, PlanWithPromqlAndPushSourcesLoads) {
  LoadResult r = load(with(kSources, kTriggers));
  ASSERT_TRUE(r.ok()) << errors(r);
  bool prom = false;
  bool events = false;
  for (const Source& s : r.plan->sources) {
    prom = prom || (s.id == "prom" && s.kind == "promql");
    events = events || (s.id == "events" && s.kind == "push");
  }
  EXPECT_TRUE(prom);
  EXPECT_TRUE(events);
}

TEST(PromqlPushPlanTest, PromqlQueryNamedUpIsRefused) {
  LoadResult r = load(with(
      "  prom:\n    kind: promql\n    url: http://127.0.0.1:9090\n    queries: { up: 'sum(up)' }\n",
      ""));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(errors(r).find("sources.prom"), std::string::npos) << errors(r);
  EXPECT_NE(errors(r).find("query name 'up' is taken"), std::string::npos) << errors(r);
}

}  // namespace
}  // namespace backout::plan
