// The human acts from the command line (DESIGN sections 5 and 9): `ack`, `fix-forward`,
// `decide`, `raise`, `deployed` and `done` POST to the running agent's API (section 6) and print its answer in one line.
// Exit codes: 0 the agent accepted (2xx); 2 it refused (4xx, its message printed) or the command
// line is wrong; 1 the agent could not be reached or failed (5xx).
#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>

#include "app/cli_client.h"
#include "app/commands.h"
#include "app/kinds/kinds.h"
#include "app/runtime/secrets.h"
#include "backout/core/text.h"
#include "backout/core/time.h"
#include "plan/plan_loader.h"

namespace backout::agent {
namespace {

namespace json = boost::json;

constexpr const char* kDefaultAgent = "http://127.0.0.1:9750";
constexpr const char* kDefaultTokenEnv = "BACKOUT_AGENT_TOKEN";

// Where to send and with which token, from --agent / --plan / --token-env / --token-file.
struct Target {
  std::string base_url;  // without a trailing '/'
  std::string token;
};

std::string str(const json::object& o, const char* k) {
  auto it = o.find(k);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                  : std::string();
}

// A listen address as a URL host: a wildcard means "this machine", an IPv6 address is bracketed.
std::string url_host(const std::string& host) {
  if (host == "0.0.0.0" || host.empty()) {
    return "127.0.0.1";
  }
  if (host == "::" || host == "[::]") {
    return "[::1]";
  }
  if (host.find(':') != std::string::npos && host.front() != '[') {
    return "[" + host + "]";
  }
  return host;
}

std::string trim_trailing(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' ||
                        s.back() == '\t')) {
    s.pop_back();
  }
  return s;
}

// Resolves the agent's URL and the token; prints the problem and returns nullopt when it cannot.
std::optional<Target> resolve_target(const std::string& cmd, const Args& args, std::ostream& err) {
  std::optional<rules::Plan> plan;
  if (auto p = args.value("plan")) {
    plan::LoadResult loaded = plan::load_plan_file(*p, agent::builtin_kinds().catalog);
    for (const plan::Diagnostic& d : loaded.diagnostics) {
      if (d.is_error()) {
        err << d.format() << "\n";
      }
    }
    if (!loaded.ok()) {
      err << "backout-agent " << cmd << ": the plan " << *p
          << " is not valid; give the agent's address with --agent URL instead\n";
      return std::nullopt;
    }
    plan = std::move(loaded.plan);
  }
  Target t;
  if (auto a = args.value("agent")) {
    t.base_url = a->find("://") == std::string::npos ? "http://" + *a : *a;
  } else if (plan) {
    t.base_url = "http://" + url_host(plan->server.host) + ":" + std::to_string(plan->server.port);
  } else {
    t.base_url = kDefaultAgent;
  }
  while (!t.base_url.empty() && t.base_url.back() == '/') {
    t.base_url.pop_back();
  }

  const auto file = args.value("token-file");
  const auto env = args.value("token-env");
  if (file && env) {
    err << "backout-agent " << cmd << ": give the token with --token-env or --token-file, not "
        << "both\n";
    return std::nullopt;
  }
  if (file) {
    std::ifstream in(*file, std::ios::binary);
    std::stringstream ss;
    if (in) {
      ss << in.rdbuf();
    }
    t.token = trim_trailing(ss.str());
    if (!in || t.token.empty()) {
      err << "backout-agent " << cmd << ": --token-file " << *file << ": "
          << (in ? "the file is empty" : "cannot read it") << "\n";
      return std::nullopt;
    }
    return t;
  }
  if (!env && plan && plan->server.token) {
    // The plan says where the agent's own token is: use the same one.
    auto secret = resolve_secret(*plan->server.token, "server.token");
    if (!secret.ok()) {
      err << "backout-agent " << cmd << ": " << secret.error() << "\n";
      return std::nullopt;
    }
    t.token = *secret;
    return t;
  }
  const std::string var = env ? *env : kDefaultTokenEnv;
  const char* value = std::getenv(var.c_str());
  if (value == nullptr || *value == '\0') {
    err << "backout-agent " << cmd << ": no token: $" << var
        << " is not set; export the agent's API token in it, or give --token-file FILE (or "
           "--token-env VAR)\n";
    return std::nullopt;
  }
  t.token = value;
  return t;
}

// The agent's answer to an act, in one readable line.
std::string summarize(const std::string& endpoint, int status, const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    return "the agent answered HTTP " + std::to_string(status) +
           (body.empty() ? "" : ": " + trim_trailing(body));
  }
  const json::object& o = v.as_object();
  auto list = [&](const char* k) {
    std::vector<std::string> out;
    if (auto it = o.find(k); it != o.end() && it->value().is_array()) {
      for (const auto& x : it->value().as_array()) {
        if (x.is_string()) {
          out.emplace_back(x.as_string());
        }
      }
    }
    return out;
  };
  if (endpoint == "ack" && o.contains("acknowledged")) {
    std::vector<std::string> ids = list("acknowledged");
    return (ids.empty() ? std::string("nothing was open to acknowledge")
                        : "acknowledged " + join(ids, ", ")) +
           (str(o, "by").empty() ? "" : " (by " + str(o, "by") + ")");
  }
  if (endpoint == "fix-forward" && o.contains("trigger")) {
    std::string line = "fix-forward declared for " + str(o, "trigger") + ", ETA " + str(o, "eta");
    if (auto it = o.find("honoured"); it != o.end() && it->value().is_bool() &&
                                      !it->value().as_bool()) {
      line += "; NOT honoured: " + (str(o, "note").empty() ? std::string("after the point of no "
                                                                         "return")
                                                           : str(o, "note"));
    }
    return line;
  }
  if (endpoint == "deployed" && o.contains("deployed_at")) {
    return "go-live recorded at " + str(o, "deployed_at") + " (by " + str(o, "by") + ")";
  }
  if (endpoint == "done" && o.contains("item")) {
    std::string line = str(o, "item");
    auto failed = o.find("failed");
    line += failed != o.end() && failed->value().is_bool() && failed->value().as_bool()
                ? " recorded as failed"
                : " done";
    if (!str(o, "next").empty()) {
      line += "; next step: " + str(o, "next");
    } else if (!str(o, "phase").empty()) {
      line += "; the night is now " + str(o, "phase");
    }
    return line;
  }
  if (endpoint == "decision" && o.contains("decision")) {
    std::string line = "decision recorded: " + str(o, "decision");
    if (!str(o, "by").empty()) {
      line += " by " + str(o, "by");
    }
    if (!str(o, "until").empty()) {
      line += ", window extended to " + str(o, "until");
    }
    if (std::vector<std::string> acc = list("accepted"); !acc.empty()) {
      line += ", accepting " + join(acc, ", ");
    }
    if (!str(o, "note").empty()) {
      line += ": " + str(o, "note");
    }
    return line;
  }
  if (endpoint == "raise" && o.contains("cleared")) {
    return "cleared " + str(o, "cleared");
  }
  if (endpoint == "raise" && o.contains("id")) {
    return "raised " + str(o, "id") +
           (str(o, "severity").empty() ? "" : " (" + str(o, "severity") + ")");
  }
  return "the agent answered HTTP " + std::to_string(status) + ": " + json::serialize(o);
}

// Sends `body` to /api/v1/<endpoint> and reports the outcome as the act's exit code.
int post_act(const std::string& cmd, const std::string& endpoint, const json::object& body,
             const Args& args, std::ostream& out, std::ostream& err) {
  auto target = resolve_target(cmd, args, err);
  if (!target) {
    return kExitBadInput;
  }
  CliHttpRequest req;
  req.method = "POST";
  req.url = target->base_url + "/api/v1/" + endpoint;
  req.headers["Authorization"] = "Bearer " + target->token;
  req.headers["Content-Type"] = "application/json";
  req.headers["Accept"] = "application/json";
  req.body = json::serialize(body);
  CliHttpResult res = http_exchange(req);
  if (res.bad_url) {
    err << "backout-agent " << cmd << ": --agent: " << res.error << "\n";
    return kExitBadInput;
  }
  if (!res.response) {
    err << "backout-agent " << cmd << ": cannot reach the agent at " << target->base_url << " ("
        << res.error << "); the agent may not be running, or it listens elsewhere (give --agent "
        << "URL, or --plan FILE to use its server.listen)\n";
    return kExitRuntime;
  }
  const CliHttpResponse& r = *res.response;
  if (r.status / 100 == 2) {
    out << summarize(endpoint, r.status, r.body) << "\n";
    return kExitOk;
  }
  // The agent's error bodies are {"error": message}.
  std::string message = trim_trailing(r.body);
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (!ec && v.is_object() && !str(v.as_object(), "error").empty()) {
    message = str(v.as_object(), "error");
  }
  if (r.status / 100 == 4) {
    err << "backout-agent " << cmd << ": the agent refused (HTTP " << r.status << "): " << message;
    if (r.status == 401) {
      err << "; check the token (--token-env VAR or --token-file FILE) against the agent's "
             "server.token_env";
    }
    err << "\n";
    return kExitBadInput;
  }
  err << "backout-agent " << cmd << ": the agent failed (HTTP " << r.status << ")"
      << (message.empty() ? "" : ": " + message) << "\n";
  return kExitRuntime;
}

// A time as the API takes it: RFC 3339, or a duration from now. Checked here so that a typo is
// caught before anything is sent.
bool valid_time(const std::string& cmd, const std::string& option, const std::string& text,
                std::ostream& err) {
  if (parse_rfc3339(text) || parse_duration(text)) {
    return true;
  }
  err << "backout-agent " << cmd << ": --" << option << " '" << text
      << "' is neither an RFC 3339 time (2026-06-07T03:40:00+01:00) nor a duration from now "
         "(30m)\n";
  return false;
}

// --by names the person in the timeline and the review: it may not be blank.
bool valid_by(const std::string& cmd, const Args& args, std::ostream& err) {
  if (args.value("by")->find_first_not_of(" \t") == std::string::npos) {
    err << "backout-agent " << cmd << ": --by must name who acts, e.g. --by @jane.doe\n";
    return false;
  }
  return true;
}

}  // namespace

int ack_command(const Args& args, std::ostream& out, std::ostream& err) {
  if (!valid_by("ack", args, err)) {
    return kExitBadInput;
  }
  json::object body;
  if (auto t = args.value("trigger")) {
    body["trigger"] = *t;
  }
  body["by"] = *args.value("by");
  return post_act("ack", "ack", body, args, out, err);
}

int fix_forward_command(const Args& args, std::ostream& out, std::ostream& err) {
  const std::string eta = *args.value("eta");
  if (!valid_by("fix-forward", args, err)) {
    return kExitBadInput;
  }
  if (!valid_time("fix-forward", "eta", eta, err)) {
    return kExitBadInput;
  }
  json::object body{{"trigger", *args.value("trigger")}, {"eta", eta}, {"by", *args.value("by")}};
  return post_act("fix-forward", "fix-forward", body, args, out, err);
}

int decide_command(const Args& args, std::ostream& out, std::ostream& err) {
  const std::string decision = *args.value("decision");
  if (!valid_by("decide", args, err)) {
    return kExitBadInput;
  }
  if (decision != "backout" && decision != "go" && decision != "extend") {
    err << "backout-agent decide: --decision must be backout, go or extend (not '" << decision
        << "')\n";
    return kExitBadInput;
  }
  auto until = args.value("until");
  if (decision == "extend" && !until) {
    err << "backout-agent decide: --decision extend needs --until TIME: the window's new end "
           "(RFC 3339, or a duration from now)\n";
    return kExitBadInput;
  }
  if (decision != "extend" && until) {
    err << "backout-agent decide: --until goes with --decision extend only\n";
    return kExitBadInput;
  }
  if (until && !valid_time("decide", "until", *until, err)) {
    return kExitBadInput;
  }
  json::object body{{"decision", decision}, {"by", *args.value("by")}};
  if (auto note = args.value("note")) {
    body["note"] = *note;
  }
  if (until) {
    body["until"] = *until;
  }
  return post_act("decide", "decision", body, args, out, err);
}

int deployed_command(const Args& args, std::ostream& out, std::ostream& err) {
  if (!valid_by("deployed", args, err)) {
    return kExitBadInput;
  }
  json::object body{{"by", *args.value("by")}};
  return post_act("deployed", "deployed", body, args, out, err);
}

int done_command(const Args& args, std::ostream& out, std::ostream& err) {
  if (!valid_by("done", args, err)) {
    return kExitBadInput;
  }
  json::object body{{"item", args.positional().front()}, {"by", *args.value("by")}};
  if (auto note = args.value("note")) {
    body["note"] = *note;
  }
  if (args.flag("failed")) {
    body["failed"] = true;
  }
  return post_act("done", "done", body, args, out, err);
}

int raise_command(const Args& args, std::ostream& out, std::ostream& err) {
  if (!valid_by("raise", args, err)) {
    return kExitBadInput;
  }
  json::object body;
  if (auto id = args.value("clear")) {
    if (args.value("severity") || args.value("reason")) {
      err << "backout-agent raise: --clear ID takes no --severity or --reason\n";
      return kExitBadInput;
    }
    body["clear"] = *id;
  } else {
    auto severity = args.value("severity");
    auto reason = args.value("reason");
    if (!severity || !reason) {
      err << "backout-agent raise: give --severity critical|major|discretionary and --reason "
             "TEXT (or --clear ID to clear a raise)\n";
      return kExitBadInput;
    }
    if (*severity != "critical" && *severity != "major" && *severity != "discretionary") {
      err << "backout-agent raise: --severity must be critical, major or discretionary (not '"
          << *severity << "')\n";
      return kExitBadInput;
    }
    body["severity"] = *severity;
    body["reason"] = *reason;
  }
  body["by"] = *args.value("by");
  return post_act("raise", "raise", body, args, out, err);
}

}  // namespace backout::agent
