// Command-line parsing and dispatch. `main_entry` is main() without the process around it, so the
// commands can be tested in-process. Not thread-safe (called once).
#pragma once

#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace backout::agent {

/// Exit codes shared by all commands.
enum ExitCode : int {
  kExitOk = 0,
  kExitRuntime = 1,  // runtime failure
  kExitBadInput = 2  // bad plan, bad replay, bad command line
};

/// Options of one command: `--name value`, `--name=value`, or a flag `--name`.
class Args {
 public:
  bool flag(const std::string& name) const { return flags_.count(name) != 0; }
  std::optional<std::string> value(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

  void set_flag(const std::string& name) { flags_[name] = true; }
  void set_value(const std::string& name, std::string v) { values_[name] = std::move(v); }
  void add_positional(std::string v) { positional_.push_back(std::move(v)); }

 private:
  std::map<std::string, bool> flags_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

/// Runs the command line; returns the process exit code. Output goes to `out`, diagnostics and
/// errors to `err`.
int main_entry(int argc, char** argv);
int main_entry(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

}  // namespace backout::agent
