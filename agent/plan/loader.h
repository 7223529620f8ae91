// The plan loader's state while one plan is read: the sections (plan/sections/*.cc, one file per
// section of the plan file) fill `plan_` through the YAML cursor's readers; run() (plan_loader.cc)
// reads the top level in dependency order and cross-checks. Internal to agent/plan. One per load;
// not thread-safe.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backout/core/kind_spec.h"
#include "backout/rules/plan.h"
#include "plan/plan_loader.h"
#include "plan/yaml_cursor.h"

namespace backout::plan::detail {

using rules::Severity;

class Loader : public YamlCursor {
 public:
  Loader(std::string_view text, std::string path, const KindCatalog& kinds)
      : YamlCursor(text, path),
        path_(std::move(path)),
        kinds_(kinds.sources),
        channel_kinds_(kinds.channels) {}

  LoadResult run();

 private:
  /// A role from contacts; an unknown one is reported with a did-you-mean.
  std::optional<std::string> role(const Entry& e, const std::string& path);

  // --- sections ----------------------------------------------------------------------------
  void load_plan_header(const Entry& e);
  void load_window(const Entry& e);
  void load_contacts(const Entry& e);
  void load_authority(const Entry& e);
  void load_sources(const Entry& e);
  void load_source(const Entry& e);
  std::optional<OptionValue> option_value(const OptionSpec& spec, const Entry& e,
                                          const std::string& path);
  void load_triggers(const Entry& e);
  void load_trigger(const YAML::Node& node, std::size_t index);
  // The parts of one trigger; each reports its own errors and says whether it was right.
  std::string trigger_path(const YAML::Node& node, std::size_t index) const;
  bool load_trigger_id(const Entries& es, Pos where, const std::string& path, rules::Trigger& t);
  bool load_trigger_timing(const Entries& es, const std::string& path, rules::Trigger& t);
  /// Returns whether the measure parsed; clears `ok` on any error.
  bool load_trigger_measure(const Entries& es, Pos where, const std::string& path,
                            rules::Trigger& t, bool& ok);
  /// `when` and `severity`: one condition and its severity, or a map severity -> condition.
  bool load_trigger_levels(const Entries& es, Pos where, const std::string& path, bool measure_ok,
                           rules::Trigger& t);
  // The trigger language, shared by every section that measures (triggers, backout checks).
  /// A measure parsed and checked against the sources; nullopt if it does not parse (reported).
  /// One on an unknown source or series is reported and still returned.
  std::optional<rules::Measure> read_measure(const Entry& e, const std::string& path);
  /// A condition such as "> 5%" or ">= baseline"; nullopt if it does not parse (reported).
  std::optional<rules::Condition> read_condition(const Entry& e, const std::string& path);
  void check_measure(const rules::Measure& m, const Entry& e, const std::string& path);
  /// Whether condition `c` fits measure `m` (units, shares, a baseline to compare with).
  void check_condition(const rules::Measure& m, const rules::Condition& c, const Entry& e,
                       const std::string& path);
  /// A breach condition pointing the unlikely way (availability above, failures below):
  /// warned for triggers only; a check that passes while availability is high is right.
  void check_breach_direction(const rules::Measure& m, const rules::Condition& c, const Entry& e,
                              const std::string& path);
  void load_early(rules::Trigger& t, const Entry* e, const std::string& path);
  // The night (sections/night.cc): the deployment, the backout procedure, its verification.
  void load_deployment(const Entry& e);
  void load_backout(const Entry& e);
  /// Trigger ids (a list, or one id); unknown ones are reported with a did-you-mean.
  std::vector<std::string> expect_outage(const Entry& e, const std::string& path);
  std::optional<std::string> trigger_ref(const Entry& e, const std::string& path);
  void load_steps(const Entry& e, rules::Backout& b);
  std::optional<rules::BackoutStep> load_step(const YAML::Node& node, std::size_t index);
  /// The `id` of an item the `done` act names (a preflight item, a backout step, an
  /// after-backout action): an identifier, unique across the plan. False if wrong (reported).
  bool load_item_id(const Entries& es, Pos where, const std::string& path, std::string& id);
  std::optional<rules::MeasureCheck> load_step_check(const Entry& e, const std::string& path,
                                                     const std::string& name);
  void load_verify(const Entry& e, rules::Backout& b);
  void load_data_at_risk(const Entry& e, rules::Backout& b);
  /// `list.ID` when the item's id can name it (an identifier not taken yet), else `list[N]`:
  /// every message about the item, also those about its keys, which are checked before its id.
  std::string item_path(const YAML::Node& node, std::size_t index, const std::string& list) const;
  // Before and after the night (sections/before_after.cc).
  void load_preflight_at(const Entry& e);
  void load_preflight(const Entry& e);
  void load_preflight_check(const Entry& e, const std::string& path, rules::PreflightItem& item);
  void load_after_backout(const Entry& e);
  void load_verify_checks(const Entry& e, rules::Backout& b);
  /// `measure`, `when` and `over` of a check, in the trigger language; nullopt if wrong.
  std::optional<rules::MeasureCheck> load_measure_check(const Entries& es, Pos where,
                                                        const std::string& path,
                                                        rules::MeasureCheck c);
  void load_notify(const Entry& e);
  std::optional<rules::Channel> load_channel(const Entry& e);
  const KindSpec* chat_kind(const Entry& kind, const std::string& path);
  /// A kind's options from a source's or a notify entry's keys: values, defaults, required
  /// keys, secrets and the kind's own cross-checks; false if any was wrong (reported).
  bool read_options(const KindSpec& spec, const Entries& all, Pos where, const std::string& path,
                    KindOptions& out);
  void load_server(const Entry& e);
  void cross_checks(const Entries& top);
  /// rules::lint() over the finished plan, each finding shown at its key's anchor.
  void lint();
  /// Where a finding about plan key `key` ("triggers.error_rate.for") is shown.
  void anchor(const std::string& key, Pos p) { anchors_[key] = p; }

  const KindSpec* kind_spec(const std::string& kind) const {
    for (const auto& k : kinds_) {
      if (k.kind == kind) {
        return &k;
      }
    }
    return nullptr;
  }

  std::string path_;
  std::span<const KindSpec> kinds_;          // source kinds
  std::span<const KindSpec> channel_kinds_;  // channel kinds (notify entries)
  rules::Plan plan_;
  bool window_ok_ = false;
  std::set<std::string> broken_sources_;  // sources with errors: no series checks against them
  std::map<std::string, Pos> contact_pos_;
  std::map<std::string, std::size_t> source_index_;  // id -> plan_.sources index
  std::vector<std::string> source_ids_;              // for messages, built on first need
  std::vector<std::string> roles_;                   // for messages, built on first need
  std::set<Severity> authority_written_;             // severities under `authority`, valid or not
  const KindSpec* current_spec_ = nullptr;           // kind of the source being loaded
  std::map<std::string, Pos> trigger_pos_;
  std::map<std::string, Pos> item_pos_;  // ids `done` names, unique in the plan
  std::vector<std::pair<Severity, Pos>> used_severities_;
  std::map<std::string, Pos> anchors_;
};

}  // namespace backout::plan::detail
