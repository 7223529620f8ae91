// Measures detection to chat delivery of the agent side by side with Prometheus + Alertmanager
// on the same synthetic application, as DESIGN.md §8 asks ("detection to chat delivery under
// 2 s (for: 0), side by side with Prometheus + Alertmanager on the same synthetic application").
//
// One portal stand-in (PortalApp: 50 logins/s, 1% failures) is watched at once by
//   - the real agent (`backout-agent run --plan PLAN --start-now`), with a plan written here:
//     one source (the portal's /metrics every 1 s) and the reference plan's login trigger,
//     `ratio(failures, attempts) over 5m > 5%`, min_count 50, severity major, with `for: 0s`
//     and notify.group_wait 0s; twice: with early detection off (the same arithmetic as the
//     PromQL rule: the comparison) and as the reference plan gets it (early detection on by
//     default for ratio(), shown for information);
//   - a real Prometheus with the equivalent alerting rule (the same ratio over the same window,
//     the same threshold and minimum count, for: 0s), sending to a real Alertmanager whose
//     webhook posts to the same receiver: "tuned" (scrape and evaluation every 1 s,
//     group_wait 0s, group_interval 1s), and optionally, for the first --stock-steps steps, a
//     second pair with the stock defaults (scrape and evaluation every 1m, group_wait 30s,
//     group_interval 5m).
// Each step: a random pause (the phase), login failures stepped from 1% to 30% with the time
// taken, each side's first post awaited (bounded by --fire-within), failures back to 1%, and all
// sides awaited back to normal before the next step. The output is a Markdown section (stdout
// and --out FILE) with the command, the machine, the versions, the configurations verbatim, a
// per-step table, a summary and where each side's latency comes from.
//
// All traffic is on 127.0.0.1, every port is free when taken, every child is stopped by its PID
// (ChildProcess, AgentProcess) and the work directory is removed unless --keep.
//
// Usage: agent-compare [--steps 10] [--stock-steps 0] [--seed 1] [--window 5m]
//                      [--fire-within 300] [--agent PATH] [--out FILE] [--keep]
// The agent binary defaults to ../agent/backout-agent next to this program's build directory.
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/apps/agent_process.h"
#include "support/apps/alertmanager_server.h"
#include "support/apps/portal_app.h"
#include "support/apps/prometheus_server.h"
#include "support/apps/webhook_receiver.h"
#include "support/paths.h"
#include "tools/measure_report.h"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using backout::Status;
using backout::testing::AgentProcess;
using backout::testing::AlertmanagerServer;
using backout::testing::HttpResult;
using backout::testing::log_time;
using backout::testing::rfc3339_time;
using backout::testing::PortalApp;
using backout::testing::PortalConditions;
using backout::testing::PrometheusAlerting;
using backout::testing::PrometheusScrapeJob;
using backout::testing::PrometheusServer;
using backout::testing::ReceivedPost;
using backout::testing::WebhookReceiver;
using SysTime = std::chrono::system_clock::time_point;
using namespace backout::measure;
using Steady = std::chrono::steady_clock;

constexpr const char* kToken = "agent-compare-token";
constexpr double kBaseFailureRate = 0.01;  // the portal's normal traffic
constexpr double kStepFailureRate = 0.30;  // the step
constexpr double kThreshold = 0.05;        // the trigger's "> 5%"
constexpr int kMinCount = 50;              // the trigger's min_count
constexpr double kLatencyTargetS = 2.0;    // DESIGN.md §8
constexpr const char* kWindowTriggerId = "login_failure_rate";
constexpr const char* kWindowTriggerName = "Login failure rate";
constexpr const char* kEarlyTriggerId = "login_failure_rate_early";
constexpr const char* kEarlyTriggerName = "Login failure rate (early detection)";
constexpr const char* kAlertName = "LoginFailureRate";

struct Options {
  int steps = 10;
  int stock_steps = 0;
  unsigned seed = 1;
  std::string window = "5m";
  int window_s = 300;
  int fire_within_s = 300;
  std::string agent;
  std::string out;
  bool keep = false;
};

[[noreturn]] void die(const std::string& what) {
  std::cerr << "agent-compare: " << what << "\n";
  std::exit(1);
}

void progress(const std::string& what) { std::cerr << "[agent-compare] " << what << std::endl; }

// ---- Small helpers ------------------------------------------------------------------------------

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// Polls `pred` every 50 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = Steady::now() + timeout;
  for (;;) {
    if (pred()) {
      return true;
    }
    if (Steady::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(50ms);  // polling a condition
  }
}

// "5m", "90s", "1h" -> seconds (whole seconds only: the window of both sides).
std::optional<int> window_seconds(const std::string& text) {
  static const std::regex re(R"(^(\d+)(s|m|h)$)");
  std::smatch m;
  if (!std::regex_match(text, m, re)) {
    return std::nullopt;
  }
  const int n = std::stoi(m[1]);
  return m[2] == "s" ? n : m[2] == "m" ? n * 60 : n * 3600;
}

Options parse(int argc, char** argv) {
  Options o;
  auto need = [&](int& i) -> std::string {
    if (i + 1 >= argc) {
      die(std::string("missing value for ") + argv[i]);
    }
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--steps") {
      o.steps = std::stoi(need(i));
    } else if (a == "--stock-steps") {
      o.stock_steps = std::stoi(need(i));
    } else if (a == "--seed") {
      o.seed = static_cast<unsigned>(std::stoul(need(i)));
    } else if (a == "--window") {
      o.window = need(i);
    } else if (a == "--fire-within") {
      o.fire_within_s = std::stoi(need(i));
    } else if (a == "--agent") {
      o.agent = need(i);
    } else if (a == "--out") {
      o.out = need(i);
    } else if (a == "--keep") {
      o.keep = true;
    } else if (a == "--help" || a == "-h") {
      std::cout << "usage: agent-compare [--steps 10] [--stock-steps 0] [--seed 1] [--window 5m] "
                   "[--fire-within 300] [--agent PATH] [--out FILE] [--keep]\n"
                   "  --stock-steps N  also measure Prometheus + Alertmanager with their stock "
                   "defaults (1m scrape and evaluation, group_wait 30s) in the first N steps\n";
      std::exit(0);
    } else {
      die("unknown option " + a + " (see --help)");
    }
  }
  if (o.steps <= 0 || o.stock_steps < 0 || o.fire_within_s <= 0) {
    die("--steps and --fire-within must be positive, --stock-steps not negative");
  }
  o.stock_steps = std::min(o.stock_steps, o.steps);
  const auto w = window_seconds(o.window);
  if (!w || *w < 10) {
    die("--window '" + o.window + "': give a whole number of s, m or h, at least 10s (e.g. 5m)");
  }
  o.window_s = *w;
  if (o.agent.empty()) {
    o.agent = (fs::path(self_dir()).parent_path() / "agent" / "backout-agent").string();
  }
  return o;
}

// ---- The configurations of both sides -----------------------------------------------------------

// The agent's plan: the reference plan's login trigger with for: 0s, on the portal stand-in, and
// the same trigger again with early detection at its default (on) for information.
std::string plan_text(const Options& o, const std::string& portal, const std::string& state_dir) {
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto trigger = [&](const char* id, const char* name, bool early_off) {
    return std::string("  - id: ") + id + "\n    name: " + name +
           "\n    measure: ratio(portal.portal_login_failures_total, "
           "portal.portal_login_attempts_total)\n    over: " +
           o.window + "\n    min_count: " + std::to_string(kMinCount) +
           "\n    when: \"> 5%\"\n    for: 0s\n" + (early_off ? "    early: off\n" : "") +
           "    severity: major\n";
  };
  return std::string(
             "version: 1\n"
             "plan: { project: Customer Portal Enhancement, release: \"2.0\", owner: "
             "John Smith (PM), revision: \"1.2\", status: approved }\n"
             "window:\n  start: ") +
         utc_text(now, "%Y-%m-%dT%H:%M:%S+00:00") +
         "\n  end: " + utc_text(now + std::chrono::hours{8}, "%Y-%m-%dT%H:%M:%S+00:00") +
         "\n  backout_duration: 100m\n  warn_before_point_of_no_return: 15m\n"
         "contacts:\n"
         "  deployment_lead: { name: Jane Doe,       chat: \"@jane.doe\" }\n"
         "  project_manager: { name: John Smith,     chat: \"@john.smith\" }\n"
         "  sponsor:         { name: Sarah Williams, chat: \"@sarah.williams\" }\n"
         "authority:\n"
         "  critical: { decides: deployment_lead, notify: [project_manager, sponsor], "
         "ack_within: 5m,  escalate_to: project_manager }\n"
         "  major:    { decides: project_manager, notify: [sponsor], ack_within: 10m, "
         "escalate_to: sponsor }\n"
         "sources:\n"
         "  portal: { kind: prometheus, url: " +
         portal + "/metrics, every: 1s, timeout: 1s }\n" + "triggers:\n" +
         trigger(kWindowTriggerId, kWindowTriggerName, true) +
         trigger(kEarlyTriggerId, kEarlyTriggerName, false) +
         "notify:\n"
         "  chat: { kind: slack, url_env: ONCALL_CHAT_WEBHOOK }\n"
         "  repeat_every: 10m\n"
         "  group_wait: 0s\n"
         "server:\n"
         "  listen: 127.0.0.1:9750\n"
         "  token_env: BACKOUT_AGENT_TOKEN\n"
         "state_dir: " +
         state_dir + "\n";
}

// Prometheus' rule equivalent to the agent's trigger: the same ratio of counter increases over
// the same window, the same threshold and minimum count, for: 0s. The `step` label makes each
// step's alert a new one (see the output's notes).
std::string rule_text(const Options& o, int step) {
  const std::string w = "[" + o.window + "]";
  return "groups:\n"
         "  - name: backout-compare\n"
         "    rules:\n"
         "      - alert: " +
         std::string(kAlertName) +
         "\n"
         "        expr: >-\n"
         "          increase(portal_login_failures_total" +
         w + ") / increase(portal_login_attempts_total" + w + ") > " + fixed(kThreshold, 2) +
         "\n          and on() increase(portal_login_attempts_total" + w +
         ") >= " + std::to_string(kMinCount) +
         "\n"
         "        for: 0s\n"
         "        labels:\n"
         "          severity: major\n"
         "          step: \"" +
         std::to_string(step) + "\"\n";
}

struct Stack {
  std::string name;  // "tuned", "stock"
  std::string scrape_interval, scrape_timeout, evaluation_interval;
  std::string group_wait, group_interval;
  std::string hook_path;  // where its Alertmanager posts on the receiver
};

std::string alertmanager_config(const Stack& s, const std::string& hook_url) {
  return "route:\n"
         "  receiver: hook\n"
         "  group_by: ['alertname', 'step']\n"
         "  group_wait: " +
         s.group_wait + "\n  group_interval: " + s.group_interval +
         "\n"
         "  repeat_interval: 4h\n"
         "receivers:\n"
         "  - name: hook\n"
         "    webhook_configs:\n"
         "      - url: " +
         hook_url +
         "\n"
         "        send_resolved: true\n";
}

// A running Prometheus + Alertmanager pair.
struct RunningStack {
  Stack spec;
  std::unique_ptr<AlertmanagerServer> am;
  std::unique_ptr<PrometheusServer> prom;
  std::string am_config;
  bool active = false;

  void stop() {
    if (prom) {
      prom->stop();
    }
    if (am) {
      am->stop();
    }
    active = false;
  }
};

// ---- What the receiver saw ----------------------------------------------------------------------

std::string str_field(const json::object& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                  : std::string();
}

// The Slack-shaped chat post's text (the body itself if not JSON with a text).
std::string post_text(const ReceivedPost& p) {
  boost::system::error_code ec;
  json::value v = json::parse(p.body, ec);
  if (ec || !v.is_object()) {
    return p.body;
  }
  return str_field(v.as_object(), "text");
}

// The trigger a chat post's title names ("... — major: _Login failure rate_"), or "".
std::string post_trigger(const std::string& head) {
  const std::size_t open = head.find(": _");
  if (open == std::string::npos || head.empty() || head.back() != '_') {
    return "";
  }
  return head.substr(open + 3, head.size() - open - 4);
}

struct AgentPost {
  std::optional<ReceivedPost> breach;   // the first post naming the trigger after the step
  std::optional<ReceivedPost> resolve;  // its "Resolved" post
};

AgentPost agent_posts(const std::vector<ReceivedPost>& posts, std::size_t from,
                      const std::string& chat_path, const std::string& trigger_name) {
  AgentPost out;
  for (std::size_t i = from; i < posts.size(); ++i) {
    if (posts[i].path != chat_path) {
      continue;
    }
    const std::string head = first_line(post_text(posts[i]));
    if (post_trigger(head) != trigger_name) {
      continue;
    }
    const bool resolve = head.find("Resolved") != std::string::npos;
    if (!resolve && !out.breach) {
      out.breach = posts[i];
    } else if (resolve && out.breach && !out.resolve) {
      out.resolve = posts[i];
    }
  }
  return out;
}

struct AmPost {
  std::optional<SysTime> received;
  std::optional<SysTime> starts_at;  // the alert's startsAt: the evaluation that fired it
};

// Alertmanager's first webhook post at `path` with the step's alert in `status`.
AmPost am_post(const std::vector<ReceivedPost>& posts, const std::string& path, int step,
               const std::string& status) {
  AmPost out;
  for (const ReceivedPost& p : posts) {
    if (p.path != path) {
      continue;
    }
    boost::system::error_code ec;
    json::value v = json::parse(p.body, ec);
    if (ec || !v.is_object()) {
      continue;
    }
    const json::value* alerts = v.as_object().if_contains("alerts");
    if (alerts == nullptr || !alerts->is_array()) {
      continue;
    }
    for (const json::value& a : alerts->as_array()) {
      if (!a.is_object()) {
        continue;
      }
      const json::object& alert = a.as_object();
      const json::value* labels = alert.if_contains("labels");
      if (str_field(alert, "status") != status || labels == nullptr || !labels->is_object() ||
          str_field(labels->as_object(), "alertname") != kAlertName ||
          str_field(labels->as_object(), "step") != std::to_string(step)) {
        continue;
      }
      out.received = p.at;
      out.starts_at = rfc3339_time(str_field(alert, "startsAt"));
      return out;
    }
  }
  return out;
}

// Whether Prometheus holds no pending or firing LoginFailureRate alert (nullopt: no answer).
std::optional<bool> prometheus_quiet(const PrometheusServer& prom) {
  auto v = prom.get_json("/api/v1/alerts");
  if (!v || !v->is_object()) {
    return std::nullopt;
  }
  const json::value* data = v->as_object().if_contains("data");
  if (data == nullptr || !data->is_object()) {
    return std::nullopt;
  }
  const json::value* alerts = data->as_object().if_contains("alerts");
  if (alerts == nullptr || !alerts->is_array()) {
    return std::nullopt;
  }
  for (const json::value& a : alerts->as_array()) {
    const json::value* labels = a.is_object() ? a.as_object().if_contains("labels") : nullptr;
    if (labels != nullptr && labels->is_object() &&
        str_field(labels->as_object(), "alertname") == kAlertName) {
      return false;
    }
  }
  return true;
}

// Whether Prometheus' loaded rule carries step="N" (a reload took effect).
bool prometheus_rule_step(const PrometheusServer& prom, int step) {
  auto v = prom.get_json("/api/v1/rules");
  if (!v || !v->is_object()) {
    return false;
  }
  const json::value* data = v->as_object().if_contains("data");
  const json::value* groups =
      data != nullptr && data->is_object() ? data->as_object().if_contains("groups") : nullptr;
  if (groups == nullptr || !groups->is_array()) {
    return false;
  }
  for (const json::value& g : groups->as_array()) {
    const json::value* rules = g.is_object() ? g.as_object().if_contains("rules") : nullptr;
    if (rules == nullptr || !rules->is_array()) {
      continue;
    }
    for (const json::value& r : rules->as_array()) {
      const json::value* labels = r.is_object() ? r.as_object().if_contains("labels") : nullptr;
      if (labels != nullptr && labels->is_object() &&
          str_field(labels->as_object(), "step") == std::to_string(step)) {
        return true;
      }
    }
  }
  return false;
}

// The first value of an instant query ("" when none).
std::string query_value(const PrometheusServer& prom, const std::string& promql) {
  auto r = prom.query(promql);
  if (!r || r->empty() || !(*r)[0].is_object()) {
    return "";
  }
  const json::value* value = (*r)[0].as_object().if_contains("value");
  if (value == nullptr || !value->is_array() || value->as_array().size() != 2 ||
      !value->as_array()[1].is_string()) {
    return "";
  }
  return std::string(value->as_array()[1].as_string());
}

json::object agent_status(std::uint16_t port) {
  HttpResult r = backout::testing::http_get(port, "/api/v1/status");
  if (r.status != 200) {
    return {};
  }
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  return !ec && v.is_object() ? v.as_object() : json::object{};
}

bool agent_ready(const json::object& st) {
  auto it = st.find("sources");
  if (it == st.end() || !it->value().is_array() || it->value().as_array().empty()) {
    return false;
  }
  for (const auto& s : it->value().as_array()) {
    const json::value* up = s.is_object() ? s.as_object().if_contains("up") : nullptr;
    if (up == nullptr || !up->is_bool() || !up->as_bool()) {
      return false;
    }
  }
  return str_field(st, "phase") == "in_window";
}

// The time of the agent's log line "trigger ID: X -> breached" at or after line `from`.
std::optional<SysTime> breached_in_log(const std::vector<std::string>& lines, std::size_t from,
                                       const std::string& trigger_id) {
  const std::regex re("trigger " + trigger_id + ": \\S+ -> breached");
  for (std::size_t i = from; i < lines.size(); ++i) {
    if (std::regex_search(lines[i], re)) {
      return log_time(lines[i]);
    }
  }
  return std::nullopt;
}

// ---- The measurement ----------------------------------------------------------------------------

struct Side {
  std::optional<SysTime> received;  // the post's arrival at the receiver
  std::optional<SysTime> decided;  // agent: the breach in its log; Prometheus: the alert's startsAt
  bool measured = false;           // this side took part in the step
};

struct Step {
  int n = 0;
  double pause_s = 0;
  SysTime at{};           // failures stepped to 30%
  SysTime reverted_at{};  // failures back to 1%
  Side agent, early, tuned, stock;
  double back_to_normal_s = 0;
  std::string problem;
};

std::optional<double> after(const SysTime& at, const Side& s) {
  if (!s.received) {
    return std::nullopt;
  }
  return seconds_between(at, *s.received);
}

std::string cell(const Step& st, const Side& s, int fire_within_s) {
  if (!s.measured) {
    return "—";
  }
  if (!s.received) {
    return "**did not fire within " + std::to_string(fire_within_s) + " s**";
  }
  return fixed(seconds_between(st.at, *s.received), 3);
}

std::string split_cell(const Side& s) {
  if (!s.measured || !s.received || !s.decided) {
    return "—";
  }
  return fixed(seconds_between(*s.decided, *s.received), 3);
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  std::string command;
  for (int i = 0; i < argc; ++i) {
    command += (i == 0 ? std::string() : " ") + argv[i];
  }
  if (!fs::exists(opt.agent)) {
    die("no agent binary at " + opt.agent +
        " (build it: ninja -C BUILD backout-agent, or pass "
        "--agent PATH)");
  }
  if (::access(backout::testing::kPrometheusBinary, X_OK) != 0 ||
      !AlertmanagerServer::installed()) {
    die(std::string("needs ") + backout::testing::kPrometheusBinary + " and " +
        backout::testing::kAlertmanagerBinary +
        ": apt-get install prometheus prometheus-alertmanager");
  }
  const std::string load_start = loadavg_text();
  const SysTime started_at = std::chrono::system_clock::now();
  // What is measured, read at the start: the binary or the tree may change during a long run.
  const std::string agent_version = run_capture("'" + opt.agent + "' --version 2>&1");
  const std::string agent_built =
      run_capture("date -u -r '" + opt.agent + "' '+%Y-%m-%d %H:%M:%S UTC'");
  const std::string source_head = run_capture("git -C '" + backout::testing::source_dir() +
                                              "' rev-parse --short HEAD 2>/dev/null");
  const bool source_dirty = !run_capture("git -C '" + backout::testing::source_dir() +
                                         "' status --porcelain --untracked-files=no 2>/dev/null")
                                 .empty();

  std::string tmpl = "/tmp/agent-compare-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    die("mkdtemp failed");
  }
  const fs::path dir = tmpl;
  const fs::path state_dir = dir / "state";
  fs::create_directories(state_dir);

  // The application and the receiver of every post (the agent's chat and both Alertmanagers).
  PortalApp portal(0);
  PortalConditions normal;  // 50 logins/s, 1% failures
  normal.login_failure_rate = kBaseFailureRate;
  portal.set(normal);
  PortalConditions stepped = normal;
  stepped.login_failure_rate = kStepFailureRate;
  WebhookReceiver hook;
  const std::string chat_path = "/chat";
  progress("portal stand-in on " + portal.base_url() + ", receiver on " + hook.url("/"));

  // Prometheus + Alertmanager: tuned to the agent's cadence, and the stock defaults.
  std::vector<RunningStack> stacks;
  stacks.push_back({Stack{"tuned", "1s", "1s", "1s", "0s", "1s", "/alertmanager/tuned"}, nullptr,
                    nullptr, "", false});
  if (opt.stock_steps > 0) {
    stacks.push_back({Stack{"stock", "1m", "10s", "1m", "30s", "5m", "/alertmanager/stock"},
                      nullptr, nullptr, "", false});
  }
  for (RunningStack& s : stacks) {
    const fs::path am_dir = dir / ("alertmanager-" + s.spec.name);
    const fs::path prom_dir = dir / ("prometheus-" + s.spec.name);
    fs::create_directories(am_dir);
    fs::create_directories(prom_dir);
    s.am = std::make_unique<AlertmanagerServer>(am_dir.string());
    s.am_config = alertmanager_config(s.spec, hook.url(s.spec.hook_path));
    if (Status st = s.am->start(s.am_config); !st) {
      die("Alertmanager (" + s.spec.name + "): " + st.error());
    }
    s.prom = std::make_unique<PrometheusServer>(prom_dir.string());
    PrometheusScrapeJob job;
    job.job_name = "portal";
    job.targets = {"127.0.0.1:" + std::to_string(portal.port())};
    job.scrape_interval = s.spec.scrape_interval;
    job.scrape_timeout = s.spec.scrape_timeout;
    PrometheusAlerting alerting;
    alerting.evaluation_interval = s.spec.evaluation_interval;
    alerting.rules_yaml = rule_text(opt, 1);
    alerting.alertmanagers = {s.am->host_port()};
    if (Status st = s.prom->start(job, alerting); !st) {
      die("Prometheus (" + s.spec.name + "): " + st.error());
    }
    s.active = true;
    progress("Prometheus (" + s.spec.name + ") on 127.0.0.1:" + std::to_string(s.prom->port()) +
             ", Alertmanager on " + s.am->host_port());
  }

  // The agent, with its plan checked first.
  const std::string plan_path = (dir / "compare-plan.yaml").string();
  const std::string plan = plan_text(opt, portal.base_url(), state_dir.string());
  std::ofstream(plan_path) << plan;
  const std::string check =
      run_capture("'" + opt.agent + "' check --plan '" + plan_path + "' 2>&1; echo \"exit=$?\"");
  if (check.size() < 6 || check.substr(check.size() - 6) != "exit=0") {
    die("the generated plan " + plan_path + " does not pass `backout-agent check`:\n" + check);
  }
  progress("starting the agent: " + opt.agent);
  AgentProcess agent(
      opt.agent,
      {"run", "--plan", plan_path, "--start-now", "--state-dir", state_dir.string(), "--listen",
       "127.0.0.1:0"},
      {{"ONCALL_CHAT_WEBHOOK", hook.url(chat_path)}, {"BACKOUT_AGENT_TOKEN", kToken}});
  auto dump_log = [&] {
    for (const auto& l : agent.log()) {
      std::cerr << "  | " << l << "\n";
    }
  };
  const std::uint16_t agent_port = agent.wait_for_port(20s);
  if (agent_port == 0) {
    dump_log();
    die("the agent did not report its HTTP port within 20 s (its log is above)");
  }
  if (!eventually([&] { return agent_ready(agent_status(agent_port)); }, 60s)) {
    dump_log();
    die("the agent's portal source was not up within 60 s (its log is above)");
  }
  for (RunningStack& s : stacks) {
    const bool up = eventually(
        [&] {
          auto t = s.prom->active_targets();
          return t && !t->empty() && (*t)[0].is_object() &&
                 str_field((*t)[0].as_object(), "health") == "up";
        },
        90s);
    if (!up) {
      die("Prometheus (" + s.spec.name + ") did not scrape the portal within 90 s:\n" +
          s.prom->log_tail());
    }
  }

  // Warm-up: both sides need a full window of normal traffic, or the first step would cross the
  // threshold early (a ratio over less than the window weighs the step more).
  const int warmup_s = opt.window_s + (opt.stock_steps > 0 ? 75 : 15);
  progress("warm-up: " + std::to_string(warmup_s) + " s of normal traffic to fill the " +
           opt.window + " window of every side");
  std::this_thread::sleep_for(std::chrono::seconds{warmup_s});  // the window must fill
  const std::string ratio_promql = "increase(portal_login_failures_total[" + opt.window +
                                   "]) / increase(portal_login_attempts_total[" + opt.window + "])";
  const std::string warm_ratio = query_value(*stacks[0].prom, ratio_promql);
  const std::size_t warm_posts = hook.posts().size();
  progress("warm-up done: the tuned Prometheus computes " + ratio_promql + " = " + warm_ratio +
           "; " + std::to_string(warm_posts) + " posts received so far");

  // ---- The steps --------------------------------------------------------------------------------
  std::mt19937 rng(opt.seed);
  std::vector<Step> steps;
  const auto fire_within = std::chrono::seconds{opt.fire_within_s};
  for (int n = 1; n <= opt.steps; ++n) {
    Step st;
    st.n = n;
    const bool stock_on = stacks.size() > 1 && stacks[1].active && n <= opt.stock_steps;
    // The phase: uniform over the longest cycle that takes part (1 s, or the stock 1m).
    std::uniform_real_distribution<double> pause_dist(0.0, stock_on ? 60.0 : 2.0);
    st.pause_s = pause_dist(rng);
    std::this_thread::sleep_for(std::chrono::duration<double>(st.pause_s));  // the phase offset
    st.agent.measured = st.early.measured = st.tuned.measured = true;
    st.stock.measured = stock_on;

    const std::size_t posts_before = hook.posts().size();
    const std::size_t log_before = agent.log().size();
    st.at = std::chrono::system_clock::now();
    portal.set(stepped);
    progress("step " + std::to_string(n) + " at " + clock_text(st.at) + " (pause " +
             fixed(st.pause_s, 2) + " s)" + (stock_on ? ", stock stack measured" : ""));

    auto scan = [&] {
      const auto posts = hook.posts();
      const std::vector<ReceivedPost> fresh(posts.begin() + static_cast<long>(posts_before),
                                            posts.end());
      if (auto p = agent_posts(fresh, 0, chat_path, kWindowTriggerName).breach) {
        st.agent.received = p->at;
      }
      if (auto p = agent_posts(fresh, 0, chat_path, kEarlyTriggerName).breach) {
        st.early.received = p->at;
      }
      AmPost t = am_post(fresh, stacks[0].spec.hook_path, n, "firing");
      st.tuned.received = t.received;
      st.tuned.decided = t.starts_at;
      if (stock_on) {
        AmPost s = am_post(fresh, stacks[1].spec.hook_path, n, "firing");
        st.stock.received = s.received;
        st.stock.decided = s.starts_at;
      }
    };
    const auto step_steady = Steady::now();
    // Failures stay at 30% until the agent and the tuned pair have both fired (or the bound):
    // the stock pair needs no longer, because the window ratio stays above 5% for about a
    // window after the revert (see the notes in the output).
    eventually(
        [&] {
          scan();
          return st.agent.received && st.early.received && st.tuned.received;
        },
        fire_within);
    st.reverted_at = std::chrono::system_clock::now();
    portal.set(normal);
    if (stock_on) {
      eventually(
          [&] {
            scan();
            return st.stock.received.has_value();
          },
          std::max(std::chrono::milliseconds{0},
                   std::chrono::duration_cast<std::chrono::milliseconds>(
                       fire_within - (Steady::now() - step_steady))));
    }
    scan();
    eventually(
        [&] { return breached_in_log(agent.log(), log_before, kWindowTriggerId).has_value(); },
        st.agent.received ? 5s : 0s);
    st.agent.decided = breached_in_log(agent.log(), log_before, kWindowTriggerId);
    st.early.decided = breached_in_log(agent.log(), log_before, kEarlyTriggerId);
    progress("step " + std::to_string(n) + ": agent " +
             (st.agent.received ? fixed(*after(st.at, st.agent), 3) + " s" : "no post") +
             ", agent (early detection) " +
             (st.early.received ? fixed(*after(st.at, st.early), 3) + " s" : "no post") +
             ", Prometheus+Alertmanager tuned " +
             (st.tuned.received ? fixed(*after(st.at, st.tuned), 3) + " s" : "no post") +
             (stock_on ? ", stock " + (st.stock.received ? fixed(*after(st.at, st.stock), 3) + " s"
                                                         : std::string("no post"))
                       : std::string()));

    // Back to normal: the agent's resolve posts for what it paged, and no LoginFailureRate alert
    // left in any Prometheus that takes part (the next step's rule must start inactive).
    const auto back0 = Steady::now();
    const bool normal_again = eventually(
        [&] {
          const auto posts = hook.posts();
          for (const char* name : {kWindowTriggerName, kEarlyTriggerName}) {
            AgentPost p = agent_posts(posts, posts_before, chat_path, name);
            if (p.breach && !p.resolve) {
              return false;
            }
          }
          for (std::size_t i = 0; i < stacks.size(); ++i) {
            if (stacks[i].active && (i == 0 || stock_on)) {
              auto quiet = prometheus_quiet(*stacks[i].prom);
              if (!quiet || !*quiet) {
                return false;
              }
            }
          }
          return true;
        },
        std::chrono::seconds{2 * opt.window_s + 300});
    st.back_to_normal_s = std::chrono::duration<double>(Steady::now() - back0).count();
    if (!normal_again) {
      st.problem = "not back to normal within " + std::to_string(2 * opt.window_s + 300) +
                   " s of the revert: the series stops here";
    }
    progress("step " + std::to_string(n) + ": back to normal " + fixed(st.back_to_normal_s, 1) +
             " s after the revert");
    steps.push_back(st);
    if (!normal_again) {
      progress(st.problem);
      break;
    }
    if (n == opt.stock_steps && stacks.size() > 1 && stacks[1].active) {
      progress("stopping the stock pair: its " + std::to_string(opt.stock_steps) +
               " steps are done");
      stacks[1].stop();
    }
    if (n < opt.steps) {
      for (RunningStack& s : stacks) {
        if (!s.active) {
          continue;
        }
        if (Status r = s.prom->reload_rules(rule_text(opt, n + 1)); !r) {
          die("reloading the rules of Prometheus (" + s.spec.name + "): " + r.error());
        }
        if (!eventually([&] { return prometheus_rule_step(*s.prom, n + 1); }, 10s)) {
          die("Prometheus (" + s.spec.name + ") did not load the rule of step " +
              std::to_string(n + 1) + " within 10 s:\n" + s.prom->log_tail());
        }
      }
    }
  }

  const std::string load_end = loadavg_text();
  const std::vector<std::string> agent_log = agent.log();
  const int agent_exit = agent.stop(10s);
  std::vector<std::string> stack_configs;
  for (RunningStack& s : stacks) {
    stack_configs.push_back(s.prom->config());
    s.stop();
  }

  // ---- Markdown ---------------------------------------------------------------------------------
  const double p0 = kBaseFailureRate, p1 = kStepFailureRate;
  const double crossing_s = opt.window_s * (kThreshold - p0) / (p1 - p0);
  std::vector<double> agent_v, early_v, tuned_v, stock_v, agent_own, tuned_own, stock_own;
  int agent_missed = 0, tuned_missed = 0, stock_missed = 0, stock_n = 0;
  for (const Step& s : steps) {
    auto add = [&](const Side& side, std::vector<double>& v, std::vector<double>* own,
                   int* missed) {
      if (!side.measured) {
        return;
      }
      if (auto d = after(s.at, side)) {
        v.push_back(*d);
        if (own != nullptr && side.decided) {
          own->push_back(seconds_between(*side.decided, *side.received));
        }
      } else if (missed != nullptr) {
        ++*missed;
      }
    };
    add(s.agent, agent_v, &agent_own, &agent_missed);
    add(s.early, early_v, nullptr, nullptr);
    add(s.tuned, tuned_v, &tuned_own, &tuned_missed);
    add(s.stock, stock_v, &stock_own, &stock_missed);
    stock_n += s.stock.measured ? 1 : 0;
  }
  const bool with_stock = stock_n > 0;

  std::ostringstream md;
  md << "## Side by side: the agent and Prometheus + Alertmanager, step to chat\n\n";
  md << "Command (from `" << fs::current_path().string() << "`):\n\n    " << command << "\n\n";
  md << "- When: " << utc_text(started_at, "%Y-%m-%d %H:%M:%S UTC")
     << "; machine: " << machine_text() << "\n";
  md << "- Load average (1/5/15 min): " << load_start << " at the start, " << load_end
     << " at the end (the cores are shared with other work)\n";
  md << "- Agent: `" << opt.agent << "` (" << agent_version << ", built " << agent_built
     << "); the source tree at the start of the run: " << source_head
     << (source_dirty ? " (with uncommitted changes)" : "") << "\n";
  md << "- Prometheus: `"
     << first_line(
            run_capture(std::string(backout::testing::kPrometheusBinary) + " --version 2>&1"))
     << "`; Alertmanager: `"
     << first_line(
            run_capture(std::string(backout::testing::kAlertmanagerBinary) + " --version 2>&1"))
     << "`\n";
  md << "- Application: the portal stand-in (tests/support PortalApp) on " << portal.base_url()
     << ", 50 logins/s with " << fixed(100 * p0, 0) << "% failures; a step sets the failures to "
     << fixed(100 * p1, 0) << "% and back. Counters advance exactly with wall time, so the "
     << opt.window << " failure ratio crosses 5% at step + " << opt.window_s << " s × (5% − "
     << fixed(100 * p0, 0) << "%) / (" << fixed(100 * p1, 0) << "% − " << fixed(100 * p0, 0)
     << "%) = step + **" << fixed(crossing_s, 1)
     << " s** for any correct evaluator of this window.\n";
  md << "- One webhook receiver (tests/support WebhookReceiver) records the arrival time of every "
        "post: the agent's Slack-shaped chat posts at `"
     << chat_path << "`, each Alertmanager's webhook_configs posts at its own path.\n";
  md << "- Warm-up: " << warmup_s << " s of normal traffic before the first step (every side's "
     << opt.window << " window full); the tuned Prometheus then computed the ratio as "
     << (warm_ratio.empty() ? "n/a" : warm_ratio) << ".\n\n";

  md << "### Configurations\n\n";
  md << "The agent runs `backout-agent run --plan PLAN --start-now --state-dir DIR --listen "
        "127.0.0.1:0` at its default tick (250 ms) with this plan (checked with `backout-agent "
        "check --plan`): the reference plan's login trigger with `for: 0s`, once with early "
        "detection off (the comparison: the same arithmetic as the PromQL rule) and once as the "
        "reference plan gets it (early detection on by default for `ratio()`, for information); "
        "notify.group_wait 0s to match the tuned Alertmanager's group_wait (the reference plan "
        "has 2s, which would hold a major page 2 s longer).\n\n";
  md << "```yaml\n" << plan << "```\n\n";
  md << "Prometheus' rule file (both pairs; `step` is the step's number, rewritten and reloaded "
        "with `POST /-/reload` between steps):\n\n";
  md << "```yaml\n" << rule_text(opt, 1) << "```\n\n";
  for (std::size_t i = 0; i < stacks.size(); ++i) {
    const RunningStack& s = stacks[i];
    md << "**" << (s.spec.name == "tuned" ? "Tuned to the agent's cadence" : "Stock defaults")
       << "** (`" << s.spec.name << "`): prometheus.yml\n\n```yaml\n"
       << stack_configs[i] << "```\n\nalertmanager.yml\n\n```yaml\n"
       << s.am_config << "```\n\n";
  }
  if (with_stock) {
    md << "The stock pair has upstream's defaults written out: Prometheus' scrape_interval 1m, "
          "scrape_timeout 10s, evaluation_interval 1m (a config without a `global:` section "
          "gets these; Debian's sample /etc/prometheus/prometheus.yml sets 15s and 15s), and "
          "Alertmanager's group_wait 30s, group_interval 5m, repeat_interval 4h (the Debian "
          "sample alertmanager.yml also has group_wait 30s and group_interval 5m).\n\n";
  }
  md << "Both routes group by `['alertname', 'step']` so that every step's alert opens a new "
        "aggregation group and takes Alertmanager's first-notification path (group_wait), as "
        "a trigger firing once in a release night does. Without it, a step coming within a "
        "group_interval of the previous step's resolved notification joins the old group and "
        "waits for its next group_interval tick; the stock pair would then wait up to 5 min "
        "more.\n\n";

  md << "### Steps\n\n";
  md << "Each step: a random pause (uniform 0–2 s; 0–60 s while the stock pair takes part, to "
        "vary the phase of its 1-minute cycles; seed "
     << opt.seed << "), the failures stepped to " << fixed(100 * p1, 0)
     << "% with the time taken, each side's first post awaited (at most " << opt.fire_within_s
     << " s), the failures back to " << fixed(100 * p0, 0)
     << "% once the agent and the tuned pair have posted, then the agent's resolve posts and "
        "every Prometheus' alert inactive awaited before the next step. Times are seconds from "
        "the step to the post's arrival at the receiver. *Decided → received*: for the agent "
        "from its log line `trigger "
     << kWindowTriggerId
     << ": … -> breached` (the tick that saw the breach); for Prometheus from the alert's "
        "`startsAt` in Alertmanager's post (the rule evaluation that fired it).\n\n";
  md << "| # | step at (UTC) | **agent** (s) | agent: decided → received | **Prometheus + "
        "Alertmanager, tuned** (s) | tuned: evaluation → received |";
  if (with_stock) {
    md << " **stock defaults** (s) | stock: evaluation → received |";
  }
  md << " agent, early detection on (s) | back to normal after the revert (s) |\n";
  md << "| ---: | --- | ---: | ---: | ---: | ---: |" << (with_stock ? " ---: | ---: |" : "")
     << " ---: | ---: |\n";
  for (const Step& s : steps) {
    md << "| " << s.n << " | " << clock_text(s.at) << " | **" << cell(s, s.agent, opt.fire_within_s)
       << "** | " << split_cell(s.agent) << " | **" << cell(s, s.tuned, opt.fire_within_s)
       << "** | " << split_cell(s.tuned) << " |";
    if (with_stock) {
      md << " " << (s.stock.measured ? "**" + cell(s, s.stock, opt.fire_within_s) + "**" : "—")
         << " | " << split_cell(s.stock) << " |";
    }
    md << " " << cell(s, s.early, opt.fire_within_s) << " | " << fixed(s.back_to_normal_s, 1)
       << (s.problem.empty() ? "" : " (" + s.problem + ")") << " |\n";
  }
  md << "\n";

  md << "### Summary\n\n";
  md << "Seconds from the step to the post; *beyond the crossing* subtracts the "
     << fixed(crossing_s, 1) << " s the " << opt.window
     << " ratio needs to cross 5% (the part each side adds to the window arithmetic: the "
        "detection-to-delivery latency of DESIGN.md §8).\n\n";
  md << "| | agent | agent, beyond the crossing | Prometheus + Alertmanager, tuned | tuned, "
        "beyond the crossing |";
  if (with_stock) {
    md << " stock defaults | stock, beyond the crossing |";
  }
  md << " agent, early detection on |\n";
  md << "| --- | ---: | ---: | ---: | ---: |" << (with_stock ? " ---: | ---: |" : "")
     << " ---: |\n";
  auto minus = [&](std::vector<double> v) {
    for (double& x : v) {
      x -= crossing_s;
    }
    return v;
  };
  auto row = [&](const char* name, const std::function<double(const std::vector<double>&)>& f) {
    md << "| " << name << " | " << fixed(f(agent_v), 3) << " | " << fixed(f(minus(agent_v)), 3)
       << " | " << fixed(f(tuned_v), 3) << " | " << fixed(f(minus(tuned_v)), 3) << " |";
    if (with_stock) {
      md << " " << fixed(f(stock_v), 3) << " | " << fixed(f(minus(stock_v)), 3) << " |";
    }
    md << " " << fixed(f(early_v), 3) << " |\n";
  };
  row("min", min_of);
  row("median", median);
  row("p90 (nearest rank)", [](const std::vector<double>& v) { return percentile(v, 0.9); });
  row("max", max_of);
  md << "| fired / steps | " << agent_v.size() << " / " << (agent_v.size() + agent_missed)
     << " | | " << tuned_v.size() << " / " << (tuned_v.size() + tuned_missed) << " | |";
  if (with_stock) {
    md << " " << stock_v.size() << " / " << stock_n << " | |";
  }
  md << " " << early_v.size() << " / " << steps.size() << " |\n";
  md << "| decided → received, median | " << fixed(median(agent_own), 3) << " | | "
     << fixed(median(tuned_own), 3) << " | |";
  if (with_stock) {
    md << " " << fixed(median(stock_own), 3) << " | |";
  }
  md << " |\n\n";

  const double a_med = median(agent_v), t_med = median(tuned_v), s_med = median(stock_v);
  const double a_beyond = median(minus(agent_v)), t_beyond = median(minus(tuned_v)),
               s_beyond = median(minus(stock_v));
  md << "Ratio of medians, measured in this run (same steps, same application):\n\n";
  md << "- step → post: Prometheus + Alertmanager tuned / agent = " << fixed(t_med, 3) << " / "
     << fixed(a_med, 3) << " = **" << fixed(t_med / a_med, 2) << "×**";
  if (with_stock) {
    md << "; stock / agent = " << fixed(s_med, 3) << " / " << fixed(a_med, 3) << " = **"
       << fixed(s_med / a_med, 2) << "×** (over the " << stock_n << " steps with the stock pair)";
  }
  md << ".\n";
  md << "- beyond the crossing (what each side adds to the window): tuned / agent = "
     << fixed(t_beyond, 3) << " / " << fixed(a_beyond, 3) << " = **"
     << fixed(t_beyond / a_beyond, 2) << "×**";
  if (with_stock) {
    md << "; stock / agent = " << fixed(s_beyond, 3) << " / " << fixed(a_beyond, 3) << " = **"
       << fixed(s_beyond / a_beyond, 2) << "×**";
  }
  md << ".\n\n";

  md << "### Where the latency comes from\n\n";
  md << "- **The window (both sides, " << fixed(crossing_s, 1) << " s):** a " << opt.window
     << " ratio of counter increases moves slowly: with 1% before and 30% after the step, the "
        "ratio reaches 5% only when 13.8% of the window is after the step. Neither side can "
        "page before that with this trigger; it is the bulk of every number above and the "
        "same for both.\n";
  // The agent's bucket width (core/sliding_window.h): max(over / 60, 100 ms).
  const double bucket_s = std::max(opt.window_s / 60.0, 0.1);
  md << "- **The agent:** it scrapes the portal every 1 s (a counter increase lands in its "
        "window at the next scrape: 0–1 s), sums increases in "
     << fixed(bucket_s, 1)
     << " s buckets (its window spans "
        "between "
     << fixed(opt.window_s - bucket_s, 1) << " and " << opt.window_s << " s, so it can cross up to "
     << fixed(crossing_s * bucket_s / opt.window_s, 1)
     << " s earlier than the exact window), evaluates every 250 ms (its tick: 0–0.25 s), and "
        "a major breach with group_wait 0s is posted from the same tick (its outbox, then the "
        "HTTP post). Decided → received above is that last part (median "
     << fixed(median(agent_own), 3) << " s).\n";
  md << "- **Prometheus + Alertmanager, tuned:** the scrape every 1 s (0–1 s), the rule "
        "evaluation every 1 s (0–1 s: the alert's startsAt is that evaluation), the notifier "
        "sending the alert to Alertmanager, and Alertmanager's group_wait 0s for a new group "
        "before its webhook post (evaluation → received, median "
     << fixed(median(tuned_own), 3)
     << " s). `increase()` over a range uses the samples inside it, which span " << opt.window_s - 1
     << "–" << opt.window_s << " s at a 1 s scrape: the same crossing, within the scrape.\n";
  if (with_stock) {
    md << "- **Prometheus + Alertmanager, stock:** the scrape every 1m (the data the rule sees "
          "is 0–60 s old), the evaluation every 1m (0–60 s more), then group_wait 30s for the "
          "new group (evaluation → received, median "
       << fixed(median(stock_own), 3)
       << " s). Expected step → post: crossing + 0–120 s + 30 s, i.e. about "
       << fixed(crossing_s + 30, 0) << "–" << fixed(crossing_s + 150, 0)
       << " s. At 1m scrape the ratio uses the ~5 samples in the window, so its crossing also "
          "moves by up to a scrape. After the first notification, later alerts of the same "
          "group wait for group_interval (5m) — avoided here by the `step` label.\n";
  }
  md << "- **Early detection (agent, reference default):** a Bernoulli CUSUM on the recent "
        "attempts flags a failure rate above the threshold within seconds, without waiting "
        "for the "
     << opt.window
     << " ratio; PromQL has no equivalent in this rule, so it is shown apart and not in the "
        "ratios.\n";
  md << "- **Resolution (not timed):** the agent keeps a breach until the ratio has stayed "
        "below the threshold for clear_after (30 s by default), Prometheus drops the alert at "
        "the first evaluation below it; both wait for the step to leave the window (about "
     << opt.window << " after the step).\n\n";

  md << "### Verdict\n\n";
  if (!agent_v.empty()) {
    const double beyond_max = max_of(minus(agent_v));
    md << "- **Detection to chat delivery < " << kLatencyTargetS
       << " s (for: 0)**: measured "
          "from the moment the "
       << opt.window << " ratio crosses 5% (step + " << fixed(crossing_s, 1)
       << " s), the agent's post arrived after median " << fixed(a_beyond, 3) << " s, max "
       << fixed(beyond_max, 3) << " s: " << (beyond_max < kLatencyTargetS ? "met" : "missed")
       << " in this run"
       << (agent_missed > 0 ? " (with " + std::to_string(agent_missed) + " steps that never fired)"
                            : "")
       << ". Step → post, the agent's median is " << fixed(a_med, 3)
       << " s against the tuned Prometheus + Alertmanager's " << fixed(t_med, 3) << " s"
       << (with_stock ? " and the stock defaults' " + fixed(s_med, 3) + " s" : "") << ".\n";
  } else {
    md << "- The agent never posted about the trigger: see the table.\n";
  }
  md << "\nThe agent stopped with exit code " << agent_exit << " (SIGTERM).\n";

  const std::string text = md.str();
  std::cout << text;
  if (!opt.out.empty()) {
    std::ofstream(opt.out) << text;
    progress("written to " + opt.out);
  }
  if (opt.keep) {
    std::string log_text;
    for (const auto& l : agent_log) {
      log_text += l + "\n";
    }
    std::ofstream(dir / "agent.log") << log_text;
    progress("kept " + dir.string() +
             " (agent.log, compare-plan.yaml, prometheus-*/, alertmanager-*/)");
  } else {
    stacks.clear();  // the servers' files are in dir
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  return 0;
}
