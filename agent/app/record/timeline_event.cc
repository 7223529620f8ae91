#include "app/record/timeline_event.h"

#include <boost/json.hpp>

#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <type_traits>

#include "backout/core/text.h"
#include "backout/rules/expression_parser.h"

namespace backout::agent::record {
namespace {

namespace json = boost::json;

template <typename... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <typename... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// ---- Writing --------------------------------------------------------------------------------

// `{"a": 1, "b": "x"}`: the timeline's own layout, keys in the order they are written.
class Writer {
 public:
  Writer& str(std::string_view key, std::string_view v) {
    name(key);
    out_ += json_quote(v);
    return *this;
  }
  Writer& str_or_null(std::string_view key, const std::optional<std::string>& v) {
    name(key);
    out_ += v ? json_quote(*v) : std::string("null");
    return *this;
  }
  Writer& boolean(std::string_view key, bool v) {
    name(key);
    out_ += v ? "true" : "false";
    return *this;
  }
  /// Up to 6 significant digits (the `simulate` format), null when absent or not finite.
  Writer& number(std::string_view key, std::optional<double> v) {
    name(key);
    out_ += v ? json_number(*v) : std::string("null");
    return *this;
  }
  /// Every digit a double has (a round trip keeps the value).
  Writer& exact(std::string_view key, double v) {
    name(key);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", std::isfinite(v) ? v : 0.0);
    out_ += buf;
    return *this;
  }
  Writer& integer(std::string_view key, long long v) {
    name(key);
    out_ += std::to_string(v);
    return *this;
  }
  Writer& strings(std::string_view key, const std::vector<std::string>& v) {
    name(key);
    out_ += "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
      out_ += (i ? ", " : "") + json_quote(v[i]);
    }
    out_ += "]";
    return *this;
  }
  Writer& time(std::string_view key, const ZonedTime& t) {
    return str(key, format_rfc3339(t.at, t.offset));
  }
  Writer& duration(std::string_view key, Duration d) { return str(key, format_duration(d)); }
  /// A list of objects, each written by its own Writer.
  Writer& objects(std::string_view key, const std::vector<std::string>& encoded) {
    name(key);
    out_ += "[";
    for (std::size_t i = 0; i < encoded.size(); ++i) {
      out_ += (i ? ", " : "") + encoded[i];
    }
    out_ += "]";
    return *this;
  }
  std::string done() { return out_ + "}"; }

 private:
  void name(std::string_view key) {
    out_ += first_ ? "" : ", ";
    first_ = false;
    out_ += json_quote(key);
    out_ += ": ";
  }
  std::string out_ = "{";
  bool first_ = true;
};

// ---- Reading --------------------------------------------------------------------------------

// Field access that says what is wrong; the first problem is kept.
class Reader {
 public:
  explicit Reader(const json::object& o) : o_(o) {}

  std::string str(const char* key) {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr || !v->is_string()) {
      fail(key, "a string");
      return {};
    }
    return std::string(v->as_string());
  }
  /// Absent or null: empty.
  std::string str_or_empty(const char* key) {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr || v->is_null()) {
      return {};
    }
    return str(key);
  }
  std::optional<std::string> str_or_null(const char* key) {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr || v->is_null()) {
      return std::nullopt;
    }
    return str(key);
  }
  bool boolean(const char* key) {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr || !v->is_bool()) {
      fail(key, "true or false");
      return false;
    }
    return v->as_bool();
  }
  std::optional<double> number_or_null(const char* key) {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr || v->is_null()) {
      return std::nullopt;
    }
    if (!v->is_number()) {
      fail(key, "a number");
      return std::nullopt;
    }
    return v->to_number<double>();
  }
  double number(const char* key) {
    auto v = number_or_null(key);
    if (!v && problem_.empty()) {
      fail(key, "a number");
    }
    return v.value_or(0);
  }
  std::vector<std::string> strings(const char* key) {
    std::vector<std::string> out;
    const json::value* v = o_.if_contains(key);
    if (v == nullptr || !v->is_array()) {
      fail(key, "a list of strings");
      return out;
    }
    for (const json::value& s : v->as_array()) {
      if (!s.is_string()) {
        fail(key, "a list of strings");
        return {};
      }
      out.emplace_back(s.as_string());
    }
    return out;
  }
  Duration duration(const char* key) {
    const std::string text = str(key);
    if (!problem_.empty()) {
      return Duration{0};
    }
    std::string why;
    if (auto d = parse_duration(text, &why)) {
      return *d;
    }
    fail(key, "a duration (" + why + ")");
    return Duration{0};
  }
  /// A list of objects, each read by `each(Reader&)`.
  template <typename Each>
  void objects(const char* key, Each each) {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr || !v->is_array()) {
      fail(key, "a list of objects");
      return;
    }
    for (const json::value& x : v->as_array()) {
      if (!x.is_object()) {
        fail(key, "a list of objects");
        return;
      }
      Reader inner(x.as_object());
      each(inner);
      if (!inner.problem().empty()) {
        if (problem_.empty()) {
          problem_ = "in '" + std::string(key) + "': " + inner.problem();
        }
        return;
      }
    }
  }
  bool has(const char* key) const {
    const json::value* v = o_.if_contains(key);
    return v != nullptr && !v->is_null();
  }
  ZonedTime time(const char* key) {
    const std::string text = str(key);
    if (!problem_.empty()) {
      return {};
    }
    std::string why;
    if (auto z = parse_rfc3339(text, &why)) {
      return *z;
    }
    fail(key, "an RFC 3339 time (" + why + ")");
    return {};
  }
  /// One of the names `name_of` gives to the enumerators in `all`.
  template <typename E, typename Name>
  E one_of(const char* key, std::initializer_list<E> all, Name name_of) {
    const std::string text = str(key);
    for (E e : all) {
      if (name_of(e) == text) {
        return e;
      }
    }
    if (problem_.empty()) {
      std::string names;
      for (E e : all) {
        names += (names.empty() ? "" : ", ") + std::string(name_of(e));
      }
      problem_ = "'" + std::string(key) + "' is '" + text + "', not one of " + names;
    }
    return *all.begin();
  }

  const std::string& problem() const { return problem_; }

 private:
  void fail(const char* key, const std::string& what) {
    if (problem_.empty()) {
      problem_ = "'" + std::string(key) + "' must be " + what;
    }
  }
  const json::object& o_;
  std::string problem_;
};

constexpr std::initializer_list<rules::TriggerState> kStates = {
    rules::TriggerState::kOk, rules::TriggerState::kPending, rules::TriggerState::kBreached,
    rules::TriggerState::kInconclusive};
constexpr std::initializer_list<rules::Severity> kSeverities = {
    rules::Severity::kMinor, rules::Severity::kDiscretionary, rules::Severity::kMajor,
    rules::Severity::kCritical};
constexpr std::initializer_list<rules::DetectionPath> kPaths = {rules::DetectionPath::kAverage,
                                                                rules::DetectionPath::kEarly};
constexpr std::initializer_list<rules::Recommendation> kRecommendations = {
    rules::Recommendation::kGo, rules::Recommendation::kWatch, rules::Recommendation::kFixForward,
    rules::Recommendation::kBackout};
constexpr std::initializer_list<rules::PageKind> kPageKinds = {
    rules::PageKind::kBreach,    rules::PageKind::kSeverityUp, rules::PageKind::kRepeat,
    rules::PageKind::kEscalation, rules::PageKind::kPnrWarning, rules::PageKind::kEtaPassed,
    rules::PageKind::kResolve,   rules::PageKind::kFinal,      rules::PageKind::kAct,
    rules::PageKind::kPhase,     rules::PageKind::kDeployOverrun, rules::PageKind::kStep,
    rules::PageKind::kStepOverrun, rules::PageKind::kProjection, rules::PageKind::kCheckFailed,
    rules::PageKind::kStepVerified, rules::PageKind::kReversalVerified,
    rules::PageKind::kReversalIncomplete, rules::PageKind::kBlind,
    rules::PageKind::kBlindResolved};
constexpr std::initializer_list<rules::NightPhase> kNightPhases = {
    rules::NightPhase::kPreWindow,  rules::NightPhase::kDeploying, rules::NightPhase::kInWindow,
    rules::NightPhase::kBackingOut, rules::NightPhase::kVerifying, rules::NightPhase::kBackedOut,
    rules::NightPhase::kPostWindow};
constexpr std::initializer_list<StepChanged::What> kStepWhats = {
    StepChanged::What::kStarted, StepChanged::What::kOverrun, StepChanged::What::kProjection,
    StepChanged::What::kVerified, StepChanged::What::kCheckFailed};
constexpr std::initializer_list<rules::Phase> kPhases = {
    rules::Phase::kPreWindow, rules::Phase::kInWindow, rules::Phase::kPostWindow};
constexpr std::initializer_list<Delivery::Outcome> kDeliveryOutcomes = {
    Delivery::Outcome::kDelivered, Delivery::Outcome::kRetry, Delivery::Outcome::kDropped};
constexpr std::initializer_list<AgentLifecycle::What> kLifecycle = {
    AgentLifecycle::What::kStarted, AgentLifecycle::What::kRestarted,
    AgentLifecycle::What::kStoreRecovered, AgentLifecycle::What::kReloaded,
    AgentLifecycle::What::kReloadRefused};
constexpr std::initializer_list<ClockGuard::Outcome> kClockOutcomes = {
    ClockGuard::Outcome::kDetected, ClockGuard::Outcome::kApplied, ClockGuard::Outcome::kReverted};
constexpr std::initializer_list<rules::HumanDecision::Kind> kDecisions = {
    rules::HumanDecision::Kind::kBackout, rules::HumanDecision::Kind::kGo,
    rules::HumanDecision::Kind::kExtend};

auto rules_name = [](auto e) { return rules::to_string(e); };
auto record_name = [](auto e) { return to_string(e); };
auto clock_name = [](ClockGuard::Outcome o) { return backout::to_string(o); };

Result<EventBody> decode_body(const std::string& kind, const json::object& o,
                              std::string_view text) {
  Reader r(o);
  EventBody body;
  if (kind == "trigger") {
    TriggerChanged t;
    t.trigger = r.str("trigger");
    t.state = r.one_of("state", kStates, rules_name);
    if (r.has("severity")) {
      t.severity = r.one_of("severity", kSeverities, rules_name);
    }
    t.value = r.number_or_null("value");
    if (r.has("path")) {
      t.path = r.one_of("path", kPaths, rules_name);
    }
    t.reason = r.str_or_empty("reason");
    t.expected = r.has("expected") && r.boolean("expected");
    body = std::move(t);
  } else if (kind == "recommendation") {
    body = RecommendationChanged{r.one_of("recommendation", kRecommendations, rules_name),
                                 r.str("reason")};
  } else if (kind == "notify") {
    Notified n;
    n.trigger = r.str_or_null("trigger");
    n.decides = r.str_or_empty("decides");
    n.mention = r.strings("mention");
    n.page = r.one_of("page", kPageKinds, rules_name);
    n.key = r.str_or_empty("key");  // absent in `simulate` lines and before issue 10
    body = std::move(n);
  } else if (kind == "phase") {
    body = PhaseChanged{r.one_of("phase", kPhases, rules_name)};
  } else if (kind == "source") {
    SourceChanged s;
    s.source = r.str("source");
    s.up = r.boolean("up");
    s.error = r.str_or_empty("error");
    body = std::move(s);
  } else if (kind == "delivery") {
    Delivery d;
    d.channel = r.str("channel");
    d.key = r.str("key");
    d.outcome = r.one_of("outcome", kDeliveryOutcomes, record_name);
    d.attempts = static_cast<int>(r.number("attempts"));
    d.detail = r.str_or_empty("detail");
    body = std::move(d);
  } else if (kind == "agent") {
    body = AgentLifecycle{r.one_of("event", kLifecycle, record_name), r.str_or_empty("detail")};
  } else if (kind == "clock_step") {
    ClockStepped c;
    c.outcome = r.one_of("outcome", kClockOutcomes, clock_name);
    c.by_seconds = r.number("by_seconds");
    c.wall = r.time("wall");
    body = c;
  } else if (kind == "ack") {
    body = Acknowledged{r.strings("triggers"), r.str("by")};
  } else if (kind == "fix_forward") {
    FixForwardDeclared f;
    f.trigger = r.str("trigger");
    f.eta = r.time("eta");
    f.by = r.str("by");
    f.before_point_of_no_return = r.boolean("before_point_of_no_return");
    body = std::move(f);
  } else if (kind == "decision") {
    Decided d;
    d.decision = r.one_of("decision", kDecisions, rules_name);
    d.by = r.str("by");
    d.note = r.str_or_empty("note");
    if (r.has("until")) {
      d.until = r.time("until");
    }
    if (r.has("accepted")) {
      d.accepted = r.strings("accepted");
    }
    body = std::move(d);
  } else if (kind == "raise") {
    Raised x;
    x.id = r.str("id");
    x.severity = r.one_of("severity", kSeverities, rules_name);
    x.reason = r.str("reason");
    x.by = r.str("by");
    body = std::move(x);
  } else if (kind == "raise_clear") {
    body = RaiseCleared{r.str("id"), r.str("by")};
  } else if (kind == "deployed") {
    GoLiveDeclared g;
    g.by = r.str_or_empty("by");
    g.overrun = r.has("overrun") && r.boolean("overrun");
    body = std::move(g);
  } else if (kind == "done") {
    ItemDoneRecorded d;
    d.item = r.str("item");
    d.by = r.str("by");
    d.note = r.str_or_empty("note");
    d.failed = r.has("failed") && r.boolean("failed");
    body = std::move(d);
  } else if (kind == "night") {
    body = NightPhaseChanged{r.one_of("phase", kNightPhases, rules_name)};
  } else if (kind == "step") {
    StepChanged c;
    c.step = r.str("step");
    c.what = r.one_of("state", kStepWhats, record_name);
    if (r.has("projected_end")) {
      c.projected_end = r.time("projected_end");
    }
    body = std::move(c);
  } else if (kind == "verify") {
    VerifyOutcome v;
    const std::string outcome = r.str("outcome");
    if (outcome != "verified" && outcome != "incomplete") {
      return Error{"a verify event's outcome must be verified or incomplete, not '" + outcome +
                   "'"};
    }
    v.verified = outcome == "verified";
    v.failing = r.has("failing") ? r.strings("failing") : std::vector<std::string>{};
    body = std::move(v);
  } else if (kind == "plan") {
    PlanSnapshot p;
    p.project = r.str("project");
    p.release = r.str("release");
    p.owner = r.str_or_empty("owner");
    p.revision = r.str_or_empty("revision");
    p.approved = r.boolean("approved");
    p.window_start = r.time("window_start");
    p.window_end = r.time("window_end");
    p.backout_duration = r.duration("backout_duration");
    p.warn_before_pnr = r.duration("warn_before_point_of_no_return");
    p.group_wait = r.duration("group_wait");
    p.repeat_every = r.duration("repeat_every");
    r.objects("contacts", [&](Reader& c) {
      p.contacts.push_back({c.str("role"), c.str_or_empty("name"), c.str_or_empty("chat")});
    });
    r.objects("authority", [&](Reader& a) {
      PlanSnapshot::Decider d;
      d.severity = a.one_of("severity", kSeverities, rules_name);
      d.decides = a.str("decides");
      d.notify = a.strings("notify");
      if (a.has("ack_within")) {
        d.ack_within = a.duration("ack_within");
      }
      d.escalate_to = a.str_or_null("escalate_to");
      p.authority.push_back(std::move(d));
    });
    r.objects("triggers", [&](Reader& t) {
      p.triggers.push_back({t.str("id"), t.str_or_empty("name"), t.str_or_empty("measure")});
    });
    body = std::move(p);
  } else {
    body = Unknown{kind, std::string(text)};
  }
  if (!r.problem().empty()) {
    return Error{"a '" + kind + "' event: " + r.problem()};
  }
  return body;
}

}  // namespace

std::string json_number(double v) {
  if (!std::isfinite(v)) {
    return "null";
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string_view to_string(Delivery::Outcome o) {
  switch (o) {
    case Delivery::Outcome::kDelivered:
      return "delivered";
    case Delivery::Outcome::kRetry:
      return "retry";
    case Delivery::Outcome::kDropped:
      return "dropped";
  }
  return "delivered";
}

std::string_view to_string(StepChanged::What w) {
  switch (w) {
    case StepChanged::What::kStarted:
      return "started";
    case StepChanged::What::kOverrun:
      return "overrun";
    case StepChanged::What::kProjection:
      return "projection";
    case StepChanged::What::kVerified:
      return "verified";
    case StepChanged::What::kCheckFailed:
      return "check_failed";
  }
  return "started";
}

std::string_view to_string(AgentLifecycle::What w) {
  switch (w) {
    case AgentLifecycle::What::kStarted:
      return "started";
    case AgentLifecycle::What::kRestarted:
      return "restarted";
    case AgentLifecycle::What::kStoreRecovered:
      return "store_recovered";
    case AgentLifecycle::What::kReloaded:
      return "reloaded";
    case AgentLifecycle::What::kReloadRefused:
      return "reload_refused";
  }
  return "started";
}

std::string_view TimelineEvent::kind() const {
  return std::visit(
      Overloaded{[](const TriggerChanged&) { return std::string_view("trigger"); },
                 [](const RecommendationChanged&) { return std::string_view("recommendation"); },
                 [](const Notified&) { return std::string_view("notify"); },
                 [](const PhaseChanged&) { return std::string_view("phase"); },
                 [](const SourceChanged&) { return std::string_view("source"); },
                 [](const Delivery&) { return std::string_view("delivery"); },
                 [](const AgentLifecycle&) { return std::string_view("agent"); },
                 [](const ClockStepped&) { return std::string_view("clock_step"); },
                 [](const Acknowledged&) { return std::string_view("ack"); },
                 [](const FixForwardDeclared&) { return std::string_view("fix_forward"); },
                 [](const Decided&) { return std::string_view("decision"); },
                 [](const Raised&) { return std::string_view("raise"); },
                 [](const RaiseCleared&) { return std::string_view("raise_clear"); },
                 [](const PlanSnapshot&) { return std::string_view("plan"); },
                 [](const GoLiveDeclared&) { return std::string_view("deployed"); },
                 [](const ItemDoneRecorded&) { return std::string_view("done"); },
                 [](const NightPhaseChanged&) { return std::string_view("night"); },
                 [](const StepChanged&) { return std::string_view("step"); },
                 [](const VerifyOutcome&) { return std::string_view("verify"); },
                 [](const Unknown& u) { return std::string_view(u.kind); }},
      body);
}

std::string encode(const TimelineEvent& e, Encoding encoding) {
  if (const Unknown* u = e.as<Unknown>()) {
    return u->json;
  }
  Writer w;
  w.time("at", e.at).str("kind", e.kind());
  std::visit(
      Overloaded{
          [&](const TriggerChanged& t) {
            w.str("trigger", t.trigger).str("state", rules::to_string(t.state));
            w.str_or_null("severity", t.severity ? std::optional<std::string>(std::string(
                                                       rules::to_string(*t.severity)))
                                                 : std::nullopt);
            w.number("value", t.value);
            if (t.path) {
              w.str("path", rules::to_string(*t.path));
            }
            if (!t.reason.empty()) {
              w.str("reason", t.reason);
            }
            if (t.expected) {
              w.boolean("expected", true);
            }
          },
          [&](const RecommendationChanged& r) {
            w.str("recommendation", rules::to_string(r.recommendation)).str("reason", r.reason);
          },
          [&](const Notified& n) {
            w.str_or_null("trigger", n.trigger);
            w.str_or_null("decides", n.decides.empty() ? std::nullopt
                                                       : std::optional<std::string>(n.decides));
            w.strings("mention", n.mention).str("page", rules::to_string(n.page));
            if (encoding == Encoding::kRecord) {
              w.str("key", n.key);
            }
          },
          [&](const PhaseChanged& p) { w.str("phase", rules::to_string(p.phase)); },
          [&](const SourceChanged& s) {
            w.str("source", s.source).boolean("up", s.up);
            if (!s.up) {
              w.str("error", s.error);
            }
          },
          [&](const Delivery& d) {
            w.str("channel", d.channel)
                .str("key", d.key)
                .str("outcome", to_string(d.outcome))
                .integer("attempts", d.attempts)
                .str("detail", d.detail);
          },
          [&](const AgentLifecycle& a) {
            w.str("event", to_string(a.event));
            if (!a.detail.empty()) {
              w.str("detail", a.detail);
            }
          },
          [&](const ClockStepped& c) {
            w.str("outcome", backout::to_string(c.outcome))
                .exact("by_seconds", c.by_seconds)
                .time("wall", c.wall);
          },
          [&](const Acknowledged& a) { w.strings("triggers", a.triggers).str("by", a.by); },
          [&](const FixForwardDeclared& f) {
            w.str("trigger", f.trigger)
                .time("eta", f.eta)
                .str("by", f.by)
                .boolean("before_point_of_no_return", f.before_point_of_no_return);
          },
          [&](const Decided& d) {
            w.str("decision", rules::to_string(d.decision)).str("by", d.by).str("note", d.note);
            if (d.until) {
              w.time("until", *d.until);
            }
            if (d.accepted) {
              w.strings("accepted", *d.accepted);
            }
          },
          [&](const Raised& x) {
            w.str("id", x.id)
                .str("severity", rules::to_string(x.severity))
                .str("reason", x.reason)
                .str("by", x.by);
          },
          [&](const RaiseCleared& c) { w.str("id", c.id).str("by", c.by); },
          [&](const GoLiveDeclared& g) { w.str("by", g.by).boolean("overrun", g.overrun); },
          [&](const ItemDoneRecorded& d) {
            w.str("item", d.item).str("by", d.by).str("note", d.note).boolean("failed", d.failed);
          },
          [&](const NightPhaseChanged& n) { w.str("phase", rules::to_string(n.phase)); },
          [&](const StepChanged& c) {
            w.str("step", c.step).str("state", to_string(c.what));
            if (c.projected_end) {
              w.time("projected_end", *c.projected_end);
            } else {
              w.str_or_null("projected_end", std::nullopt);
            }
          },
          [&](const VerifyOutcome& v) {
            w.str("outcome", v.verified ? "verified" : "incomplete").strings("failing", v.failing);
          },
          [&](const PlanSnapshot& p) {
            w.str("project", p.project)
                .str("release", p.release)
                .str("owner", p.owner)
                .str("revision", p.revision)
                .boolean("approved", p.approved)
                .time("window_start", p.window_start)
                .time("window_end", p.window_end)
                .time("point_of_no_return",
                      {p.window_end.at - p.backout_duration, p.window_end.offset})
                .duration("backout_duration", p.backout_duration)
                .duration("warn_before_point_of_no_return", p.warn_before_pnr)
                .duration("group_wait", p.group_wait)
                .duration("repeat_every", p.repeat_every);
            std::vector<std::string> contacts;
            for (const auto& c : p.contacts) {
              contacts.push_back(
                  Writer().str("role", c.role).str("name", c.name).str("chat", c.chat).done());
            }
            w.objects("contacts", contacts);
            std::vector<std::string> authority;
            for (const auto& a : p.authority) {
              Writer x;
              x.str("severity", rules::to_string(a.severity))
                  .str("decides", a.decides)
                  .strings("notify", a.notify);
              if (a.ack_within) {
                x.duration("ack_within", *a.ack_within);
              }
              if (a.escalate_to) {
                x.str("escalate_to", *a.escalate_to);
              }
              authority.push_back(x.done());
            }
            w.objects("authority", authority);
            std::vector<std::string> triggers;
            for (const auto& t : p.triggers) {
              triggers.push_back(
                  Writer().str("id", t.id).str("name", t.name).str("measure", t.measure).done());
            }
            w.objects("triggers", triggers);
          },
          [&](const Unknown&) {}},
      e.body);
  return w.done();
}

Result<TimelineEvent> decode(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    return Error{"not a JSON object" + (ec ? ": " + ec.message() : std::string())};
  }
  const json::object& o = v.as_object();
  Reader r(o);
  TimelineEvent e;
  e.at = r.time("at");
  const std::string kind = r.str("kind");
  if (!r.problem().empty()) {
    return Error{"an event: " + r.problem()};
  }
  auto body = decode_body(kind, o, text);
  if (!body.ok()) {
    return Error{body.error()};
  }
  e.body = std::move(body).value();
  return e;
}

std::string fields_json(const Unknown& u) {
  boost::system::error_code ec;
  json::value v = json::parse(u.json, ec);
  if (ec || !v.is_object()) {
    return "{}";
  }
  json::object& o = v.as_object();
  o.erase("at");
  o.erase("kind");
  return json::serialize(o);
}

std::string string_field(const Unknown& u, std::string_view key) {
  boost::system::error_code ec;
  json::value v = json::parse(u.json, ec);
  const json::value* f = !ec && v.is_object() ? v.as_object().if_contains(key) : nullptr;
  return f != nullptr && f->is_string() ? std::string(f->as_string()) : std::string();
}

bool PlanSnapshot::operator==(const PlanSnapshot& o) const {
  return project == o.project && release == o.release && owner == o.owner &&
         revision == o.revision && approved == o.approved &&
         window_start.at == o.window_start.at && window_end.at == o.window_end.at &&
         backout_duration == o.backout_duration && warn_before_pnr == o.warn_before_pnr &&
         group_wait == o.group_wait && repeat_every == o.repeat_every &&
         contacts == o.contacts && authority == o.authority && triggers == o.triggers;
}

PlanSnapshot snapshot_of(const rules::Plan& plan) {
  PlanSnapshot s;
  s.project = plan.header.project;
  s.release = plan.header.release;
  s.owner = plan.header.owner;
  s.revision = plan.header.revision;
  s.approved = plan.header.approved;
  s.window_start = plan.window.start;
  s.window_end = plan.window.end;
  s.backout_duration = plan.window.backout_duration;
  s.warn_before_pnr = plan.window.warn_before_pnr;
  s.group_wait = plan.notify.group_wait;
  s.repeat_every = plan.notify.repeat_every;
  for (const rules::Contact& c : plan.contacts) {
    s.contacts.push_back({c.role, c.name, c.chat});
  }
  for (const auto& [sev, a] : plan.authority) {
    s.authority.push_back({a.severity, a.decides, a.notify, a.ack_within, a.escalate_to});
  }
  for (const rules::Trigger& t : plan.triggers) {
    s.triggers.push_back({t.id, t.name, t.measure.text()});
  }
  return s;
}

rules::Plan plan_of(const PlanSnapshot& s) {
  rules::Plan p;
  p.header.project = s.project;
  p.header.release = s.release;
  p.header.owner = s.owner;
  p.header.revision = s.revision;
  p.header.approved = s.approved;
  p.window.start = s.window_start;
  p.window.end = s.window_end;
  p.window.backout_duration = s.backout_duration;
  p.window.warn_before_pnr = s.warn_before_pnr;
  p.notify.group_wait = s.group_wait;
  p.notify.repeat_every = s.repeat_every;
  for (const auto& c : s.contacts) {
    rules::Contact x;
    x.role = c.role;
    x.name = c.name;
    x.chat = c.chat;
    p.contacts.push_back(std::move(x));
  }
  for (const auto& a : s.authority) {
    p.authority[a.severity] = {a.severity, a.decides, a.notify, a.ack_within, a.escalate_to};
  }
  for (const auto& t : s.triggers) {
    rules::Trigger x;
    x.id = t.id;
    x.name = t.name;
    auto m = rules::parse_measure(t.measure);
    if (auto* measure = std::get_if<rules::Measure>(&m)) {
      x.measure = std::move(*measure);
    }
    p.triggers.push_back(std::move(x));
  }
  return p;
}

namespace {

// The night's changes of one tick (the acts' own events, `deployed` and `done`, are written by
// the API when the act is accepted; a go-live taken at the planned time is written here).
void night_events(const rules::Plan& plan, const rules::TickResult& tick,
                  std::vector<TimelineEvent>& out) {
  using Kind = rules::LifecycleEvent::Kind;
  const ZonedTime at{tick.at, plan.window.offset()};
  auto step_id = [&](std::size_t i) {
    return plan.backout && i < plan.backout->steps.size() ? plan.backout->steps[i].id
                                                          : std::to_string(i);
  };
  auto step = [&](const rules::LifecycleEvent& e, StepChanged::What what) {
    StepChanged c{step_id(e.step), what, std::nullopt};
    if (e.projected_end) {
      c.projected_end = ZonedTime{*e.projected_end, plan.window.offset()};
    }
    out.push_back({at, std::move(c)});
  };
  for (const rules::LifecycleEvent& e : tick.lifecycle) {
    switch (e.kind) {
      case Kind::kPhase:
        // A plan without the night's keys records what it always did.
        if (plan.deployment || plan.backout) {
          out.push_back({at, NightPhaseChanged{e.phase}});
        }
        break;
      case Kind::kDeployOverrun:
        out.push_back({at, GoLiveDeclared{"", true}});
        break;
      case Kind::kStepStarted:
        step(e, StepChanged::What::kStarted);
        break;
      case Kind::kStepOverrun:
        step(e, StepChanged::What::kOverrun);
        break;
      case Kind::kProjection:
        step(e, StepChanged::What::kProjection);
        break;
      case Kind::kStepVerified:
        step(e, StepChanged::What::kVerified);
        break;
      case Kind::kCheckFailed:
        step(e, StepChanged::What::kCheckFailed);
        break;
      case Kind::kReversalVerified:
        out.push_back({at, VerifyOutcome{true, {}}});
        break;
      case Kind::kReversalIncomplete:
        out.push_back({at, VerifyOutcome{false, e.failing}});
        break;
      case Kind::kStartAfresh:
        break;
    }
  }
}

}  // namespace

std::vector<TimelineEvent> tick_events(const rules::Plan& plan, const rules::TickResult& tick) {
  std::vector<TimelineEvent> out;
  const ZonedTime at{tick.at, plan.window.offset()};
  for (const rules::TriggerChange& ch : tick.changes) {
    const rules::TriggerStatus& s = ch.to;
    TriggerChanged t;
    t.trigger = plan.triggers[ch.trigger].id;
    t.state = s.state;
    t.severity = s.severity;
    t.value = s.value;
    if (s.state == rules::TriggerState::kBreached) {
      t.path = s.path;
    }
    if (s.state == rules::TriggerState::kInconclusive) {
      t.reason = s.reason;
    }
    t.expected = ch.trigger < tick.expected.size() && tick.expected[ch.trigger];
    out.push_back({at, std::move(t)});
  }
  night_events(plan, tick, out);
  if (tick.recommendation_changed) {
    out.push_back({at, RecommendationChanged{tick.decision.recommendation, tick.decision.reason}});
  }
  for (const rules::Page& p : tick.pages) {
    std::vector<std::optional<std::string>> ids(p.triggers.begin(), p.triggers.end());
    if (ids.empty()) {
      ids.emplace_back();  // the final message is about the night, not one trigger
    }
    for (auto& id : ids) {
      out.push_back({at, Notified{std::move(id), p.decides, p.mention, p.kind, p.key}});
    }
  }
  return out;
}

std::string encode_timeline_page(std::size_t from, const std::vector<std::string>& events) {
  std::string body = "{\"from\": " + std::to_string(from) +
                     ", \"next\": " + std::to_string(from + events.size()) + ", \"events\": [";
  for (std::size_t i = 0; i < events.size(); ++i) {
    body += (i ? ", " : "") + events[i];
  }
  body += "]}";
  return body;
}

}  // namespace backout::agent::record
