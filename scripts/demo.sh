#!/usr/bin/env bash
# The demo (README's first command): abandon cursors and watch the server kill them.
#
# Installs what is missing (scripts/setup.sh), builds into build/, starts a local FerretDB on a
# free loopback port with debug logging (unless MONGODB_URI names a server), then runs
#   1. hello_server: the handshake and what the server says about itself;
#   2. iterate_cursors: iterates a cursor to the end, abandons 3 cursors after one document each,
#      and prints how fast each was killed (confirmed by the driver's command events);
#   3. the lines of the server's own log where those killCursors commands arrived, so you can
#      match the ids.
# Extra arguments go to iterate_cursors (e.g. --abandon 10 --docs 5000). FerretDB is stopped
# when the script exits, whatever happens.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

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

state=$repo/build/demo-ferretdb
trap 'integration/ferretdb.sh stop "$state" >/dev/null' EXIT
section "starting FerretDB (debug log: $state/ferretdb.log)"
integration/ferretdb.sh start "$state"
uri=$(cat "$state/uri")

section "server"
build/examples/hello_server --uri "$uri"

section "iterate_cursors --uri $uri $*"
status=0
out=$(build/examples/iterate_cursors --uri "$uri" "$@") || status=$?
echo "$out"

section "FerretDB's log: the killCursors commands it received"
# Each request is logged as a header line with its time, then the document; print the time
# and the ids of every killCursors.
awk '/Request header/ { when = $1 }
     /"killCursors":/ { ns = $2; getline; print when "  killCursors " ns " " $0 }' \
  "$state/ferretdb.log" | sed 's/  *"cursors": / cursors: /'
exit $status
