#include "app/simulate/replay_act.h"

#include <charconv>
#include <sstream>
#include <vector>

#include "backout/core/text.h"

namespace backout::agent {
namespace {

constexpr const char* kForms =
    "deployed by WHO | decide backout|go by WHO [note TEXT] | decide extend until TIME by WHO | "
    "done ITEM by WHO [failed] [note TEXT] | ack [TRIGGER] by WHO | "
    "fix_forward TRIGGER eta TIME by WHO";

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;) {
    out.push_back(w);
  }
  return out;
}

std::optional<TimePoint> parse_time(const std::string& s, TimePoint window_start) {
  double secs = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), secs);
  if (ec == std::errc{} && end == s.data() + s.size()) {
    return window_start + from_seconds(secs);
  }
  if (auto z = parse_rfc3339(s)) {
    return z->at;
  }
  return std::nullopt;
}

}  // namespace

Result<ReplayAct> parse_replay_act(std::string_view text, TimePoint window_start) {
  const std::vector<std::string> w = words(text);
  auto fail = [&](const std::string& why) -> Result<ReplayAct> {
    return Error{"act '" + std::string(text) + "': " + why + " (one of: " + kForms + ")"};
  };
  if (w.empty()) {
    return fail("empty");
  }
  ReplayAct a;
  std::size_t i = 1;
  const std::string& what = w[0];
  if (what == "deployed") {
    a.kind = ReplayAct::Kind::kDeployed;
  } else if (what == "decide") {
    a.kind = ReplayAct::Kind::kDecide;
    if (i >= w.size()) {
      return fail("decide what: backout, go or extend");
    }
    const std::string& d = w[i++];
    if (d == "backout") {
      a.decision = rules::HumanDecision::Kind::kBackout;
    } else if (d == "go") {
      a.decision = rules::HumanDecision::Kind::kGo;
    } else if (d == "extend") {
      a.decision = rules::HumanDecision::Kind::kExtend;
      if (i + 1 >= w.size() || w[i] != "until" || !(a.time = parse_time(w[i + 1], window_start))) {
        return fail("extend needs 'until TIME' (seconds from the window start or RFC 3339)");
      }
      i += 2;
    } else {
      return fail("decide '" + d + "': backout, go or extend");
    }
  } else if (what == "done") {
    a.kind = ReplayAct::Kind::kDone;
    if (i >= w.size() || w[i] == "by") {
      return fail("done which item");
    }
    a.item = w[i++];
  } else if (what == "ack") {
    a.kind = ReplayAct::Kind::kAck;
    if (i < w.size() && w[i] != "by") {
      a.item = w[i++];
    }
  } else if (what == "fix_forward") {
    a.kind = ReplayAct::Kind::kFixForward;
    if (i + 2 >= w.size() || w[i + 1] != "eta" || !(a.time = parse_time(w[i + 2], window_start))) {
      return fail("fix_forward needs 'TRIGGER eta TIME'");
    }
    a.item = w[i];
    i += 3;
  } else {
    std::vector<std::string> acts{"deployed", "decide", "done", "ack", "fix_forward"};
    std::string why = "unknown act '" + what + "'";
    if (auto near = closest_match(what, acts)) {
      why += "; did you mean '" + *near + "'?";
    }
    return fail(why);
  }
  if (i + 1 >= w.size() || w[i] != "by") {
    return fail("say who with 'by WHO'");
  }
  a.by = w[i + 1];
  i += 2;
  if (a.kind == ReplayAct::Kind::kDone && i < w.size() && w[i] == "failed") {
    a.failed = true;
    ++i;
  }
  if (i < w.size() && w[i] == "note" &&
      (a.kind == ReplayAct::Kind::kDecide || a.kind == ReplayAct::Kind::kDone)) {
    std::vector<std::string> rest(w.begin() + static_cast<std::ptrdiff_t>(i + 1), w.end());
    a.note = join(rest, " ");
    i = w.size();
  }
  if (i < w.size()) {
    return fail("unexpected '" + w[i] + "'");
  }
  return a;
}

Result<record::TimelineEvent> apply_replay_act(const ReplayAct& a, rules::Watch& watch,
                                               TimePoint at) {
  const rules::Plan& plan = watch.plan();
  const ZonedTime when{at, plan.window.offset()};
  switch (a.kind) {
    case ReplayAct::Kind::kDeployed:
      if (Status s = watch.deployed(a.by, at); !s.ok()) {
        return Error{s.error()};
      }
      return record::TimelineEvent{when, record::GoLiveDeclared{a.by, false}};
    case ReplayAct::Kind::kDecide: {
      if (Status s = watch.decide(a.decision, a.by, a.note, at, a.time); !s.ok()) {
        return Error{s.error()};
      }
      record::Decided d{a.decision, a.by, a.note, std::nullopt, std::nullopt};
      if (a.decision == rules::HumanDecision::Kind::kExtend) {
        d.until = ZonedTime{*a.time, plan.window.offset()};
      }
      if (a.decision == rules::HumanDecision::Kind::kGo) {
        d.accepted = watch.acts().decisions.back().accepted;
      }
      return record::TimelineEvent{when, std::move(d)};
    }
    case ReplayAct::Kind::kDone:
      if (Status s = watch.done(a.item, a.by, a.note, a.failed, at); !s.ok()) {
        return Error{s.error()};
      }
      return record::TimelineEvent{when, record::ItemDoneRecorded{a.item, a.by, a.note, a.failed}};
    case ReplayAct::Kind::kAck: {
      auto r = watch.acknowledge(a.item, a.by, at);
      if (!r.ok()) {
        return Error{r.error()};
      }
      return record::TimelineEvent{when, record::Acknowledged{r.value(), a.by}};
    }
    case ReplayAct::Kind::kFixForward: {
      if (Status s = watch.declare_fix_forward(a.item, *a.time, a.by, at); !s.ok()) {
        return Error{s.error()};
      }
      // As the API records it: honoured when the ETA is before the point of no return.
      const bool honoured =
          *a.time <= rules::effective_window(plan, watch.acts(), at).point_of_no_return();
      return record::TimelineEvent{
          when, record::FixForwardDeclared{a.item, ZonedTime{*a.time, plan.window.offset()}, a.by,
                                           honoured}};
    }
  }
  return Error{"unknown act"};
}

}  // namespace backout::agent
