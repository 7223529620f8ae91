// libFuzzer target for the trigger language alone (issue 14, item 9): measures and conditions.
// Any text must parse or fail without a crash, a sanitizer report or an exception; a measure
// that parses must print (Measure::text()) as text that parses to the same measure.
//   ./build-fuzz/fuzz/expression_parser_fuzz -max_total_time=60 fuzz/corpus/expression_parser
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "backout/rules/expression_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = backout::rules::parse_measure(text);
  if (const auto* measure = std::get_if<backout::rules::Measure>(&m)) {
    const std::string printed = measure->text();
    auto again = backout::rules::parse_measure(printed);
    const auto* back = std::get_if<backout::rules::Measure>(&again);
    if (back == nullptr || back->text() != printed) {
      std::fprintf(stderr, "measure text does not round-trip: %s\n", printed.c_str());
      std::abort();
    }
  } else if (std::get<backout::rules::ParseError>(m).pos > size) {
    std::fprintf(stderr, "error position past the end\n");
    std::abort();
  }
  auto c = backout::rules::parse_condition(text);
  if (const auto* e = std::get_if<backout::rules::ParseError>(&c); e != nullptr && e->pos > size) {
    std::fprintf(stderr, "condition error position past the end\n");
    std::abort();
  }
  return 0;
}
