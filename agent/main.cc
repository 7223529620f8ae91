// backout-agent: watches a release during its deployment window and tells the right person
// whether to go on, fix forward or back out. See README.md.
#include "app/cli.h"

int main(int argc, char** argv) { return backout::agent::main_entry(argc, argv); }
