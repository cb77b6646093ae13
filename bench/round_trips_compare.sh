#!/usr/bin/env bash
# One-operation round trips side by side: mongoslice (bench/client_round_trips.cpp), libmongoc
# (bench/libmongoc_round_trips.c) and PyMongo with its C extensions (bench/pymongo_round_trips.py),
# against the same FerretDB, started as bench/cursor_compare.sh starts it.
#
#   bench/round_trips_compare.sh [BUILD_DIR] [OPS] [ROUNDS] [KEYS]
#                                (default build-bench 2000 5 20; about 2 minutes)
#
# Each program runs update_one ({_id: k} filter, {$inc: {n: 1}}) then find_one ({_id: k}), over
# KEYS seeded documents in turn, 100 untimed operations then OPS timed ones of each kind. The
# figure is the client's CPU per operation: user+sys of the whole client process (every driver
# thread), from getrusage, over the timed operations. The server's CPU is not counted (it is the
# same work for all three); the calling thread's CPU and the wall clock per operation are printed
# too, for information. The three run one after the other, ROUNDS times, the order rotated each
# round (A B C, B C A, ...); the table gives min / median / max over the rounds per driver, the
# ratio of the medians and the min / median / max of the per-round ratios. With
# MONGOSLICE_BENCH_JSON=FILE the figures are also written as JSON.
#
# Few KEYS keep the server fast: FerretDB's SQLite backend scans the collection for an _id
# filter (1,000 documents: ~16 ms per update_one, ~10 ms per find_one; 20: ~2.5 and ~1 ms), and
# the longer a client sleeps between operations the colder its caches when the reply wakes it,
# which raises every client's CPU per operation (PyMongo's find_one: ~230 us at 20 keys, ~740 us
# at 1,000).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
build=${1:-build-bench}
ops=${2:-2000}
rounds=${3:-5}
keys=${4:-20}
py=${MONGOSLICE_PYTHON:-$repo/.venv/bin/python}
ferretdb=${MONGOSLICE_FERRETDB:-${XDG_CACHE_HOME:-$HOME/.cache}/mongoslice/bin/ferretdb}
if ! [[ $ops =~ ^[0-9]+$ && $rounds =~ ^[0-9]+$ && $keys =~ ^[0-9]+$ ]] ||
  ((ops < 1 || ops > 100000 || rounds < 1 || rounds > 50 || keys < 1 || keys > 100000)); then
  echo "OPS must be in 1..100000, ROUNDS in 1..50 and KEYS in 1..100000" >&2
  exit 2
fi

if [[ ! -x $build/bench/bench_client_round_trips || ! -x $build/bench/bench_libmongoc_round_trips ]]; then
  [[ -f $build/build.ninja ]] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$build" bench_client_round_trips bench_libmongoc_round_trips >/dev/null
fi

work=$(mktemp -d /tmp/mongoslice-round-trips-bench.XXXXXX)
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
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
uri="mongodb://127.0.0.1:$port/"

echo "seeding $keys documents {_id: k, n: 0} into FerretDB..." >&2
"$py" - "$uri" "$keys" <<'PY'
import sys, pymongo
coll = pymongo.MongoClient(sys.argv[1]).bench.round_trips
coll.drop()
coll.insert_many([{'_id': k, 'n': 0} for k in range(int(sys.argv[2]))])
PY

names=(mongoslice libmongoc PyMongo)
command_of() {
  case $1 in
    mongoslice) echo "$build/bench/bench_client_round_trips" ;;
    libmongoc) echo "$build/bench/bench_libmongoc_round_trips" ;;
    PyMongo) echo "$py bench/pymongo_round_trips.py" ;;
  esac
}
for ((round = 0; round < rounds; ++round)); do
  for ((i = 0; i < ${#names[@]}; ++i)); do
    name=${names[(i + round) % ${#names[@]}]}
    echo "round $((round + 1))/$rounds: $name..." >&2
    # shellcheck disable=SC2046
    $(command_of "$name") "$uri" bench round_trips "$ops" "$keys" >"$work/$name.$round.out"
  done
done

"$py" - "$work" "$rounds" "$ops" "$keys" <<'PY'
import json, os, statistics, sys
work, rounds, ops, keys = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
names = ["mongoslice", "libmongoc", "PyMongo"]
runs = {n: [] for n in names}  # per driver, per round: {metric: value}
for n in names:
    for r in range(rounds):
        rows = (line.split() for line in open(os.path.join(work, f"{n}.{r}.out")))
        runs[n].append({row[0]: float(row[1]) for row in rows if len(row) == 2})
kinds = ["update_one", "find_one"]
measures = [("cpu_ns_per_op", "client CPU ns/op (process)"),
            ("thread_cpu_ns_per_op", "  calling thread's CPU ns/op"),
            ("wall_ns_per_op", "  wall-clock ns/op")]
spread = lambda values: {"min": min(values), "median": statistics.median(values),
                         "max": max(values)}
summary = {n: {} for n in names}
for n in names:
    for kind in kinds:
        for m, _ in measures:
            key = f"{kind}_{m}"
            summary[n][key] = spread([run[key] for run in runs[n]])
paired = {}  # mongoslice / reference, round by round
for ref in names[1:]:
    for kind in kinds:
        for m, _ in measures:
            key = f"{kind}_{m}"
            paired[f"{ref}.{key}"] = spread(
                [ours[key] / theirs[key] for ours, theirs in zip(runs["mongoslice"], runs[ref])])
print(f"{ops} operations of each kind per run over {keys} documents, {rounds} rounds; "
      "min / median / max over the rounds")
for kind in kinds:
    print(f"\n{kind}")
    print(f"{'':30}" + "".join(f"{n + ' (min med max)':>31}" for n in names))
    for m, label in measures:
        s = [summary[n][f"{kind}_{m}"] for n in names]
        print(f"{label:30}" + "".join(
            f"{x['min']:>11.0f}{x['median']:>10.0f}{x['max']:>10.0f}" for x in s))
    for ref in names[1:]:
        for m, label in measures[:1] + measures[2:]:
            key = f"{kind}_{m}"
            p = paired[f"{ref}.{key}"]
            ratio = summary["mongoslice"][key]["median"] / summary[ref][key]["median"]
            print(f"  mongoslice / {ref}, {m.split('_')[0]}: {ratio:.3f} (medians); "
                  f"per round {p['min']:.3f} / {p['median']:.3f} / {p['max']:.3f}")
if os.environ.get("MONGOSLICE_BENCH_JSON"):
    out = {"ops": ops, "rounds": rounds, "keys": keys,
           # The median of each figure per driver (what the report compares), then the spread.
           **{n: {k: v["median"] for k, v in summary[n].items()} for n in names},
           "spread": summary, "paired_ratios": paired, "runs": runs}
    with open(os.environ["MONGOSLICE_BENCH_JSON"], "w") as f:
        json.dump(out, f, indent=1)
PY
