#include "app/cli.h"

#include <functional>
#include <iostream>

#include "app/commands.h"
#include "backout/core/text.h"
#include "version.h"

namespace backout::agent {
namespace {

struct OptionDoc {
  std::string name;   // without dashes
  std::string value;  // metavariable, empty for a flag
  std::string help;
  bool required = false;
};

struct CommandDoc {
  std::string name;
  std::string summary;
  std::vector<OptionDoc> options;
  std::string details;
  std::function<int(const Args&, std::ostream&, std::ostream&)> run;
  /// The one argument the command takes before its options (`done ITEM`); empty: none.
  std::string positional = {};
};

// The options every human act shares: where the agent is and the API token.
std::vector<OptionDoc> act_options(std::vector<OptionDoc> own) {
  own.push_back({"agent", "URL", "the agent's API (default http://127.0.0.1:9750)", false});
  own.push_back({"plan", "FILE", "take the agent's address (server.listen) and token from the plan",
                 false});
  own.push_back({"token-env", "VAR", "environment variable holding the API token (default "
                 "BACKOUT_AGENT_TOKEN)", false});
  own.push_back({"token-file", "FILE", "file holding the API token", false});
  return own;
}

const char* const kActExits =
    "Prints the agent's answer in one line. Exit codes: 0 the agent accepted it, 2 it refused\n"
    "(its reason is printed) or the options are wrong, 1 the agent cannot be reached.";

const std::vector<CommandDoc>& commands() {
  static const std::vector<CommandDoc> list = {
      {"run",
       "watch the release during its deployment window and page the deciders",
       {{"plan", "FILE", "the backout plan (YAML)", true},
        {"start-now", "", "shift the window to start now, keeping its length (rehearsals)", false},
        {"allow-draft", "", "run a plan whose status is draft (rehearsals)", false},
        {"tick", "DURATION", "evaluation cadence (default 250ms)", false},
        {"clock-settle", "DURATION",
         "how long a wall-clock step must hold before the watch takes it (default 30s)", false},
        {"listen", "HOST:PORT", "override server.listen (e.g. 127.0.0.1:0)", false},
        {"state-dir", "DIR", "override state_dir (rehearsals, tests)", false},
        {"log-level", "LEVEL", "trace, debug, info (default), warn, error or off", false}},
       "Runs until SIGINT or SIGTERM (exit 0). SIGHUP re-reads the plan: an invalid plan is\n"
       "logged and the running one kept. Exit codes: 0 clean stop, 2 bad plan or configuration\n"
       "(e.g. an unset environment variable), 1 runtime failure.",
       run_command},
      {"check",
       "validate a plan and print its summary",
       {{"plan", "FILE", "the backout plan (YAML)", true},
        {"now", "TIME", "judge the window as of TIME (RFC 3339; default: now)", false}},
       "Exit codes: 0 the plan is valid (warnings are printed but do not fail it), 2 it is not.\n"
       "Every problem is printed as FILE:LINE:COL: error: message. A window that has ended\n"
       "is a warning: `run` refuses such a plan unless --start-now rehearses it.",
       check_command},
      {"simulate",
       "replay recorded samples through the rules offline and print the decision timeline",
       {{"plan", "FILE", "the backout plan (YAML)", true},
        {"replay", "CSV", "samples: a header 'time,series,value' and one row per sample", true},
        {"tick", "DURATION", "evaluation cadence, as the live agent's (default 250ms)", false}},
       "The CSV's time is seconds from the window start (negative before it) or RFC 3339;\n"
       "series is source.metric{labels} (CSV-quoted when it holds a comma or a quote); counters\n"
       "are cumulative. Probe sources have SRC.up (1 or 0), SRC.duration (seconds) and, for\n"
       "postgres, SRC.value. Output: one JSON object per line for every change: kind trigger,\n"
       "recommendation or notify (see README). Exit codes: 0, 2 on a bad plan or replay.",
       simulate_command},
      {"report",
       "write the post-backout review (Markdown) from the state store's timeline",
       {{"state-dir", "DIR", "the agent's state_dir (holding state.db)", true},
        {"out", "FILE", "write the review to FILE instead of stdout", false},
        {"plan", "FILE", "the plan: names, roles, authority and rehearsed durations", false}},
       "Follows the backout plan template: plan header, the post-backout review's questions\n"
       "(answered from the timeline where it can, else left to the team), what triggered the\n"
       "backout, decisions made and by whom, planned vs actual durations, pages and their\n"
       "delivery, and the timeline of events. Safe to run while the agent runs.\n"
       "Exit codes: 0, 2 when DIR holds no state store or it cannot be read.",
       report_command},
      {"ack",
       "acknowledge open breaches (stops repeats and escalation)",
       act_options({{"by", "WHO", "who acknowledges, e.g. @jane.doe", true},
                    {"trigger", "ID", "the trigger (default: every open breach)", false}}),
       std::string("POST /api/v1/ack to the running agent.\n") + kActExits,
       ack_command},
      {"fix-forward",
       "declare that a major breach will be fixed forward by an ETA",
       act_options({{"trigger", "ID", "the breached trigger", true},
                    {"eta", "TIME", "RFC 3339 time or a duration from now (30m)", true},
                    {"by", "WHO", "who declares it", true}}),
       std::string("POST /api/v1/fix-forward. An ETA after the point of no return is recorded\n"
                   "but not honoured: the recommendation stays BACKOUT.\n") +
           kActExits,
       fix_forward_command},
      {"decide",
       "record a decision: backout, go, or extend the window",
       act_options({{"decision", "WHAT", "backout, go or extend", true},
                    {"by", "WHO", "who decides", true},
                    {"note", "TEXT", "why, for the timeline and the review", false},
                    {"until", "TIME", "with extend: the window's new end (RFC 3339 or 1h)",
                     false}}),
       std::string("POST /api/v1/decision. go accepts the breaches open now; backout stands for\n"
                   "the rest of the window.\n") +
           kActExits,
       decide_command},
      {"raise",
       "raise a manual trigger (e.g. a security breach no signal sees), or clear one",
       act_options({{"severity", "SEV", "critical, major or discretionary", false},
                    {"reason", "TEXT", "what was seen", false},
                    {"by", "WHO", "who raises or clears it", true},
                    {"clear", "ID", "clear the raise ID (manual_1, ...) instead", false}}),
       std::string("POST /api/v1/raise. Give --severity and --reason, or --clear ID.\n") +
           kActExits,
       raise_command},
      {"deployed",
       "declare go-live: the deployment is done and its planned downtime is over",
       act_options({{"by", "WHO", "who declares it", true}}),
       std::string("POST /api/v1/deployed. Accepted only while the night is deploying; the\n"
                   "triggers the deployment expected to breach start afresh from now.\n") +
           kActExits,
       deployed_command},
      {"done",
       "finish the current backout step (ITEM: its id, e.g. restore_db)",
       act_options({{"by", "WHO", "who did it", true},
                    {"note", "TEXT", "what was done, for the timeline and the review", false},
                    {"failed", "", "the step did not work (its owner and the decider are told)",
                     false}}),
       std::string("POST /api/v1/done. ITEM must be the current step; the next one starts and\n"
                   "its owner is paged. A refusal (not the current step, unknown item, wrong\n"
                   "phase) prints the reason.\n") +
           kActExits,
       done_command, "ITEM"},
  };
  return list;
}

void print_usage(std::ostream& out) {
  out << "backout-agent " << BACKOUT_AGENT_VERSION
      << ": watches a release during its deployment window and tells the\n"
         "right person whether to go on, fix forward or back out.\n\n"
         "Usage: backout-agent COMMAND [OPTIONS]\n\nCommands:\n";
  for (const auto& c : commands()) {
    out << "  " << c.name << std::string(c.name.size() < 12 ? 12 - c.name.size() : 1, ' ')
        << c.summary << "\n";
  }
  out << "\nOptions for every command: --help, --version.\n"
         "Run 'backout-agent COMMAND --help' for a command's options.\n";
}

void print_command_help(const CommandDoc& c, std::ostream& out) {
  out << "Usage: backout-agent " << c.name;
  if (!c.positional.empty()) {
    out << " " << c.positional;
  }
  for (const auto& o : c.options) {
    std::string part = "--" + o.name + (o.value.empty() ? "" : " " + o.value);
    out << " " << (o.required ? part : "[" + part + "]");
  }
  out << "\n\n" << c.summary << ".\n\nOptions:\n";
  for (const auto& o : c.options) {
    std::string left = "--" + o.name + (o.value.empty() ? "" : " " + o.value);
    out << "  " << left << std::string(left.size() < 22 ? 22 - left.size() : 1, ' ') << o.help
        << "\n";
  }
  out << "  --help                show this help\n  --version             print the version\n";
  if (!c.details.empty()) {
    out << "\n" << c.details << "\n";
  }
}

}  // namespace

std::optional<std::string> Args::value(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) {
    return std::nullopt;
  }
  return it->second;
}

int main_entry(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  if (argv.size() < 2) {
    print_usage(err);
    return kExitBadInput;
  }
  const std::string& first = argv[1];
  if (first == "--help" || first == "-h" || first == "help") {
    print_usage(out);
    return kExitOk;
  }
  if (first == "--version") {
    out << "backout-agent " << BACKOUT_AGENT_VERSION << "\n";
    return kExitOk;
  }
  const CommandDoc* cmd = nullptr;
  std::vector<std::string> names;
  for (const auto& c : commands()) {
    names.push_back(c.name);
    if (c.name == first) {
      cmd = &c;
    }
  }
  if (cmd == nullptr) {
    err << "backout-agent: unknown command '" << first << "'";
    if (auto near = closest_match(first, names)) {
      err << "; did you mean '" << *near << "'?";
    }
    err << "\nRun 'backout-agent --help' for the commands.\n";
    return kExitBadInput;
  }
  Args args;
  for (std::size_t i = 2; i < argv.size(); ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      print_command_help(*cmd, out);
      return kExitOk;
    }
    if (a == "--version") {
      out << "backout-agent " << BACKOUT_AGENT_VERSION << "\n";
      return kExitOk;
    }
    if (!a.starts_with("--")) {
      if (!cmd->positional.empty() && args.positional().empty()) {
        args.add_positional(a);
        continue;
      }
      err << "backout-agent " << cmd->name << ": unexpected argument '" << a
          << "'; options start with --\n";
      return kExitBadInput;
    }
    std::string name = a.substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const OptionDoc* opt = nullptr;
    std::vector<std::string> option_names;
    for (const auto& o : cmd->options) {
      option_names.push_back(o.name);
      if (o.name == name) {
        opt = &o;
      }
    }
    if (opt == nullptr) {
      err << "backout-agent " << cmd->name << ": unknown option '--" << name << "'";
      if (auto near = closest_match(name, option_names)) {
        err << "; did you mean '--" << *near << "'?";
      }
      err << "\n";
      return kExitBadInput;
    }
    if (opt->value.empty()) {
      if (inline_value) {
        err << "backout-agent " << cmd->name << ": --" << name << " takes no value\n";
        return kExitBadInput;
      }
      args.set_flag(name);
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argv.size()) {
        err << "backout-agent " << cmd->name << ": --" << name << " needs a value (" << opt->value
            << ")\n";
        return kExitBadInput;
      }
      inline_value = argv[++i];
    }
    args.set_value(name, *inline_value);
  }
  if (!cmd->positional.empty() && args.positional().empty()) {
    err << "backout-agent " << cmd->name << ": say which " << cmd->positional << ", e.g. "
        << "backout-agent " << cmd->name << " restore_db --by @you\n";
    return kExitBadInput;
  }
  for (const auto& o : cmd->options) {
    if (o.required && !args.value(o.name)) {
      err << "backout-agent " << cmd->name << ": missing --" << o.name << " " << o.value << " ("
          << o.help << ")\n";
      return kExitBadInput;
    }
  }
  return cmd->run(args, out, err);
}

int main_entry(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  return main_entry(args, std::cout, std::cerr);
}

}  // namespace backout::agent
