#include <pthread.h>
#include <signal.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <memory>
#include <mutex>
#include <ostream>
#include <sstream>
#include <thread>

#include "app/commands.h"
#include "app/kinds/kinds.h"
#include "app/runtime/agent_runtime.h"
#include "backout/core/clock.h"
#include "backout/core/text.h"
#include "plan/plan_loader.h"

namespace backout::agent {
namespace {

std::uint64_t monotonic_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000U +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1000U;
}

// Loads and validates the plan for `run`; prints diagnostics; nullopt when it may not run.
std::optional<rules::Plan> load_for_run(const std::string& path, bool allow_draft,
                                        std::ostream& err) {
  plan::LoadResult r = plan::load_plan_file(path, agent::builtin_kinds().catalog);
  for (const plan::Diagnostic& d : r.diagnostics) {
    err << d.format() << "\n";
  }
  if (!r.ok()) {
    err << path << ": the plan has " << r.errors() << (r.errors() == 1 ? " error" : " errors")
        << "; fix them and check with 'backout-agent check --plan " << path << "'\n";
    return std::nullopt;
  }
  if (!r.plan->header.approved && !allow_draft) {
    err << path << ": the plan's status is draft; approve it (plan.status: approved) or run a "
        << "rehearsal with --allow-draft\n";
    return std::nullopt;
  }
  return std::move(r.plan);
}

// %* in the log's pattern: the message (%v) with its control characters escaped.
class OneLineMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string_view text(msg.payload.data(), msg.payload.size());
    const bool plain = std::none_of(text.begin(), text.end(), [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return u < 0x20 || u == 0x7f;
    });
    if (plain) {
      dest.append(text.data(), text.data() + text.size());
    } else {
      const std::string clean = printable(text, /*escape_backslash=*/false);
      dest.append(clean.data(), clean.data() + clean.size());
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<OneLineMessage>();
  }
};

}  // namespace

int run_command(const Args& args, std::ostream& out, std::ostream& err) {
  (void)out;
  const std::string path = *args.value("plan");
  RuntimeOptions options;
  if (auto t = args.value("tick")) {
    std::string why;
    auto d = parse_duration(*t, &why);
    if (!d || *d < std::chrono::milliseconds{10} || *d > std::chrono::seconds{10}) {
      err << "backout-agent run: --tick '" << *t << "': "
          << (d ? std::string("between 10ms and 10s") : why) << "\n";
      return kExitBadInput;
    }
    options.tick = *d;
  }
  if (auto s = args.value("clock-settle")) {
    std::string why;
    auto d = parse_duration(*s, &why);
    if (!d || *d > std::chrono::minutes{10}) {
      err << "backout-agent run: --clock-settle '" << *s << "': "
          << (d ? std::string("at most 10m") : why) << "\n";
      return kExitBadInput;
    }
    options.clock.settle = *d;
  }
  if (auto l = args.value("listen")) {
    std::size_t colon = l->rfind(':');
    if (colon == std::string::npos || colon == 0 ||
        !parse_whole_number(std::string_view(*l).substr(colon + 1), 65535)) {
      err << "backout-agent run: --listen '" << *l
          << "' is not host:port (a port from 0 to 65535, e.g. 127.0.0.1:9750)\n";
      return kExitBadInput;
    }
    options.listen = *l;
  }
  if (auto level = args.value("log-level")) {
    auto lv = spdlog::level::from_str(*level);
    if (lv == spdlog::level::off && *level != "off") {
      err << "backout-agent run: --log-level must be trace, debug, info, warn, error or off\n";
      return kExitBadInput;
    }
    spdlog::set_level(lv);
  }
  // The log goes to stderr (journald under systemd), one line per event: every message, with
  // whatever outside text it quotes (a person's `by`, a source's error, a label value), has its
  // control characters escaped (%*), so nothing can forge or break a line (issue 14, item 13).
  spdlog::set_default_logger(spdlog::stderr_color_mt("backout-agent"));
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<OneLineMessage>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %*");
  spdlog::set_formatter(std::move(formatter));

  // Signals are taken by one thread with sigwait(), so that stopping is an ordinary call.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::optional<rules::Plan> plan = load_for_run(path, args.flag("allow-draft"), err);
  if (!plan) {
    return kExitBadInput;
  }
  options.start_now = args.flag("start-now");
  const std::optional<std::string> state_dir = args.value("state-dir");
  auto make_runtime = [&](rules::Plan p) {
    if (state_dir) {
      p.state_dir = *state_dir;
    }
    return std::make_unique<AgentRuntime>(std::move(p), options, net::real_time());
  };
  std::unique_ptr<AgentRuntime> runtime = make_runtime(std::move(*plan));
  if (Status s = runtime->prepare(); !s.ok()) {
    err << "backout-agent run: cannot start:\n" << s.error() << "\n";
    return kExitBadInput;
  }

  // The signal thread stops the runtime (SIGINT, SIGTERM) or builds the next one (SIGHUP) beside
  // it; this thread runs whichever is current and, when a reload has handed over, lets the next
  // take over (AgentRuntime::assemble / hand_over / take_over). `mu` orders the two.
  std::mutex mu;
  std::unique_ptr<AgentRuntime> next;  // assembled, waiting for the current one to hand over
  int stop_signal = 0;
  bool exiting = false;
  auto reload = [&] {
    // systemd's reload protocol: RELOADING=1 with the monotonic time, then READY=1 whatever
    // the outcome (a refused reload leaves the unit active on the running plan).
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading %s",
               static_cast<unsigned long long>(monotonic_usec()), path.c_str());
    spdlog::info("SIGHUP: reloading {}", path);
    std::ostringstream diag;
    std::optional<rules::Plan> p = load_for_run(path, args.flag("allow-draft"), diag);
    std::string refused;
    if (!p) {
      refused = "the new plan is not valid";
    } else {
      std::unique_ptr<AgentRuntime> candidate = make_runtime(std::move(*p));
      if (Status a = candidate->assemble(runtime.get()); !a.ok()) {
        refused = "the new plan cannot start";
        diag << a.error() << "\n";
      } else {
        next = std::move(candidate);
        runtime->hand_over();
        return;  // READY=1 once the next runtime runs
      }
    }
    spdlog::error("{}; keeping the running one:", refused);
    std::istringstream lines(diag.str());
    std::string first;
    for (std::string line; std::getline(lines, line);) {
      spdlog::error("  {}", line);
      first = first.empty() ? line : first;
    }
    runtime->reload_refused(refused + ": " + first);
    sd_notify(0, "READY=1\nSTATUS=watching; the last reload was refused (see the log)");
  };
  std::thread signal_thread([&] {
    for (;;) {
      int sig = 0;
      sigwait(&signals, &sig);
      std::lock_guard lock(mu);
      if (exiting) {
        return;
      }
      if (sig != SIGHUP) {
        stop_signal = sig;
        next.reset();
        runtime->stop();
        return;
      }
      if (next) {
        spdlog::warn("SIGHUP: a reload is already under way; send it again once it is done");
        continue;
      }
      reload();
    }
  });
  sd_notify(0, "READY=1\nSTATUS=watching");
  int code = kExitOk;
  for (;;) {
    runtime->run();
    std::lock_guard lock(mu);
    if (!next) {
      exiting = true;
      break;
    }
    if (Status s = next->take_over(*runtime); !s.ok()) {
      spdlog::critical("the reload could not complete, and the plan that ran before has "
                       "stopped: {}; exiting so that systemd restarts the agent",
                       s.error());
      exiting = true;
      code = kExitRuntime;
      break;
    }
    runtime = std::move(next);  // the previous runtime goes here, after handing over
    sd_notify(0, "READY=1\nSTATUS=watching");
  }
  sd_notify(0, "STOPPING=1");
  if (stop_signal == 0) {
    // run() returned without a signal, or the reload failed: the sigwait thread still waits.
    pthread_kill(signal_thread.native_handle(), SIGTERM);
  }
  signal_thread.join();
  spdlog::info("stopped{}", stop_signal == 0 ? "" : " on signal " + std::to_string(stop_signal));
  return code;
}

}  // namespace backout::agent
