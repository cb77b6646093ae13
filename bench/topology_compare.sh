#!/usr/bin/env bash
# Idle topology, side by side: mongoslice's Topology vs PyMongo's MongoClient, each monitoring the
# same 100 loopback mongos responders (bench/hello_responder.py, a separate process) with
# heartbeatFrequencyMS=10000, idle for 30 s. Per client process: context switches per second
# (voluntary + involuntary, summed over /proc/<pid>/task/*/status), threads, VmRSS, and the
# heartbeats seen in the window. The goal: our wake-ups equal the heartbeats (~10/s for 100
# servers); PyMongo's monitor threads also poll twice a second each.
#
#   bench/topology_compare.sh [BUILD_DIR] [SERVERS] [SECONDS]   (default: build 100 30)
#
# Takes about 75 s: the two clients run one after the other. With MONGOSLICE_BENCH_JSON=FILE it
# also writes the figures as JSON for bench/run_all.sh and bench/report.py.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
servers=${2:-100}
seconds=${3:-30}
ours=$build/bench/bench_topology_idle
py=${MONGOSLICE_PYTHON:-$repo/.venv/bin/python}
[[ -x $ours ]] || { echo "missing $ours: ninja -C $build bench_topology_idle" >&2; exit 1; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exec "$py" - "$repo" "$ours" "$servers" "$seconds" <<'PY'
import glob, json, os, subprocess, sys, time

repo, ours, servers, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
py = sys.executable

def sample(pid):
    """(voluntary, involuntary) context switches summed over threads, threads, VmRSS KiB.
    Voluntary: a thread blocked (sleep, wait for a reply). Involuntary: the scheduler took
    the core away (on 2 cores shared with the responder process, that is load, not design)."""
    voluntary = involuntary = threads = 0
    for status in glob.glob(f"/proc/{pid}/task/*/status"):
        try:
            for line in open(status):
                if line.startswith("voluntary_ctxt_switches"):
                    voluntary += int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches"):
                    involuntary += int(line.split()[1])
            threads += 1
        except FileNotFoundError:
            pass
    rss = next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS"))
    return (voluntary, involuntary), threads, rss

def run(name, argv):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    ready = p.stdout.readline().split()
    if not ready or ready[0] != "ready":
        p.kill()
        sys.exit(f"{name}: did not get ready ({ready})")
    pid, discovery_ms = int(ready[1]), float(ready[2])
    s0, _, _ = sample(pid)
    t0 = time.monotonic()
    time.sleep(seconds)
    s1, threads, rss = sample(pid)
    elapsed = time.monotonic() - t0
    beats = p.stdout.readline().split()
    p.wait()
    voluntary, involuntary = ((s1[i] - s0[i]) / elapsed for i in (0, 1))
    return {"discovery_ms": discovery_ms, "switches_per_s": voluntary + involuntary,
            "voluntary_switches_per_s": voluntary, "involuntary_switches_per_s": involuntary,
            "threads": threads, "rss_mib": rss / 1024,
            "heartbeats_per_s": int(beats[1]) / (seconds + 1) if beats else float("nan")}

responder = subprocess.Popen([py, f"{repo}/bench/hello_responder.py", str(servers)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
hosts = [f"127.0.0.1:{p}" for p in responder.stdout.readline().split()]
try:
    print(f"{servers} mongos responders up; {seconds:.0f} s idle per client...", file=sys.stderr)
    results = {
        "mongoslice": run("mongoslice", [ours, str(seconds + 1)] + hosts),
        "PyMongo": run("PyMongo", [py, f"{repo}/bench/pymongo_topology_idle.py",
                                   str(seconds + 1)] + hosts),
    }
finally:
    responder.stdin.close()
    responder.wait(timeout=10)

rows = [("context switches / s (client process)", "switches_per_s", "{:.1f}"),
        ("  voluntary (a thread blocked)", "voluntary_switches_per_s", "{:.1f}"),
        ("  involuntary (preempted)", "involuntary_switches_per_s", "{:.1f}"),
        ("heartbeats / s", "heartbeats_per_s", "{:.1f}"),
        ("threads", "threads", "{}"),
        ("VmRSS (MiB)", "rss_mib", "{:.1f}"),
        ("discovery of all servers (ms)", "discovery_ms", "{:.0f}")]
print(f"| {servers} servers, heartbeatFrequencyMS=10000, {seconds:.0f} s idle | mongoslice | PyMongo |")
print("| --- | ---: | ---: |")
for label, key, fmt in rows:
    print(f"| {label} | {fmt.format(results['mongoslice'][key])} | {fmt.format(results['PyMongo'][key])} |")
if os.environ.get("MONGOSLICE_BENCH_JSON"):
    with open(os.environ["MONGOSLICE_BENCH_JSON"], "w") as out:
        json.dump({"servers": servers, "seconds": seconds, **results}, out, indent=1)
PY
