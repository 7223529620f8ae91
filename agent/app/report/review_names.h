// How the review names things: people and roles (with the plan, "Jane Doe (Deployment Lead,
// @jane.doe)"; without, as recorded), triggers ("Login failure rate (login_failure_rate)"),
// measured values in their measure's unit, times in the window's offset, and the record's
// vocabulary (recommendation headlines, page titles, severity order). Internal to the report.
// Pure; a Names is immutable once made (it reads the episodes it is given as they grow).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/report/review.h"
#include "backout/rules/plan.h"

namespace backout::agent::report {

/// The order of severities (minor < ... < critical); -1 for none or an unknown name.
int severity_rank(const std::string& severity);
/// A recommendation as the review shows it: "fix_forward" -> "FIX-FORWARD".
std::string headline(std::string_view recommendation);
/// A page kind as the review shows it: "pnr_warning" -> "point-of-no-return warning".
std::string page_title(std::string_view kind);
/// Whether the kind of an outbox key ("breach" of "breach:a#1") is a page of the paging policy;
/// people's acts echoed to chat and Alertmanager refreshes are not.
bool is_page_kind(std::string_view kind);
/// Case-insensitive equality (chat handles, names).
bool iequal(std::string_view a, std::string_view b);

class Names {
 public:
  /// `plan` may be null. `episodes` are the review's, read as they grow: a manual raise's id is
  /// named by its reason.
  Names(const rules::Plan* plan, std::chrono::minutes offset, std::optional<TimePoint> base,
        const std::vector<EpisodeRecord>& episodes)
      : plan_(plan), offset_(offset), base_(base), episodes_(episodes) {}

  const rules::Plan* plan() const { return plan_; }

  /// A time of the night (review_time, with the date when another day than the window's).
  std::string t(TimePoint at) const { return review_time(at, offset_, base_); }
  static std::string span(Duration d);

  /// A person as recorded ("@jane.doe"), with the plan's name and role when it knows them.
  std::string who(const std::string& by) const;
  /// A role of the plan ("deployment_lead"), with the person holding it when the plan is known.
  std::string role_who(const std::string& role) const;
  /// Whether `handle` is the chat handle of whoever holds `role` in the plan.
  bool is_handle_of(const std::string& role, const std::string& handle) const;

  std::string trigger_name(const std::string& id) const;
  /// "Login failure rate (login_failure_rate)"; the id alone when it has no other name.
  std::string trigger_text(const std::string& id) const;
  /// The triggers' names, comma-separated; "the night" for none.
  std::string names(const std::vector<std::string>& ids) const;
  /// A measured value in its trigger's unit ("7.1%"); empty for none.
  std::string value_text(const std::string& id, std::optional<double> v) const;

  /// The plan's authority.<severity>.ack_within.
  std::optional<Duration> ack_within(const std::string& severity) const;
  /// Whether `by` holds the plan's authority for a decision taken with `severity` open (empty:
  /// critical); empty without the plan.
  std::string authority_note(const std::string& by, const std::string& severity) const;
  /// The plan's decision matrix for `severity`: "decides: ...; notified: ...; acknowledge
  /// within 5m, else escalate to ..."; empty without the plan or an authority for it.
  std::string authority_text(const std::string& severity) const;

 private:
  const rules::Contact* contact_of(const std::string& by) const;
  static std::string contact_text(const rules::Contact& c);

  const rules::Plan* plan_;
  std::chrono::minutes offset_;
  std::optional<TimePoint> base_;
  const std::vector<EpisodeRecord>& episodes_;
};

}  // namespace backout::agent::report
