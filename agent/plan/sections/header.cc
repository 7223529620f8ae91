// The plan file's `plan` (the template's header), `window` (start, end, backout duration, point
// of no return) and `server` sections.
#include <yaml-cpp/yaml.h>

#include <string>

#include "backout/core/text.h"
#include "plan/loader.h"

namespace backout::plan::detail {

void Loader::load_plan_header(const Entry& e) {
  Entries es = entries(e.value, e.key_pos, "plan",
                       {"project", "release", "owner", "revision", "status"}, "a map");
  require(es, "project", e.key_pos, "plan", "the project's name");
  require(es, "release", e.key_pos, "plan", "the release being deployed, e.g. \"2.0\"");
  require(es, "status", e.key_pos, "plan", "draft or approved");
  for (const Entry& x : es) {
    if (x.key == "status") {
      if (auto s = scalar(x, "plan.status", "draft or approved")) {
        if (*s == "approved") {
          plan_.header.approved = true;
        } else if (*s == "draft") {
          plan_.header.approved = false;
        } else {
          std::string msg = "plan.status: '" + *s + "' is not a status; use draft or approved";
          error(value_pos(x), msg);
        }
      }
      continue;
    }
    auto s = scalar(x, "plan." + x.key, "text", x.key == "owner" || x.key == "revision");
    if (!s) {
      continue;
    }
    if (x.key == "project") {
      plan_.header.project = *s;
    } else if (x.key == "release") {
      plan_.header.release = *s;
    } else if (x.key == "owner") {
      plan_.header.owner = *s;
    } else if (x.key == "revision") {
      plan_.header.revision = *s;
    }
  }
}

void Loader::load_window(const Entry& e) {
  Entries es = entries(
      e.value, e.key_pos, "window",
      {"start", "end", "backout_duration", "warn_before_point_of_no_return", "baseline"}, "a map");
  bool ok = require(es, "start", e.key_pos, "window", "e.g. start: 2026-06-07T02:00:00+01:00");
  ok = require(es, "end", e.key_pos, "window", "e.g. end: 2026-06-07T06:00:00+01:00") && ok;
  ok = require(es, "backout_duration", e.key_pos, "window",
               "how long the rehearsed backout takes, e.g. 100m") &&
       ok;
  rules::Window& w = plan_.window;
  w.warn_before_pnr = std::chrono::minutes{15};
  w.baseline = std::chrono::minutes{30};
  const Entry* start = find(es, "start");
  const Entry* end = find(es, "end");
  const Entry* backout = find(es, "backout_duration");
  if (start != nullptr) {
    if (auto t = timestamp(*start, "window.start")) {
      w.start = *t;
    } else {
      ok = false;
    }
  }
  if (end != nullptr) {
    if (auto t = timestamp(*end, "window.end")) {
      w.end = *t;
    } else {
      ok = false;
    }
  }
  if (backout != nullptr) {
    if (auto d = duration(*backout, "window.backout_duration", std::chrono::seconds{1})) {
      w.backout_duration = *d;
    } else {
      ok = false;
    }
  }
  if (const Entry* x = find(es, "warn_before_point_of_no_return")) {
    if (auto d = duration(*x, "window.warn_before_point_of_no_return")) {
      w.warn_before_pnr = *d;
    }
  }
  if (const Entry* x = find(es, "baseline")) {
    if (auto d = duration(*x, "window.baseline")) {
      w.baseline = *d;
    }
  }
  if (!ok) {
    return;
  }
  if (w.end.at <= w.start.at) {
    error(value_pos(*end), "window.end: " + format_rfc3339(w.end.at, w.end.offset) +
                               " is not after window.start " +
                               format_rfc3339(w.start.at, w.start.offset));
    return;
  }
  if (w.backout_duration >= w.length()) {
    error(value_pos(*backout),
          "window.backout_duration: " + format_duration(w.backout_duration) +
              " is not shorter than the window (" + format_duration(w.length()) +
              "), so a backout could never finish inside it; lengthen the window or check the "
              "rehearsed backout time");
    return;
  }
  anchor("window.end", value_pos(*end));
  if (const Entry* x = find(es, "warn_before_point_of_no_return")) {
    anchor("window.warn_before_point_of_no_return", value_pos(*x));
  }
  window_ok_ = true;
}

void Loader::load_server(const Entry& e) {
  Entries es = entries(e.value, e.key_pos, "server", {"listen", "token", "token_env", "token_file"},
                       "a map");
  if (const Entry* x = find(es, "listen")) {
    OptionSpec spec{.name = "listen", .type = OptionType::kAddress};
    if (auto v = option_value(spec, *x, "server.listen")) {
      const std::string& addr = std::get<std::string>(*v);
      std::size_t colon = addr.rfind(':');
      plan_.server.host = addr.substr(0, colon);
      if (plan_.server.host.size() > 2 && plan_.server.host.front() == '[' &&
          plan_.server.host.back() == ']') {
        plan_.server.host = plan_.server.host.substr(1, plan_.server.host.size() - 2);
      }
      plan_.server.port = static_cast<std::uint16_t>(std::stoi(addr.substr(colon + 1)));
      anchor("server.listen", value_pos(*x));
    }
  }
  plan_.server.token = secret(es, "token", e.key_pos, "server", false, "");
  // Only for a readable `server` map without any token key: a broken one has its own errors.
  if ((is_null(e.value) || e.value.IsMap()) && find(es, "token") == nullptr &&
      find(es, "token_env") == nullptr && find(es, "token_file") == nullptr &&
      !was_offered("server", "token_env") && !was_offered("server", "token_file")) {
    warning(e.key_pos,
            "server: no token_env or token_file; the POST endpoints (ack, "
            "fix-forward, decision, raise) are disabled");
  }
}

}  // namespace backout::plan::detail
