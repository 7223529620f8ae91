// The commands of the command line. Each takes parsed arguments and the output streams and
// returns an exit code (see ExitCode in cli.h).
#pragma once

#include <iosfwd>

#include "app/cli.h"

namespace backout::agent {

/// `check --plan FILE`: validates the plan, prints every diagnostic and, if valid, the summary.
int check_command(const Args& args, std::ostream& out, std::ostream& err);

/// `simulate --plan FILE --replay CSV [--tick DURATION]`: replays recorded samples through the
/// rules offline and prints the decision timeline as JSON lines.
int simulate_command(const Args& args, std::ostream& out, std::ostream& err);

/// `run --plan FILE [--start-now] [--allow-draft] [--tick D] [--listen HOST:PORT]`: the watch.
int run_command(const Args& args, std::ostream& out, std::ostream& err);

/// `report --state-dir DIR [--out FILE] [--plan FILE]`: the post-backout review in Markdown.
int report_command(const Args& args, std::ostream& out, std::ostream& err);

/// The human acts, POSTed to the running agent's API (acts_command.cc): `ack`, `fix-forward`,
/// `decide`, `raise`. Exit 0 accepted, 2 refused (4xx) or bad options, 1 agent unreachable.
int ack_command(const Args& args, std::ostream& out, std::ostream& err);
int fix_forward_command(const Args& args, std::ostream& out, std::ostream& err);
int decide_command(const Args& args, std::ostream& out, std::ostream& err);
int raise_command(const Args& args, std::ostream& out, std::ostream& err);
int deployed_command(const Args& args, std::ostream& out, std::ostream& err);
int done_command(const Args& args, std::ostream& out, std::ostream& err);

}  // namespace backout::agent
