#!/usr/bin/env bash
# Configures and builds backout-agent in ./build (Release with debug info, warnings as errors).
# Usage: scripts/build.sh [extra cmake -D options]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBACKOUT_WERROR=ON "$@" >/dev/null
cmake --build "$build_dir" -j "$jobs"
