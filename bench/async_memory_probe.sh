#!/usr/bin/env bash
# Runs bench_async_memory_probe (bench/async_memory_probe.cpp) against bench_replay_server and
# names each allocation site's frames (addr2line, inlined functions included), so that the live
# heap per async find_one in flight reads as "which function's coroutine frame, which buffer".
#
#   bench/async_memory_probe.sh [BUILD_DIR] [IN_FLIGHT] [TOTAL]   (default build-bench 1000 6000)
#
# Builds nothing: ninja -C BUILD_DIR bench_async_memory_probe bench_replay_server.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
build=${1:-build-bench}
n=${2:-1000}
total=${3:-6000}
bin=$build/bench
hard=$(ulimit -Hn)
if [[ $hard == unlimited ]] || ((hard > 65536)); then hard=65536; fi
ulimit -n "$hard"
work=$(mktemp -d /tmp/mongoslice-memory-probe.XXXXXX)
server_pid=
cleanup() {
  [[ -z $server_pid ]] || kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
"$bin/bench_replay_server" 0 1 >"$work/server.out" 2>&1 &
server_pid=$!
port=
for _ in $(seq 100); do
  port=$(awk '/^port/ { print $2 }' "$work/server.out")
  [[ -n $port ]] && break
  sleep 0.05
done
[[ -n $port ]] || { echo "the replay server did not start" >&2; exit 1; }
uri="mongodb://127.0.0.1:$port/?directConnection=true&maxPoolSize=$((n > 100 ? n : 100))"
"$bin/bench_async_memory_probe" "$uri" "$total" "$n" >"$work/probe.out"
# Each "frame MODULE OFFSET" line becomes the function (and, for inlined code, its callers up
# to the real frame), innermost first; allocator frames are dropped.
while IFS= read -r line; do
  if [[ $line =~ ^\ +frame\ ([^ ]+)\ (0x[0-9a-f]+)$ ]]; then
    module=${BASH_REMATCH[1]} offset=${BASH_REMATCH[2]}
    [[ -f $module ]] || { echo "    ? $offset"; continue; }
    addr2line -f -C -i -e "$module" "$offset" 2>/dev/null | paste - - |
      awk -F'\t' '{ sub(/^.*\//, "", $2); printf "    %s  [%s]\n", substr($1, 1, 160), $2 }' |
      grep -v -E 'aligned_new|thread_info_base::allocate|operator new|__libc|malloc' || true
  else
    echo "$line"
  fi
done <"$work/probe.out"
