// Random damage to the reference plan never crashes or hangs the loader: each mutated plan either
// loads cleanly or gets at least one `FILE:LINE:COL: error: message` line. Seeded, so a failure
// names a seed that reproduces it. A few mutated files also go through the real binary, and the
// inputs the fuzzer (fuzz/plan_loader_fuzz.cc) found are kept as regression cases.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app/kinds/kinds.h"
#include "plan/plan_loader.h"
#include "support/paths.h"

extern char** environ;

namespace backout::plan {
namespace {

using Clock = std::chrono::steady_clock;

const std::string& reference_text() {
  static const std::string text =
      backout::testing::read_file(backout::testing::reference_plan_path());
  return text;
}

LoadResult load(std::string_view text) {
  return load_plan_text(text, "plan.yaml", agent::builtin_kinds().catalog);
}

std::size_t count_lines(std::string_view text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
}

// The contract for any input: a plan and no error, or no plan and at least one error; every
// diagnostic one line, `plan.yaml:LINE:COL: error|warning: message`, inside the text.
void expect_well_formed(const LoadResult& r, std::string_view text, const std::string& what) {
  static const std::regex kError("^plan\\.yaml:[0-9]+:[0-9]+: error: .+$");
  static const std::regex kWarning("^plan\\.yaml:[0-9]+:[0-9]+: warning: .+$");
  if (r.ok()) {
    EXPECT_EQ(r.errors(), 0u) << what;
  } else {
    EXPECT_GE(r.errors(), 1u) << what << "\n--- text ---\n" << text;
  }
  const std::size_t lines = count_lines(text);
  for (const Diagnostic& d : r.diagnostics) {
    const std::string line = d.format();
    EXPECT_TRUE(std::regex_match(line, d.is_error() ? kError : kWarning)) << what << ": " << line;
    EXPECT_GE(d.line, 1) << what << ": " << line;
    EXPECT_LE(static_cast<std::size_t>(d.line), lines + 1) << what << ": " << line;
    EXPECT_GE(d.column, 1) << what << ": " << line;
  }
}

// --- mutations ----------------------------------------------------------------------------------

// Tokens a careless edit or a YAML accident puts where a value was.
const std::vector<std::string>& tokens() {
  static const std::vector<std::string> t = {
      "",
      "0",
      "-1",
      "1.5",
      "1e309",
      "-0",
      "99999999999999999999999",
      "0x1F",
      ".5",
      "~",
      "null",
      "true",
      "no",
      "[]",
      "{}",
      "[a, [b, {c: d}]]",
      "{a: [1, 2, {b: [3]}]}",
      "[[[[[[]]]]]]",
      "\"",
      "'",
      "'it''s'",
      "\"a\\nb\"",
      "\"\\u0000\"",
      "*anchor",
      "&anchor value",
      "!!binary aGk=",
      "!custom x",
      "? complex",
      "- item",
      "|",
      ">",
      "> 5%",
      "< baseline",
      "\"> +50% baseline\"",
      "\"> 2x baseline\"",
      "\">= 250ms\"",
      "5m",
      "1h30m",
      "250ms",
      "0s",
      "1.5h",
      "10 minutes",
      "2026-06-07T02:00:00+01:00",
      "2026-02-30T00:00:00Z",
      "9999-12-31T23:59:59Z",
      "ratio(portal.a_total, portal.b_total)",
      "p99.9(api.duration)",
      "failures(portal_db)",
      "value(customers)",
      "rate(portal.x{code=~\"5[\"})",
      "availability(nope)",
      "p0(api.duration)",
      "critical",
      "major",
      "minor",
      "discretionary",
      "deployment_lead",
      "sponsor",
      "portal",
      "api",
      "http",
      "tcp",
      "push",
      "log",
      "promql",
      "postgres",
      "http://user:pw@host/",
      "https://x/",
      "127.0.0.1:0",
      "[::1]:9750",
      "$TOKEN",
      "ONCALL_CHAT_WEBHOOK",
      "#comment",
      "a: b",
      "a:b",
      "key: [unclosed",
      "{unclosed: map",
      "\t",
      "caf\xc3\xa9",
      "\xff\xfe",
      std::string(300, 'x'),
      std::string(70, '[') + std::string(70, ']'),
      "on",
      "off",
      "{ shift: 3 }",
      "{ shift: nan }",
  };
  return t;
}

const std::string kSpecial = "{}[]:,\"'#&*!|>-%@`\t\n ?\\";

class Mutator {
 public:
  explicit Mutator(std::uint64_t seed) : rng_(seed) {}

  std::size_t below(std::size_t n) { return n == 0 ? 0 : rng_() % n; }

  void byte_level(std::string& t) {
    if (t.empty()) {
      t = tokens()[below(tokens().size())];
      return;
    }
    switch (below(7)) {
      case 0:  // flip one bit
        t[below(t.size())] ^= static_cast<char>(1u << below(8));
        break;
      case 1:  // insert a random byte
        t.insert(t.begin() + static_cast<std::ptrdiff_t>(below(t.size() + 1)),
                 static_cast<char>(below(256)));
        break;
      case 2:  // insert a YAML-significant character
        t.insert(t.begin() + static_cast<std::ptrdiff_t>(below(t.size() + 1)),
                 kSpecial[below(kSpecial.size())]);
        break;
      case 3: {  // delete a run of bytes
        std::size_t at = below(t.size());
        t.erase(at, 1 + below(std::min<std::size_t>(64, t.size() - at)));
        break;
      }
      case 4:  // truncate
        t.resize(below(t.size()));
        break;
      case 5: {  // duplicate a chunk somewhere else
        std::size_t at = below(t.size());
        std::string chunk = t.substr(at, 1 + below(200));
        t.insert(below(t.size() + 1), chunk);
        break;
      }
      default:  // overwrite a byte with a control character or NUL
        t[below(t.size())] = static_cast<char>(below(32));
        break;
    }
  }

  void yaml_level(std::string& t) {
    std::vector<std::string> lines = split(t);
    if (lines.empty()) {
      lines.emplace_back();
    }
    std::size_t i = below(lines.size());
    switch (below(8)) {
      case 0:  // delete a line
        lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      case 1:  // duplicate a line (duplicate keys, repeated list items)
        lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(i), lines[i]);
        break;
      case 2:  // swap two lines
        std::swap(lines[i], lines[below(lines.size())]);
        break;
      case 3: {  // change the indentation
        std::size_t n = 1 + below(4);
        if (below(2) == 0) {
          lines[i].insert(0, std::string(n, ' '));
        } else {
          std::size_t spaces = lines[i].find_first_not_of(' ');
          lines[i].erase(0, std::min(n, spaces == std::string::npos ? lines[i].size() : spaces));
        }
        break;
      }
      case 4:  // move a line somewhere else
      {
        std::string l = lines[i];
        lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(i));
        lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(below(lines.size() + 1)), l);
        break;
      }
      default: {  // replace a scalar after `key:` (or a list item) with a random token
        std::size_t colon = lines[i].find(": ");
        std::size_t dash = lines[i].find("- ");
        const std::string& tok = tokens()[below(tokens().size())];
        if (colon != std::string::npos) {
          lines[i] = lines[i].substr(0, colon + 2) + tok;
        } else if (dash != std::string::npos) {
          lines[i] = lines[i].substr(0, dash + 2) + tok;
        } else {
          lines[i] += " " + tok;
        }
        break;
      }
    }
    t = join(lines);
  }

 private:
  static std::vector<std::string> split(const std::string& t) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= t.size()) {
      std::size_t end = t.find('\n', start);
      if (end == std::string::npos) {
        out.push_back(t.substr(start));
        break;
      }
      out.push_back(t.substr(start, end - start));
      start = end + 1;
    }
    return out;
  }
  static std::string join(const std::vector<std::string>& lines) {
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      out += lines[i];
      if (i + 1 < lines.size()) {
        out += '\n';
      }
    }
    return out;
  }

  std::mt19937_64 rng_;
};

// Loads `text` and checks the contract and a time bound; returns whether it loaded.
bool load_and_check(const std::string& text, const std::string& what) {
  auto begin = Clock::now();
  LoadResult r = load(text);
  auto took = Clock::now() - begin;
  EXPECT_LT(took, std::chrono::seconds{2}) << what << " took too long";
  expect_well_formed(r, text, what);
  return r.ok();
}

TEST(PlanMutation, ByteLevelDamageIsReportedNotFatal) {
  constexpr int kRounds = 2500;
  int accepted = 0;
  for (int seed = 0; seed < kRounds; ++seed) {
    Mutator m(static_cast<std::uint64_t>(seed));
    std::string t = reference_text();
    for (std::size_t n = 1 + m.below(3); n > 0; --n) {
      m.byte_level(t);
    }
    accepted += load_and_check(t, "byte seed " + std::to_string(seed)) ? 1 : 0;
    if (::testing::Test::HasFailure()) {
      break;  // one reproducible seed is enough
    }
  }
  // Many single-byte changes land in comments or names and keep the plan valid; most do not.
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, kRounds);
}

TEST(PlanMutation, YamlLevelEditsAreReportedNotFatal) {
  constexpr int kRounds = 2500;
  int accepted = 0;
  for (int seed = 0; seed < kRounds; ++seed) {
    Mutator m(0x5eed0000u + static_cast<std::uint64_t>(seed));
    std::string t = reference_text();
    for (std::size_t n = 1 + m.below(3); n > 0; --n) {
      m.yaml_level(t);
    }
    accepted += load_and_check(t, "yaml seed " + std::to_string(seed)) ? 1 : 0;
    if (::testing::Test::HasFailure()) {
      break;
    }
  }
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, kRounds);
}

TEST(PlanMutation, MixedDamageIsReportedNotFatal) {
  constexpr int kRounds = 1000;
  for (int seed = 0; seed < kRounds; ++seed) {
    Mutator m(0xb1e2d000u + static_cast<std::uint64_t>(seed));
    std::string t = reference_text();
    for (std::size_t n = 2 + m.below(6); n > 0; --n) {
      if (m.below(2) == 0) {
        m.byte_level(t);
      } else {
        m.yaml_level(t);
      }
    }
    load_and_check(t, "mixed seed " + std::to_string(seed));
    if (::testing::Test::HasFailure()) {
      break;
    }
  }
}

TEST(PlanMutation, EveryPrefixOfThePlan) {
  // A plan cut short at any line (an editor crash, a partial copy).
  const std::string& ref = reference_text();
  for (std::size_t at = 0; at <= ref.size(); at = ref.find('\n', at + 1)) {
    load_and_check(ref.substr(0, at), "prefix of " + std::to_string(at) + " bytes");
    if (at == std::string::npos || ::testing::Test::HasFailure()) {
      break;
    }
  }
}

// --- hostile shapes -------------------------------------------------------------------------

TEST(PlanMutation, DeepNestingIsRefusedWithAMessage) {
  const std::vector<std::string> deep = {
      "a: " + std::string(100'000, '['),
      "a: " + std::string(100'000, '{'),
      "a: [x\", " + std::string(5000, '['),  // a quote inside a plain scalar hides nothing
      "a: [x#" + std::string(5000, '['),     // nor does a '#' that is not a comment
      "a: {b: " + std::string(5000, '[') + "'",
      std::string(3000, '-') + " x",
      [] {
        std::string s;
        for (int i = 0; i < 3000; ++i) {
          s += std::string(static_cast<std::size_t>(i), ' ') + "k:\n";
        }
        return s;
      }(),
      [] {
        std::string s;
        for (int i = 0; i < 3000; ++i) {
          s += std::string(static_cast<std::size_t>(i), ' ') + "- \n";
        }
        return s;
      }(),
  };
  for (std::size_t i = 0; i < deep.size(); ++i) {
    LoadResult r = load(deep[i]);
    EXPECT_FALSE(r.ok()) << i;
    expect_well_formed(r, deep[i], "deep input " + std::to_string(i));
  }
}

TEST(PlanMutation, ControlCharactersStayOnOneLine) {
  std::string t = reference_text();
  t.replace(t.find("status: approved"), 16, "status: \"appro\\nved\\u0007\"");
  LoadResult r = load(t);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].format(),
            "plan.yaml:11:11: error: plan.status: 'appro\\nved\\x07' is not a status; use draft "
            "or approved");
}

TEST(PlanMutation, HugeValuesAreCutInMessages) {
  std::string t = reference_text();
  t.replace(t.find("status: approved"), 16, "status: " + std::string(1'000'000, 'z'));
  LoadResult r = load(t);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  const std::string line = r.diagnostics[0].format();
  EXPECT_LT(line.size(), 2100u);
  EXPECT_TRUE(line.ends_with(" more bytes)")) << line.substr(line.size() - 80);
}

TEST(PlanMutation, ManySourcesAndTriggersLoadInBoundedTime) {
  // Thousands of sources and triggers, every trigger naming an unknown source: the did-you-mean
  // search and the source lookups must stay far from quadratic.
  std::string sources;
  std::string triggers;
  for (int i = 0; i < 3000; ++i) {
    std::string n = std::to_string(i);
    sources +=
        "  s" + n + ": { kind: tcp, address: \"127.0.0.1:" + std::to_string(1 + i) + "\" }\n";
    triggers += "  - { id: t" + n + ", measure: failures(s" + n +
                "x), when: \"> 0\", severity: critical }\n";
  }
  std::string t = reference_text();
  t.insert(t.find("sources:\n") + 9, sources);
  t.insert(t.find("triggers:\n") + 10, triggers);
  auto begin = Clock::now();
  LoadResult r = load(t);
  EXPECT_LT(Clock::now() - begin, std::chrono::seconds{10});
  EXPECT_EQ(r.errors(), 3000u);
  ASSERT_FALSE(r.diagnostics.empty());
  EXPECT_LT(r.diagnostics.back().format().size(), 400u);  // lists of names are cut short
  expect_well_formed(r, t, "many sources");
}

// --- regressions found by fuzz/plan_loader_fuzz.cc --------------------------------------------

struct Regression {
  const char* name;
  std::string text;
};

std::vector<Regression> regressions() {
  return {
      // Any plan: the loader kept a reference to the key of yaml-cpp's iterator, a temporary
      // (ASan stack-use-after-scope in Loader::entries_any on the first map).
      {"iterator_temporary", reference_text()},
  };
}

TEST(PlanMutation, FuzzerRegressions) {
  for (const Regression& r : regressions()) {
    load_and_check(r.text, r.name);
  }
}

// --- the real binary ------------------------------------------------------------------------

#ifdef BACKOUT_AGENT_BIN

struct ChildRun {
  int exit_code = -1;  // -1: did not finish in time
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `backout-agent check --plan FILE`, killing it after `limit`.
ChildRun run_check(const std::string& plan, std::chrono::milliseconds limit) {
  const std::string out_path = plan + ".out";
  const std::string err_path = plan + ".err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  std::string bin = BACKOUT_AGENT_BIN;
  std::vector<std::string> args = {bin, "check", "--plan", plan};
  std::vector<char*> argv;
  for (std::string& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  pid_t pid = 0;
  ChildRun run;
  int rc = posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << bin;
    return run;
  }
  auto deadline = Clock::now() + limit;
  int status = 0;
  while (true) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (Clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  run.out = slurp(out_path);
  run.err = slurp(err_path);
  std::remove(out_path.c_str());
  std::remove(err_path.c_str());
  return run;
}

TEST(PlanMutation, RealBinaryAnswersEveryMutatedPlan) {
  const std::string dir = ::testing::TempDir();
  int valid = 0;
  int invalid = 0;
  for (int seed = 0; seed < 20; ++seed) {
    Mutator m(0xb1a0000u + static_cast<std::uint64_t>(seed));
    std::string t = reference_text();
    for (std::size_t n = 1 + m.below(2); n > 0; --n) {
      if (seed % 2 == 0) {
        m.byte_level(t);
      } else {
        m.yaml_level(t);
      }
    }
    const std::string path = dir + "plan_mutation_" + std::to_string(seed) + ".yaml";
    {
      std::ofstream f(path, std::ios::binary | std::ios::trunc);
      f << t;
    }
    ChildRun run = run_check(path, std::chrono::seconds{10});
    ASSERT_NE(run.exit_code, -1) << "seed " << seed << ": check did not finish in 10s";
    ASSERT_TRUE(run.exit_code == 0 || run.exit_code == 2)
        << "seed " << seed << ": exit " << run.exit_code << "\n"
        << run.err;
    if (run.exit_code == 0) {
      ++valid;
      EXPECT_NE(run.out.find("Plan " + path + " is valid."), std::string::npos) << run.out;
    } else {
      ++invalid;
      // Every line but the last is a diagnostic; the last one counts them.
      const std::regex diag(
          "^" + std::regex_replace(path, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
          ":[0-9]+:[0-9]+: (error|warning): .+$");
      std::istringstream lines(run.err);
      std::vector<std::string> all;
      for (std::string l; std::getline(lines, l);) {
        all.push_back(l);
      }
      ASSERT_GE(all.size(), 2u) << run.err;
      for (std::size_t i = 0; i + 1 < all.size(); ++i) {
        EXPECT_TRUE(std::regex_match(all[i], diag)) << "seed " << seed << ": " << all[i];
      }
      EXPECT_TRUE(all.back().starts_with(path + ": ")) << all.back();
      EXPECT_TRUE(all.back().ends_with("; the plan was not accepted")) << all.back();
      EXPECT_EQ(run.out, "");
    }
    std::remove(path.c_str());
  }
  EXPECT_GT(invalid, 0);
  (void)valid;
}

#endif  // BACKOUT_AGENT_BIN

}  // namespace
}  // namespace backout::plan
