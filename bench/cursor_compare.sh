#!/usr/bin/env bash
# Cursors side by side: mongoslice (bench/client_cursors.cpp), libmongoc
# (bench/libmongoc_cursors.c) and PyMongo (bench/pymongo_cursors.py), against the same FerretDB
# and the same mock server (integration/mock/cursor_server.py, which timestamps killCursors).
#
#   bench/cursor_compare.sh [BUILD_DIR]      (default build-bench; about 1-2 minutes)
#
# Figures: (1) destroying a live cursor, median ns and allocations per destruction; (2) kill
# latency, destruction -> the server receiving killCursors, median ms; (3) client CPU time
# (user+sys) per document iterating 100,000 documents of ~200 bytes with batch_size 1000.
# FerretDB runs with --log-level=warn here: its debug log (the integration fixture's) slows
# inserts 70-fold. With MONGOSLICE_BENCH_JSON=FILE the figures are also written as JSON.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
build=${1:-build-bench}
py=${MONGOSLICE_PYTHON:-$repo/.venv/bin/python}
ferretdb=${MONGOSLICE_FERRETDB:-${XDG_CACHE_HOME:-$HOME/.cache}/mongoslice/bin/ferretdb}

if [[ ! -x $build/bench/bench_client_cursors || ! -x $build/bench/bench_libmongoc_cursors ]]; then
  [[ -f $build/build.ninja ]] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$build" bench_client_cursors bench_libmongoc_cursors >/dev/null
fi

work=$(mktemp -d /tmp/mongoslice-cursor-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/data"
"$ferretdb" --handler=sqlite --sqlite-url="file:$work/data/" --state-dir="$work" \
  --listen-addr="127.0.0.1:$port" --log-level=warn --telemetry=disable --debug-addr=- \
  >"$work/ferretdb.log" 2>&1 &
pids+=($!)
"$py" integration/mock/cursor_server.py >"$work/mock.port" &
pids+=($!)
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && [[ -s $work/mock.port ]] && break
  sleep 0.1
done
ferret_uri="mongodb://127.0.0.1:$port/"
mock_uri="mongodb://127.0.0.1:$(head -1 "$work/mock.port")/?directConnection=true"

echo "seeding 100,000 documents of ~200 bytes into FerretDB..." >&2
"$py" - "$ferret_uri" <<'PY'
import sys, pymongo
coll = pymongo.MongoClient(sys.argv[1]).bench.docs
coll.drop()
filler = 'x' * 150
for start in range(0, 100_000, 10_000):
    coll.insert_many([{'_id': i, 'n': i, 'k': i % 97, 's': filler} for i in range(start, start + 10_000)])
PY

run() { # NAME COMMAND...
  echo "running $1..." >&2
  "${@:2}" "$ferret_uri" bench docs "$mock_uri" >"$work/$1.out"
}
run mongoslice "$build/bench/bench_client_cursors"
run libmongoc "$build/bench/bench_libmongoc_cursors"
run PyMongo "$py" bench/pymongo_cursors.py

"$py" - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
names = ["mongoslice", "libmongoc", "PyMongo"]
figures = {}
for n in names:
    rows = (line.split() for line in open(os.path.join(work, n + ".out")))
    figures[n] = {r[0]: float(r[1]) for r in rows if len(r) == 2}
metrics = [("destroy_median_ns", "destroy a live cursor, median ns"),
           ("destroy_burst_ns", "  per destruction in bursts of 25, ns"),
           ("destroy_allocs", "  allocations per destruction"),
           ("kill_latency_median_ms", "kill latency, median ms"),
           ("iterate_cpu_ns_per_doc", "iteration CPU ns/document"),
           ("iterate_docs", "  documents iterated")]
print(f"{'':36}" + "".join(f"{n:>14}" for n in names))
for key, label in metrics:
    print(f"{label:36}" + "".join(f"{figures[n].get(key, float('nan')):>14.3f}" for n in names))
if os.environ.get("MONGOSLICE_BENCH_JSON"):
    with open(os.environ["MONGOSLICE_BENCH_JSON"], "w") as f:
        json.dump(figures, f, indent=1)
PY
