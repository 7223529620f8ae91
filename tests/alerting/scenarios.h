// The reference scenarios of the alerting tests: nights of the reference plan (built in code like
// deploy/examples/customer-portal-2.0.yaml) driven through the real decision engine and paging
// policy with hand-set trigger statuses, and the pages they produce as MessageContexts.
// Header-only (the test folder compiles *_test.cc only). Not thread-safe; pure: time is given.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "backout/alerting/channel.h"
#include "backout/rules/decision_engine.h"
#include "backout/rules/paging_policy.h"
#include "support/test_plan.h"

namespace backout::testing {

using namespace std::chrono_literals;

/// 02:00 +01:00 plus h:m:s (the test window starts at 02:00).
inline TimePoint clock_at(int hour, int minute, int second = 0) {
  return at((hour - 2) * 3600.0 + minute * 60.0 + second);
}

/// The reference plan's triggers on testing::base_plan(), plus one minor trigger.
inline rules::Plan reference_plan() {
  using rules::Severity;
  rules::Plan p = base_plan();
  auto add = [&](rules::Trigger t, const char* name) {
    t.name = name;
    p.triggers.push_back(std::move(t));
  };
  add(trigger("login_failure_rate",
              "ratio(portal.portal_login_failures_total, portal.portal_login_attempts_total)",
              "> 5%", Severity::kMajor, 5min, 1min, 50),
      "Login failure rate");
  add(trigger("transaction_errors",
              "ratio(portal.portal_transactions_failed_total, portal.portal_transactions_total)",
              "> 2%", Severity::kMajor, 5min, 1min, 20),
      "Transaction errors");
  add(trigger("page_load_time", "p95(home_page.duration)", "> 10s", Severity::kMajor),
      "Page load time");
  add(trigger("api_response_time", "p95(api.duration)", "> 5s", Severity::kMajor),
      "API response time");
  rules::Trigger error_rate = trigger(
      "error_rate", "ratio(portal.http_requests_total{code=~\"5..\"}, portal.http_requests_total)",
      "> 1%", Severity::kMajor, 5min, 30s, 100);
  add_level(error_rate, Severity::kCritical, "> 25%");
  add(error_rate, "Error rate");
  add(trigger("db_connectivity", "failures(portal_db)", "> 0", Severity::kCritical, 1min),
      "Database connectivity");
  add(trigger("system_unavailable", "availability(home_page)", "< 50%", Severity::kCritical, 1min),
      "System unavailable");
  add(trigger("data_integrity", "value(customers)", "< baseline", Severity::kCritical),
      "Customer count below pre-deployment count");
  add(trigger("performance_degradation", "p95(api.duration)", "> +50% baseline", Severity::kMajor,
              5min, 2min),
      "Performance degradation over 50%");
  add(trigger("search_latency", "p95(api.duration)", "> 2s", Severity::kMinor), "Search latency");
  return p;
}

/// One night: trigger statuses set by hand, pages from the real policy at each tick.
class Night {
 public:
  explicit Night(rules::Plan plan = reference_plan()) : plan_(std::move(plan)), policy_(plan_) {
    for (const rules::Trigger& t : plan_.triggers) {
      rules::TriggerStatus st;
      st.id = t.id;
      st.condition = t.levels.back().condition.text;
      st.threshold = t.levels.back().condition.relative
                         ? std::nullopt
                         : std::optional<double>(t.levels.back().condition.value);
      st.evidence = "no breach";
      statuses_.push_back(st);
      last_[t.id] = std::nullopt;
    }
  }
  Night(const Night&) = delete;
  Night& operator=(const Night&) = delete;

  const rules::Plan& plan() const { return plan_; }
  rules::HumanActs& acts() { return acts_; }
  const std::vector<rules::Episode>& episodes() const { return policy_.episodes(); }

  /// The trigger breaches (or stays breached) at `severity` with this reading.
  void breach(const std::string& id, rules::Severity severity, double value,
              const std::string& evidence, TimePoint since,
              rules::DetectionPath path = rules::DetectionPath::kAverage) {
    rules::TriggerStatus& st = status(id);
    const rules::Trigger& t = *plan_.trigger(id);
    st.state = rules::TriggerState::kBreached;
    st.severity = severity;
    st.value = value;
    st.evidence = evidence;
    st.since = since;
    st.path = path;
    st.count = 1000;
    for (const rules::Level& l : t.levels) {
      if (l.severity == severity) {
        st.condition = l.condition.text;
        st.threshold =
            l.condition.relative ? std::nullopt : std::optional<double>(l.condition.value);
      }
    }
  }

  /// The trigger is back to ok with this reading.
  void clear(const std::string& id, double value, const std::string& evidence, TimePoint since) {
    rules::TriggerStatus& st = status(id);
    const rules::Trigger& t = *plan_.trigger(id);
    st.state = rules::TriggerState::kOk;
    st.severity.reset();
    st.value = value;
    st.evidence = evidence;
    st.since = since;
    st.path = rules::DetectionPath::kAverage;
    st.condition = t.levels.back().condition.text;
    st.threshold = t.levels.back().condition.relative
                       ? std::nullopt
                       : std::optional<double>(t.levels.back().condition.value);
  }

  void ack(const std::string& id, const std::string& by, TimePoint now) {
    policy_.acknowledge(id, by, now);
  }

  /// One evaluator tick at `now`: the pages due, each with its full context. `extra` are breach
  /// changes of manual raises (POST /api/v1/raise), which have no trigger status.
  std::vector<alerting::MessageContext> tick(TimePoint now,
                                             std::vector<rules::BreachChange> extra = {}) {
    std::vector<rules::BreachChange> changes = std::move(extra);
    for (const rules::TriggerStatus& st : statuses_) {
      std::optional<rules::Severity> sev;
      if (st.state == rules::TriggerState::kBreached) {
        sev = st.severity;
      }
      if (sev != last_[st.id]) {
        changes.push_back({st.id, last_[st.id], sev});
        last_[st.id] = sev;
      }
    }
    rules::DecisionOutput decision = rules::decide(plan_, statuses_, acts_, now);
    std::vector<alerting::MessageContext> out;
    for (rules::Page& p : policy_.tick(now, changes, decision)) {
      alerting::MessageContext ctx;
      ctx.plan = &plan_;
      ctx.page = std::move(p);
      ctx.statuses = statuses_;
      ctx.decision = decision;
      ctx.episodes = policy_.episodes();
      ctx.acts = acts_;
      ctx.now = now;
      out.push_back(std::move(ctx));
    }
    return out;
  }

  /// The one page of `kind` at this tick; throws when there is none.
  alerting::MessageContext page(TimePoint now, rules::PageKind kind) {
    for (alerting::MessageContext& c : tick(now)) {
      if (c.page.kind == kind) {
        return std::move(c);
      }
    }
    throw std::runtime_error("no " + std::string(rules::to_string(kind)) + " page at that tick");
  }

 private:
  rules::TriggerStatus& status(const std::string& id) {
    for (rules::TriggerStatus& st : statuses_) {
      if (st.id == id) {
        return st;
      }
    }
    throw std::invalid_argument("no trigger " + id);
  }

  rules::Plan plan_;
  rules::PagingPolicy policy_;
  rules::HumanActs acts_;
  std::vector<rules::TriggerStatus> statuses_;
  std::map<std::string, std::optional<rules::Severity>> last_;
};

/// A named page of a reference night. The Night is kept because the context points at its plan.
struct Scenario {
  std::string name;
  std::shared_ptr<Night> night;
  alerting::MessageContext ctx;
};

inline const char* kDbEvidence = "3 failed checks over 1m (threshold > 0)";
inline const char* kLoginEvidence = "7.1% over 5m (threshold > 5%)";

/// Critical database breach at 03:08, not acknowledged: escalation at 03:13, reminder at 03:23.
inline std::vector<Scenario> database_night() {
  auto n = std::make_shared<Night>();
  std::vector<Scenario> out;
  n->tick(clock_at(3, 7));
  n->breach("db_connectivity", rules::Severity::kCritical, 3, kDbEvidence, clock_at(3, 8));
  out.push_back({"critical_db_breach", n, n->page(clock_at(3, 8), rules::PageKind::kBreach)});
  n->tick(clock_at(3, 10));
  out.push_back({"escalation", n, n->page(clock_at(3, 13), rules::PageKind::kEscalation)});
  out.push_back({"repeat", n, n->page(clock_at(3, 23), rules::PageKind::kRepeat)});
  return out;
}

/// Login failures: breach at 03:10 with no fix-forward; acknowledged and a fix-forward to 03:40
/// declared at 03:12; resolved 03:25; breached again 03:30 (fix-forward honoured); the ETA
/// passes at 03:40 with the breach open.
inline std::vector<Scenario> login_night() {
  auto n = std::make_shared<Night>();
  std::vector<Scenario> out;
  n->breach("login_failure_rate", rules::Severity::kMajor, 0.071, kLoginEvidence,
            clock_at(3, 9, 58));
  n->tick(clock_at(3, 9, 58));
  out.push_back({"major_login_breach", n, n->page(clock_at(3, 10), rules::PageKind::kBreach)});
  n->ack("login_failure_rate", "@john.smith", clock_at(3, 12));
  n->acts().fix_forwards.push_back(
      {"login_failure_rate", clock_at(3, 40), "@john.smith", clock_at(3, 12)});
  n->tick(clock_at(3, 12));
  n->clear("login_failure_rate", 0.021, "2.1% over 5m (threshold > 5%)", clock_at(3, 25));
  out.push_back({"resolve", n, n->page(clock_at(3, 25), rules::PageKind::kResolve)});
  n->breach("login_failure_rate", rules::Severity::kMajor, 0.064, "6.4% over 5m (threshold > 5%)",
            clock_at(3, 29, 58));
  n->tick(clock_at(3, 29, 58));
  out.push_back({"major_login_fix_forward", n, n->page(clock_at(3, 30), rules::PageKind::kBreach)});
  n->ack("login_failure_rate", "@john.smith", clock_at(3, 31));
  out.push_back({"eta_passed", n, n->page(clock_at(3, 40), rules::PageKind::kEtaPassed)});
  return out;
}

/// Early detection: login failures jump to ~20% at 02:39:57; the CUSUM fires 3 s later, long
/// before the 5-minute average crosses 5%.
inline Scenario early_detection() {
  auto n = std::make_shared<Night>();
  n->breach("login_failure_rate", rules::Severity::kMajor, 0.031,
            "~20% over the last 3.0s (61 of 305), above 5% with 99.9% confidence; 5m average 3.1%",
            clock_at(2, 39, 58), rules::DetectionPath::kEarly);
  n->tick(clock_at(2, 39, 58));
  return {"early_detection", n, n->page(clock_at(2, 40), rules::PageKind::kBreach)};
}

/// A major login breach at 04:00, acknowledged; 15 minutes before the point of no return (04:20)
/// the decider is warned.
inline Scenario pnr_warning() {
  auto n = std::make_shared<Night>();
  n->breach("login_failure_rate", rules::Severity::kMajor, 0.068, "6.8% over 5m (threshold > 5%)",
            clock_at(3, 59, 58));
  n->tick(clock_at(3, 59, 58));
  n->tick(clock_at(4, 0));
  n->ack("login_failure_rate", "@john.smith", clock_at(4, 2));
  return {"pnr_warning", n, n->page(clock_at(4, 5), rules::PageKind::kPnrWarning)};
}

/// Error rate breaches major at 02:30, is acknowledged, and rises to critical at 02:35.
inline Scenario severity_up() {
  auto n = std::make_shared<Night>();
  n->breach("error_rate", rules::Severity::kMajor, 0.034, "3.4% over 5m (threshold > 1%)",
            clock_at(2, 29, 58));
  n->tick(clock_at(2, 29, 58));
  n->tick(clock_at(2, 30));
  n->ack("error_rate", "@john.smith", clock_at(2, 31));
  n->breach("error_rate", rules::Severity::kCritical, 0.30, "30% over 5m (threshold > 25%)",
            clock_at(2, 35));
  return {"severity_up", n, n->page(clock_at(2, 35), rules::PageKind::kSeverityUp)};
}

/// A minor breach: posted, nobody paged.
inline Scenario minor_breach() {
  auto n = std::make_shared<Night>();
  n->breach("search_latency", rules::Severity::kMinor, 2.4, "p95 2.4s over 5m (threshold > 2s)",
            clock_at(2, 19, 58));
  n->tick(clock_at(2, 19, 58));
  return {"minor_breach", n, n->page(clock_at(2, 20), rules::PageKind::kBreach)};
}

/// A major breach after the window closed.
inline Scenario post_window_breach() {
  auto n = std::make_shared<Night>();
  n->tick(clock_at(5, 59));
  n->tick(clock_at(6, 0));  // the final GO goes out here
  n->breach("api_response_time", rules::Severity::kMajor, 6.2, "p95 6.2s over 5m (threshold > 5s)",
            clock_at(6, 9, 58));
  n->tick(clock_at(6, 9, 58));
  return {"post_window_breach", n, n->page(clock_at(6, 10), rules::PageKind::kBreach)};
}

/// A night with a critical and a major breach, both acknowledged and resolved, and a go decision:
/// the final GO at 06:00.
inline Scenario final_go() {
  auto n = std::make_shared<Night>();
  n->breach("db_connectivity", rules::Severity::kCritical, 2,
            "2 failed checks over 1m (threshold > 0)", clock_at(3, 8));
  n->tick(clock_at(3, 8));
  n->ack("db_connectivity", "@jane.doe", clock_at(3, 9));
  n->clear("db_connectivity", 0, "0 failed checks over 1m (threshold > 0)", clock_at(3, 11));
  n->tick(clock_at(3, 11));
  n->breach("login_failure_rate", rules::Severity::kMajor, 0.071, kLoginEvidence, clock_at(3, 12));
  n->tick(clock_at(3, 12));
  n->tick(clock_at(3, 12, 2));
  n->ack("login_failure_rate", "@john.smith", clock_at(3, 13));
  n->clear("login_failure_rate", 0.021, "2.1% over 5m (threshold > 5%)", clock_at(3, 25));
  n->tick(clock_at(3, 25));
  n->acts().decisions.push_back(
      {rules::HumanDecision::Kind::kGo, "@jane.doe", "release accepted", clock_at(5, 50), {}});
  n->tick(clock_at(5, 59));
  return {"final_go", n, n->page(clock_at(6, 0), rules::PageKind::kFinal)};
}

/// The database fails at 05:40 and the deployment lead decides backout at 05:45: the final
/// message at 06:00 reports the backout.
inline Scenario final_backout() {
  auto n = std::make_shared<Night>();
  n->breach("db_connectivity", rules::Severity::kCritical, 5,
            "5 failed checks over 1m (threshold > 0)", clock_at(5, 40));
  n->tick(clock_at(5, 40));
  n->ack("db_connectivity", "@jane.doe", clock_at(5, 41));
  n->acts().decisions.push_back({rules::HumanDecision::Kind::kBackout,
                                 "@jane.doe",
                                 "database failover failed",
                                 clock_at(5, 45),
                                 {}});
  n->tick(clock_at(5, 59));
  return {"final_backout", n, n->page(clock_at(6, 0), rules::PageKind::kFinal)};
}

/// Every reference scenario, in a stable order.
inline std::vector<Scenario> all_scenarios() {
  std::vector<Scenario> out = database_night();
  for (Scenario& s : login_night()) {
    out.push_back(std::move(s));
  }
  out.push_back(early_detection());
  out.push_back(pnr_warning());
  out.push_back(severity_up());
  out.push_back(minor_breach());
  out.push_back(post_window_breach());
  out.push_back(final_go());
  out.push_back(final_backout());
  return out;
}

}  // namespace backout::testing
