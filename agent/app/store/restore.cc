#include "app/store/restore.h"

#include <boost/json.hpp>

#include "backout/core/time.h"

namespace backout::agent {
namespace {

namespace json = boost::json;

std::string str(const json::object& o, const char* k) {
  auto it = o.find(k);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                  : std::string();
}

std::optional<TimePoint> time_of(const json::object& o, const char* k) {
  if (auto z = parse_rfc3339(str(o, k))) {
    return z->at;
  }
  return std::nullopt;
}

}  // namespace

rules::HumanActs acts_from_timeline(const std::vector<std::string>& events) {
  rules::HumanActs acts;
  for (const std::string& e : events) {
    boost::system::error_code ec;
    json::value v = json::parse(e, ec);
    if (ec || !v.is_object()) {
      continue;
    }
    const json::object& o = v.as_object();
    const std::string kind = str(o, "kind");
    auto at = time_of(o, "at");
    if (!at) {
      continue;
    }
    if (kind == "fix_forward") {
      if (auto eta = time_of(o, "eta")) {
        acts.fix_forwards.push_back({str(o, "trigger"), *eta, str(o, "by"), *at});
      }
    } else if (kind == "raise") {
      if (auto sev = rules::parse_severity(str(o, "severity"))) {
        acts.raises.push_back({str(o, "id"), *sev, str(o, "reason"), str(o, "by"), *at, false});
      }
    } else if (kind == "raise_clear") {
      for (rules::ManualRaise& r : acts.raises) {
        if (r.id == str(o, "id")) {
          r.cleared = true;
        }
      }
    } else if (kind == "decision") {
      rules::HumanDecision d;
      const std::string what = str(o, "decision");
      if (what == "backout") {
        d.kind = rules::HumanDecision::Kind::kBackout;
      } else if (what == "go") {
        d.kind = rules::HumanDecision::Kind::kGo;
      } else if (what == "extend") {
        d.kind = rules::HumanDecision::Kind::kExtend;
        d.until = time_of(o, "until");
      } else {
        continue;
      }
      d.by = str(o, "by");
      d.note = str(o, "note");
      d.at = *at;
      if (auto it = o.find("accepted"); it != o.end() && it->value().is_array()) {
        for (const auto& a : it->value().as_array()) {
          if (a.is_string()) {
            d.accepted.emplace_back(a.as_string());
          }
        }
      }
      acts.decisions.push_back(std::move(d));
    }
  }
  return acts;
}

rules::Recommendation last_recommendation(const std::vector<std::string>& events) {
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    boost::system::error_code ec;
    json::value v = json::parse(*it, ec);
    if (ec || !v.is_object() || str(v.as_object(), "kind") != "recommendation") {
      continue;
    }
    const std::string r = str(v.as_object(), "recommendation");
    for (rules::Recommendation known :
         {rules::Recommendation::kGo, rules::Recommendation::kWatch,
          rules::Recommendation::kFixForward, rules::Recommendation::kBackout}) {
      if (r == rules::to_string(known)) {
        return known;
      }
    }
  }
  return rules::Recommendation::kGo;
}

}  // namespace backout::agent
