// libFuzzer target for the postgres source's dsn (issue 14, item 9): libpq's own
// PQconninfoParse plus the agent's host list and resolution rules. Any text parses or fails
// without a crash, a sanitizer report or an exception, and an error never quotes the dsn (it
// may hold a password).
//   ./build-fuzz/fuzz/postgres_conninfo_fuzz -max_total_time=60 fuzz/corpus/postgres_conninfo
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "postgres/postgres_conninfo.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string dsn(reinterpret_cast<const char*>(data), size);
  auto info = backout::collectors::PostgresConnInfo::parse(dsn);
  if (info.ok()) {
    (void)info->needs_resolution();
    for (const std::string& h : info->hosts()) {
      (void)h.size();
    }
  } else if (dsn.size() >= 12 && info.error().find(dsn) != std::string::npos) {
    std::fprintf(stderr, "the error quotes the dsn\n");
    std::abort();
  }
  return 0;
}
