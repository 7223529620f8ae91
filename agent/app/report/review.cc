#include "app/report/review.h"

#include "app/record/timeline_event.h"

#include <algorithm>
#include <cmath>
#include <boost/json.hpp>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>

#include "backout/core/text.h"
#include "backout/rules/measure.h"
#include "backout/rules/severity.h"

namespace backout::agent::report {
namespace {

namespace json = boost::json;

// One timeline event, parsed.
struct Event {
  TimePoint at{};
  std::chrono::minutes offset{0};
  std::string kind;
  json::object o;
};

std::string str(const json::object& o, const char* k) {
  auto it = o.find(k);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                  : std::string();
}

std::optional<double> num(const json::object& o, const char* k) {
  auto it = o.find(k);
  if (it == o.end() || !it->value().is_number()) {
    return std::nullopt;
  }
  return it->value().to_number<double>();
}

std::optional<bool> boolean(const json::object& o, const char* k) {
  auto it = o.find(k);
  if (it == o.end() || !it->value().is_bool()) {
    return std::nullopt;
  }
  return it->value().as_bool();
}

std::vector<std::string> strings(const json::object& o, const char* k) {
  std::vector<std::string> out;
  auto it = o.find(k);
  if (it != o.end() && it->value().is_array()) {
    for (const auto& v : it->value().as_array()) {
      if (v.is_string()) {
        out.emplace_back(v.as_string());
      }
    }
  }
  return out;
}

std::optional<TimePoint> time_of(const json::object& o, const char* k) {
  if (auto z = parse_rfc3339(str(o, k))) {
    return z->at;
  }
  return std::nullopt;
}

int severity_rank(const std::string& s) {
  auto sev = rules::parse_severity(s);
  return sev ? static_cast<int>(*sev) : -1;
}

bool iequal(const std::string& a, const std::string& b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string lower(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

// "deployment_lead" -> "Deployment Lead", as the plan's own contacts are titled.
std::string role_title(const std::string& role) {
  rules::Contact c;
  c.role = role;
  return c.role_title();
}

std::string headline(const std::string& rec) {
  if (rec == "backout") {
    return "BACKOUT";
  }
  if (rec == "fix_forward") {
    return "FIX-FORWARD";
  }
  if (rec == "watch") {
    return "WATCH";
  }
  if (rec == "go") {
    return "GO";
  }
  return rec;
}

// The page kinds of the paging policy (rules::PageKind): the prefixes of the outbox keys of pages.
bool is_page_kind(const std::string& k) {
  static const std::set<std::string> kinds = {"breach",     "severity_up", "repeat",
                                              "escalation", "pnr_warning", "eta_passed",
                                              "resolve",    "final"};
  return kinds.count(k) != 0;
}

std::string page_title(const std::string& kind) {
  static const std::map<std::string, std::string> titles = {
      {"breach", "breach"},
      {"severity_up", "severity raised"},
      {"repeat", "repeat"},
      {"escalation", "escalation"},
      {"pnr_warning", "point-of-no-return warning"},
      {"eta_passed", "fix-forward ETA passed"},
      {"resolve", "resolved"},
      {"final", "final message"}};
  auto it = titles.find(kind);
  return it != titles.end() ? it->second : kind;
}

// An outbox key of a page: "breach:a#1,b#1", "repeat:a#1:3", "final" -> kind and trigger ids.
struct PageKey {
  std::string kind;
  std::vector<std::string> triggers;  // sorted
};

PageKey parse_page_key(const std::string& key) {
  PageKey k;
  std::size_t colon = key.find(':');
  k.kind = key.substr(0, colon);
  if (colon == std::string::npos) {
    return k;
  }
  std::string eps = key.substr(colon + 1);
  eps = eps.substr(0, eps.find(':'));
  std::size_t start = 0;
  while (start <= eps.size() && !eps.empty()) {
    std::size_t comma = eps.find(',', start);
    std::string ep = eps.substr(start, comma == std::string::npos ? std::string::npos
                                                                  : comma - start);
    ep = ep.substr(0, ep.find('#'));
    if (!ep.empty()) {
      k.triggers.push_back(ep);
    }
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  std::sort(k.triggers.begin(), k.triggers.end());
  return k;
}

// "backout takes 1h40m, point of no return 04:20" in a recommendation's reason (the decision
// engine's wording): the only record of the plan's durations when no plan is given.
struct PnrText {
  std::optional<Duration> backout;
  std::optional<TimePoint> pnr;
};

PnrText parse_pnr_text(const std::string& reason, TimePoint at, std::chrono::minutes offset) {
  PnrText out;
  static const std::string kTakes = "backout takes ";
  static const std::string kPnr = ", point of no return ";
  std::size_t p = reason.find(kTakes);
  if (p == std::string::npos) {
    return out;
  }
  std::size_t q = reason.find(kPnr, p);
  if (q == std::string::npos) {
    return out;
  }
  out.backout = parse_duration(reason.substr(p + kTakes.size(), q - p - kTakes.size()));
  int h = 0;
  int m = 0;
  int s = 0;
  const std::string clock = reason.substr(q + kPnr.size(), 8);
  int n = std::sscanf(clock.c_str(), "%d:%d:%d", &h, &m, &s);
  if (n < 2) {
    return out;
  }
  if (n < 3) {
    s = 0;
  }
  // The clock is in the window's offset, on the day nearest to the event.
  const auto day = std::chrono::floor<std::chrono::days>(at + offset);
  std::optional<TimePoint> best;
  for (int d = -1; d <= 1; ++d) {
    TimePoint cand = TimePoint(day + std::chrono::days{d}) + std::chrono::hours{h} +
                     std::chrono::minutes{m} + std::chrono::seconds{s} - offset;
    if (!best || std::chrono::abs(cand - at) < std::chrono::abs(*best - at)) {
      best = cand;
    }
  }
  out.pnr = best;
  return out;
}

struct Recommendation {
  TimePoint at{};
  std::string rec;
  std::string reason;
};

struct Decision {
  std::size_t act = 0;
  TimePoint at{};
  std::string decision;
  std::string by;
  std::string note;
  std::vector<std::string> accepted;
};

struct FixForwardFact {
  std::size_t act = 0;
  std::string trigger;
  std::optional<TimePoint> eta;
  std::optional<std::size_t> episode;
};

struct SourcePeriod {
  std::string source;
  TimePoint from{};
  std::optional<TimePoint> to;
  std::string error;
};

struct Restart {
  TimePoint at{};
  std::optional<Duration> gap;
};

// A timeline row whose details may be completed after the walk (pages learn their delivery).
struct Row {
  TimelineRow row;
  std::optional<std::size_t> act;
  std::optional<std::size_t> page;
  std::optional<std::size_t> delivery_of;  // a delivery row: the page it delivered
  std::string channel;
  std::string outcome;
  int attempts = 0;
  std::string detail;
};

class Builder {
 public:
  explicit Builder(const ReviewInput& in) : in_(in), plan_(in.plan) {}

  Review build() {
    parse();
    header();
    walk();
    reconcile_outbox();
    fix_forward_outcomes();
    rows();
    cause();
    durations();
    findings();
    answers();
    outcome();
    return std::move(r_);
  }

 private:
  // --- formatting -------------------------------------------------------------------------

  std::string t(TimePoint at) const { return review_time(at, off_, base_); }
  static std::string span(Duration d) { return format_span(d); }

  const rules::Contact* contact_of(const std::string& by) const {
    if (plan_ == nullptr || by.empty()) {
      return nullptr;
    }
    for (const rules::Contact& c : plan_->contacts) {
      if ((!c.chat.empty() && (iequal(c.chat, by) || iequal(c.chat, "@" + by))) ||
          (!c.name.empty() && iequal(c.name, by)) || iequal(c.role, by)) {
        return &c;
      }
    }
    return nullptr;
  }

  static std::string contact_text(const rules::Contact& c) {
    std::string out = c.name.empty() ? c.role_title() : c.name;
    out += " (" + c.role_title();
    if (!c.chat.empty()) {
      out += ", " + c.chat;
    }
    return out + ")";
  }

  // A person as recorded ("@jane.doe"), with the plan's name and role when it knows them.
  std::string who(const std::string& by) const {
    if (by.empty()) {
      return "(not given)";
    }
    if (const rules::Contact* c = contact_of(by)) {
      return contact_text(*c);
    }
    return by;
  }

  // A role of the plan ("deployment_lead"), with the person holding it when the plan is known.
  std::string role_who(const std::string& role) const {
    if (plan_ != nullptr) {
      if (const rules::Contact* c = plan_->contact(role)) {
        return contact_text(*c);
      }
    }
    return role_title(role);
  }

  std::string trigger_name(const std::string& id) const {
    if (plan_ != nullptr) {
      if (const rules::Trigger* tr = plan_->trigger(id)) {
        return tr->name;
      }
    }
    for (const EpisodeRecord& e : r_.episodes) {
      if (e.manual && e.trigger == id) {
        return "raised: " + e.reason;
      }
    }
    return id;
  }

  // "Login failure rate (login_failure_rate)".
  std::string trigger_text(const std::string& id) const {
    std::string name = trigger_name(id);
    return name == id ? id : name + " (" + id + ")";
  }

  std::string value_text(const std::string& id, std::optional<double> v) const {
    if (!v) {
      return "";
    }
    if (plan_ != nullptr) {
      if (const rules::Trigger* tr = plan_->trigger(id)) {
        return rules::format_measure_value(tr->measure, *v);
      }
    }
    return format_number(*v);
  }

  std::string names(const std::vector<std::string>& ids) const {
    std::vector<std::string> out;
    for (const std::string& id : ids) {
      out.push_back(trigger_name(id));
    }
    return out.empty() ? std::string("the night") : join(out, ", ");
  }

  std::optional<Duration> ack_within(const std::string& severity) const {
    if (plan_ == nullptr) {
      return std::nullopt;
    }
    if (auto sev = rules::parse_severity(severity)) {
      if (const rules::Authority* a = plan_->authority_for(*sev)) {
        return a->ack_within;
      }
    }
    return std::nullopt;
  }

  // --- passes -------------------------------------------------------------------------------

  void parse() {
    for (const std::string& line : in_.events) {
      boost::system::error_code ec;
      json::value v = json::parse(line, ec);
      if (ec || !v.is_object()) {
        ++r_.unreadable_events;
        continue;
      }
      Event e;
      e.o = std::move(v.as_object());
      auto z = parse_rfc3339(str(e.o, "at"));
      if (!z) {
        ++r_.unreadable_events;
        continue;
      }
      e.at = z->at;
      e.offset = z->offset;
      e.kind = str(e.o, "kind");
      events_.push_back(std::move(e));
    }
    // Events are appended from several threads (ticks, deliveries, acts): store order can differ
    // from time order by a few milliseconds. Time order reads right; stable keeps ties in order.
    std::stable_sort(events_.begin(), events_.end(),
                     [](const Event& a, const Event& b) { return a.at < b.at; });
    r_.events = events_.size();
    if (!events_.empty()) {
      r_.first_at = events_.front().at;
      r_.last_at = events_.back().at;
    }
    // Without --plan, the plan the agent recorded at its (latest) start names people, roles and
    // triggers and gives the window and durations.
    if (plan_ == nullptr) {
      for (auto it = in_.events.rbegin(); it != in_.events.rend(); ++it) {
        if (it->find("\"plan\"") == std::string::npos) {
          continue;  // most lines: no need to decode them twice
        }
        auto e = record::decode(*it);
        if (e.ok()) {
          if (const auto* s = e->as<record::PlanSnapshot>()) {
            snapshot_plan_ = record::plan_of(*s);
            plan_ = &*snapshot_plan_;
            break;
          }
        }
      }
    }
  }

  void header() {
    ReviewHeader& h = r_.header;
    // The store's identity: "project|release|start[|start-now]".
    std::vector<std::string> parts;
    {
      std::size_t start = 0;
      while (!in_.identity.empty()) {
        std::size_t bar = in_.identity.find('|', start);
        parts.push_back(in_.identity.substr(start, bar == std::string::npos ? std::string::npos
                                                                             : bar - start));
        if (bar == std::string::npos) {
          break;
        }
        start = bar + 1;
      }
    }
    std::optional<ZonedTime> id_start;
    if (parts.size() >= 3) {
      id_start = parse_rfc3339(parts[2]);
    }
    h.rehearsal = parts.size() >= 4 && parts[3] == "start-now";

    if (plan_ != nullptr) {
      off_ = plan_->window.offset();
    } else if (id_start) {
      off_ = id_start->offset;
    } else if (!events_.empty()) {
      off_ = events_.front().offset;
    }
    h.offset = off_;

    if (plan_ != nullptr) {
      const rules::Plan& p = *plan_;
      h.project = p.header.project;
      h.release = p.header.release;
      h.owner = p.header.owner;
      h.revision = p.header.revision;
      h.status = p.header.approved ? "Approved" : "Draft";
      h.from = snapshot_plan_ ? std::string("the plan the agent recorded when it started")
                              : "the plan " + (in_.plan_path.empty() ? p.path : in_.plan_path);
      h.window_start = p.window.start.at;
      h.window_end = p.window.end.at;
      h.backout_duration = p.window.backout_duration;
      if (h.rehearsal && in_.shifted_start) {
        h.window_start = *in_.shifted_start;
        h.window_end = *in_.shifted_start + p.window.length();
      }
      h.point_of_no_return = *h.window_end - p.window.backout_duration;
      if (parts.size() >= 3 &&
          (parts[0] != p.header.project || parts[1] != p.header.release ||
           (id_start && id_start->at != p.window.start.at))) {
        h.notes.push_back("The plan is for " + p.header.project + " " + p.header.release +
                          " (window from " + format_rfc3339(p.window.start.at, off_) +
                          ") but the state store holds " + parts[0] + " " + parts[1] +
                          " (window from " + parts[2] +
                          "); names, roles and durations are taken from the plan.");
      }
    } else {
      h.from = "the state store's record (give --plan for the owner, revision, status, names and "
               "the rehearsed durations)";
      if (parts.size() >= 2) {
        h.project = parts[0];
        h.release = parts[1];
      }
      if (id_start) {
        h.window_start = id_start->at;
      }
      if (h.rehearsal && in_.shifted_start) {
        h.window_start = *in_.shifted_start;
      }
      std::optional<TimePoint> opened;
      std::optional<TimePoint> closed;
      for (const Event& e : events_) {
        if (e.kind == "recommendation" && (!h.backout_duration || !h.point_of_no_return)) {
          PnrText p = parse_pnr_text(str(e.o, "reason"), e.at, off_);
          if (p.backout && !h.backout_duration) {
            h.backout_duration = p.backout;
          }
          if (p.pnr && !h.point_of_no_return) {
            h.point_of_no_return = p.pnr;
          }
        } else if (e.kind == "phase") {
          if (str(e.o, "phase") == "in_window" && !opened) {
            opened = e.at;
          } else if (str(e.o, "phase") == "post_window" && !closed) {
            closed = e.at;
          }
        }
      }
      if (!h.window_start && opened) {
        h.window_start = opened;
        h.notes.push_back("The window's start is when the agent saw it open.");
      }
      if (h.point_of_no_return && h.backout_duration) {
        h.window_end = *h.point_of_no_return + *h.backout_duration;
      } else if (closed) {
        h.window_end = closed;
        h.notes.push_back("The window's end is when the agent saw it close.");
      }
      if (h.window_end && h.backout_duration && !h.point_of_no_return) {
        h.point_of_no_return = *h.window_end - *h.backout_duration;
      }
    }
    base_ = h.window_start ? h.window_start : r_.first_at;
    r_.written_from = "the state store" + (in_.store_path.empty() ? "" : " " + in_.store_path);
    if (plan_ != nullptr && !snapshot_plan_) {
      r_.written_from += " and the plan " + (in_.plan_path.empty() ? plan_->path : in_.plan_path);
    }
  }

  std::optional<std::size_t> open_episode(const std::string& id) const {
    auto it = open_.find(id);
    return it == open_.end() ? std::nullopt : std::optional<std::size_t>(it->second);
  }

  // The most severe open episode now (for the authority of a decision).
  std::string open_severity() const {
    std::string best;
    for (const auto& [id, idx] : open_) {
      if (severity_rank(r_.episodes[idx].severity) > severity_rank(best)) {
        best = r_.episodes[idx].severity;
      }
    }
    return best;
  }

  // The page an outbox key belongs to: the page whose notify events carry that key. Records
  // written before notify events carried keys are matched to the earliest page of its kind about
  // its triggers that no other key claimed: a channel receives its messages in order, so an older page is never
  // delivered after a newer one. Pages of one tick that look alike (two escalations to the same
  // role) were merged into one record: a key about part of its triggers matches it then.
  std::optional<std::size_t> match_page(const std::string& key, TimePoint at) {
    if (auto it = key_page_.find(key); it != key_page_.end()) {
      return it->second;
    }
    for (std::size_t i = 0; i < r_.pages.size(); ++i) {
      if (r_.pages[i].key == key) {
        return claim(i, key, parse_page_key(key));
      }
    }
    PageKey k = parse_page_key(key);
    if (!is_page_kind(k.kind)) {
      return std::nullopt;
    }
    for (std::size_t i = 0; i < r_.pages.size(); ++i) {
      const PageRecord& p = r_.pages[i];
      if (p.kind != k.kind || p.at > at || covered_.count(i) != 0 || !p.key.empty()) {
        continue;
      }
      std::vector<std::string> ids = p.triggers;
      std::sort(ids.begin(), ids.end());
      if (ids == k.triggers) {
        return claim(i, key, k);
      }
    }
    for (std::size_t i = 0; i < r_.pages.size(); ++i) {
      const PageRecord& p = r_.pages[i];
      if (p.kind != k.kind || p.at > at || k.triggers.empty()) {
        continue;
      }
      auto cov = covered_.find(i);
      bool fits = true;
      for (const std::string& id : k.triggers) {
        fits = fits && std::find(p.triggers.begin(), p.triggers.end(), id) != p.triggers.end() &&
               (cov == covered_.end() || cov->second.count(id) == 0);
      }
      if (fits) {
        return claim(i, key, k);
      }
    }
    return std::nullopt;
  }

  std::size_t claim(std::size_t page, const std::string& key, const PageKey& k) {
    key_page_[key] = page;
    covered_[page].insert(k.triggers.begin(), k.triggers.end());
    if (r_.pages[page].key.empty()) {
      r_.pages[page].key = key;
    }
    return page;
  }

  std::size_t add_act(const Event& e, std::string what, const std::string& by,
                      std::string details) {
    Act a;
    a.at = e.at;
    a.kind = e.kind;
    a.what = std::move(what);
    a.by = by;
    a.who = who(by);
    a.details = std::move(details);
    r_.acts.push_back(std::move(a));
    Row row;
    row.row = {e.at, r_.acts.back().what, ""};
    row.act = r_.acts.size() - 1;
    rows_.push_back(std::move(row));
    return r_.acts.size() - 1;
  }

  void add_row(TimePoint at, std::string event, std::string details) {
    Row row;
    row.row = {at, std::move(event), std::move(details)};
    rows_.push_back(std::move(row));
  }

  // The plan's authority for a decision taken with `severity` open.
  std::string authority_note(const std::string& by, const std::string& severity) const {
    if (plan_ == nullptr) {
      return "";
    }
    auto sev = rules::parse_severity(severity.empty() ? "critical" : severity);
    const rules::Authority* a = sev ? plan_->authority_for(*sev) : nullptr;
    if (a == nullptr) {
      return "";
    }
    const std::string sev_text(rules::to_string(a->severity));
    const rules::Contact* decider = plan_->contact(a->decides);
    const rules::Contact* person = contact_of(by);
    if (person != nullptr && person == decider) {
      return "the plan's decider for " + sev_text + " breaches";
    }
    if (person != nullptr && a->escalate_to && person == plan_->contact(*a->escalate_to)) {
      return "the escalation contact for " + sev_text + " breaches (the plan's decider is " +
             role_who(a->decides) + ")";
    }
    return "not the plan's decider: the plan gives " + sev_text + " decisions to " +
           role_who(a->decides);
  }

  void walk() {
    std::optional<TimePoint> previous;
    for (std::size_t i = 0; i < events_.size(); ++i) {
      const Event& e = events_[i];
      const json::object& o = e.o;
      if (e.kind == "trigger") {
        on_trigger(e);
      } else if (e.kind == "recommendation") {
        Recommendation rec{e.at, str(o, "recommendation"), str(o, "reason")};
        if (rec.rec == "backout" && !r_.backout_recommended_at) {
          r_.backout_recommended_at = e.at;
        }
        add_row(e.at, "Recommendation: " + headline(rec.rec), rec.reason);
        recs_.push_back(std::move(rec));
      } else if (e.kind == "notify") {
        on_notify(e, i > 0 && events_[i - 1].kind == "notify" ? &events_[i - 1] : nullptr);
      } else if (e.kind == "delivery") {
        on_delivery(e);
      } else if (e.kind == "ack") {
        std::vector<std::string> ids = strings(o, "triggers");
        const std::string by = str(o, "by");
        std::vector<std::string> parts;
        for (const std::string& id : ids) {
          std::string part = trigger_name(id);
          auto ep = open_episode(id);
          if (!ep) {
            // Acknowledged just after it resolved (same tick): the latest episode.
            for (std::size_t k = r_.episodes.size(); k-- > 0;) {
              if (r_.episodes[k].trigger == id) {
                ep = k;
                break;
              }
            }
          }
          if (ep) {
            EpisodeRecord& rec = r_.episodes[*ep];
            if (!rec.acked_at) {
              rec.acked_at = e.at;
              rec.acked_by = who(by);
            }
            if (rec.paged_at) {
              part += ", " + span(e.at - *rec.paged_at) + " after the page";
            }
          }
          parts.push_back(part);
        }
        add_act(e, "Acknowledged", by, join(parts, "; "));
      } else if (e.kind == "fix_forward") {
        const std::string id = str(o, "trigger");
        const std::string by = str(o, "by");
        auto eta = time_of(o, "eta");
        auto before = boolean(o, "before_point_of_no_return");
        std::string details = "for " + trigger_name(id) + ", ETA " +
                              (eta ? t(*eta) : str(o, "eta"));
        if (before) {
          details += *before ? " (before the point of no return)"
                             : " (after the point of no return: not honoured, the recommendation "
                               "stays BACKOUT)";
        }
        std::size_t act = add_act(e, "Fix-forward declared", by, details);
        fix_forwards_.push_back({act, id, eta, open_episode(id)});
      } else if (e.kind == "decision") {
        on_decision(e);
      } else if (e.kind == "backout_complete") {
        if (!r_.backout_complete_at) {
          r_.backout_complete_at = e.at;
        }
        add_act(e, "Backout complete", str(o, "by"), str(o, "note"));
      } else if (e.kind == "raise") {
        const std::string id = str(o, "id");
        const std::string by = str(o, "by");
        EpisodeRecord ep;
        ep.trigger = id;
        ep.name = "raised by " + who(by) + ": " + str(o, "reason");
        ep.severity = str(o, "severity");
        ep.breached_at = e.at;
        ep.manual = true;
        ep.raised_by = who(by);
        ep.reason = str(o, "reason");
        ep.ack_within = ack_within(ep.severity);
        r_.episodes.push_back(std::move(ep));
        open_[id] = r_.episodes.size() - 1;
        add_act(e, "Raised (" + str(o, "severity") + ")", by, id + ": " + str(o, "reason"));
      } else if (e.kind == "raise_clear") {
        const std::string id = str(o, "id");
        if (auto ep = open_episode(id)) {
          r_.episodes[*ep].resolved_at = e.at;
          open_.erase(id);
        }
        add_act(e, "Raise cleared", str(o, "by"), id);
      } else if (e.kind == "source") {
        const std::string src = str(o, "source");
        const bool up = boolean(o, "up").value_or(false);
        if (up) {
          add_row(e.at, "Source up", src);
          for (SourcePeriod& p : down_) {
            if (p.source == src && !p.to) {
              p.to = e.at;
            }
          }
        } else {
          add_row(e.at, "Source down", src + ": " + str(o, "error"));
          bool already = false;
          for (const SourcePeriod& p : down_) {
            already = already || (p.source == src && !p.to);
          }
          if (!already) {
            down_.push_back({src, e.at, std::nullopt, str(o, "error")});
          }
        }
      } else if (e.kind == "phase") {
        const std::string ph = str(o, "phase");
        if (ph == "in_window") {
          add_row(e.at, "Window opened", "the deployment window is open; paging is on");
        } else if (ph == "post_window") {
          add_row(e.at, "Window closed", "the deployment window has closed; still watching");
        } else if (ph == "pre_window") {
          add_row(e.at, "Before the window", "capturing baselines; nobody is paged");
        } else {
          add_row(e.at, "Phase: " + ph, "");
        }
      } else if (e.kind == "agent") {
        const std::string what = str(o, "event");
        if (what == "restarted") {
          Restart rs{e.at, previous ? std::optional<Duration>(e.at - *previous) : std::nullopt};
          restarts_.push_back(rs);
          add_row(e.at, "Agent restarted",
                  rs.gap ? "state restored from the store; " + span(*rs.gap) +
                               " since the previous event"
                         : "state restored from the store");
        } else if (what == "started") {
          add_row(e.at, "Agent started", "a new state store for this release and window");
        } else if (what == "reloaded") {
          add_row(e.at, "Plan reloaded", str(o, "detail"));
        } else if (what == "reload_refused") {
          add_row(e.at, "Reload refused",
                  str(o, "detail") + "; the plan that was running kept running");
        } else if (what == "store_recovered") {
          add_row(e.at, "State store damaged",
                  str(o, "detail") + "; the agent started afresh, without the history before");
        } else {
          add_row(e.at, "Agent " + what, "");
        }
      } else if (e.kind == "plan") {
        // The plan as the agent watched it: read in parse(), no row of its own (the agent's
        // start or restart beside it has one).
      } else if (e.kind == "clock_step") {
        // The agent's clock against the wall clock (issue 14, defect 4): the times after an
        // applied step are on the new clock.
        const double by = num(o, "by_seconds").value_or(0);
        const std::string step = std::string(by < 0 ? "back " : "forward ") +
                                 span(from_seconds(std::round(by < 0 ? -by : by)));
        const std::string outcome = str(o, "outcome");
        if (outcome == "detected") {
          add_row(e.at, "Clock step", "the wall clock stepped " + step + " (it read " +
                                          str(o, "wall") + "); durations kept the time that "
                                          "really passed");
        } else if (outcome == "applied") {
          add_row(e.at, "Clock step taken",
                  "the step " + step + " held: times from here on are on the new clock");
        } else {
          add_row(e.at, "Clock step undone",
                  "the wall clock came back; its step " + step + " was never taken");
        }
      } else {
        // A kind this report does not know: kept, with its fields, so nothing is lost.
        json::object rest = o;
        rest.erase("at");
        rest.erase("kind");
        add_row(e.at, e.kind.empty() ? "Event" : e.kind, json::serialize(rest));
      }
      previous = e.at;
    }
  }

  void on_trigger(const Event& e) {
    const json::object& o = e.o;
    const std::string id = str(o, "trigger");
    const std::string state = str(o, "state");
    const std::string sev = str(o, "severity");
    const std::string value = value_text(id, num(o, "value"));
    const std::string path = str(o, "path");
    const std::string path_text = path == "early"     ? "early detection"
                                  : path == "average" ? "window average"
                                                      : path;
    std::string details = trigger_text(id);
    auto ep = open_episode(id);
    if (state == "breached") {
      details += ": " + (sev.empty() ? std::string("breached") : sev) +
                 (value.empty() ? "" : ", value " + value) +
                 (path_text.empty() ? "" : ", by the " + path_text);
      if (ep) {
        EpisodeRecord& rec = r_.episodes[*ep];
        if (severity_rank(sev) > severity_rank(rec.severity)) {
          rec.severity = sev;
          rec.ack_within = ack_within(sev);
        }
        add_row(e.at, "Trigger severity changed", details);
        return;
      }
      EpisodeRecord rec;
      rec.trigger = id;
      rec.name = trigger_name(id);
      rec.severity = sev;
      rec.breached_at = e.at;
      rec.value = value;
      rec.path = path_text;
      rec.ack_within = ack_within(sev);
      r_.episodes.push_back(std::move(rec));
      open_[id] = r_.episodes.size() - 1;
      add_row(e.at, "Trigger breached", details);
      return;
    }
    if (state == "inconclusive") {
      details += ": " + str(o, "reason");
    } else if (!value.empty()) {
      details += ": value " + value;
    }
    if (ep) {
      EpisodeRecord& rec = r_.episodes[*ep];
      rec.resolved_at = e.at;
      open_.erase(id);
      details += "; breached for " + span(e.at - rec.breached_at);
      add_row(e.at, state == "ok" ? "Trigger resolved" : "Trigger resolved (" + state + ")",
              details);
      return;
    }
    add_row(e.at, "Trigger " + state, details);
  }

  void on_notify(const Event& e, const Event* prev) {
    const json::object& o = e.o;
    const std::string kind = str(o, "page").empty() ? "breach" : str(o, "page");
    const std::string trigger = str(o, "trigger");
    const std::string decides = str(o, "decides");
    const std::vector<std::string> mention = strings(o, "mention");
    // One page about several triggers is one notify event per trigger, at the same instant,
    // with the page's key (a record from before keys were written: the same kind, decider and
    // mentions at the same instant).
    const std::string key = str(o, "key");
    const bool same_page =
        prev != nullptr && !r_.pages.empty() && prev->at == e.at &&
        (key.empty() ? r_.pages.back().key.empty() && r_.pages.back().at == e.at &&
                           r_.pages.back().kind == kind && r_.pages.back().decides == decides &&
                           r_.pages.back().mention == mention
                     : r_.pages.back().key == key);
    if (same_page) {
      PageRecord& p = r_.pages.back();
      if (!trigger.empty()) {
        p.triggers.push_back(trigger);
      }
      page_effects(r_.pages.size() - 1, trigger, e.at);
      return;
    }
    PageRecord p;
    p.at = e.at;
    p.kind = kind;
    if (!trigger.empty()) {
      p.triggers.push_back(trigger);
    }
    p.decides = decides;
    p.decides_who = decides.empty() ? "" : role_who(decides);
    p.mention = mention;
    p.key = key;
    r_.pages.push_back(std::move(p));
    Row row;
    row.row = {e.at, decides.empty() ? "Posted: " + page_title(kind) : "Page: " + page_title(kind),
               ""};
    row.page = r_.pages.size() - 1;
    rows_.push_back(std::move(row));
    page_effects(r_.pages.size() - 1, trigger, e.at);
  }

  void page_effects(std::size_t page, const std::string& trigger, TimePoint at) {
    PageRecord& p = r_.pages[page];
    auto ep = open_episode(trigger);
    if (!ep) {
      return;
    }
    EpisodeRecord& rec = r_.episodes[*ep];
    if (severity_rank(rec.severity) > severity_rank(p.severity)) {
      p.severity = rec.severity;
    }
    if (p.kind == "breach" || p.kind == "severity_up") {
      if (!p.detected_at || rec.breached_at < *p.detected_at) {
        p.detected_at = rec.breached_at;
      }
      if (!rec.paged_at && !p.decides.empty()) {
        rec.paged_at = at;
      }
    } else if (p.kind == "escalation" && !rec.escalated_at) {
      rec.escalated_at = at;
      rec.escalated_to = p.decides_who;
    }
  }

  void on_delivery(const Event& e) {
    const json::object& o = e.o;
    const std::string key = str(o, "key");
    const std::string channel = str(o, "channel");
    const std::string outcome = str(o, "outcome");
    const int attempts = static_cast<int>(num(o, "attempts").value_or(1));
    const std::string detail = str(o, "detail");
    auto page = match_page(key, e.at);
    if (!page && !is_page_kind(parse_page_key(key).kind) && outcome != "dropped") {
      // Echoes of people's acts and Alertmanager refreshes are not pages: only a lost one is
      // worth a row.
      return;
    }
    if (page) {
      PageRecord& p = r_.pages[*page];
      DeliveryRecord* d = nullptr;
      for (DeliveryRecord& x : p.deliveries) {
        if (x.channel == channel) {
          d = &x;
        }
      }
      if (d == nullptr) {
        p.deliveries.push_back({channel, "", std::nullopt, 0, "", ""});
        d = &p.deliveries.back();
      }
      if (d->outcome != "delivered") {
        d->outcome = outcome == "retry" ? "retrying" : outcome;
        d->attempts = attempts;
        d->detail = detail;
        if (outcome == "retry" && d->first_error.empty()) {
          d->first_error = detail;
        }
        if (outcome != "retry") {
          d->at = e.at;
        }
      }
    }
    Row row;
    const std::string event = outcome == "delivered" ? "Delivered"
                              : outcome == "retry"   ? "Delivery failed, retrying"
                              : outcome == "dropped" ? "Delivery dropped"
                                                     : "Delivery: " + outcome;
    row.row = {e.at, event, ""};
    row.delivery_of = page;
    row.channel = channel;
    row.outcome = outcome;
    row.attempts = attempts;
    row.detail = detail;
    if (!page) {
      row.row.details = key + " to " + channel + ", attempt " + std::to_string(attempts) +
                        (detail.empty() ? "" : ": " + detail);
    }
    rows_.push_back(std::move(row));
  }

  void on_decision(const Event& e) {
    const json::object& o = e.o;
    const std::string what = str(o, "decision");
    const std::string by = str(o, "by");
    const std::string note = str(o, "note");
    std::string details = note;
    if (what == "extend") {
      if (auto until = time_of(o, "until")) {
        details = "window extended to " + t(*until) + (note.empty() ? "" : ": " + note);
        r_.header.extended_end = until;
      }
    }
    std::vector<std::string> accepted = strings(o, "accepted");
    if (what == "go" && !accepted.empty()) {
      std::vector<std::string> parts;
      for (const std::string& a : accepted) {
        std::size_t colon = a.find(':');
        parts.push_back(trigger_name(a.substr(0, colon)) +
                        (colon == std::string::npos ? "" : " (" + a.substr(colon + 1) + ")"));
      }
      details += (details.empty() ? "" : "; ") + std::string("accepting ") + join(parts, ", ");
    }
    const std::string severity = open_severity();
    std::size_t act = add_act(e, "Decision: " + headline(what == "backout_complete" ||
                                                                 what == "complete"
                                                             ? std::string("backout complete")
                                                             : what),
                              by, details);
    if (what == "backout" || what == "go") {
      r_.acts[act].authority = authority_note(by, severity);
    }
    decisions_.push_back({act, e.at, what, by, note, accepted});
    if (what == "backout" && !r_.backout_decided_at) {
      r_.backout_decided_at = e.at;
      backout_decision_ = decisions_.size() - 1;
    }
    const bool complete_note = lower(note).rfind("backout complete", 0) == 0;
    if ((what == "backout_complete" || what == "complete" ||
         (complete_note && r_.backout_decided_at && e.at > *r_.backout_decided_at)) &&
        !r_.backout_complete_at) {
      r_.backout_complete_at = e.at;
      if (what != "backout_complete" && what != "complete") {
        r_.acts[act].what += " (backout complete)";
      }
    }
  }

  void reconcile_outbox() {
    for (const alerting::OutboxMessage& m : in_.outbox) {
      PageKey k = parse_page_key(m.key);
      if (!is_page_kind(k.kind)) {
        continue;
      }
      auto page = match_page(m.key, m.created_at);
      if (!page) {
        orphan_messages_.push_back(m);
        continue;
      }
      PageRecord& p = r_.pages[*page];
      DeliveryRecord* d = nullptr;
      for (DeliveryRecord& x : p.deliveries) {
        if (x.channel == m.channel) {
          d = &x;
        }
      }
      if (d != nullptr && (d->outcome == "delivered" || d->outcome == "dropped")) {
        continue;
      }
      if (d == nullptr) {
        p.deliveries.push_back({m.channel, "", std::nullopt, 0, "", ""});
        d = &p.deliveries.back();
      }
      // In the outbox with no delivery recorded: still pending when the record ends.
      d->outcome = "undelivered";
      d->attempts = std::max(d->attempts, m.attempts);
      if (!m.last_error.empty()) {
        d->detail = m.last_error;
      }
    }
  }

  void fix_forward_outcomes() {
    for (FixForwardFact& ff : fix_forwards_) {
      if (!ff.episode || !ff.eta) {
        continue;
      }
      const EpisodeRecord& ep = r_.episodes[*ff.episode];
      Act& a = r_.acts[ff.act];
      if (ep.resolved_at && *ep.resolved_at <= *ff.eta) {
        a.details += "; resolved at " + t(*ep.resolved_at) + ", " +
                     span(*ff.eta - *ep.resolved_at) + " before the ETA";
      } else if (ep.resolved_at) {
        a.details += "; resolved at " + t(*ep.resolved_at) + ", " +
                     span(*ep.resolved_at - *ff.eta) + " after the ETA";
        missed_etas_.push_back(ff.act);
      } else if (r_.last_at && *r_.last_at >= *ff.eta) {
        a.details += "; the ETA passed with the breach still open";
        missed_etas_.push_back(ff.act);
      }
    }
  }

  void rows() {
    for (Row& row : rows_) {
      if (row.act) {
        const Act& a = r_.acts[*row.act];
        row.row.event = a.what;
        row.row.details = a.who + (a.details.empty() ? "" : ": " + a.details) +
                          (a.authority.empty() ? "" : " (" + a.authority + ")");
      } else if (row.page) {
        row.row.details = page_details(r_.pages[*row.page]);
      } else if (row.delivery_of) {
        const PageRecord& p = r_.pages[*row.delivery_of];
        row.row.details = page_title(p.kind) + " page about " + names(p.triggers) + " (" +
                          t(p.at) + ") to " + row.channel + ", attempt " +
                          std::to_string(row.attempts) + ", " + span(row.row.at - p.at) +
                          " after the page" + (row.detail.empty() ? "" : ": " + row.detail);
      }
      r_.timeline.push_back(std::move(row.row));
    }
  }

  std::string page_details(const PageRecord& p) const {
    std::string out = names(p.triggers);
    if (!p.severity.empty()) {
      out += " (" + p.severity + ")";
    }
    if (!p.decides.empty()) {
      out += "; paged " + p.decides_who;
    } else {
      out += "; nobody paged";
    }
    std::vector<std::string> fyi;
    for (const std::string& m : p.mention) {
      if (p.decides.empty() || plan_ == nullptr || plan_->contact(p.decides) == nullptr ||
          !iequal(plan_->contact(p.decides)->chat, m)) {
        fyi.push_back(m);
      }
    }
    if (!fyi.empty()) {
      out += "; mentioned " + join(fyi, ", ");
    }
    out += "; " + delivery_text(p);
    return out;
  }

  std::string delivery_text(const PageRecord& p) const {
    if (p.deliveries.empty()) {
      return "no delivery recorded";
    }
    std::vector<std::string> parts;
    for (const DeliveryRecord& d : p.deliveries) {
      std::string s;
      const std::string tries =
          d.attempts > 0 ? std::to_string(d.attempts) + (d.attempts == 1 ? " attempt" : " attempts")
                         : std::string();
      if (d.outcome == "delivered" && d.at) {
        s = "delivered " + t(*d.at) + " on " + d.channel + " (" + tries + ")";
      } else if (d.outcome == "dropped") {
        s = "dropped by " + d.channel + " after " + tries + (d.detail.empty() ? "" : ": " + d.detail);
      } else if (d.outcome == "retrying") {
        s = "retrying on " + d.channel + ", no delivery recorded" +
            (d.detail.empty() ? "" : " (" + d.detail + ")");
      } else {
        s = "not delivered on " + d.channel + (tries.empty() ? "" : " after " + tries) +
            (d.detail.empty() ? "" : " (last error: " + d.detail + ")");
      }
      parts.push_back(s);
    }
    return join(parts, "; ");
  }

  const Recommendation* recommendation_at(TimePoint at) const {
    const Recommendation* found = nullptr;
    for (const Recommendation& rec : recs_) {
      if (rec.at <= at) {
        found = &rec;
      }
    }
    return found;
  }

  void cause() {
    std::optional<TimePoint> when =
        r_.backout_decided_at ? r_.backout_decided_at : r_.backout_recommended_at;
    if (!when) {
      return;
    }
    std::optional<std::size_t> best;
    auto better = [&](std::size_t i) {
      if (!best) {
        return true;
      }
      const EpisodeRecord& a = r_.episodes[i];
      const EpisodeRecord& b = r_.episodes[*best];
      if (severity_rank(a.severity) != severity_rank(b.severity)) {
        return severity_rank(a.severity) > severity_rank(b.severity);
      }
      return a.breached_at < b.breached_at;
    };
    for (std::size_t i = 0; i < r_.episodes.size(); ++i) {
      const EpisodeRecord& ep = r_.episodes[i];
      if (ep.breached_at <= *when && (!ep.resolved_at || *ep.resolved_at > *when) && better(i)) {
        best = i;
      }
    }
    if (!best) {
      // Nothing open then (a decision after the breach resolved): the latest breach before it.
      for (std::size_t i = 0; i < r_.episodes.size(); ++i) {
        if (r_.episodes[i].breached_at <= *when) {
          best = i;
        }
      }
    }
    if (!best) {
      return;
    }
    Cause c;
    c.episode = *best;
    const EpisodeRecord& ep = r_.episodes[*best];
    // The agent's reasoning when the backout was recommended for this breach (or, failing that,
    // at the decision).
    const Recommendation* rec = nullptr;
    for (const Recommendation& x : recs_) {
      if (x.at >= ep.breached_at && x.at <= *when && x.rec == "backout") {
        rec = &x;
        break;
      }
    }
    if (rec == nullptr) {
      rec = recommendation_at(*when);
    }
    if (rec != nullptr) {
      c.evidence = rec->reason;
      c.evidence_at = rec->at;
      c.recommendation = headline(rec->rec);
    }
    if (plan_ != nullptr) {
      if (auto sev = rules::parse_severity(ep.severity)) {
        if (const rules::Authority* a = plan_->authority_for(*sev)) {
          std::string text = "decides: " + role_who(a->decides);
          if (!a->notify.empty()) {
            std::vector<std::string> told;
            for (const std::string& role : a->notify) {
              told.push_back(role_who(role));
            }
            text += "; notified: " + join(told, ", ");
          }
          if (a->ack_within) {
            text += "; acknowledge within " + format_duration(*a->ack_within);
            if (a->escalate_to) {
              text += ", else escalate to " + role_who(*a->escalate_to);
            }
          }
          c.authority = text;
        }
      }
    }
    r_.cause = std::move(c);
  }

  // When the run of BACKOUT recommendations in effect at `at` began (a FIX-FORWARD or GO in
  // between starts a new run): what a decision at `at` answered.
  std::optional<TimePoint> backout_onset(TimePoint at) const {
    std::optional<TimePoint> onset;
    for (const Recommendation& rec : recs_) {
      if (rec.at > at) {
        break;
      }
      if (rec.rec != "backout") {
        onset.reset();
      } else if (!onset) {
        onset = rec.at;
      }
    }
    return onset;
  }

  std::optional<TimePoint> window_end() const {
    return r_.header.extended_end ? r_.header.extended_end : r_.header.window_end;
  }

  std::optional<TimePoint> pnr() const {
    if (r_.header.extended_end && r_.header.backout_duration) {
      return *r_.header.extended_end - *r_.header.backout_duration;
    }
    return r_.header.point_of_no_return;
  }

  void durations() {
    const ReviewHeader& h = r_.header;
    // Total backout: rehearsed against decision -> complete (or the end of the record).
    {
      DurationRow row;
      row.test = "Total backout";
      row.expected = h.backout_duration ? format_duration(*h.backout_duration) + " (rehearsed)"
                                        : "unknown (give --plan)";
      if (!r_.backout_decided_at) {
        row.actual = "no backout decided";
      } else if (r_.backout_complete_at) {
        const Duration d = *r_.backout_complete_at - *r_.backout_decided_at;
        row.actual = span(d) + " (" + t(*r_.backout_decided_at) + " to " +
                     t(*r_.backout_complete_at) + ")";
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
      if (r_.backout_decided_at && h.backout_duration && window_end() &&
          *r_.backout_decided_at + *h.backout_duration > *window_end()) {
        row.issues += std::string(row.issues.empty() ? "" : "; ") +
                      "started at the decision, it ends " +
                      span(*r_.backout_decided_at + *h.backout_duration - *window_end()) +
                      " after the window (" + t(*window_end()) + ")";
      }
      r_.durations.push_back(std::move(row));
    }
    // The decision against the point of no return.
    {
      DurationRow row;
      row.test = "Backout decision";
      row.expected = pnr() ? "by the point of no return, " + t(*pnr())
                           : "by the point of no return";
      if (r_.backout_decided_at) {
        const Decision& d = decisions_[*backout_decision_];
        row.actual = t(d.at) + " by " + who(d.by);
        if (auto onset = backout_onset(d.at)) {
          row.actual += ", " + span(d.at - *onset) +
                        " after BACKOUT was recommended";
        }
        if (pnr() && d.at > *pnr()) {
          row.issues = span(d.at - *pnr()) + " after the point of no return";
        } else if (pnr()) {
          row.issues = span(*pnr() - d.at) + " before the point of no return";
        }
      } else if (r_.backout_recommended_at) {
        row.actual = "not decided (BACKOUT recommended " + t(*r_.backout_recommended_at) + ")";
      } else {
        row.actual = "no backout";
      }
      r_.durations.push_back(std::move(row));
    }
    // Detection (or the page's decision) to delivery, for every page that paged someone.
    for (const PageRecord& p : r_.pages) {
      if (p.decides.empty()) {
        continue;
      }
      DurationRow row;
      const TimePoint from = p.detected_at ? *p.detected_at : p.at;
      row.test = std::string(p.detected_at ? "Detection to delivery: " : "Page to delivery: ") +
                 page_title(p.kind) + " page about " + names(p.triggers) + " (" + t(p.at) + ")";
      if (plan_ != nullptr && p.detected_at) {
        row.expected = p.severity == "critical"
                           ? "immediate (critical)"
                           : "after group_wait " + format_duration(plan_->notify.group_wait);
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
    // Acknowledgements of the paged breaches.
    for (const EpisodeRecord& ep : r_.episodes) {
      if (!ep.paged_at) {
        continue;
      }
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
  }

  void findings() {
    std::vector<std::string>& f = r_.findings;
    // Delivery first, then acknowledgement, sources and restarts: the order a night unfolds.
    std::size_t unrecorded = 0;
    for (const PageRecord& p : r_.pages) {
      const std::string about = page_title(p.kind) + " page about " + names(p.triggers) + " (" +
                                t(p.at) + ")";
      if (p.deliveries.empty() && !p.decides.empty()) {
        ++unrecorded;
      }
      for (const DeliveryRecord& d : p.deliveries) {
        if (d.outcome == "delivered" && d.attempts > 1) {
          f.push_back("The " + about + " needed " + std::to_string(d.attempts) +
                      " attempts on " + d.channel +
                      (d.first_error.empty() ? "" : " (first error: " + d.first_error + ")") +
                      (d.at ? "; delivered " + span(*d.at - p.at) + " after the page" : "") +
                      ".");
        } else if (d.outcome == "dropped") {
          f.push_back("The " + about + " was refused for good by " + d.channel +
                      (d.detail.empty() ? "" : ": " + d.detail) +
                      "; check the channel's configuration.");
        } else if (d.outcome != "delivered") {
          f.push_back("The " + about + " was never delivered to " + d.channel +
                      (d.attempts > 0 ? " (" + std::to_string(d.attempts) + " attempts" +
                                            (d.detail.empty() ? "" : ", last error: " + d.detail) +
                                            ")"
                                      : "") +
                      ".");
        }
      }
    }
    if (unrecorded > 0) {
      f.push_back(std::to_string(unrecorded) + (unrecorded == 1 ? " page has" : " pages have") +
                  " no delivery recorded: was a notify channel configured?");
    }
    for (const EpisodeRecord& ep : r_.episodes) {
      if (!ep.paged_at) {
        continue;
      }
      std::string esc;
      if (ep.escalated_at) {
        esc = "; it was escalated to " + ep.escalated_to + " at " + t(*ep.escalated_at);
      }
      if (ep.acked_at) {
        const Duration d = *ep.acked_at - *ep.paged_at;
        if (ep.ack_within && d > *ep.ack_within) {
          f.push_back("The page about " + ep.name + " (" + t(*ep.paged_at) +
                      ") was acknowledged " + span(d) + " after it was sent, over the plan's " +
                      format_duration(*ep.ack_within) + esc + ".");
        } else if (ep.escalated_at) {
          f.push_back("The page about " + ep.name + " (" + t(*ep.paged_at) +
                      ") was not acknowledged in time" + esc + ".");
        }
        continue;
      }
      const bool long_open = !ep.resolved_at ||
                             (ep.ack_within && *ep.resolved_at - *ep.paged_at > *ep.ack_within);
      if (ep.escalated_at || long_open) {
        f.push_back("Nobody acknowledged the page about " + ep.name + " (" + t(*ep.paged_at) +
                    ")" + esc +
                    (ep.resolved_at ? "; it resolved at " + t(*ep.resolved_at)
                                    : "; it was still open at the end of the record") +
                    ".");
      }
    }
    for (const alerting::OutboxMessage& m : orphan_messages_) {
      f.push_back("The message " + m.key + " for " + m.channel +
                  " is in the outbox without a recorded delivery (" +
                  std::to_string(m.attempts) + " attempts" +
                  (m.last_error.empty() ? "" : ", last error: " + m.last_error) + ").");
    }
    for (const SourcePeriod& p : down_) {
      f.push_back("Source " + p.source + " was down from " + t(p.from) +
                  (p.to ? " to " + t(*p.to) + " (" + span(*p.to - p.from) + ")"
                        : " to the end of the record") +
                  (p.error.empty() ? "" : ": " + p.error) + ".");
    }
    for (const Restart& rs : restarts_) {
      f.push_back("The agent restarted at " + t(rs.at) +
                  (rs.gap ? " (no events for " + span(*rs.gap) + " before it)" : "") + ".");
    }
    if (r_.backout_decided_at && pnr() && *r_.backout_decided_at > *pnr()) {
      f.push_back("The backout was decided " + span(*r_.backout_decided_at - *pnr()) +
                  " after the point of no return (" + t(*pnr()) + ").");
    }
    if (r_.backout_recommended_at && !r_.backout_decided_at) {
      bool any_go = false;
      for (const Decision& d : decisions_) {
        any_go = any_go || d.decision == "go";
      }
      if (!any_go) {
        f.push_back("BACKOUT was recommended at " + t(*r_.backout_recommended_at) +
                    " but no decision (backout or go) was recorded.");
      }
    }
    for (const Act& a : r_.acts) {
      if (a.authority.rfind("not the plan's decider", 0) == 0) {
        f.push_back("The " + a.what + " at " + t(a.at) + " was taken by " + a.who + ", " +
                    a.authority + ".");
      }
    }
    for (std::size_t act : missed_etas_) {
      const Act& a = r_.acts[act];
      f.push_back("The fix-forward declared by " + a.who + " at " + t(a.at) + " missed its ETA (" +
                  a.details + ").");
    }
    if (r_.unreadable_events > 0) {
      f.push_back(std::to_string(r_.unreadable_events) +
                  " timeline entries could not be read and are not in this review.");
    }
  }

  void answers() {
    const std::optional<EpisodeRecord> cause_ep =
        r_.cause ? std::optional<EpisodeRecord>(r_.episodes[r_.cause->episode]) : std::nullopt;
    const Decision* decided = backout_decision_ ? &decisions_[*backout_decision_] : nullptr;
    const Decision* go = nullptr;
    for (const Decision& d : decisions_) {
      if (d.decision == "go" && !go) {
        go = &d;
      }
    }

    // 1. What triggered the backout?
    {
      Answer a{"What triggered the backout?", {}, false};
      if (cause_ep) {
        a.facts.push_back(cause_text(*cause_ep) + ".");
        if (!r_.cause->evidence.empty()) {
          a.facts.push_back("The agent recommended " + r_.cause->recommendation + " at " +
                            t(*r_.cause->evidence_at) + ": " + r_.cause->evidence + ".");
        }
      }
      if (decided) {
        a.facts.push_back("The backout was decided by " + who(decided->by) + " at " +
                          t(decided->at) +
                          (decided->note.empty() ? "" : ": \"" + decided->note + "\"") + ".");
      }
      if (!cause_ep && !decided && !r_.backout_recommended_at) {
        a.facts.push_back("No backout: the agent never recommended one and nobody decided one.");
      } else if (!cause_ep && !decided) {
        a.facts.push_back("BACKOUT was recommended at " + t(*r_.backout_recommended_at) + ".");
      }
      a.needs_team = a.facts.empty();
      r_.answers.push_back(std::move(a));
    }
    // 2. Was the trigger appropriate?
    {
      Answer a{"Was the trigger appropriate?", {}, true};
      const auto onset = decided ? backout_onset(decided->at) : std::nullopt;
      if (decided && onset) {
        a.facts.push_back("Confirmed by a person: " + who(decided->by) + " decided backout at " +
                          t(decided->at) + ", " + span(decided->at - *onset) +
                          " after the agent recommended it.");
      } else if (decided) {
        a.facts.push_back(who(decided->by) + " decided backout at " + t(decided->at) +
                          " without the agent recommending it.");
      } else if (go && r_.backout_recommended_at) {
        a.facts.push_back("Not confirmed: " + who(go->by) + " decided go at " + t(go->at) +
                          (go->note.empty() ? "" : " (\"" + go->note + "\")") + ".");
      } else if (r_.backout_recommended_at) {
        a.facts.push_back("No person confirmed or overruled the BACKOUT recommendation in the "
                          "record.");
      }
      if (cause_ep) {
        if (cause_ep->manual) {
          a.facts.push_back("It was raised by a person, not measured.");
        } else if (!cause_ep->path.empty()) {
          a.facts.push_back("It was detected by the " + cause_ep->path + ".");
        }
        if (cause_ep->resolved_at) {
          a.facts.push_back("The breach resolved at " + t(*cause_ep->resolved_at) + ", " +
                            span(*cause_ep->resolved_at - cause_ep->breached_at) +
                            " after it opened" +
                            (decided && *cause_ep->resolved_at <= decided->at
                                 ? ", before the backout was decided"
                                 : "") +
                            ".");
        } else {
          a.facts.push_back("The breach was still open at the end of the record (" +
                            t(*r_.last_at) + ").");
        }
      }
      if (!decided && !r_.backout_recommended_at) {
        a.facts.push_back("No backout was triggered.");
        a.needs_team = false;
      }
      r_.answers.push_back(std::move(a));
    }
    // 3. Did backout execute as planned?
    {
      Answer a{"Did backout execute as planned?", {}, true};
      if (!decided) {
        a.facts.push_back("No backout was executed.");
        a.needs_team = false;
      } else {
        if (pnr()) {
          a.facts.push_back("The backout was decided at " + t(decided->at) + ", " +
                            (decided->at <= *pnr()
                                 ? span(*pnr() - decided->at) + " before the point of no return (" +
                                       t(*pnr()) + ")"
                                 : span(decided->at - *pnr()) + " after the point of no return (" +
                                       t(*pnr()) + ")") +
                            ".");
        }
        if (r_.backout_complete_at) {
          const Duration d = *r_.backout_complete_at - decided->at;
          std::string s = "Backout complete was recorded at " + t(*r_.backout_complete_at) +
                          ", " + span(d) + " after the decision";
          if (r_.header.backout_duration) {
            s += d <= *r_.header.backout_duration
                     ? ", within the rehearsed " + format_duration(*r_.header.backout_duration)
                     : ", " + span(d - *r_.header.backout_duration) + " over the rehearsed " +
                           format_duration(*r_.header.backout_duration);
          }
          a.facts.push_back(s + ".");
        } else {
          a.facts.push_back("No 'backout complete' was recorded: the steps and their "
                            "verification are not in the agent's record.");
        }
      }
      r_.answers.push_back(std::move(a));
    }
    // 4. What was the actual duration?
    {
      Answer a{"What was the actual duration?", {}, true};
      if (!decided) {
        a.facts.push_back("No backout was executed.");
        a.needs_team = false;
      } else if (r_.backout_complete_at) {
        a.facts.push_back(span(*r_.backout_complete_at - decided->at) + " (decision " +
                          t(decided->at) + " to backout complete " + t(*r_.backout_complete_at) +
                          ")" +
                          (r_.header.backout_duration
                               ? "; rehearsed " + format_duration(*r_.header.backout_duration)
                               : std::string()) +
                          ".");
        a.needs_team = false;
      } else {
        a.facts.push_back("At least " + span(*r_.last_at - decided->at) + ": from the decision at " +
                          t(decided->at) + " to the end of the record at " + t(*r_.last_at) +
                          "; no 'backout complete' was recorded" +
                          (r_.header.backout_duration
                               ? " (rehearsed " + format_duration(*r_.header.backout_duration) +
                                     ")"
                               : std::string()) +
                          ".");
      }
      r_.answers.push_back(std::move(a));
    }
    // 5. What could be improved?
    {
      Answer a{"What could be improved?", r_.findings, true};
      if (a.facts.empty() && !r_.pages.empty()) {
        a.facts.push_back("Nothing stood out in the timeline: every page was delivered at the "
                          "first attempt and no acknowledgement was late.");
      }
      r_.answers.push_back(std::move(a));
    }
    r_.answers.push_back({"Root cause of original issue?", {}, true});
    r_.answers.push_back({"Plan for next attempt?", {}, true});
  }

  std::string cause_text(const EpisodeRecord& ep) const {
    if (ep.manual) {
      return "A manual " + ep.severity + " raise (" + ep.trigger + ") by " + ep.raised_by + " at " +
             t(ep.breached_at) + ": " + ep.reason;
    }
    return trigger_text(ep.trigger) + " breached at " + t(ep.breached_at) +
           (ep.severity.empty() ? "" : " with severity " + ep.severity) +
           (ep.value.empty() ? "" : ", value " + ep.value) +
           (ep.path.empty() ? "" : ", by the " + ep.path);
  }

  void outcome() {
    if (events_.empty()) {
      r_.outcome = "The timeline is empty: the agent recorded nothing.";
      return;
    }
    std::string s;
    if (r_.backout_decided_at) {
      const Decision& d = decisions_[*backout_decision_];
      s = "BACKOUT, decided by " + who(d.by) + " at " + t(d.at);
      if (r_.cause) {
        const EpisodeRecord& ep = r_.episodes[r_.cause->episode];
        s += ep.manual ? " after a manual " + ep.severity + " raise by " + ep.raised_by
                       : " after " + ep.name + " breached (" + ep.severity + ") at " +
                             t(ep.breached_at);
      }
      s += r_.backout_complete_at ? "; backout complete at " + t(*r_.backout_complete_at)
                                  : "; no 'backout complete' recorded";
    } else if (r_.backout_recommended_at) {
      const Decision* go = nullptr;
      for (const Decision& d : decisions_) {
        if (d.decision == "go") {
          go = &d;
        }
      }
      s = "BACKOUT recommended at " + t(*r_.backout_recommended_at) +
          (go ? "; GO decided by " + who(go->by) + " at " + t(go->at)
              : "; no backout decision recorded");
    } else if (!recs_.empty()) {
      s = "No backout. Last recommendation: " + headline(recs_.back().rec) + " (" +
          t(recs_.back().at) + ")";
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

  const ReviewInput& in_;
  const rules::Plan* plan_;
  std::optional<rules::Plan> snapshot_plan_;  // from the record's `plan` event, without --plan
  Review r_;
  std::vector<Event> events_;
  std::chrono::minutes off_{0};
  std::optional<TimePoint> base_;
  std::map<std::string, std::size_t> open_;  // trigger or raise id -> open episode
  std::vector<Recommendation> recs_;
  std::vector<Decision> decisions_;
  std::optional<std::size_t> backout_decision_;
  std::vector<FixForwardFact> fix_forwards_;
  std::vector<std::size_t> missed_etas_;
  std::vector<SourcePeriod> down_;
  std::vector<Restart> restarts_;
  std::vector<alerting::OutboxMessage> orphan_messages_;
  std::vector<Row> rows_;
  std::map<std::string, std::size_t> key_page_;  // outbox key -> page
  std::map<std::size_t, std::set<std::string>> covered_;  // page -> triggers of its matched keys
};

}  // namespace

std::optional<TimePoint> PageRecord::first_delivered() const {
  std::optional<TimePoint> first;
  for (const DeliveryRecord& d : deliveries) {
    if (d.outcome == "delivered" && d.at && (!first || *d.at < *first)) {
      first = d.at;
    }
  }
  return first;
}

std::string review_time(TimePoint t, std::chrono::minutes offset, std::optional<TimePoint> base) {
  const auto local = t + offset;
  const auto day = std::chrono::floor<std::chrono::days>(local);
  const auto tod = std::chrono::hh_mm_ss(std::chrono::floor<std::chrono::milliseconds>(local - day));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", static_cast<int>(tod.hours().count()),
                static_cast<int>(tod.minutes().count()), static_cast<int>(tod.seconds().count()));
  std::string out = buf;
  if (tod.subseconds().count() != 0) {
    std::snprintf(buf, sizeof buf, ".%03d", static_cast<int>(tod.subseconds().count()));
    out += buf;
  }
  if (base && std::chrono::floor<std::chrono::days>(*base + offset) != day) {
    const std::chrono::year_month_day ymd{day};
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    out = buf + out;
  }
  return out;
}

Review build_review(const ReviewInput& input) { return Builder(input).build(); }

}  // namespace backout::agent::report
