// The review's answers: planned against actual (Test Results), the findings (What could be
// improved?), the template's review questions and the one-sentence outcome.
#include "app/report/review_parts.h"
#include "backout/core/text.h"

namespace backout::agent::report {
namespace {

// The writers of one Facts: the review, the names, and what every section asks of them.
class Writer {
 public:
  Writer(Facts& f, const Names& names) : f_(f), r_(f.review), n_(names) {}

  std::string t(TimePoint at) const { return n_.t(at); }
  static std::string span(Duration d) { return Names::span(d); }
  std::optional<TimePoint> pnr() const { return point_of_no_return(r_.header); }
  const Decision* decided() const {
    return f_.backout_decision ? &f_.decisions[*f_.backout_decision] : nullptr;
  }
  // The first (or the last) go decision.
  const Decision* go(bool last = false) const {
    const Decision* found = nullptr;
    for (const Decision& d : f_.decisions) {
      if (d.decision == "go" && (last || found == nullptr)) {
        found = &d;
      }
    }
    return found;
  }
  std::string page_about(const PageRecord& p) const {
    return page_title(p.kind) + " page about " + n_.names(p.triggers) + " (" + t(p.at) + ")";
  }
  std::optional<EpisodeRecord> cause_episode() const {
    return r_.cause ? std::optional<EpisodeRecord>(r_.episodes[r_.cause->episode]) : std::nullopt;
  }

  void durations() {
    total_backout();
    backout_decision();
    procedure();
    for (const PageRecord& p : r_.pages) {
      if (!p.decides.empty()) {
        page_delivery(p);
      }
    }
    for (const EpisodeRecord& ep : r_.episodes) {
      if (ep.paged_at) {
        acknowledgement(ep);
      }
    }
  }

  void findings() {
    // Delivery first, then acknowledgement, sources and restarts: the order a night unfolds.
    delivery_findings();
    for (const EpisodeRecord& ep : r_.episodes) {
      if (ep.paged_at) {
        ack_finding(ep);
      }
    }
    record_findings();
    decision_findings();
  }

  void answers() {
    what_triggered();
    was_it_appropriate();
    as_planned();
    actual_duration();
    Answer a{"What could be improved?", r_.findings, true};
    if (a.facts.empty() && !r_.pages.empty()) {
      a.facts.push_back(
          "Nothing stood out in the timeline: every page was delivered at the "
          "first attempt and no acknowledgement was late.");
    }
    r_.answers.push_back(std::move(a));
    r_.answers.push_back({"Root cause of original issue?", {}, true});
    r_.answers.push_back({"Plan for next attempt?", {}, true});
  }

  void outcome();

 private:
  void total_backout();
  void backout_decision();
  /// The backout's steps, planned against actual, and the procedure's total (DESIGN section 9).
  void procedure();
  const rules::BackoutStep* planned_step(const std::string& id) const {
    const rules::Plan* p = n_.plan();
    if (p == nullptr || !p->backout) {
      return nullptr;
    }
    for (const rules::BackoutStep& s : p->backout->steps) {
      if (s.id == id) {
        return &s;
      }
    }
    return nullptr;
  }
  /// Steps done and failed, those that ran over their planned time, and the procedure's span.
  struct StepSummary {
    std::size_t done = 0;
    std::vector<std::string> failed;
    std::vector<std::string> over;  // "restore_db (45m against 30m)"
    std::optional<TimePoint> first_start;
    std::optional<TimePoint> last_done;
    Duration planned{0};
    bool planned_known = true;
  };
  StepSummary step_summary() const;
  void page_delivery(const PageRecord& p);
  void acknowledgement(const EpisodeRecord& ep);
  void delivery_findings();
  void ack_finding(const EpisodeRecord& ep);
  void record_findings();
  void decision_findings();
  void what_triggered();
  void was_it_appropriate();
  void as_planned();
  void actual_duration();
  std::string cause_text(const EpisodeRecord& ep) const;
  std::string rehearsed(const char* before, const char* after) const {
    const auto& d = r_.header.backout_duration;
    return d ? before + format_duration(*d) + after : std::string();
  }

  Facts& f_;
  Review& r_;
  const Names& n_;
};

// Total backout: rehearsed against decision -> complete (or the end of the record).
void Writer::total_backout() {
  const ReviewHeader& h = r_.header;
  DurationRow row;
  row.test = "Total backout";
  row.expected = h.backout_duration ? format_duration(*h.backout_duration) + " (rehearsed)"
                                    : "unknown (give --plan)";
  if (!r_.backout_decided_at) {
    row.actual = "no backout decided";
  } else if (r_.backout_complete_at) {
    const Duration d = *r_.backout_complete_at - *r_.backout_decided_at;
    row.actual =
        span(d) + " (" + t(*r_.backout_decided_at) + " to " + t(*r_.backout_complete_at) + ")";
    if (h.backout_duration && d > *h.backout_duration) {
      row.issues = span(d - *h.backout_duration) + " over the rehearsed duration";
    } else if (h.backout_duration) {
      row.issues = "within the rehearsed duration";
    }
  } else {
    row.actual = "at least " + span(*r_.last_at - *r_.backout_decided_at) + " (decided " +
                 t(*r_.backout_decided_at) + "; the record ends " + t(*r_.last_at) +
                 " with no 'backout complete')";
  }
  const auto end = window_end(h);
  if (r_.backout_decided_at && h.backout_duration && end &&
      *r_.backout_decided_at + *h.backout_duration > *end) {
    row.issues += std::string(row.issues.empty() ? "" : "; ") +
                  "started at the decision, it ends " +
                  span(*r_.backout_decided_at + *h.backout_duration - *end) +
                  " after the window (" + t(*end) + ")";
  }
  r_.durations.push_back(std::move(row));
}

// The decision against the point of no return.
void Writer::backout_decision() {
  DurationRow row;
  row.test = "Backout decision";
  row.expected = pnr() ? "by the point of no return, " + t(*pnr()) : "by the point of no return";
  if (const Decision* d = decided()) {
    row.actual = t(d->at) + " by " + n_.who(d->by);
    if (auto onset = backout_onset(f_, d->at)) {
      row.actual += ", " + span(d->at - *onset) + " after BACKOUT was recommended";
    }
    if (pnr() && d->at > *pnr()) {
      row.issues = span(d->at - *pnr()) + " after the point of no return";
    } else if (pnr()) {
      row.issues = span(*pnr() - d->at) + " before the point of no return";
    }
  } else if (r_.backout_recommended_at) {
    row.actual = "not decided (BACKOUT recommended " + t(*r_.backout_recommended_at) + ")";
  } else {
    row.actual = "no backout";
  }
  r_.durations.push_back(std::move(row));
}

// Detection (or the page's decision) to delivery, for a page that paged someone.
void Writer::page_delivery(const PageRecord& p) {
  DurationRow row;
  const TimePoint from = p.detected_at ? *p.detected_at : p.at;
  row.test =
      std::string(p.detected_at ? "Detection to delivery: " : "Page to delivery: ") + page_about(p);
  if (n_.plan() != nullptr && p.detected_at) {
    row.expected = p.severity == "critical"
                       ? "immediate (critical)"
                       : "after group_wait " + format_duration(n_.plan()->notify.group_wait);
  } else {
    row.expected = p.detected_at ? "" : "immediate";
  }
  auto delivered = p.first_delivered();
  row.actual = delivered ? span(*delivered - from) : "not delivered";
  std::vector<std::string> issues;
  for (const DeliveryRecord& d : p.deliveries) {
    if (d.outcome == "delivered" && d.attempts > 1) {
      issues.push_back(std::to_string(d.attempts) + " attempts on " + d.channel +
                       (d.first_error.empty() ? "" : " (" + d.first_error + ")"));
    } else if (d.outcome != "delivered") {
      issues.push_back(d.outcome + " on " + d.channel +
                       (d.detail.empty() ? "" : " (" + d.detail + ")"));
    }
  }
  if (p.deliveries.empty()) {
    issues.push_back("no delivery recorded");
  }
  row.issues = join(issues, "; ");
  r_.durations.push_back(std::move(row));
}

// The acknowledgement of a paged breach.
void Writer::acknowledgement(const EpisodeRecord& ep) {
  DurationRow row;
  row.test = "Acknowledgement: " + ep.name + " (paged " + t(*ep.paged_at) + ")";
  row.expected = ep.ack_within ? "within " + format_duration(*ep.ack_within) : "";
  std::vector<std::string> issues;
  if (ep.acked_at) {
    const Duration d = *ep.acked_at - *ep.paged_at;
    row.actual = span(d) + " by " + ep.acked_by;
    if (ep.ack_within && d > *ep.ack_within) {
      issues.push_back(span(d - *ep.ack_within) + " late");
    }
  } else {
    row.actual = ep.resolved_at ? "not acknowledged (resolved " + t(*ep.resolved_at) + ")"
                                : "not acknowledged";
  }
  if (ep.escalated_at) {
    issues.push_back("escalated to " + ep.escalated_to + " at " + t(*ep.escalated_at));
  }
  row.issues = join(issues, "; ");
  r_.durations.push_back(std::move(row));
}

void Writer::delivery_findings() {
  std::vector<std::string>& out = r_.findings;
  std::size_t unrecorded = 0;
  for (const PageRecord& p : r_.pages) {
    const std::string about = page_about(p);
    if (p.deliveries.empty() && !p.decides.empty()) {
      ++unrecorded;
    }
    for (const DeliveryRecord& d : p.deliveries) {
      if (d.outcome == "delivered" && d.attempts > 1) {
        out.push_back("The " + about + " needed " + std::to_string(d.attempts) + " attempts on " +
                      d.channel +
                      (d.first_error.empty() ? "" : " (first error: " + d.first_error + ")") +
                      (d.at ? "; delivered " + span(*d.at - p.at) + " after the page" : "") + ".");
      } else if (d.outcome == "dropped") {
        out.push_back("The " + about + " was refused for good by " + d.channel +
                      (d.detail.empty() ? "" : ": " + d.detail) +
                      "; check the channel's configuration.");
      } else if (d.outcome != "delivered") {
        out.push_back("The " + about + " was never delivered to " + d.channel +
                      (d.attempts > 0
                           ? " (" + std::to_string(d.attempts) + " attempts" +
                                 (d.detail.empty() ? "" : ", last error: " + d.detail) + ")"
                           : "") +
                      ".");
      }
    }
  }
  if (unrecorded > 0) {
    out.push_back(std::to_string(unrecorded) + (unrecorded == 1 ? " page has" : " pages have") +
                  " no delivery recorded: was a notify channel configured?");
  }
}

void Writer::ack_finding(const EpisodeRecord& ep) {
  const std::string page = "page about " + ep.name + " (" + t(*ep.paged_at) + ")";
  const std::string esc =
      ep.escalated_at ? "; it was escalated to " + ep.escalated_to + " at " + t(*ep.escalated_at)
                      : std::string();
  if (ep.acked_at) {
    const Duration d = *ep.acked_at - *ep.paged_at;
    if (ep.ack_within && d > *ep.ack_within) {
      r_.findings.push_back("The " + page + " was acknowledged " + span(d) +
                            " after it was sent, over the plan's " +
                            format_duration(*ep.ack_within) + esc + ".");
    } else if (ep.escalated_at) {
      r_.findings.push_back("The " + page + " was not acknowledged in time" + esc + ".");
    }
    return;
  }
  const bool long_open =
      !ep.resolved_at || (ep.ack_within && *ep.resolved_at - *ep.paged_at > *ep.ack_within);
  if (ep.escalated_at || long_open) {
    r_.findings.push_back("Nobody acknowledged the " + page + esc +
                          (ep.resolved_at ? "; it resolved at " + t(*ep.resolved_at)
                                          : "; it was still open at the end of the record") +
                          ".");
  }
}

// What the record itself shows: pages never recorded, sources down, restarts.
void Writer::record_findings() {
  for (const alerting::OutboxMessage& m : f_.orphan_messages) {
    r_.findings.push_back("The message " + m.key + " for " + m.channel +
                          " is in the outbox without a recorded delivery (" +
                          std::to_string(m.attempts) + " attempts" +
                          (m.last_error.empty() ? "" : ", last error: " + m.last_error) + ").");
  }
  for (const SourcePeriod& p : f_.down) {
    r_.findings.push_back("Source " + p.source + " was down from " + t(p.from) +
                          (p.to ? " to " + t(*p.to) + " (" + span(*p.to - p.from) + ")"
                                : " to the end of the record") +
                          (p.error.empty() ? "" : ": " + p.error) + ".");
  }
  for (const Restart& rs : f_.restarts) {
    r_.findings.push_back("The agent restarted at " + t(rs.at) +
                          (rs.gap ? " (no events for " + span(*rs.gap) + " before it)" : "") + ".");
  }
}

// The decisions: late, missing, by someone without the authority; missed ETAs; lost entries.
void Writer::decision_findings() {
  std::vector<std::string>& out = r_.findings;
  if (r_.backout_decided_at && pnr() && *r_.backout_decided_at > *pnr()) {
    out.push_back("The backout was decided " + span(*r_.backout_decided_at - *pnr()) +
                  " after the point of no return (" + t(*pnr()) + ").");
  }
  if (r_.backout_recommended_at && !r_.backout_decided_at && go() == nullptr) {
    out.push_back("BACKOUT was recommended at " + t(*r_.backout_recommended_at) +
                  " but no decision (backout or go) was recorded.");
  }
  for (const Act& a : r_.acts) {
    if (a.authority.rfind("not the plan's decider", 0) == 0) {
      out.push_back("The " + a.what + " at " + t(a.at) + " was taken by " + a.who + ", " +
                    a.authority + ".");
    }
  }
  for (std::size_t act : f_.missed_etas) {
    const Act& a = r_.acts[act];
    out.push_back("The fix-forward declared by " + a.who + " at " + t(a.at) + " missed its ETA (" +
                  a.details + ").");
  }
  if (r_.unreadable_events > 0) {
    out.push_back(std::to_string(r_.unreadable_events) +
                  " timeline entries could not be read and are not in this review.");
  }
}

// 1. What triggered the backout?
void Writer::what_triggered() {
  Answer a{"What triggered the backout?", {}, false};
  const auto cause_ep = cause_episode();
  if (cause_ep) {
    a.facts.push_back(cause_text(*cause_ep) + ".");
    if (!r_.cause->evidence.empty()) {
      a.facts.push_back("The agent recommended " + r_.cause->recommendation + " at " +
                        t(*r_.cause->evidence_at) + ": " + r_.cause->evidence + ".");
    }
  }
  const Decision* d = decided();
  if (d != nullptr) {
    a.facts.push_back("The backout was decided by " + n_.who(d->by) + " at " + t(d->at) +
                      (d->note.empty() ? "" : ": \"" + d->note + "\"") + ".");
  }
  if (!cause_ep && d == nullptr && !r_.backout_recommended_at) {
    a.facts.push_back("No backout: the agent never recommended one and nobody decided one.");
  } else if (!cause_ep && d == nullptr) {
    a.facts.push_back("BACKOUT was recommended at " + t(*r_.backout_recommended_at) + ".");
  }
  a.needs_team = a.facts.empty();
  r_.answers.push_back(std::move(a));
}

// 2. Was the trigger appropriate?
void Writer::was_it_appropriate() {
  Answer a{"Was the trigger appropriate?", {}, true};
  const Decision* d = decided();
  const Decision* g = go();
  const auto onset = d != nullptr ? backout_onset(f_, d->at) : std::nullopt;
  if (d != nullptr && onset) {
    a.facts.push_back("Confirmed by a person: " + n_.who(d->by) + " decided backout at " +
                      t(d->at) + ", " + span(d->at - *onset) + " after the agent recommended it.");
  } else if (d != nullptr) {
    a.facts.push_back(n_.who(d->by) + " decided backout at " + t(d->at) +
                      " without the agent recommending it.");
  } else if (g != nullptr && r_.backout_recommended_at) {
    a.facts.push_back("Not confirmed: " + n_.who(g->by) + " decided go at " + t(g->at) +
                      (g->note.empty() ? "" : " (\"" + g->note + "\")") + ".");
  } else if (r_.backout_recommended_at) {
    a.facts.push_back(
        "No person confirmed or overruled the BACKOUT recommendation in the "
        "record.");
  }
  if (const auto ep = cause_episode()) {
    if (ep->manual) {
      a.facts.push_back("It was raised by a person, not measured.");
    } else if (!ep->path.empty()) {
      a.facts.push_back("It was detected by the " + ep->path + ".");
    }
    if (ep->resolved_at) {
      a.facts.push_back(
          "The breach resolved at " + t(*ep->resolved_at) + ", " +
          span(*ep->resolved_at - ep->breached_at) + " after it opened" +
          (d != nullptr && *ep->resolved_at <= d->at ? ", before the backout was decided" : "") +
          ".");
    } else {
      a.facts.push_back("The breach was still open at the end of the record (" + t(*r_.last_at) +
                        ").");
    }
  }
  if (d == nullptr && !r_.backout_recommended_at) {
    a.facts.push_back("No backout was triggered.");
    a.needs_team = false;
  }
  r_.answers.push_back(std::move(a));
}

Writer::StepSummary Writer::step_summary() const {
  StepSummary out;
  for (const StepRecord& st : r_.steps) {
    const rules::BackoutStep* p = planned_step(st.id);
    if (p != nullptr) {
      out.planned += p->duration;
    } else {
      out.planned_known = false;
    }
    if (st.started_at && (!out.first_start || *st.started_at < *out.first_start)) {
      out.first_start = st.started_at;
    }
    if (!st.done_at) {
      continue;
    }
    ++out.done;
    if (!out.last_done || *st.done_at > *out.last_done) {
      out.last_done = st.done_at;
    }
    if (st.failed || st.check_failed) {
      out.failed.push_back(st.id);
    }
    if (p != nullptr && st.started_at && *st.done_at - *st.started_at > p->duration) {
      out.over.push_back(st.id + " (" + span(*st.done_at - *st.started_at) + " against " +
                         format_duration(p->duration) + ")");
    }
  }
  return out;
}

void Writer::procedure() {
  for (std::size_t i = 0; i < r_.steps.size(); ++i) {
    const StepRecord& st = r_.steps[i];
    const rules::BackoutStep* p = planned_step(st.id);
    DurationRow row;
    row.test = "Step " + std::to_string(i + 1) + ": " + (p != nullptr ? p->action : st.id) +
               (p != nullptr ? ", " + n_.role_who(p->owner) : std::string());
    row.expected = p != nullptr ? format_duration(p->duration) : "";
    std::vector<std::string> issues;
    if (st.started_at && st.done_at) {
      const Duration took = *st.done_at - *st.started_at;
      row.actual = span(took) + " (" + t(*st.started_at) + " to " + t(*st.done_at) + ")";
      if (p != nullptr && took > p->duration) {
        issues.push_back(span(took - p->duration) + " over");
      }
    } else if (st.started_at) {
      row.actual = "not done; started " + t(*st.started_at);
      issues.push_back("not done by the end of the record");
    } else {
      row.actual = "not started";
    }
    if (st.failed) {
      issues.push_back("reported as not working by " + n_.who(st.by));
    }
    if (st.check_failed && !st.failed) {
      issues.push_back("its check failed");
    }
    if (st.verified) {
      issues.push_back("check verified");
    }
    if (!st.note.empty()) {
      issues.push_back("note: " + st.note);
    }
    row.issues = join(issues, "; ");
    r_.durations.push_back(std::move(row));
  }
  if (r_.steps.empty()) {
    return;
  }
  const StepSummary sum = step_summary();
  DurationRow total;
  total.test = "Backout procedure (" + std::to_string(r_.steps.size()) + " steps)";
  total.expected = sum.planned_known ? format_duration(sum.planned) : "";
  if (sum.first_start && sum.last_done && sum.done == r_.steps.size()) {
    const Duration took = *sum.last_done - *sum.first_start;
    total.actual = span(took);
    if (sum.planned_known && took > sum.planned) {
      total.issues = span(took - sum.planned) + " over the planned steps";
    }
  } else {
    total.actual = std::to_string(sum.done) + " of " + std::to_string(r_.steps.size()) +
                   " steps done";
  }
  r_.durations.push_back(std::move(total));
  DurationRow verify;
  verify.test = "Verify reversal";
  if (const rules::Plan* p = n_.plan(); p != nullptr && p->backout) {
    verify.expected = "within " + format_duration(p->backout->timeout) + " (held " +
                      format_duration(p->backout->hold) + ")";
  }
  if (r_.reversal_verified_at && r_.backout_complete_at) {
    verify.actual = "verified at " + t(*r_.reversal_verified_at) + ", " +
                    span(*r_.reversal_verified_at - *r_.backout_complete_at) +
                    " after the last step";
  } else if (r_.reversal_incomplete_at) {
    verify.actual = "incomplete at " + t(*r_.reversal_incomplete_at);
    verify.issues = "failing: " + join(r_.reversal_failing, ", ");
  } else {
    verify.actual = "not verified";
  }
  r_.durations.push_back(std::move(verify));
}

// 3. Did backout execute as planned?
void Writer::as_planned() {
  Answer a{"Did backout execute as planned?", {}, true};
  const Decision* d = decided();
  if (d == nullptr) {
    a.facts.push_back("No backout was executed.");
    a.needs_team = false;
    r_.answers.push_back(std::move(a));
    return;
  }
  if (const auto p = pnr()) {
    a.facts.push_back("The backout was decided at " + t(d->at) + ", " +
                      (d->at <= *p
                           ? span(*p - d->at) + " before the point of no return (" + t(*p) + ")"
                           : span(d->at - *p) + " after the point of no return (" + t(*p) + ")") +
                      ".");
  }
  if (r_.backout_complete_at) {
    const Duration took = *r_.backout_complete_at - d->at;
    std::string s = "Backout complete was recorded at " + t(*r_.backout_complete_at) + ", " +
                    span(took) + " after the decision";
    if (const auto& rehearsed = r_.header.backout_duration) {
      s += took <= *rehearsed ? ", within the rehearsed " + format_duration(*rehearsed)
                              : ", " + span(took - *rehearsed) + " over the rehearsed " +
                                    format_duration(*rehearsed);
    }
    a.facts.push_back(s + ".");
  } else {
    a.facts.push_back(
        "No 'backout complete' was recorded: the steps and their verification are "
        "not in the agent's record.");
  }
  if (!r_.steps.empty()) {
    const StepSummary sum = step_summary();
    std::string s = std::to_string(sum.done) + " of " + std::to_string(r_.steps.size()) +
                    " steps were done";
    s += sum.over.empty() ? ", none over its planned time"
                          : "; over their planned time: " + join(sum.over, ", ");
    if (!sum.failed.empty()) {
      s += "; did not work: " + join(sum.failed, ", ");
    }
    a.facts.push_back(s + ".");
    if (r_.reversal_verified_at) {
      a.facts.push_back("The reversal was verified at " + t(*r_.reversal_verified_at) + ".");
    } else if (r_.reversal_incomplete_at) {
      a.facts.push_back("The reversal was not verified: failing at " +
                        t(*r_.reversal_incomplete_at) + ": " + join(r_.reversal_failing, ", ") +
                        ".");
    }
  }
  r_.answers.push_back(std::move(a));
}

// 4. What was the actual duration?
void Writer::actual_duration() {
  Answer a{"What was the actual duration?", {}, true};
  const Decision* d = decided();
  if (d == nullptr) {
    a.facts.push_back("No backout was executed.");
    a.needs_team = false;
  } else if (r_.backout_complete_at) {
    a.facts.push_back(span(*r_.backout_complete_at - d->at) + " (decision " + t(d->at) +
                      " to backout complete " + t(*r_.backout_complete_at) + ")" +
                      rehearsed("; rehearsed ", "") + ".");
    if (!r_.steps.empty()) {
      const StepSummary sum = step_summary();
      if (sum.planned_known) {
        a.facts.push_back("The steps were planned at " + format_duration(sum.planned) + ".");
      }
    }
    if (r_.reversal_verified_at) {
      a.facts.push_back("With the verification: " + span(*r_.reversal_verified_at - d->at) +
                        " (reversal verified at " + t(*r_.reversal_verified_at) + ").");
    }
    a.needs_team = false;
  } else {
    a.facts.push_back("At least " + span(*r_.last_at - d->at) + ": from the decision at " +
                      t(d->at) + " to the end of the record at " + t(*r_.last_at) +
                      "; no 'backout complete' was recorded" + rehearsed(" (rehearsed ", ")") +
                      ".");
  }
  r_.answers.push_back(std::move(a));
}

std::string Writer::cause_text(const EpisodeRecord& ep) const {
  if (ep.manual) {
    return "A manual " + ep.severity + " raise (" + ep.trigger + ") by " + ep.raised_by + " at " +
           t(ep.breached_at) + ": " + ep.reason;
  }
  return n_.trigger_text(ep.trigger) + " breached at " + t(ep.breached_at) +
         (ep.severity.empty() ? "" : " with severity " + ep.severity) +
         (ep.value.empty() ? "" : ", value " + ep.value) +
         (ep.path.empty() ? "" : ", by the " + ep.path);
}

void Writer::outcome() {
  if (f_.events.empty()) {
    r_.outcome = "The timeline is empty: the agent recorded nothing.";
    return;
  }
  std::string s;
  if (const Decision* d = decided()) {
    s = "BACKOUT, decided by " + n_.who(d->by) + " at " + t(d->at);
    if (const auto ep = cause_episode()) {
      s += ep->manual
               ? " after a manual " + ep->severity + " raise by " + ep->raised_by
               : " after " + ep->name + " breached (" + ep->severity + ") at " + t(ep->breached_at);
    }
    s += r_.backout_complete_at ? "; backout complete at " + t(*r_.backout_complete_at)
                                : "; no 'backout complete' recorded";
  } else if (r_.backout_recommended_at) {
    const Decision* g = go(/*last=*/true);
    s = "BACKOUT recommended at " + t(*r_.backout_recommended_at) +
        (g ? "; GO decided by " + n_.who(g->by) + " at " + t(g->at)
           : "; no backout decision recorded");
  } else if (!f_.recs.empty()) {
    s = "No backout. Last recommendation: " + headline(f_.recs.back().rec) + " (" +
        t(f_.recs.back().at) + ")";
  } else {
    s = "No backout and no recommendation recorded";
  }
  for (const PageRecord& p : r_.pages) {
    if (p.kind == "final") {
      s += "; final message " + t(p.at);
    }
  }
  r_.outcome = s + ".";
}

}  // namespace

void write_durations(Facts& f, const Names& names) { Writer(f, names).durations(); }
void write_findings(Facts& f, const Names& names) { Writer(f, names).findings(); }
void write_answers(Facts& f, const Names& names) { Writer(f, names).answers(); }
void write_outcome(Facts& f, const Names& names) { Writer(f, names).outcome(); }

}  // namespace backout::agent::report
