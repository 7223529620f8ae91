#!/usr/bin/env bash
# Configures and builds backout-agent in ./build (Release with debug info, warnings as errors).
# Usage: scripts/build.sh [--demo] [extra cmake -D options]
#   --demo   build only what scripts/try.sh needs (the agent and the demo portal), not the
#            tests, tools and benchmarks: a few minutes instead of the whole tree.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}
targets=()
if [ "${1:-}" = "--demo" ]; then
  shift
  targets=(--target backout-agent demo-portal)
fi
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBACKOUT_WERROR=ON "$@" >/dev/null
cmake --build "$build_dir" -j "$jobs" "${targets[@]}"
