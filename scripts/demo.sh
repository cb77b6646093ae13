#!/usr/bin/env bash
# The demo: installs what is missing (scripts/setup.sh), builds into build/, starts a local
# FerretDB on a free loopback port (unless MONGODB_URI names a server), and runs hello_server
# against it: the handshake and a ping, and what the server says about itself. FerretDB is
# stopped when the script exits, whatever happens.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

scripts/setup.sh >/dev/null
cmake -S . -B build -G Ninja >/dev/null
ninja -C build ${MONGOSLICE_JOBS:+-j"$MONGOSLICE_JOBS"} hello_server

if [[ -n ${MONGODB_URI:-} ]]; then
  echo "demo: using MONGODB_URI=$MONGODB_URI"
  build/examples/hello_server --uri "$MONGODB_URI"
else
  state=$repo/build/demo-ferretdb
  trap 'integration/ferretdb.sh stop "$state"' EXIT
  integration/ferretdb.sh start "$state"
  build/examples/hello_server --uri-file "$state/uri"
fi
