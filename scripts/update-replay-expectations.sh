#!/usr/bin/env bash
# Regenerates deploy/examples/replays/*.expected.jsonl from the current build. Review the diff:
# the expected timelines are the acceptance test of the rules (tests/agent/simulate_test.cc).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BACKOUT_AGENT:-build/agent/backout-agent}
for csv in deploy/examples/replays/*.csv; do
  "$bin" simulate --plan deploy/examples/customer-portal-2.0.yaml --replay "$csv" \
    > "${csv%.csv}.expected.jsonl"
  echo "updated ${csv%.csv}.expected.jsonl"
done
