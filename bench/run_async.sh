#!/usr/bin/env bash
# find_one with 1, 10, 100 and 1,000 operations in flight, side by side:
#
#   mongoslice_async  one thread, one io_context, N coroutines  async_find_one_mongoslice_async.cpp
#   mongoslice_sync   one MongoClient, N threads                async_find_one_mongoslice_sync.cpp
#   libmongoc         mongoc_client_pool_t, N threads           async_find_one_libmongoc.cpp
#   pymongo_async     AsyncMongoClient, N asyncio tasks         async_find_one_pymongo.py
#
# against bench_replay_server (bench/replay_server.cpp: canned replies, one thread, epoll) on
# 127.0.0.1. Builds nothing: BUILD_DIR must hold the programs (ninja -C BUILD_DIR
# bench_replay_server bench_async_find_one_mongoslice_sync bench_async_find_one_libmongoc
# [bench_async_find_one_mongoslice_async]); a program that is not there is skipped and named.
#
#   bench/run_async.sh [BUILD_DIR] [REPS] [TOTAL]     (default build-bench 3 10000)
#
# Each repetition runs every N, and for each N every kind, the order of the kinds rotated from one
# repetition to the next, so that all kinds see the same machine state. Each program prints one
# line (see async_find_one_mongoslice_sync.cpp for what its figures mean); the table gives
# min / median / max over the repetitions of throughput, the client's CPU per operation, and its
# resident memory per operation in flight, steady (sampled mid-run) and peak (VmHWM). The server's
# CPU (the sum of its threads' run time from /proc/PID/task/*/schedstat) over each whole client
# run, warm-up and connection set-up included, is given per request it answered and as a share of
# that run's wall-clock time: near 100% would mean the server, not the client, set the pace.
# With MONGOSLICE_BENCH_JSON=FILE the rows also go to FILE as JSON.
#
# Environment: MONGOSLICE_PYTHON (default .venv/bin/python), MONGOSLICE_REPLAY_THREADS (server
# threads, default 1), MONGOSLICE_ASYNC_IN_FLIGHT (default "1 10 100 1000").
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
build=${1:-build-bench}
reps=${2:-3}
total=${3:-10000}
py=${MONGOSLICE_PYTHON:-$repo/.venv/bin/python}
read -r -a in_flights <<<"${MONGOSLICE_ASYNC_IN_FLIGHT:-1 10 100 1000}"
if ! [[ $reps =~ ^[0-9]+$ && $total =~ ^[0-9]+$ ]] || ((reps < 1 || reps > 50 || total < 1)); then
  echo "REPS must be in 1..50, TOTAL > 0" >&2
  exit 2
fi
bin=$build/bench
if [[ ! -x $bin/bench_replay_server ]]; then
  echo "$bin/bench_replay_server is not built" >&2
  exit 1
fi

# 1,000 connections on each side of the loopback: raise the soft limit as far as allowed.
hard=$(ulimit -Hn)
if [[ $hard == unlimited ]] || ((hard > 65536)); then hard=65536; fi
ulimit -n "$hard"

kinds=()
command_of() {
  case $1 in
    mongoslice_async) echo "$bin/bench_async_find_one_mongoslice_async" ;;
    mongoslice_sync) echo "$bin/bench_async_find_one_mongoslice_sync" ;;
    libmongoc) echo "$bin/bench_async_find_one_libmongoc" ;;
    pymongo_async) echo "$py bench/async_find_one_pymongo.py" ;;
  esac
}
for kind in mongoslice_async mongoslice_sync libmongoc pymongo_async; do
  if [[ $kind == pymongo_async ]]; then
    "$py" -c 'import pymongo; pymongo.AsyncMongoClient' 2>/dev/null && kinds+=("$kind") ||
      echo "skipped $kind: no pymongo.AsyncMongoClient in $py" >&2
  elif [[ -x $(command_of "$kind") ]]; then
    kinds+=("$kind")
  else
    echo "skipped $kind: $(command_of "$kind") is not built" >&2
  fi
done

work=$(mktemp -d /tmp/mongoslice-async-bench.XXXXXX)
server_pid=
cleanup() {
  [[ -z $server_pid ]] || kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/bench_replay_server" 0 "${MONGOSLICE_REPLAY_THREADS:-1}" >"$work/server.out" 2>&1 &
server_pid=$!
port=
for _ in $(seq 100); do
  port=$(awk '/^port/ { print $2 }' "$work/server.out")
  [[ -n $port ]] && break
  sleep 0.05
done
[[ -n $port ]] || { echo "the replay server did not start" >&2; exit 1; }
max_n=0
for n in "${in_flights[@]}"; do ((n > max_n)) && max_n=$n; done
uri="mongodb://127.0.0.1:$port/?directConnection=true&maxPoolSize=$((max_n > 100 ? max_n : 100))"

server_cpu_ns() {
  cat /proc/"$server_pid"/task/*/schedstat | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# Others work in the same tree: name the uncommitted files a build of it may have compiled in.
dirty=$(git diff --name-only HEAD 2>/dev/null | paste -sd, - || true)
echo "replay server pid $server_pid on port $port; $reps repetitions of $total find_ones;" \
  "kinds: ${kinds[*]}; load $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores;" \
  "source tree $repo at $(git rev-parse --short HEAD 2>/dev/null)${dirty:+ + uncommitted $dirty};" \
  "pymongo $("$py" -c 'import pymongo; print(pymongo.version)' 2>/dev/null || echo missing);" \
  "libmongoc $(pkg-config --modversion libmongoc-1.0 2>/dev/null || echo unknown)" >&2
rows=$work/rows.txt
: >"$rows"
for ((rep = 0; rep < reps; ++rep)); do
  for n in "${in_flights[@]}"; do
    for ((i = 0; i < ${#kinds[@]}; ++i)); do
      kind=${kinds[(i + rep) % ${#kinds[@]}]}
      before=$(server_cpu_ns)
      started=$(date +%s%N)
      # shellcheck disable=SC2046
      if line=$(timeout 300 $(command_of "$kind") "$uri" "$total" "$n" 2>"$work/err"); then
        status=ok
      else
        status="failed($?)"
      fi
      wall_ns=$(($(date +%s%N) - started))
      cpu_ns=$(($(server_cpu_ns) - before))
      requests=$((total + 2 * n + 1))
      server=$(awk -v c="$cpu_ns" -v r="$requests" -v w="$wall_ns" 'BEGIN {
        printf "server_cpu_us_per_request=%.2f server_busy_pct=%.1f", c / 1000 / r, 100 * c / w }')
      echo "rep=$((rep + 1)) status=$status ${line:-kind=$kind in_flight=$n} $server" |
        tee -a "$rows" >&2
      [[ $status == ok ]] || sed 's/^/  /' "$work/err" | head -5 >&2
    done
  done
done

"$py" - "$rows" "$reps" "$total" "${kinds[@]}" <<'PY'
import json, os, statistics, sys
rows_path, reps, total, kinds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
rows = []
for line in open(rows_path):
    fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
    rows.append(fields)
metrics = [("ops_per_s", "ops/s", "{:.0f}"), ("cpu_us_per_op", "client CPU us/op", "{:.2f}"),
           ("rss_steady_kib_per_op", "RSS KiB/in-flight op (mid-run)", "{:.2f}"),
           ("rss_peak_kib_per_op", "RSS KiB/in-flight op (peak)", "{:.2f}"),
           ("fds_mid", "open fds mid-run (~ connections held)", "{:.0f}"),
           ("server_cpu_us_per_request", "server CPU us/request", "{:.2f}"),
           ("server_busy_pct", "server busy % of wall", "{:.0f}")]
in_flights = sorted({int(r["in_flight"]) for r in rows})
table = {}
for kind in kinds:
    for n in in_flights:
        mine = [r for r in rows if r["kind"] == kind and int(r["in_flight"]) == n]
        good = [r for r in mine if r.get("status") == "ok"]
        entry = {"runs": len(good), "failed_runs": len(mine) - len(good)}
        for key, _, _ in metrics:
            values = [float(r[key]) for r in good if key in r]
            if values:
                entry[key] = {"min": min(values), "median": statistics.median(values),
                              "max": max(values)}
        table[(kind, n)] = entry
print(f"\n{total} find_ones per run, {reps} repetitions; each cell: min / median / max")
for key, label, fmt in metrics:
    print(f"\n{label}")
    print(f"{'kind':18}" + "".join(f"{'N=' + str(n):>28}" for n in in_flights))
    for kind in kinds:
        cells = []
        for n in in_flights:
            s = table[(kind, n)].get(key)
            cells.append(" / ".join(fmt.format(s[x]) for x in ("min", "median", "max"))
                         if s else "-")
        print(f"{kind:18}" + "".join(f"{c:>28}" for c in cells))
failed = {f"{k} N={n}": e["failed_runs"] for (k, n), e in table.items() if e["failed_runs"]}
if failed:
    print(f"\nfailed runs: {failed}")
n = max(in_flights)
async_row = table.get(("mongoslice_async", n), {})
if "ops_per_s" in async_row:
    med = lambda kind, key: table.get((kind, n), {}).get(key, {}).get("median")
    others = [k for k in kinds if k != "mongoslice_async" and med(k, "ops_per_s") is not None]
    best = max(others, key=lambda k: med(k, "ops_per_s"), default=None)
    print(f"\ngoal at N={n} (medians):")
    if best:
        print(f"  highest throughput: mongoslice_async {med('mongoslice_async', 'ops_per_s'):.0f}"
              f" vs best other {best} {med(best, 'ops_per_s'):.0f} ops/s")
    print(f"  RSS per in-flight op <= 2 KiB: {med('mongoslice_async', 'rss_steady_kib_per_op'):.2f}"
          f" KiB (mid-run), {med('mongoslice_async', 'rss_peak_kib_per_op'):.2f} KiB (peak)")
    if med("libmongoc", "cpu_us_per_op") is not None:
        print(f"  CPU/op <= libmongoc's: {med('mongoslice_async', 'cpu_us_per_op'):.2f} vs"
              f" {med('libmongoc', 'cpu_us_per_op'):.2f} us")
if os.environ.get("MONGOSLICE_BENCH_JSON"):
    with open(os.environ["MONGOSLICE_BENCH_JSON"], "w") as f:
        json.dump({"total": total, "reps": reps, "rows": rows,
                   "summary": {f"{k}/{n}": e for (k, n), e in table.items()}}, f, indent=1)
PY
