#!/usr/bin/env bash
# Builds the benchmarks (Release), runs each one side by side with its reference (memcpy and
# libbson, PyMongo, libmongoc), and writes bench/results/REPORT.md and bench/results/headline.png.
#
#   bench/run_all.sh [BUILD_DIR] [PART ...]
#
#   BUILD_DIR  default build-bench (relative to the repository)
#   PART       any of: wire_codec cursor_destroy executor topology cursors round_trips
#              idle_clients driverbench (default: all). Parts not named keep their earlier raw results, so
#              one noisy part can be rerun alone and the report regenerated.
#
# Environment:
#   MONGOSLICE_BENCH_MAX_LOAD=L  before each part, wait (at most 3 min) for the 1-minute load
#                                average to drop below L; the load each part started at is in the
#                                report either way.
#   MONGOSLICE_BENCH_JOBS=J      parallel build jobs (default 2).
#   MONGOSLICE_BENCH_CURSOR_RUNS=N
#                                runs of bench/cursor_compare.sh in the cursors part (default 5;
#                                the report gives their medians and min / median / max).
#
# Raw results (JSON per part, its log and the exact commands) go to bench/results/raw/, which git
# ignores; bench/report.py turns them into the report. About 20 minutes on 2 cores.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
invocation="${MONGOSLICE_BENCH_MAX_LOAD:+MONGOSLICE_BENCH_MAX_LOAD=$MONGOSLICE_BENCH_MAX_LOAD }"
invocation+="bench/run_all.sh${*:+ $*}"
build=${1:-build-bench}
shift $(($# > 0 ? 1 : 0))
all_parts=(wire_codec cursor_destroy executor topology cursors round_trips idle_clients driverbench)
parts=("$@")
((${#parts[@]})) || parts=("${all_parts[@]}")
results=bench/results
raw=$results/raw
py=${MONGOSLICE_PYTHON:-$repo/.venv/bin/python}
export MONGOSLICE_PYTHON=$py
mkdir -p "$raw"

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
json_string() { "$py" -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$1"; }

# The machine and the toolchain, once per full run; a rerun of some parts is appended to it.
start_load=$(loadavg)
now=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
if (($#)) && [[ -f $raw/machine.json ]]; then
  "$py" - "$raw/machine.json" "$invocation" "$now" "$start_load" <<'PY'
import json, sys
path, command, date, load = sys.argv[1:]
machine = json.load(open(path))
machine.setdefault("reruns", []).append({"command": command, "date": date, "load": load})
json.dump(machine, open(path, "w"), indent=1)
PY
else
  rm -f "$raw"/*.json "$raw"/*.log "$raw"/*.json.run*  # a full run starts afresh
{
  printf '{\n "date": %s,\n' "$(json_string "$now")"
  printf ' "nproc": %s,\n' "$(nproc)"
  printf ' "cpu": %s,\n' "$(json_string "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)")"
  printf ' "memory": %s,\n' "$(json_string "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)")"
  printf ' "kernel": %s,\n' "$(json_string "$(uname -sr)")"
  printf ' "load_at_start": %s,\n' "$(json_string "$start_load")"
  # Others work in the same tree: name the uncommitted files the build compiled in.
  dirty=$(git diff --name-only HEAD | paste -sd, - | sed 's/,/, /g')
  printf ' "commit": %s,\n' "$(json_string "$(git rev-parse --short HEAD)${dirty:+ + uncommitted changes in $dirty}")"
  printf ' "compiler": %s,\n' "$(json_string "$(c++ --version | head -1)")"
  printf ' "pymongo": %s,\n' "$(json_string "$("$py" -c 'import pymongo; print(pymongo.version)' 2>/dev/null || echo missing)")"
  printf ' "libmongoc": %s,\n' "$(json_string "$(pkg-config --modversion libmongoc-1.0 2>/dev/null || echo missing)")"
  printf ' "run_all": %s\n}\n' "$(json_string "$invocation")"
} >"$raw/machine.json"
fi
echo "load average at start: $start_load on $(nproc) cores" >&2

# matplotlib draws the chart; it is a benchmark-only dependency, so it is not in scripts/setup.sh.
if ! "$py" -c 'import matplotlib' 2>/dev/null; then
  echo "installing matplotlib into the venv..." >&2
  "$py" -m pip install --quiet matplotlib || echo "matplotlib install failed: no chart" >&2
fi

# The programs each part needs (bench/*.cpp -> bench_<name>, bench/*.c -> bench_<name>).
targets_of() {
  case $1 in
    wire_codec) echo bench_wire_codec ;;
    cursor_destroy) echo bench_cursor_destroy ;;
    executor) echo bench_executor_metrics ;;
    topology) echo bench_topology_idle ;;
    cursors) echo bench_client_cursors bench_libmongoc_cursors ;;
    round_trips) echo bench_client_round_trips bench_libmongoc_round_trips ;;
    idle_clients) echo bench_idle_clients ;;
    driverbench) echo bench_mongoslice_driverbench bench_libmongoc_driverbench bench_replay_server ;;
  esac
}
targets=()
for part in "${parts[@]}"; do
  # shellcheck disable=SC2207
  targets+=($(targets_of "$part"))
done
echo "building ${targets[*]} in $build (Release)..." >&2
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMONGOSLICE_BUILD_BENCH=ON >/dev/null ||
  exit 1
# Keep going past a program that does not build: its part then reports itself as failed.
ninja -C "$build" -j"${MONGOSLICE_BENCH_JOBS:-2}" -k 0 "${targets[@]}" >"$raw/build.log" 2>&1 ||
  echo "some targets failed to build (see $raw/build.log)" >&2

wait_for_load() {
  local limit=${MONGOSLICE_BENCH_MAX_LOAD:-}
  [[ -n $limit ]] || return 0
  for _ in $(seq 36); do
    awk -v l="$limit" '{ exit !($1 < l) }' /proc/loadavg && return 0
    echo "load $(loadavg) >= $limit: waiting..." >&2
    sleep 5
  done
}

# repeated N COMMAND...: runs a compare script N times (each writing its JSON next to
# $MONGOSLICE_BENCH_JSON) and writes to $MONGOSLICE_BENCH_JSON the median of each figure per side,
# with "spread" (min / median / max per side and figure) and "runs" (N). Each run waits for the
# load like a part (MONGOSLICE_BENCH_MAX_LOAD).
repeated() {
  local n=$1 i status=0
  shift
  local out=$MONGOSLICE_BENCH_JSON
  for ((i = 1; i <= n; ++i)); do
    ((i == 1)) || wait_for_load
    echo "-- run $i of $n (load $(loadavg)): $*"
    MONGOSLICE_BENCH_JSON=$out.run$i "$@" || status=$?
  done
  ((status == 0)) || return "$status"
  "$py" - "$out" "$n" <<'PY'
import json, statistics, sys
out, n = sys.argv[1], int(sys.argv[2])
runs = [json.load(open(f"{out}.run{i}")) for i in range(1, n + 1)]
merged, spread = {}, {}
for side in runs[0]:
    if not isinstance(runs[0][side], dict):
        continue
    merged[side], spread[side] = {}, {}
    for key in runs[0][side]:
        values = [r[side][key] for r in runs if isinstance(r.get(side, {}).get(key), (int, float))]
        if values:
            spread[side][key] = {"min": min(values), "median": statistics.median(values),
                                 "max": max(values)}
            merged[side][key] = spread[side][key]["median"]
merged.update(spread=spread, runs=n)
json.dump(merged, open(out, "w"), indent=1)
print(f"medians of {n} runs written to {out}")
PY
}

# run PART JSON COMMAND...: runs one part with its JSON destination in MONGOSLICE_BENCH_JSON,
# tees its output to raw/PART.log and records the command, load and duration in raw/PART.meta.json.
run() {
  local part=$1 json=$2
  shift 2
  wait_for_load
  local load_before started seconds status
  load_before=$(loadavg)
  started=$(date -u '+%H:%M:%S UTC')
  echo "== $part (load $load_before): $*" >&2
  # A rerun keeps the run it replaces, which the report quotes.
  if [[ -f $json && -f $raw/$part.meta.json ]]; then
    mv "$json" "$raw/$part.previous.json"
    mv "$raw/$part.meta.json" "$raw/$part.meta.previous.json"
  fi
  SECONDS=0
  MONGOSLICE_BENCH_JSON=$repo/$json "$@" 2>&1 | tee "$raw/$part.log"
  status=${PIPESTATUS[0]}
  seconds=$SECONDS
  {
    local shown="$*"
    [[ $1 == repeated ]] && shown="${*:3} ($2 runs, medians)"
    printf '{\n "part": "%s",\n "command": %s,\n' "$part" "$(json_string "$shown")"
    printf ' "started": "%s",\n "seconds": %d,\n "status": %d,\n' "$started" "$seconds" "$status"
    printf ' "load_before": "%s",\n "load_after": "%s"\n}\n' "$load_before" "$(loadavg)"
  } >"$raw/$part.meta.json"
  ((status == 0)) || echo "$part failed with status $status (see $raw/$part.log)" >&2
}

gbench_args=(--benchmark_out_format=json)
for part in "${parts[@]}"; do
  case $part in
    wire_codec)
      run wire_codec "$raw/wire_codec.json" "$build/bench/bench_wire_codec" \
        --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
        --benchmark_out="$raw/wire_codec.json" "${gbench_args[@]}" ;;
    cursor_destroy)
      # Its setup (1000 cursors per iteration) is untimed: a short min time keeps it to ~45 s.
      run cursor_destroy "$raw/cursor_destroy.json" "$build/bench/bench_cursor_destroy" \
        --benchmark_min_time=0.05 --benchmark_out="$raw/cursor_destroy.json" "${gbench_args[@]}" ;;
    executor)
      run executor "$raw/executor.json" bench/executor_compare.sh "$build" ;;
    topology)
      run topology "$raw/topology.json" bench/topology_compare.sh "$build" 100 30 ;;
    cursors)
      if [[ -x bench/cursor_compare.sh ]]; then
        run cursors "$raw/cursors.json" repeated "${MONGOSLICE_BENCH_CURSOR_RUNS:-5}" \
          bench/cursor_compare.sh "$build"
      else
        echo "== cursors: bench/cursor_compare.sh not there yet, skipped" >&2
      fi ;;
    round_trips)
      # Interleaved rounds inside the script: min / median / max are its own.
      run round_trips "$raw/round_trips.json" bench/round_trips_compare.sh "$build" 2000 5 ;;
    idle_clients)
      run idle_clients "$raw/idle_clients.json" bench/idle_clients_compare.sh "$build" 20 20 3 ;;
    driverbench)
      # The spec's tasks for the three drivers, 3 interleaved rounds (bench/driverbench/README.md);
      # about 20 minutes. MONGOSLICE_BENCH_QUICK=1: the smoke run (~30 s).
      run driverbench "$raw/driverbench.json" "$py" bench/driverbench/run.py "$build" \
        "$raw/driverbench.json" ${MONGOSLICE_BENCH_QUICK:+--quick} ;;
    *) echo "unknown part $part (parts: ${all_parts[*]})" >&2 ;;
  esac
done

# bench/report.py writes REPORT.md afresh from the other parts' raw results: skipped when none
# of them has any (a driverbench-only run then keeps the committed report's other sections).
others=0
for part in "${all_parts[@]}"; do
  [[ $part != driverbench && -f $raw/$part.json ]] && others=1
done
if ((others)); then
  "$py" bench/report.py "$raw" "$results" && echo "wrote $results/REPORT.md and $results/headline.png" >&2
fi
# DriverBench's section of REPORT.md (between its markers) and driverbench.png.
if [[ -f $raw/driverbench.json ]]; then
  "$py" bench/driverbench/report.py "$raw/driverbench.json" "$results"
fi
