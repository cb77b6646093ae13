#!/usr/bin/env bash
# javaserver.sh start|stop STATE_DIR
# Starts (or stops) mongo-java-server 1.47.0 (in-memory backend) for the integration suite, the
# second real server next to FerretDB: a free loopback port picked by the kernel, its request
# log (MongoWireProtocolHandler at DEBUG: every request, killCursors included) in
# STATE_DIR/javaserver.log. On start it writes the server's URI to STATE_DIR/uri and the log's
# path to STATE_DIR/log. The launcher (integration/java-server/) is built by scripts/setup.sh.
set -euo pipefail
cmd=${1:?start|stop}
state=${2:?state directory}
mkdir -p "$state"
state=$(cd "$state" && pwd)

case $cmd in
start)
  "$0" stop "$state" || true
  rm -f "$state/uri" "$state/log"
  build=${MONGOSLICE_JAVA_SERVER:-${XDG_CACHE_HOME:-$HOME/.cache}/mongoslice/java-server/build}
  if [[ ! -f $build/mongoslice-java-server.jar ]] || ! command -v java >/dev/null; then
    echo "mongo-java-server is not built at $build (or java is missing): run scripts/setup.sh" \
      "(it builds integration/java-server/ with Maven)" >&2
    exit 1
  fi
  log=$state/javaserver.log
  : >"$log"
  # C1 only and the serial collector: a quicker start and less CPU taken from the tests on a
  # small machine; the suite's data fits easily in 1 GiB.
  java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx1g \
    -cp "$build/mongoslice-java-server.jar:$build/lib/*" mongoslice.javaserver.Launcher \
    --port 0 --log "$log" </dev/null >"$state/stdout" 2>&1 &
  echo $! >"$state/pid"
  # The launcher prints "listening on 127.0.0.1:PORT" once it accepts; up to 30 s for a slow JVM.
  for _ in $(seq 300); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$state/stdout")
    if [[ -n $port ]] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "mongodb://127.0.0.1:$port/" >"$state/uri"
      echo "$log" >"$state/log"
      echo "mongo-java-server pid $(cat "$state/pid") on 127.0.0.1:$port, log $log"
      exit 0
    fi
    kill -0 "$(cat "$state/pid")" 2>/dev/null || break
    sleep 0.1
  done
  echo "mongo-java-server did not start; its output and log:" >&2
  tail -n 20 "$state/stdout" "$log" >&2
  "$0" stop "$state" || true
  exit 1
  ;;
stop)
  if [[ -f $state/pid ]]; then
    pid=$(cat "$state/pid")
    kill "$pid" 2>/dev/null || true  # SIGTERM: the launcher's shutdown hook stops the server
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$state/pid"
  fi
  ;;
*) echo "usage: $0 start|stop STATE_DIR" >&2; exit 2 ;;
esac
