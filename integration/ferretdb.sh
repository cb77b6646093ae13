#!/usr/bin/env bash
# ferretdb.sh start|start-tls|start-auth|stop STATE_DIR [client-certificates]
# Starts (or stops) a FerretDB for the integration suite: SQLite backend, a free loopback port,
# debug logging to STATE_DIR/ferretdb.log (every command it receives, killCursors included).
# On start it writes the server's URI to STATE_DIR/uri. With MONGODB_URI set it starts nothing
# and writes that URI instead, so the same suite runs against a real mongod.
#
# start-tls: the same FerretDB listening in TLS only (--listen-tls), with certificates made by
# tests/support/make_test_certs.sh in STATE_DIR/certs (CA ca.pem; server certificate for
# localhost, 127.0.0.1 and ::1). The URI names the host "localhost", so the driver checks the
# certificate against a host name: mongodb://localhost:PORT/?tls=true&tlsCAFile=STATE/certs/ca.pem.
# With "client-certificates" the server also requires a client certificate issued by that CA
# (--listen-tls-ca-file), and the URI adds tlsCertificateKeyFile=STATE/certs/client.pem.
# MONGODB_URI does not replace the TLS servers.
#
# start-auth: the same FerretDB with authentication required (--test-enable-new-auth), its one
# user set up at start in the admin database: the user and password of STATE_DIR/user and
# STATE_DIR/password (written here; the password holds URI-reserved and non-ASCII characters).
# The URI written names no user; the tests add the credentials they try.
set -euo pipefail
cmd=${1:?start|stop}
state=${2:?state directory}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$state"

case $cmd in
start | start-tls | start-auth)
  "$0" stop "$state" || true
  if [[ $cmd == start && -n ${MONGODB_URI:-} ]]; then
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
  listen=(--listen-addr="127.0.0.1:$port")
  uri="mongodb://127.0.0.1:$port/"
  if [[ $cmd == start-auth ]]; then
    printf '%s' 'mongoslice-user' >"$state/user"
    printf '%s' 'p@ss:wörd/42%' >"$state/password"
    listen+=(--test-enable-new-auth --setup-username="$(cat "$state/user")"
             --setup-password="$(cat "$state/password")" --setup-database=admin)
  fi
  if [[ $cmd == start-tls ]]; then
    certs=$state/certs
    bash "$repo/tests/support/make_test_certs.sh" "$certs"
    listen=(--listen-addr= --listen-tls="127.0.0.1:$port" --listen-tls-cert-file="$certs/server.crt"
            --listen-tls-key-file="$certs/server.key")
    uri="mongodb://localhost:$port/?tls=true&tlsCAFile=$certs/ca.pem"
    case ${3:-} in
    "") ;;
    client-certificates)
      listen+=(--listen-tls-ca-file="$certs/ca.pem")
      uri+="&tlsCertificateKeyFile=$certs/client.pem"
      ;;
    *) echo "usage: $0 start-tls STATE_DIR [client-certificates]" >&2; exit 2 ;;
    esac
  fi
  "$ferretdb" --handler=sqlite --sqlite-url="file:$state/data/" --state-dir="$state" \
    "${listen[@]}" --log-level=debug --telemetry=disable --debug-addr=- \
    >"$state/ferretdb.log" 2>&1 &
  echo $! >"$state/pid"
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$uri" >"$state/uri"
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
*) echo "usage: $0 start|start-tls|stop STATE_DIR [client-certificates]" >&2; exit 2 ;;
esac
