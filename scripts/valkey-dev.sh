#!/usr/bin/env bash
# Dedicated throwaway Valkey for local development, separate from any shared server on 6379.
#   scripts/valkey-dev.sh [port]   start (spare loopback port unless given), prints VALKEY_URL=...
#   scripts/valkey-dev.sh stop     stop it via the PID in its pidfile (never by name or port)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$PWD/data/valkey pidfile=$PWD/data/valkey/valkey.pid portfile=$PWD/data/valkey/port
running() {
  [ -f "$pidfile" ] || return 1
  local pid; pid=$(cat "$pidfile")
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a stale pidfile whose PID now belongs to something else.
  [ ! -r "/proc/$pid/comm" ] || grep -qE '^(valkey|redis)-server' "/proc/$pid/comm"
}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ "${1:-}" = stop ]; then
  if running; then
    pid=$(cat "$pidfile"); kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "valkey-dev: stopped pid $pid"
  else
    echo "valkey-dev: not running"
  fi
  rm -f "$pidfile" "$portfile"; exit 0
fi

# Idempotent: a second start just reports the running instance.
if running; then echo "VALKEY_URL=redis://127.0.0.1:$(cat "$portfile")"; exit 0; fi

bin=$(command -v valkey-server || command -v redis-server) \
  || { echo "valkey-dev: neither valkey-server nor redis-server on PATH (run scripts/services.sh)" >&2; exit 1; }
if [ -n "${1:-}" ]; then
  port=$1
  [[ $port =~ ^[0-9]+$ ]] || { echo "valkey-dev: usage: $0 [port|stop]" >&2; exit 2; }
  if listening "$port"; then echo "valkey-dev: port $port is already in use" >&2; exit 1; fi
else
  # Let the kernel pick a free port (node is always there in this project).
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
fi

mkdir -p "$dir"
# No persistence: it is a scratch instance. Daemonized; the server writes its own pidfile.
"$bin" --bind 127.0.0.1 --port "$port" --save "" --appendonly no --daemonize yes \
  --dir "$dir" --pidfile "$pidfile" --logfile "$dir/valkey.log"
echo "$port" > "$portfile"
for _ in $(seq 1 50); do
  if running && listening "$port"; then echo "VALKEY_URL=redis://127.0.0.1:$port"; exit 0; fi
  sleep 0.1
done
echo "valkey-dev: $bin did not come up on port $port; see $dir/valkey.log" >&2; exit 1
