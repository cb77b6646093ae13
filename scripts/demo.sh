#!/usr/bin/env bash
# The demo (README's first command): abandon cursors and watch the server kill them.
#
#   scripts/demo.sh [--server ferretdb|java] [iterate_cursors options...]
#
# Installs what is missing (scripts/setup.sh), builds into build/, starts a local server on a free
# loopback port with its request log on (unless MONGODB_URI names a server): FerretDB (the
# default) or, with --server java, mongo-java-server. Then it runs
#   1. hello_server: the handshake and what the server says about itself;
#   2. iterate_cursors: iterates a cursor to the end, abandons 3 cursors after one document each,
#      and prints how fast each was killed (confirmed by the driver's command events);
#   3. the lines of the server's own log where those killCursors commands arrived, so you can
#      match the ids.
# Other arguments go to iterate_cursors (e.g. --abandon 10 --docs 5000). The server is stopped
# when the script exits, whatever happens.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

server=ferretdb
args=()
while (($#)); do
  case $1 in
  --server)
    server=${2:-}
    shift 2 || { echo "demo: --server needs ferretdb or java" >&2; exit 2; }
    ;;
  --server=*) server=${1#--server=}; shift ;;
  *) args+=("$1"); shift ;;
  esac
done
case $server in
ferretdb | java) ;;
*) echo "demo: unknown server '$server' (ferretdb or java)" >&2; exit 2 ;;
esac
set -- ${args[@]+"${args[@]}"}

scripts/setup.sh >/dev/null
cmake -S . -B build -G Ninja >/dev/null
ninja -C build ${MONGOSLICE_JOBS:+-j"$MONGOSLICE_JOBS"} hello_server iterate_cursors >/dev/null

section() { printf '\n== %s\n' "$*"; }

if [[ -n ${MONGODB_URI:-} ]]; then
  uri=$MONGODB_URI
  section "server: $uri (from MONGODB_URI)"
  build/examples/hello_server --uri "$uri"
  section "iterate_cursors"
  build/examples/iterate_cursors --uri "$uri" "$@"
  cat <<MSG

The server's log shows each killCursors with the ids above. With the repository's
docker-compose.yml:  docker compose logs mongod | grep -i killCursors
MSG
  exit 0
fi

if [[ $server == java ]]; then
  name=mongo-java-server
  state=$repo/build/demo-javaserver
  control=integration/javaserver.sh
  log=$state/javaserver.log
else
  name=FerretDB
  state=$repo/build/demo-ferretdb
  control=integration/ferretdb.sh
  log=$state/ferretdb.log
fi
trap '"$control" stop "$state" >/dev/null' EXIT
section "starting $name (request log: $log)"
"$control" start "$state"
uri=$(cat "$state/uri")

section "server"
build/examples/hello_server --uri "$uri"

section "iterate_cursors --uri $uri $*"
status=0
out=$(build/examples/iterate_cursors --uri "$uri" "$@") || status=$?
echo "$out"

section "$name's log: the killCursors commands it received"
if [[ $server == java ]]; then
  # One line per request: "<time> DEBUG ...MongoWireProtocolHandler - MongoMessage(...,
  # document: {"killCursors" : "cursors", "cursors" : [ 3, 4 ], "$db" : ...})".
  sed -n 's/^\([^ ]*\) .*document: {"killCursors" : \("[^"]*"\), "cursors" : \(\[[^]]*\]\).*/\1  killCursors \2, cursors: \3/p' \
    "$log"
else
  # Each request is logged as a header line with its time, then the document; print the time
  # and the ids of every killCursors.
  awk '/Request header/ { when = $1 }
       /"killCursors":/ { ns = $2; getline; print when "  killCursors " ns " " $0 }' \
    "$log" | sed 's/  *"cursors": / cursors: /'
fi
exit $status
