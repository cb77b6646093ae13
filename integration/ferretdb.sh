#!/usr/bin/env bash
# ferretdb.sh start|stop STATE_DIR
# Starts (or stops) a FerretDB for the integration suite: SQLite backend, a free loopback port,
# debug logging to STATE_DIR/ferretdb.log (every command it receives, killCursors included).
# On start it writes the server's URI to STATE_DIR/uri. With MONGODB_URI set it starts nothing
# and writes that URI instead, so the same suite runs against a real mongod.
set -euo pipefail
cmd=${1:?start|stop}
state=${2:?state directory}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$state"

case $cmd in
start)
  "$0" stop "$state" || true
  if [[ -n ${MONGODB_URI:-} ]]; then
    echo "$MONGODB_URI" >"$state/uri"
    echo "using MONGODB_URI=$MONGODB_URI"
    exit 0
  fi
  ferretdb=${MONGOSLICE_FERRETDB:-${XDG_CACHE_HOME:-$HOME/.cache}/mongoslice/bin/ferretdb}
  if [[ ! -x $ferretdb ]]; then
    echo "FerretDB is not installed at $ferretdb: run scripts/setup.sh (it builds FerretDB v1.24.2)" >&2
    exit 1
  fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  rm -rf "$state/data" && mkdir -p "$state/data"
  "$ferretdb" --handler=sqlite --sqlite-url="file:$state/data/" --state-dir="$state" \
    --listen-addr="127.0.0.1:$port" --log-level=debug --telemetry=disable --debug-addr=- \
    >"$state/ferretdb.log" 2>&1 &
  echo $! >"$state/pid"
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "mongodb://127.0.0.1:$port/" >"$state/uri"
      echo "FerretDB pid $(cat "$state/pid") on 127.0.0.1:$port, log $state/ferretdb.log"
      exit 0
    fi
    kill -0 "$(cat "$state/pid")" 2>/dev/null || break
    sleep 0.1
  done
  echo "FerretDB did not start; its log:" >&2
  tail -n 20 "$state/ferretdb.log" >&2
  exit 1
  ;;
stop)
  if [[ -f $state/pid ]]; then
    pid=$(cat "$state/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$state/pid"
  fi
  ;;
*) echo "usage: $0 start|stop STATE_DIR" >&2; exit 2 ;;
esac
