#!/usr/bin/env bash
# Installs every Debian 12 package backout-agent needs to build, test and benchmark, including
# the real servers the integration tests start (PostgreSQL, Prometheus, Alertmanager).
# Idempotent; run as root (or through sudo). Usage: scripts/setup-debian.sh
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ca-certificates
  clang libclang-rt-14-dev            # ASan/UBSan/TSan builds and libFuzzer
  # libraries (DESIGN.md section 7)
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libyaml-cpp-dev libspdlog-dev libfmt-dev
  libssl-dev zlib1g-dev libpq-dev libsqlite3-dev libsystemd-dev
  prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # real peers started by the tests
  postgresql prometheus prometheus-alertmanager
  openssl procps iproute2
  faketime                            # clock-step tests (issue 14, defect 4)
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
# The unversioned Boost 1.74 -dev packages conflict with 1.81; remove them if a base image has them.
old_boost=$(dpkg-query -W -f='${Package} ${Status}\n' 'libboost*1.74-dev' 'libboost-dev' 2>/dev/null |
  awk '/install ok installed/ {print $1}' || true)
if [ -n "$old_boost" ]; then
  "${sudo_cmd[@]}" apt-get remove -y -qq $old_boost
fi
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian starts the packaged servers on install; the tests start their own on port 0 / temp dirs.
for svc in postgresql prometheus prometheus-alertmanager prometheus-node-exporter; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    "${sudo_cmd[@]}" systemctl stop "$svc" || true
  fi
done
echo "setup: done"
