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

}  // namespace backout::agent
