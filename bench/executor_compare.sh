#!/usr/bin/env bash
# Side-by-side: mongoslice's PeriodicExecutor vs PyMongo's (pymongo.synchronous.periodic_executor).
#
#   bench/executor_compare.sh [BUILD_DIR]     (default: build; needs target bench_executor_metrics)
#
# With MONGOSLICE_BENCH_JSON=FILE it also writes the figures as JSON ({"mongoslice": {metric:
# value}, "PyMongo": {...}}) for bench/run_all.sh and bench/report.py.
#
# Takes about 70 s: the two idle measurements (20 s each) run at the same time, then ours
# (a few seconds), then PyMongo's close/wake trials (up to 1 s each, hence 40 trials, not 1000).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
ours=$build/bench/bench_executor_metrics
py=${MONGOSLICE_PYTHON:-$repo/.venv/bin/python}
theirs=("$py" "$repo/bench/pymongo_executor.py")
trials_ours=1000
trials_theirs=40
[[ -x $ours ]] || { echo "missing $ours: ninja -C $build bench_executor_metrics" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Runs a program that prints "ready <CLOCK_MONOTONIC ns>" just before leaving main, and reports
# the time from then until the process has ended, and its exit status.
measure_exit() {
  "$py" - "$@" <<'PY'
import subprocess, sys, time
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, text=True)
ready = int(p.stdout.readline().split()[1])
p.wait()
print(f"exit_ms {(time.monotonic_ns() - ready) / 1e6:.1f}\nexit_status {p.returncode}")
PY
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "idle: 100 executors each, interval 10 s, 20 s idle (both at once)..." >&2
"$ours" idle 100 10 20 >"$out/ours_idle" &
ours_idle_pid=$!
"${theirs[@]}" idle 100 10 20 >"$out/theirs_idle" &
theirs_idle_pid=$!
wait $ours_idle_pid $theirs_idle_pid

echo "mongoslice: close, wake ($trials_ours trials), rss, exit..." >&2
{
  "$ours" close $trials_ours
  "$ours" wake $trials_ours
  "$ours" rss 1000
  measure_exit "$ours" exit 50
} >"$out/ours"
echo "PyMongo: close, wake ($trials_theirs trials), rss, exit..." >&2
{
  "${theirs[@]}" close $trials_theirs
  "${theirs[@]}" wake $trials_theirs
  "${theirs[@]}" rss 1000
  measure_exit "${theirs[@]}" exit 50
} >"$out/theirs"
cat "$out/ours_idle" >>"$out/ours"
cat "$out/theirs_idle" >>"$out/theirs"

value() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
row() {  # label key goal
  printf "| %-44s | %12s | %12s | %-10s |\n" "$1" "$(value "$out/ours" "$2")" \
    "$(value "$out/theirs" "$2")" "$3"
}
echo
printf "| %-44s | %12s | %12s | %-10s |\n" metric mongoslice PyMongo goal
printf "|%s|%s|%s|%s|\n" "$(printf -- '-%.0s' {1..46})" "$(printf -- '-%.0s' {1..14})" \
  "$(printf -- '-%.0s' {1..14})" "$(printf -- '-%.0s' {1..12})"
row "idle ctx switches / executor / s (100, 20 s)" idle_switches_per_executor_per_s "<= 0.11"
row "close -> thread joined, p50 (us)" close_p50_us ""
row "close -> thread joined, p99 (us)" close_p99_us "< 1000"
row "close trials" close_trials ""
row "wake -> target starts, p50 (us)" wake_p50_us ""
row "wake -> target starts, p99 (us)" wake_p99_us "< 1000"
row "wake trials" wake_trials ""
row "VmRSS per open executor (KiB, 1000)" rss_kib_per_executor ""
row "exit with 50 running: main returns -> end (ms)" exit_ms "~1000 max"
row "exit status" exit_status "0"
echo
if [[ -n ${MONGOSLICE_BENCH_JSON:-} ]]; then
  "$py" - "$out/ours" "$out/theirs" >"$MONGOSLICE_BENCH_JSON" <<'PY'
import json, sys
def figures(path):
    rows = (line.split() for line in open(path))
    return {r[0]: float(r[1]) for r in rows if len(r) == 2 and r[0] != "ready"}
json.dump({"mongoslice": figures(sys.argv[1]), "PyMongo": figures(sys.argv[2])}, sys.stdout, indent=1)
PY
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >&2
