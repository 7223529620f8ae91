// The typed backout plan (schema version 1): what the team agreed before the window, as the
// agent runs it. Built once by the plan loader (agent/plan), immutable afterwards; share it
// freely between threads.
//
// Point of no return (PNR) = window.end - window.backout_duration: the last moment a backout can
// start and still finish inside the window. With the reference plan, 06:00 - 100m = 04:20.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "backout/core/kind_spec.h"
#include "backout/core/time.h"
#include "backout/rules/condition.h"
#include "backout/rules/measure.h"
#include "backout/rules/severity.h"

namespace backout::rules {

struct PlanHeader {
  std::string project;
  std::string release;
  std::string owner;
  std::string revision;
  bool approved = false;  // status: approved | draft
};

struct Window {
  ZonedTime start;
  ZonedTime end;
  Duration backout_duration{0};
  Duration warn_before_pnr{0};  // warn_before_point_of_no_return
  Duration baseline{0};         // baselines come from [start - baseline, start)

  TimePoint point_of_no_return() const { return end.at - backout_duration; }
  Duration length() const { return end.at - start.at; }
  std::chrono::minutes offset() const { return start.offset; }
};

struct Contact {
  std::string role;  // key in `contacts`, e.g. deployment_lead
  std::string name;
  std::string chat;  // chat handle, e.g. @jane.doe
  std::string phone;
  std::string availability;

  /// "Deployment Lead" from "deployment_lead".
  std::string role_title() const;
};

struct Authority {
  Severity severity = Severity::kCritical;
  std::string decides;              // a contact role
  std::vector<std::string> notify;  // contact roles
  std::optional<Duration> ack_within;
  std::optional<std::string> escalate_to;
};

/// Early detection (DESIGN section 5): a one-sided CUSUM beside the window average.
struct Early {
  bool enabled = false;
  double shift = 2.0;  // tests p0 against shift x p0
  bool operator==(const Early&) const = default;
};

/// One level of a `when`: the condition that makes the trigger a breach of `severity`.
struct Level {
  Severity severity = Severity::kMajor;
  Condition condition;
  bool operator==(const Level&) const = default;
};

struct Trigger {
  std::string id;
  std::string name;
  Measure measure;
  Duration over{0};
  std::vector<Level> levels;  // most severe first
  Duration for_duration{0};   // `for`
  Duration clear_after{0};    // condition false this long before a breach resolves
  std::uint64_t min_count = 0;
  Early early;

  /// Whether the two watch the same thing the same way: everything but the name (which only
  /// labels messages) is equal. A reload keeps the state of a trigger that is the same.
  bool same_watch(const Trigger& o) const;

  bool relative() const {
    for (const Level& l : levels) {
      if (l.condition.relative) {
        return true;
      }
    }
    return false;
  }
};

/// One entry of `notify`: a channel of kind `kind` named `name` (its `channel` label in the
/// outbox and /metrics: `chat`, or the kind itself for `notify.pagerduty` and the like), with the
/// options its kind's spec validated.
struct Channel {
  std::string name;
  std::string kind;
  KindOptions options;
  bool operator==(const Channel&) const = default;
};

struct Notify {
  std::vector<Channel> channels;  // in file order
  Duration repeat_every{0};
  Duration group_wait{0};
  /// How long a trigger may stay inconclusive while deploying or in the window before its
  /// decider is told it cannot be judged (DESIGN section 9).
  Duration blind_after{std::chrono::minutes{2}};

  const Channel* channel(const std::string& name) const;
};

// --- The whole night (DESIGN section 9); every part is optional -------------------------------

/// A check in the trigger language: `measure` over `over`, passed while `when` holds.
struct MeasureCheck {
  std::string name;
  Measure measure;
  Condition when;
  Duration over{std::chrono::minutes{1}};
};

/// One step of the backout procedure (the template's Step-by-Step Process).
struct BackoutStep {
  std::string id;
  std::string action;
  std::string owner;  // a contact role
  Duration duration{0};  // planned
  std::string verify;    // how the owner verifies it, in words
  std::optional<MeasureCheck> check;
};

/// The deployment: until go-live the night is `deploying` and these triggers may breach.
struct Deployment {
  Duration duration{0};  // planned, from window.start to go-live
  std::vector<std::string> expect_outage;  // trigger ids
};

/// What a restore to the pre-deployment backup discards: a counter's increase since go-live
/// ("~1,240 transactions made since go-live at 02:41"), told in every BACKOUT page.
struct DataAtRisk {
  Measure measure;   // increase(A)
  std::string unit;  // plural noun: "transactions"
};

/// The backout procedure and how its reversal is verified (the template's Verify Reversal).
struct Backout {
  std::vector<std::string> expect_outage;  // trigger ids, while the steps run
  std::vector<BackoutStep> steps;          // in order
  std::optional<DataAtRisk> data_at_risk;
  Duration hold{std::chrono::minutes{5}};      // checks and triggers fine this long: verified
  Duration timeout{std::chrono::minutes{30}};  // not verified by then: reversal incomplete
  std::vector<MeasureCheck> checks;

  /// The steps' planned durations added up.
  Duration planned() const;
};

/// A preflight file check: the backup is there (a file, or a directory that is not empty),
/// recent enough and big enough.
struct FileCheck {
  std::string path;
  std::optional<Duration> max_age;        // against its (or its newest file's) mtime
  std::optional<std::uint64_t> min_bytes; // a file's size, or a directory's files added up
};

/// One of the template's Pre-Backout Requirements / Backup Details. Without a check its owner
/// confirms it (`done ID`).
struct PreflightItem {
  std::string id;
  std::string name;
  std::string owner;  // a contact role
  std::optional<FileCheck> file;
  std::optional<MeasureCheck> measure;

  bool manual() const { return !file && !measure; }
};

/// One of the template's Post-Backout Actions: due `within` its time of the reversal verified.
struct AfterBackoutItem {
  std::string id;
  std::string action;
  std::string owner;  // a contact role
  Duration within{0};
};

struct Server {
  std::string host = "127.0.0.1";
  std::uint16_t port = 9750;
  std::optional<SecretRef> token;
};

struct Plan {
  int version = 1;
  std::string path;  // file it was loaded from
  PlanHeader header;
  Window window;
  std::vector<Contact> contacts;                // in file order
  std::map<Severity, Authority> authority;      // critical, major, discretionary
  std::vector<Source> sources;                  // in file order
  std::vector<Trigger> triggers;                // in file order
  Notify notify;
  Server server;
  std::string state_dir;
  std::optional<Deployment> deployment;
  std::optional<Backout> backout;
  std::vector<PreflightItem> preflight;  // in file order
  /// How long before window.start the preflight summary is posted.
  Duration preflight_at{std::chrono::minutes{30}};
  std::vector<AfterBackoutItem> after_backout;  // in file order

  const Contact* contact(const std::string& role) const;
  const Source* source(const std::string& id) const;
  const Trigger* trigger(const std::string& id) const;
  const Authority* authority_for(Severity s) const;
};

}  // namespace backout::rules
