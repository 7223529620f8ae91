// Measures the running agent on the reference plan, as the targets of DESIGN.md §8 ask:
//   1. footprint: resident memory (VmRSS, VmHWM) and CPU share (utime + stime from /proc) of the
//      real backout-agent over --seconds (60) while the portal stand-in serves normal traffic;
//   2. detection to delivery for the database trigger (db_connectivity: failures(portal_db) > 0,
//      critical, portal_db probed every 2 s): --outages (10) PostgreSQL outages, each timed from
//      the outage start (fast shutdown of a real PostgreSQL) to the chat webhook receiving the
//      BACKOUT page, and split with the agent's log into outage -> failed check -> page decided
//      -> received.
// It prints a Markdown section (also written to --out FILE) with the command, the machine, the
// tables and the verdicts against the targets (2 s; 20 MiB; 1% of a core).
//
// The stand-ins are the test support library's: PostgresServer (a throw-away cluster, run as
// nobody when root, with a `customers` table of 125,000 rows for the data-integrity trigger),
// PortalApp (on 127.0.0.1:8080 as the plan expects; if that port is taken, on a free port with a
// copy of the plan whose portal URLs point there, said in the output), WebhookReceiver (the chat
// webhook, with arrival times) and AgentProcess (the agent binary, its log read line by line).
// The agent runs `run --plan <reference plan> --start-now --state-dir <tmp> --listen
// 127.0.0.1:0` with PORTAL_DB_DSN, ONCALL_CHAT_WEBHOOK and BACKOUT_AGENT_TOKEN, at its default
// tick, as a deployment would.
//
// Usage: agent-measure [--seconds 60] [--outages 10] [--seed 1] [--sample-every 5]
//                      [--agent PATH] [--plan PATH] [--out FILE] [--keep]
// The agent binary defaults to ../agent/backout-agent next to this program's build directory.
#include <sys/utsname.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/apps/agent_process.h"
#include "support/apps/portal_app.h"
#include "support/apps/webhook_receiver.h"
#include "support/paths.h"
#include "support/postgres_server.h"
#include "tools/measure_report.h"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using backout::testing::AgentProcess;
using backout::testing::HttpResult;
using backout::testing::log_time;
using backout::testing::PortalApp;
using backout::testing::PostgresServer;
using backout::testing::ReceivedPost;
using backout::testing::strip_ansi;
using backout::testing::WebhookReceiver;
using SysTime = std::chrono::system_clock::time_point;
using namespace backout::measure;
using Steady = std::chrono::steady_clock;

constexpr const char* kToken = "agent-measure-token";
constexpr double kLatencyTargetS = 2.0;
constexpr double kRssTargetMiB = 20.0;
constexpr double kCpuTargetPct = 1.0;

struct Options {
  int seconds = 60;
  int sample_every = 5;
  int outages = 10;
  unsigned seed = 1;
  std::string agent;
  std::string plan;
  std::string out;
  bool keep = false;
};

[[noreturn]] void die(const std::string& what) {
  std::cerr << "agent-measure: " << what << "\n";
  std::exit(1);
}

void progress(const std::string& what) {
  std::cerr << "[agent-measure] " << what << std::endl;
}

// ---- Small helpers ------------------------------------------------------------------------------

// The agent's log timestamp: "2026-06-07T02:00:00.123+01:00 level message" (spdlog's
// "%Y-%m-%dT%H:%M:%S.%e%z"); also accepts "+0100".
// ---- /proc --------------------------------------------------------------------------------------

struct ProcSample {
  double t = 0;  // seconds since the first sample (steady clock)
  long rss_kb = 0, hwm_kb = 0, anon_kb = 0, file_kb = 0, shmem_kb = 0, vmsize_kb = 0;
  int threads = 0;
  long long cpu_ticks = 0;  // utime + stime
  long long utime = 0, stime = 0;
  long long minflt = 0, majflt = 0;
  long vol_cs = 0, invol_cs = 0;
  bool ok = false;
};

ProcSample read_proc(int pid) {
  ProcSample s;
  std::istringstream status(read_text("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(status, line);) {
    auto field = [&](const char* name, long& out) {
      const std::size_t n = std::strlen(name);
      if (line.compare(0, n, name) == 0 && line.size() > n && line[n] == ':') {
        out = std::atol(line.c_str() + n + 1);
      }
    };
    field("VmRSS", s.rss_kb);
    field("VmHWM", s.hwm_kb);
    field("RssAnon", s.anon_kb);
    field("RssFile", s.file_kb);
    field("RssShmem", s.shmem_kb);
    field("VmSize", s.vmsize_kb);
    field("voluntary_ctxt_switches", s.vol_cs);
    field("nonvoluntary_ctxt_switches", s.invol_cs);
    long threads = 0;
    field("Threads", threads);
    if (threads > 0) {
      s.threads = static_cast<int>(threads);
    }
  }
  const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  const std::size_t close = stat.rfind(')');
  if (close == std::string::npos || s.rss_kb == 0) {
    return s;
  }
  std::istringstream rest(stat.substr(close + 1));
  std::vector<std::string> f;
  for (std::string tok; rest >> tok;) {
    f.push_back(tok);
  }
  // After ')': field 3 (state) is f[0]; utime is field 14, stime field 15.
  if (f.size() > 12) {
    s.minflt = std::stoll(f[7]);   // field 10
    s.majflt = std::stoll(f[9]);   // field 12
    s.utime = std::stoll(f[11]);
    s.stime = std::stoll(f[12]);
    s.cpu_ticks = s.utime + s.stime;
    s.ok = true;
  }
  return s;
}

// The whole machine's CPU counters (/proc/stat "cpu" line): busy and total ticks.
struct MachineCpu {
  long long busy = 0, total = 0;
};
MachineCpu machine_cpu() {
  std::istringstream in(read_text("/proc/stat"));
  std::string cpu;
  in >> cpu;
  MachineCpu m;
  std::vector<long long> v;
  for (long long x; v.size() < 8 && in >> x;) {
    v.push_back(x);
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    m.total += v[i];
    if (i != 3 && i != 4) {  // idle, iowait
      m.busy += v[i];
    }
  }
  return m;
}

// CPU ticks (utime + stime) per thread, by thread id, with the thread's name.
std::map<int, std::pair<std::string, long long>> thread_ticks(int pid) {
  std::map<int, std::pair<std::string, long long>> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    const std::string stat = read_text(e.path().string() + "/stat");
    const std::size_t open = stat.find('(');
    const std::size_t close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) {
      continue;
    }
    std::istringstream rest(stat.substr(close + 1));
    std::vector<std::string> f;
    for (std::string tok; rest >> tok;) {
      f.push_back(tok);
    }
    if (f.size() > 12) {
      out[std::atoi(e.path().filename().c_str())] = {
          stat.substr(open + 1, close - open - 1), std::stoll(f[11]) + std::stoll(f[12])};
    }
  }
  return out;
}

// Resident memory by mapping (from /proc/PID/smaps), largest first.
std::vector<std::pair<std::string, long>> rss_by_mapping(int pid) {
  std::istringstream in(read_text("/proc/" + std::to_string(pid) + "/smaps"));
  std::map<std::string, long> by;
  std::string current;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string first;
    ls >> first;
    if (first.empty()) {
      continue;
    }
    if (first.back() != ':') {  // a mapping header: range perms offset dev inode [path]
      std::string perms, offset, dev, inode, path;
      ls >> perms >> offset >> dev >> inode;
      std::getline(ls, path);
      path = trim(path);
      if (path.empty()) {
        path = "[anonymous]";
      }
      current = path;
      continue;
    }
    if (first == "Rss:") {
      long kb = 0;
      ls >> kb;
      by[current] += kb;
    }
  }
  std::vector<std::pair<std::string, long>> out(by.begin(), by.end());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

// Proportional set size (shared pages divided among the processes mapping them), in kB.
long pss_kb(int pid) {
  std::istringstream in(read_text("/proc/" + std::to_string(pid) + "/smaps_rollup"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Pss:", 0) == 0) {
      return std::atol(line.c_str() + 4);
    }
  }
  return 0;
}

// ---- The agent's API ----------------------------------------------------------------------------

json::object get_json(std::uint16_t port, const std::string& target) {
  HttpResult r = backout::testing::http_get(port, target);
  if (r.status != 200) {
    return {};
  }
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  return !ec && v.is_object() ? v.as_object() : json::object{};
}

std::string str_field(const json::object& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                  : std::string();
}

// All sources up (every "up" true) and the phase in_window.
bool all_sources_up(const json::object& st, std::string* which_down) {
  auto it = st.find("sources");
  if (it == st.end() || !it->value().is_array() || it->value().as_array().empty()) {
    return false;
  }
  bool all = true;
  std::string down;
  for (const auto& s : it->value().as_array()) {
    const json::object& o = s.as_object();
    auto up = o.find("up");
    if (up == o.end() || !up->value().is_bool() || !up->value().as_bool()) {
      all = false;
      down += (down.empty() ? "" : ", ") + str_field(o, "id");
    }
  }
  if (which_down != nullptr) {
    *which_down = down;
  }
  return all && str_field(st, "phase") == "in_window";
}

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

// The Slack-shaped chat post's text ("" if not JSON with a text).
std::string post_text(const ReceivedPost& p) {
  boost::system::error_code ec;
  json::value v = json::parse(p.body, ec);
  if (ec || !v.is_object()) {
    return p.body;
  }
  return str_field(v.as_object(), "text");
}
std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

bool is_db_backout(const ReceivedPost& p) {
  const std::string head = first_line(post_text(p));
  return head.find("BACKOUT") != std::string::npos &&
         head.find("Database connectivity") != std::string::npos;
}
bool is_db_resolve(const ReceivedPost& p) {
  const std::string head = first_line(post_text(p));
  return head.find("Resolved") != std::string::npos &&
         head.find("Database connectivity") != std::string::npos;
}

// ---- The measurement ----------------------------------------------------------------------------

struct Outage {
  int n = 0;
  SysTime start{};          // SIGINT to the postmaster (fast shutdown)
  double stop_took_s = 0;   // until the postmaster exited
  std::optional<SysTime> failed_check;   // log: "source portal_db is down"
  std::optional<SysTime> breached;       // log: "trigger db_connectivity: ... -> breached"
  std::optional<SysTime> decided;        // log: "page breach:db_connectivity#N (breach)"
  std::optional<SysTime> delivered_log;  // log: "delivered breach:db_connectivity#N to chat"
  std::optional<SysTime> received;       // the receiver's arrival time
  std::string key;
  std::string down_error;
  std::string delivered_line;
  double resolve_wait_s = 0;  // PostgreSQL back -> resolve post received
  double pause_s = 0;         // random pause before the next outage
  bool ok = false;
  std::string problem;
};

// Fills the log-derived times of `o` from the agent's log lines from index `from`.
void read_outage_log(const std::vector<std::string>& lines, std::size_t from, Outage& o) {
  static const std::regex down_re(R"(source portal_db is down: (.*)$)");
  static const std::regex breach_re(R"(trigger db_connectivity: \S+ -> breached)");
  static const std::regex page_re(R"( page (breach:\S*db_connectivity#\d+\S*) \(breach\) to )");
  for (std::size_t i = from; i < lines.size(); ++i) {
    const std::string line = strip_ansi(lines[i]);
    std::optional<SysTime> t = log_time(line);
    if (!t) {
      continue;
    }
    std::smatch m;
    if (!o.failed_check && std::regex_search(line, m, down_re)) {
      o.failed_check = t;
      o.down_error = m[1];
    } else if (!o.breached && std::regex_search(line, breach_re)) {
      o.breached = t;
    } else if (!o.decided && std::regex_search(line, m, page_re)) {
      o.decided = t;
      o.key = m[1];
    } else if (o.decided && !o.delivered_log &&
               line.find("delivered " + o.key + " to chat") != std::string::npos) {
      o.delivered_log = t;
      o.delivered_line = line.substr(line.find("delivered "));
    }
  }
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
    if (a == "--seconds") {
      o.seconds = std::stoi(need(i));
    } else if (a == "--sample-every") {
      o.sample_every = std::stoi(need(i));
    } else if (a == "--outages") {
      o.outages = std::stoi(need(i));
    } else if (a == "--seed") {
      o.seed = static_cast<unsigned>(std::stoul(need(i)));
    } else if (a == "--agent") {
      o.agent = need(i);
    } else if (a == "--plan") {
      o.plan = need(i);
    } else if (a == "--out") {
      o.out = need(i);
    } else if (a == "--keep") {
      o.keep = true;
    } else if (a == "--help" || a == "-h") {
      std::cout << "usage: agent-measure [--seconds 60] [--sample-every 5] [--outages 10] "
                   "[--seed 1] [--agent PATH] [--plan PATH] [--out FILE] [--keep]\n";
      std::exit(0);
    } else {
      die("unknown option " + a);
    }
  }
  if (o.seconds <= 0 || o.sample_every <= 0 || o.outages < 0) {
    die("--seconds and --sample-every must be positive, --outages not negative");
  }
  if (o.agent.empty()) {
    o.agent = (fs::path(self_dir()).parent_path() / "agent" / "backout-agent").string();
  }
  if (o.plan.empty()) {
    o.plan = backout::testing::reference_plan_path();
  }
  return o;
}

std::string mib(long kb) { return fixed(static_cast<double>(kb) / 1024.0, 1); }

std::string opt_delta(const std::optional<SysTime>& a, const std::optional<SysTime>& b) {
  if (!a || !b) {
    return "n/a";
  }
  return fixed(seconds_between(*a, *b), 3);
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  std::string command;
  for (int i = 0; i < argc; ++i) {
    command += (i == 0 ? std::string() : " ") + argv[i];
  }
  if (!fs::exists(opt.agent)) {
    die("no agent binary at " + opt.agent + " (build it, or pass --agent PATH)");
  }
  const std::string load_start = loadavg_text();
  const std::string started_at = utc_text(std::chrono::system_clock::now(), "%Y-%m-%d %H:%M:%S UTC");

  // Work dir (world-searchable: PostgreSQL may run as nobody, but it has its own temp dir).
  std::string tmpl = "/tmp/agent-measure-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    die("mkdtemp failed");
  }
  const fs::path dir = tmpl;
  const fs::path state_dir = dir / "state";
  fs::create_directories(state_dir);

  // PostgreSQL with the customers table of the data-integrity trigger.
  progress("starting PostgreSQL");
  PostgresServer pg;
  if (auto s = pg.start(); !s.ok()) {
    die("PostgreSQL: " + s.error());
  }
  if (auto s = pg.execute("CREATE TABLE customers (id serial PRIMARY KEY); "
                          "INSERT INTO customers SELECT FROM generate_series(1, 125000);");
      !s.ok()) {
    die("creating customers: " + s.error());
  }

  // The portal where the plan expects it (127.0.0.1:8080), else on a free port with a copy of
  // the plan pointing there.
  std::unique_ptr<PortalApp> portal;
  std::string plan_path = opt.plan;
  std::string portal_note;
  try {
    portal = std::make_unique<PortalApp>(8080);
    portal_note = "the portal stand-in on 127.0.0.1:8080, as the plan expects";
  } catch (const std::exception& e) {
    portal = std::make_unique<PortalApp>(0);
    std::string text = read_text(opt.plan);
    const std::string from = "http://127.0.0.1:8080/";
    const std::string to = portal->base_url() + "/";
    for (std::size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size())) {
      text.replace(at, from.size(), to);
    }
    plan_path = (dir / "customer-portal-2.0.yaml").string();
    std::ofstream(plan_path) << text;
    portal_note = "127.0.0.1:8080 was taken (" + std::string(e.what()) +
                  "): the portal stand-in on " + portal->base_url() +
                  ", with a copy of the reference plan whose three portal URLs point there "
                  "(nothing else changed)";
  }
  WebhookReceiver chat;

  progress("starting the agent: " + opt.agent);
  AgentProcess agent(opt.agent,
                     {"run", "--plan", plan_path, "--start-now", "--state-dir", state_dir.string(),
                      "--listen", "127.0.0.1:0"},
                     {{"PORTAL_DB_DSN", pg.dsn()},
                      {"ONCALL_CHAT_WEBHOOK", chat.url("/hook")},
                      {"BACKOUT_AGENT_TOKEN", kToken}});
  const int pid = agent.pid();
  const std::uint16_t port = agent.wait_for_port(20s);
  auto dump_log = [&] {
    for (const auto& l : agent.log()) {
      std::cerr << "  | " << l << "\n";
    }
  };
  if (port == 0) {
    dump_log();
    die("the agent did not report its port");
  }
  std::string down;
  if (!eventually([&] { return all_sources_up(get_json(port, "/api/v1/status"), &down); }, 90s)) {
    dump_log();
    die("sources not all up within 90 s (down: " + down + ")");
  }
  const std::string steady_rec = str_field(get_json(port, "/api/v1/status"), "recommendation");
  progress("agent pid " + std::to_string(pid) + " on port " + std::to_string(port) +
           ", all sources up, recommendation " + steady_rec);

  // ---- 1. Footprint --------------------------------------------------------------------------
  const long tck = ::sysconf(_SC_CLK_TCK);
  std::vector<ProcSample> samples;
  auto metric_value = [&](const std::string& name) -> std::optional<double> {
    HttpResult r = backout::testing::http_get(port, "/metrics");
    std::istringstream in(r.body);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(name + " ", 0) == 0) {
        return std::stod(line.substr(line.rfind(' ') + 1));
      }
    }
    return std::nullopt;
  };
  const std::optional<double> cpu_metric_0 = metric_value("process_cpu_seconds_total");
  const std::optional<double> eval_sum_0 = metric_value("backout_evaluation_duration_seconds_sum");
  const std::optional<double> eval_n_0 = metric_value("backout_evaluation_duration_seconds_count");
  progress("footprint: sampling /proc/" + std::to_string(pid) + " every " +
           std::to_string(opt.sample_every) + " s for " + std::to_string(opt.seconds) + " s");
  const auto threads_0 = thread_ticks(pid);
  const MachineCpu machine_0 = machine_cpu();
  const auto f0 = Steady::now();
  for (int k = 0;; ++k) {
    const auto due = f0 + std::chrono::seconds{k * opt.sample_every};
    if (due > f0 + std::chrono::seconds{opt.seconds}) {
      break;
    }
    std::this_thread::sleep_until(due);  // the sampling cadence
    ProcSample s = read_proc(pid);
    s.t = std::chrono::duration<double>(Steady::now() - f0).count();
    if (!s.ok) {
      dump_log();
      die("cannot read /proc/" + std::to_string(pid) + " (did the agent exit?)");
    }
    samples.push_back(s);
  }
  const auto threads_1 = thread_ticks(pid);
  const MachineCpu machine_1 = machine_cpu();
  const std::optional<double> cpu_metric_1 = metric_value("process_cpu_seconds_total");
  const std::optional<double> eval_sum_1 = metric_value("backout_evaluation_duration_seconds_sum");
  const std::optional<double> eval_n_1 = metric_value("backout_evaluation_duration_seconds_count");
  const std::optional<double> rss_metric = metric_value("process_resident_memory_bytes");
  const std::vector<std::pair<std::string, long>> mappings = rss_by_mapping(pid);
  const long pss_end_kb = pss_kb(pid);
  for (const auto& l : agent.log()) {  // what the agent said by then, for the operator
    if (l.find(" warning ") != std::string::npos || l.find(" error ") != std::string::npos) {
      progress("agent log: " + l);
    }
  }

  std::vector<double> rss_mib;
  for (const auto& s : samples) {
    rss_mib.push_back(static_cast<double>(s.rss_kb) / 1024.0);
  }
  const ProcSample& first = samples.front();
  const ProcSample& last = samples.back();
  const double wall = last.t - first.t;
  const double cpu_s = static_cast<double>(last.cpu_ticks - first.cpu_ticks) /
                       static_cast<double>(tck);
  const double cpu_share = cpu_s / wall;
  double worst_interval_pct = 0;
  for (std::size_t i = 1; i < samples.size(); ++i) {
    const double d = static_cast<double>(samples[i].cpu_ticks - samples[i - 1].cpu_ticks) /
                     static_cast<double>(tck) / (samples[i].t - samples[i - 1].t);
    worst_interval_pct = std::max(worst_interval_pct, 100 * d);
  }
  progress("footprint: RSS median " + fixed(median(rss_mib), 1) + " MiB, max " +
           fixed(max_of(rss_mib), 1) + " MiB, HWM " + mib(last.hwm_kb) + " MiB, CPU " +
           fixed(100 * cpu_share, 3) + "% of a core");

  // ---- 2. Detection to delivery ----------------------------------------------------------------
  std::mt19937 rng(opt.seed);
  std::uniform_real_distribution<double> pause_dist(0.0, 2.0);
  std::vector<Outage> outages;
  for (int n = 1; n <= opt.outages; ++n) {
    Outage o;
    o.n = n;
    const std::size_t posts_before = chat.posts().size();
    const std::size_t log_before = agent.log().size();
    o.start = std::chrono::system_clock::now();
    const auto s0 = Steady::now();
    pg.stop();  // fast shutdown: new connections are refused at once
    o.stop_took_s = std::chrono::duration<double>(Steady::now() - s0).count();
    const bool paged = chat.wait_for(
        [&](const std::vector<ReceivedPost>& ps) {
          for (std::size_t i = posts_before; i < ps.size(); ++i) {
            if (is_db_backout(ps[i])) {
              return true;
            }
          }
          return false;
        },
        30s);
    if (paged) {
      const auto ps = chat.posts();
      for (std::size_t i = posts_before; i < ps.size(); ++i) {
        if (is_db_backout(ps[i])) {
          o.received = ps[i].at;
          break;
        }
      }
    }
    if (auto s = pg.start(); !s.ok()) {
      dump_log();
      die("restarting PostgreSQL: " + s.error());
    }
    const auto back = Steady::now();
    // The "delivered" log line may trail the receiver by a moment.
    eventually(
        [&] {
          Outage tmp;
          read_outage_log(agent.log(), log_before, tmp);
          return tmp.delivered_log.has_value();
        },
        5s);
    read_outage_log(agent.log(), log_before, o);
    if (!paged) {
      o.problem = "no BACKOUT page about Database connectivity within 30 s";
    }
    // Back to normal: the resolve post, then the steady recommendation.
    const bool resolved = chat.wait_for(
        [&](const std::vector<ReceivedPost>& ps) {
          for (std::size_t i = posts_before; i < ps.size(); ++i) {
            if (is_db_resolve(ps[i])) {
              return true;
            }
          }
          return false;
        },
        240s);
    o.resolve_wait_s = std::chrono::duration<double>(Steady::now() - back).count();
    const bool rec_back = eventually(
        [&] { return str_field(get_json(port, "/api/v1/status"), "recommendation") == steady_rec; },
        60s);
    if (!resolved || !rec_back) {
      o.problem += std::string(o.problem.empty() ? "" : "; ") +
                   (!resolved ? "no resolve post within 240 s" : "") +
                   (!rec_back ? " recommendation not back to " + steady_rec : "");
    }
    o.ok = paged && o.failed_check && o.decided;
    if (paged && o.ok) {
      progress("outage " + std::to_string(n) + ": received after " +
               fixed(seconds_between(o.start, *o.received), 3) + " s (check " +
               opt_delta(o.start, o.failed_check) + ", decide " +
               opt_delta(o.failed_check, o.decided) + ", deliver " +
               opt_delta(o.decided, o.received) + "); resolved " +
               fixed(o.resolve_wait_s, 1) + " s after PostgreSQL was back");
    } else {
      progress("outage " + std::to_string(n) + ": " + o.problem);
    }
    if (n < opt.outages) {
      o.pause_s = pause_dist(rng);
      std::this_thread::sleep_for(std::chrono::duration<double>(o.pause_s));  // the phase offset
    }
    outages.push_back(std::move(o));
    if (!resolved || !rec_back) {
      progress("stopping the outage series: the agent did not return to normal");
      break;
    }
  }

  const ProcSample end_sample = read_proc(pid);
  const std::string load_end = loadavg_text();
  const int exit_code = agent.stop(10s);
  const std::vector<std::string> all_log = agent.log();

  // ---- 3. Markdown ------------------------------------------------------------------------------
  std::vector<double> total, detect, decide, deliver, agent_part;
  int met = 0;
  for (const Outage& o : outages) {
    if (!o.ok || !o.received) {
      continue;
    }
    total.push_back(seconds_between(o.start, *o.received));
    detect.push_back(seconds_between(o.start, *o.failed_check));
    decide.push_back(seconds_between(*o.failed_check, *o.decided));
    deliver.push_back(seconds_between(*o.decided, *o.received));
    agent_part.push_back(seconds_between(*o.failed_check, *o.received));
    if (total.back() < kLatencyTargetS) {
      ++met;
    }
  }

  std::ostringstream md;
  md << "## Agent measurements: detection to delivery, memory, CPU\n\n";
  md << "Command (from `" << fs::current_path().string() << "`):\n\n    " << command << "\n\n";
  md << "- When: " << started_at << "; machine: " << machine_text() << "\n";
  md << "- Load average (1/5/15 min): " << load_start << " at the start, " << load_end
     << " at the end (the 2 cores are shared with other work)\n";
  md << "- Agent: `" << opt.agent << "` (" << run_capture("'" + opt.agent + "' --version")
     << "), source tree " << run_capture("git -C '" + backout::testing::source_dir() +
                                         "' rev-parse --short HEAD 2>/dev/null")
     << (run_capture("git -C '" + backout::testing::source_dir() +
                     "' status --porcelain --untracked-files=no 2>/dev/null")
                 .empty()
             ? ""
             : " (with uncommitted changes)")
     << "\n";
  md << "- Plan: the reference plan `" << opt.plan << "`, run as `backout-agent run --plan PLAN "
     << "--start-now --state-dir DIR --listen 127.0.0.1:0` at the default tick (250 ms), with "
     << "PORTAL_DB_DSN, ONCALL_CHAT_WEBHOOK and BACKOUT_AGENT_TOKEN set\n";
  md << "- Stand-ins (tests/support): a real PostgreSQL (fresh cluster, `customers` with 125,000 "
        "rows); "
     << portal_note << ", serving normal traffic (50 logins/s with 1% failures, 20 "
     << "transactions/s, 200 requests/s with 0.2% 5xx); a Slack-shaped chat webhook receiver "
        "recording arrival times\n";
  md << "- Steady recommendation before the measurements: `" << steady_rec
     << "` (with `--start-now` there is no baseline, so the two relative triggers stay "
        "inconclusive)\n\n";

  md << "### Footprint (" << opt.seconds << " s, all 5 sources up, sampled every "
     << opt.sample_every << " s)\n\n";
  md << "| t (s) | VmRSS (MiB) | RssAnon | RssFile | VmHWM (MiB) | threads | CPU since t=0 (s) |\n";
  md << "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const ProcSample& s : samples) {
    md << "| " << fixed(s.t, 1) << " | " << mib(s.rss_kb) << " | " << mib(s.anon_kb) << " | "
       << mib(s.file_kb) << " | " << mib(s.hwm_kb) << " | " << s.threads << " | "
       << fixed(static_cast<double>(s.cpu_ticks - first.cpu_ticks) / static_cast<double>(tck), 2)
       << " |\n";
  }
  md << "\n";
  md << "| measure | value | target | verdict |\n| --- | ---: | ---: | --- |\n";
  const double rss_med = median(rss_mib);
  const double rss_max = max_of(rss_mib);
  const double hwm = static_cast<double>(last.hwm_kb) / 1024.0;
  auto verdict_le = [](double v, double target) {
    return v < target ? std::string("met") : "missed by " + fixed(v - target, 2);
  };
  md << "| resident memory, median of " << samples.size() << " samples | " << fixed(rss_med, 1)
     << " MiB | < " << kRssTargetMiB << " MiB | " << verdict_le(rss_med, kRssTargetMiB)
     << (rss_med < kRssTargetMiB ? "" : " MiB") << " |\n";
  md << "| resident memory, max | " << fixed(rss_max, 1) << " MiB | < " << kRssTargetMiB
     << " MiB | " << verdict_le(rss_max, kRssTargetMiB) << (rss_max < kRssTargetMiB ? "" : " MiB")
     << " |\n";
  md << "| peak resident (VmHWM) at the end of the footprint | " << fixed(hwm, 1) << " MiB | < "
     << kRssTargetMiB << " MiB | " << verdict_le(hwm, kRssTargetMiB)
     << (hwm < kRssTargetMiB ? "" : " MiB") << " |\n";
  md << "| CPU: Δ(utime+stime) / (" << tck << " ticks/s × " << fixed(wall, 1) << " s) | "
     << fixed(cpu_s, 2) << " s CPU = " << fixed(cpu_share, 5) << " = **"
     << fixed(100 * cpu_share, 3) << "% of one core** | < " << kCpuTargetPct << "% | "
     << (100 * cpu_share < kCpuTargetPct
             ? "met"
             : "missed by " + fixed(100 * cpu_share - kCpuTargetPct, 3) + " points")
     << " |\n";
  md << "| CPU split: user / system | " << fixed(static_cast<double>(last.utime - first.utime) / static_cast<double>(tck), 2)
     << " s / " << fixed(static_cast<double>(last.stime - first.stime) / static_cast<double>(tck), 2)
     << " s | | |\n";
  md << "| page faults minor / major; context switches of the main thread voluntary / involuntary | "
     << (last.minflt - first.minflt) << " / " << (last.majflt - first.majflt) << "; "
     << (last.vol_cs - first.vol_cs) << " / " << (last.invol_cs - first.invol_cs) << " | | |\n";
  if (machine_1.total > machine_0.total) {
    md << "| the whole machine meanwhile (all " << std::thread::hardware_concurrency()
       << " cores) | " << fixed(100.0 * static_cast<double>(machine_1.busy - machine_0.busy) /
                                    static_cast<double>(machine_1.total - machine_0.total), 0)
       << "% busy | | |\n";
  }
  md << "| CPU, busiest " << opt.sample_every << " s interval | "
     << fixed(worst_interval_pct, 3) << "% | | |\n\n";
  if (cpu_metric_0 && cpu_metric_1 && rss_metric) {
    md << "Cross-check with the agent's own `/metrics`: `process_cpu_seconds_total` advanced "
       << fixed(*cpu_metric_1 - *cpu_metric_0, 2) << " s over the same stretch; "
       << "`process_resident_memory_bytes` " << fixed(*rss_metric / 1048576.0, 1)
       << " MiB at its end.";
    if (eval_sum_0 && eval_sum_1 && eval_n_0 && eval_n_1 && *eval_n_1 > *eval_n_0) {
      const double ticks = *eval_n_1 - *eval_n_0;
      const double busy = *eval_sum_1 - *eval_sum_0;
      md << " `backout_evaluation_duration_seconds`: " << fixed(ticks, 0) << " ticks ("
         << fixed(ticks / wall, 2) << " per second), " << fixed(1000 * busy / ticks, 3)
         << " ms of evaluation per tick on average, " << fixed(busy, 3) << " s in all = "
         << fixed(100 * busy / wall, 3) << "% of a core (wall time of the evaluation, "
         << fixed(100 * busy / std::max(cpu_s, 1e-9), 0) << "% of the agent's CPU).";
    }
    md << "\n\n";
  }
  md << "CPU by thread over the footprint (ticks of " << fixed(1000.0 / static_cast<double>(tck), 0)
     << " ms):";
  for (const auto& [tid, v] : threads_1) {
    long long before = 0;
    if (auto it = threads_0.find(tid); it != threads_0.end()) {
      before = it->second.second;
    }
    md << " " << (tid == pid ? "main" : "tid " + std::to_string(tid)) << " `" << v.first
       << "` " << (v.second - before) << ";";
  }
  md << "\n\n";
  md << "Where the resident memory is (/proc/PID/smaps at the end of the footprint, largest "
        "first):\n\n| mapping | Rss (MiB) |\n| --- | ---: |\n";
  long shown = 0, total_kb = 0;
  for (const auto& [name, kb] : mappings) {
    total_kb += kb;
  }
  for (std::size_t i = 0; i < mappings.size() && i < 10; ++i) {
    md << "| `" << mappings[i].first << "` | " << mib(mappings[i].second) << " |\n";
    shown += mappings[i].second;
  }
  md << "| (everything else) | " << mib(total_kb - shown) << " |\n| **total** | **"
     << mib(total_kb) << "** |\n\n";
  {
    long binary = 0, libs = 0, heap = 0, anon = 0, other = 0;
    int nlibs = 0;
    for (const auto& [name, kb] : mappings) {
      if (name == opt.agent || fs::path(name).filename() == "backout-agent") {
        binary += kb;
      } else if (name.find(".so") != std::string::npos) {
        libs += kb;
        ++nlibs;
      } else if (name == "[heap]") {
        heap += kb;
      } else if (name == "[anonymous]") {
        anon += kb;
      } else {
        other += kb;
      }
    }
    md << "By kind: the agent binary " << mib(binary) << " MiB, " << nlibs
       << " shared libraries " << mib(libs) << " MiB, `[heap]` " << mib(heap)
       << " MiB, anonymous mappings (malloc arenas, thread stacks) " << mib(anon)
       << " MiB, other (stack, vdso, …) " << mib(other)
       << " MiB. Proportional set size (shared library pages split among the processes "
          "using them): "
       << mib(pss_end_kb) << " MiB.\n\n";
  }
  md << "After the outage series: VmRSS " << mib(end_sample.rss_kb) << " MiB, VmHWM "
     << mib(end_sample.hwm_kb) << " MiB, " << end_sample.threads << " threads.\n\n";

  md << "### Detection to delivery: database outages (db_connectivity)\n\n";
  md << "Each outage: the time is taken, PostgreSQL gets a fast shutdown (SIGINT to the "
        "postmaster: new connections are refused at once), the receiver's arrival time of the "
        "`BACKOUT recommended … Database connectivity` post ends it; then PostgreSQL is restarted, "
        "the resolve post and the recommendation going back to `"
     << steady_rec
     << "` are awaited, and a random pause of 0-2 s (seed " << opt.seed
     << ") puts the next outage at another phase of the 2 s probe cycle. One agent run: every "
        "outage is a new episode (`breach:db_connectivity#N`). The split uses the agent's log "
        "(millisecond timestamps, same clock): *check* = `source portal_db is down`, *decided* = "
        "`page breach:db_connectivity#N (breach)`.\n\n";
  md << "| # | outage start (UTC) | start → failed check (s) | check → page decided (s) | "
        "decided → received (s) | **total (s)** | agent part: check → received (s) | PG stop "
        "took (s) | resolved after PG back (s) |\n";
  md << "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const Outage& o : outages) {
    md << "| " << o.n << " | " << clock_text(o.start) << " | ";
    if (!o.ok || !o.received) {
      md << "| | | **failed: " << o.problem << "** | | | |\n";
      continue;
    }
    md << opt_delta(o.start, o.failed_check) << " | " << opt_delta(o.failed_check, o.decided)
       << " | " << opt_delta(o.decided, o.received) << " | **"
       << fixed(seconds_between(o.start, *o.received), 3) << "** | "
       << opt_delta(o.failed_check, o.received) << " | " << fixed(o.stop_took_s, 3) << " | "
       << fixed(o.resolve_wait_s, 1) << " |\n";
  }
  md << "\n| | start → check | check → decided | decided → received | **total** | check → "
        "received |\n| --- | ---: | ---: | ---: | ---: | ---: |\n";
  auto row = [&](const char* name, const std::function<double(const std::vector<double>&)>& f) {
    md << "| " << name << " | " << fixed(f(detect), 3) << " | " << fixed(f(decide), 3) << " | "
       << fixed(f(deliver), 3) << " | **" << fixed(f(total), 3) << "** | "
       << fixed(f(agent_part), 3) << " |\n";
  };
  row("min", min_of);
  row("median", median);
  row("mean", mean_of);
  row("p90 (nearest rank)", [](const std::vector<double>& v) { return percentile(v, 0.9); });
  row("max", max_of);
  md << "\n";
  if (!outages.empty() && !outages.front().down_error.empty()) {
    md << "The failed check's error (outage 1): `" << outages.front().down_error << "`. ";
  }
  if (!outages.empty() && !outages.front().delivered_line.empty()) {
    md << "The agent's delivery line (outage 1): `" << outages.front().delivered_line << "`.";
  }
  md << "\n\n";

  md << "### Verdict\n\n";
  if (!total.empty()) {
    const double tmax = max_of(total);
    const double tmed = median(total);
    const double tp90 = percentile(total, 0.9);
    md << "- **Detection to delivery < 2 s**: " << (tmax < kLatencyTargetS ? "met" : "missed")
       << ": under 2 s in " << met << " of " << total.size() << " outages; median " << fixed(tmed, 3)
       << " s, p90 " << fixed(tp90, 3) << " s, max " << fixed(tmax, 3) << " s"
       << (tmax < kLatencyTargetS ? ""
                                  : " (max over the target by " +
                                        fixed(tmax - kLatencyTargetS, 3) + " s)")
       << ". The outage → first failed check part (median " << fixed(median(detect), 3)
       << " s, max " << fixed(max_of(detect), 3)
       << " s): portal_db is checked every 2 s, but between checks the collector keeps its last "
          "connection open and watches it (`watch_connection`, on by default); PostgreSQL's fast "
          "shutdown closes it, and the collector checks again at once instead of at the next "
          "2 s mark, so no outage waits for the probe cycle (with `watch_connection: false` an "
          "outage just after a check would wait up to 2 s for the next one). The part the agent "
          "controls, failed check → received, is median "
       << fixed(median(agent_part), 3) << " s, max " << fixed(max_of(agent_part), 3) << " s ("
       << (max_of(agent_part) < kLatencyTargetS ? "under" : "over")
       << " 2 s): a source going down is evaluated at once, out of turn, not at the next "
          "250 ms tick (check → decided, median "
       << fixed(median(decide), 3) << " s), the critical page is flushed at once, then the "
          "outbox write and the HTTP post (decided → received, median "
       << fixed(median(deliver), 3) << " s).\n";
  } else {
    md << "- **Detection to delivery**: no outage produced a measurable page (see the table).\n";
  }
  md << "- **Resident memory < 20 MiB**: " << (rss_max < kRssTargetMiB ? "met" : "missed")
     << "; median " << fixed(rss_med, 1) << " MiB, max " << fixed(rss_max, 1) << " MiB, peak "
     << fixed(hwm, 1) << " MiB"
     << (rss_max < kRssTargetMiB
             ? ""
             : " (over by " + fixed(rss_max - kRssTargetMiB, 1) + " MiB = " +
                   fixed(100 * (rss_max / kRssTargetMiB - 1), 0) + "%)")
     << "; " << mib(last.anon_kb) << " MiB of it anonymous (heap, arenas, stacks) and "
     << mib(last.file_kb) << " MiB file-backed (the binary and shared libraries), "
     << last.threads << " threads.\n";
  md << "- **CPU < 1% of a core**: " << (100 * cpu_share < kCpuTargetPct ? "met" : "missed")
     << "; " << fixed(100 * cpu_share, 3) << "% of one core over " << fixed(wall, 1) << " s ("
     << fixed(cpu_s, 2) << " s of CPU)"
     << (100 * cpu_share < kCpuTargetPct
             ? ""
             : ", over by " + fixed(100 * cpu_share - kCpuTargetPct, 3) + " points")
     << ".\n";
  md << "\nThe agent stopped with exit code " << exit_code << " (SIGTERM).\n";

  const std::string text = md.str();
  std::cout << text;
  if (!opt.out.empty()) {
    std::ofstream(opt.out) << text;
    progress("written to " + opt.out);
  }
  if (opt.keep) {
    std::ofstream(dir / "agent.log") << [&] {
      std::string s;
      for (const auto& l : all_log) {
        s += l + "\n";
      }
      return s;
    }();
    progress("kept " + dir.string() + " (agent.log, state/)");
  } else {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  return 0;
}
