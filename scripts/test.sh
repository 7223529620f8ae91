#!/usr/bin/env bash
# Sets up (Debian packages), builds and runs the whole test suite:
#   1. the main build (g++, -Werror) and every test through ctest;
#   2. the pure libraries (core/, rules/) and their tests under ThreadSanitizer (clang);
#   3. the same under AddressSanitizer + UndefinedBehaviorSanitizer (clang).
# Usage: scripts/test.sh            (as root, or with sudo available for the set-up)
#        SKIP_SETUP=1 scripts/test.sh   to skip the package check
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-$(nproc)}

if [ -z "${SKIP_SETUP:-}" ]; then
  scripts/setup-debian.sh
fi

echo "== build (g++, -Werror)"
scripts/build.sh
echo "== tests"
status=0
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600 || status=1

for san in thread address,undefined; do
  dir="build-san-${san%%,*}"
  echo "== pure libraries under -fsanitize=$san (clang)"
  CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DBACKOUT_WERROR=ON -DBACKOUT_PURE_ONLY=ON -DBACKOUT_SANITIZE="$san" >/dev/null
  cmake --build "$dir" -j "$jobs"
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1" \
    ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600 || status=1
done
exit $status
