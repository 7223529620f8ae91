#!/usr/bin/env bash
# Runs backout-agent on the reference plan against local stand-ins, for a first look:
#   - a local PostgreSQL (a throwaway cluster with a `customers` table) for portal_db/customers;
#   - demo-portal: the Customer Portal's metrics, home page and API on 127.0.0.1:8080, and the
#     chat webhook the plan posts to;
#   - backout-agent run --start-now (the window starts now) on a copy of the plan that also
#     writes every message to $dir/messages.txt (notify.console), shown here as it comes: the
#     words a person reads in chat, not the webhook's JSON. Its log is in $dir/agent.log.
# Type commands to inject faults (login 0.2, home-latency 12000, errors 0.3, ok, quit), watch the
# chat messages appear, and open http://127.0.0.1:9750/api/v1/status. Ctrl-D or `quit` stops all.
# Usage: scripts/try.sh   (after scripts/setup-debian.sh && scripts/build.sh --demo)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
agent="$root/build/agent/backout-agent"
portal="$root/build/tests/demo-portal"
[ -x "$agent" ] && [ -x "$portal" ] || { echo "build first: scripts/build.sh --demo"; exit 2; }

dir=$(mktemp -d /tmp/backout-try.XXXXXX)
chmod 755 "$dir"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${pgbin:-}" ] && [ -d "$dir/pg" ] && run_pg "$pgbin/pg_ctl" -D "$dir/pg" -m fast stop >/dev/null 2>&1 || true
  echo "logs and state kept in $dir"
}
trap cleanup EXIT

# A port nothing listens on (a connect to it is refused).
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo 54329
}
# PostgreSQL refuses to run as root: run it as nobody then.
run_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pgport=$(free_port)
mkdir -p "$dir/pg"
[ "$(id -u)" -eq 0 ] && chown nobody "$dir/pg"
run_pg "$pgbin/initdb" -D "$dir/pg" -U postgres -A trust >"$dir/initdb.log" 2>&1
run_pg "$pgbin/pg_ctl" -D "$dir/pg" -l "$dir/pg/postgres.log" -w \
  -o "-p $pgport -k $dir/pg -c listen_addresses=127.0.0.1" start >/dev/null
"$pgbin/psql" -h 127.0.0.1 -p "$pgport" -U postgres -q -c \
  "CREATE TABLE customers (id serial PRIMARY KEY); INSERT INTO customers SELECT FROM generate_series(1, 125000);"

chat_port=$(free_port)
export PORTAL_DB_DSN="host=127.0.0.1 port=$pgport dbname=postgres user=postgres"
export ONCALL_CHAT_WEBHOOK="http://127.0.0.1:$chat_port/hook"
export BACKOUT_AGENT_TOKEN="try-$(date +%s)"

# The reference plan with a console channel beside the chat.
plan="$dir/customer-portal-2.0.yaml"
sed "s|^notify:\$|notify:\n  console: { path: \"$dir/messages.txt\" }|" \
  deploy/examples/customer-portal-2.0.yaml >"$plan"
: >"$dir/messages.txt"
"$agent" check --plan "$plan" | head -n 8
"$agent" run --plan "$plan" --start-now --state-dir "$dir/state" >"$dir/agent.log" 2>&1 &
pids+=($!)
tail -n +1 -F "$dir/messages.txt" 2>/dev/null &
pids+=($!)
echo "backout-agent running (log: $dir/agent.log); status: http://127.0.0.1:9750/api/v1/status"
echo "API token for POSTs: $BACKOUT_AGENT_TOKEN"
"$portal" --portal-port 8080 --chat-port "$chat_port" --print-chat 0
