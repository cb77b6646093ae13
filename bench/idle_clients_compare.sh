#!/usr/bin/env bash
# Idle clients, side by side: N whole mongoslice::MongoClients (bench/idle_clients.cpp) vs N
# PyMongo MongoClients (bench/pymongo_idle_clients.py, serverMonitoringMode=poll), each client
# with one loopback mongos responder of its own (bench/hello_responder.py, one separate process
# serving all ports, not counted), heartbeatFrequencyMS=10000, killCursorsIntervalMS left at its
# default (1 s on both sides). After a {ping: 1} per client and a warm-up, each program counts
# its own threads' context switches (voluntary + involuntary, /proc/<pid>/task/*/status) over
# SECONDS idle, by thread kind: monitors, the kill-cursors executor, the rest. Per client per
# second: total wake-ups, monitor wake-ups per server, kill-executor wake-ups. A polling
# heartbeat blocks twice (until its deadline, then for the reply), so at a 10 s heartbeat a
# monitor that never polls makes ~0.2 switches/s for its 0.1 heartbeats/s.
#
#   bench/idle_clients_compare.sh [BUILD_DIR] [CLIENTS] [SECONDS] [REPEATS]
#                                 (default: build 20 20 3)
#
# The two sides run one after the other, alternating, REPEATS times each; prints min / median /
# max of each figure per side. About REPEATS x 2 x (SECONDS + 4) s: ~2.5 min by default. With
# MONGOSLICE_BENCH_JSON=FILE it also writes the figures (medians, plus min, max and every run's
# raw counts) as JSON for bench/run_all.sh and bench/report.py.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
clients=${2:-20}
seconds=${3:-20}
repeats=${4:-3}
warmup=${MONGOSLICE_BENCH_WARMUP:-2}
heartbeat_ms=10000
ours=$build/bench/bench_idle_clients
py=${MONGOSLICE_PYTHON:-$repo/.venv/bin/python}
[[ -x $ours ]] || { echo "missing $ours: ninja -C $build bench_idle_clients" >&2; exit 1; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exec "$py" - "$repo" "$ours" "$clients" "$seconds" "$repeats" "$warmup" "$heartbeat_ms" <<'PY'
import json, math, os, statistics, subprocess, sys

repo, ours = sys.argv[1], sys.argv[2]
clients, seconds, repeats = int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
warmup, heartbeat_ms = float(sys.argv[6]), int(sys.argv[7])
py = sys.executable

def run(name, argv):
    """One run of one side: its JSON line, turned into per-client / per-server rates."""
    done = subprocess.run(argv, stdout=subprocess.PIPE, text=True, timeout=seconds + 120)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        sys.exit(f"{name}: exit status {done.returncode}, output {done.stdout!r}")
    raw = json.loads(lines[-1])
    kinds, t = raw["kinds"], raw["seconds"]
    switches = lambda kind: kinds.get(kind, {}).get("voluntary", 0) + kinds.get(kind, {}).get("involuntary", 0)
    servers = raw["clients"] * raw["servers_per_client"]
    # PyMongo's RTT thread (none in poll mode) is part of monitoring its server.
    monitoring = switches("monitor") + switches("rtt")
    monitoring_blocked = sum(kinds.get(k, {}).get("voluntary", 0) for k in ("monitor", "rtt"))
    total = sum(switches(k) for k in kinds)
    figures = {
        "total_per_client_per_s": total / raw["clients"] / t,
        "voluntary_per_client_per_s": sum(k["voluntary"] for k in kinds.values()) / raw["clients"] / t,
        "involuntary_per_client_per_s": sum(k["involuntary"] for k in kinds.values()) / raw["clients"] / t,
        "monitor_per_server_per_s": monitoring / servers / t,
        "heartbeats_per_server_per_s": raw["heartbeats"] / servers / t,
        "monitor_per_heartbeat": monitoring / raw["heartbeats"] if raw["heartbeats"] else float("nan"),
        # Preemptions (involuntary) come from the load; blocking waits are the design's.
        "monitor_voluntary_per_heartbeat":
            monitoring_blocked / raw["heartbeats"] if raw["heartbeats"] else float("nan"),
        "kill_per_client_per_s": switches("kill") / raw["clients"] / t,
        "other_per_client_per_s": switches("other") / raw["clients"] / t,
        "threads_per_client": sum(k["threads"] for k in kinds.values()) / raw["clients"],
    }
    if raw["threads_started_in_window"] or raw["threads_ended_in_window"]:
        print(f"{name}: {raw['threads_started_in_window']} threads started and "
              f"{raw['threads_ended_in_window']} ended during the window", file=sys.stderr)
    return figures, raw

responder = subprocess.Popen([py, f"{repo}/bench/hello_responder.py", str(clients)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
hosts = [f"127.0.0.1:{p}" for p in responder.stdout.readline().split()]
args = [str(clients), str(seconds), str(warmup), str(heartbeat_ms)] + hosts
sides = {"mongoslice": [ours] + args,
         "PyMongo": [py, f"{repo}/bench/pymongo_idle_clients.py"] + args}
runs = {side: [] for side in sides}
try:
    for r in range(repeats):
        for side, argv in sides.items():
            print(f"run {r + 1}/{repeats}: {side}, {clients} clients, {warmup:g} s warm-up, "
                  f"{seconds:g} s idle...", file=sys.stderr)
            runs[side].append(run(side, argv))
finally:
    responder.stdin.close()
    responder.wait(timeout=10)

def stats(side):
    figures = [f for f, _ in runs[side]]
    out = {"min": {}, "max": {}, "runs": [raw for _, raw in runs[side]]}
    for key in figures[0]:
        values = [f[key] for f in figures if not math.isnan(f[key])]
        if not values:
            out[key] = out["min"][key] = out["max"][key] = float("nan")
            continue
        out[key] = statistics.median(values)
        out["min"][key], out["max"][key] = min(values), max(values)
    return out

results = {side: stats(side) for side in sides}
rows = [("wake-ups / client / s (all threads)", "total_per_client_per_s"),
        ("  voluntary (a thread blocked)", "voluntary_per_client_per_s"),
        ("  involuntary (preempted)", "involuntary_per_client_per_s"),
        ("monitor wake-ups / server / s", "monitor_per_server_per_s"),
        ("heartbeats / server / s", "heartbeats_per_server_per_s"),
        ("monitor wake-ups per heartbeat", "monitor_per_heartbeat"),
        ("  voluntary (blocking) only", "monitor_voluntary_per_heartbeat"),
        ("kill-executor wake-ups / client / s", "kill_per_client_per_s"),
        ("other threads' wake-ups / client / s", "other_per_client_per_s"),
        ("threads / client (main thread shared)", "threads_per_client")]
def cell(side, key):
    r = results[side]
    return " / ".join(f"{x:.3f}" for x in (r["min"][key], r[key], r["max"][key]))
print(f"| {clients} clients x 1 server, heartbeatFrequencyMS={heartbeat_ms}, {seconds:g} s idle, "
      f"{repeats} runs: min / median / max | mongoslice | PyMongo (poll) |")
print("| --- | ---: | ---: |")
for label, key in rows:
    print(f"| {label} | {cell('mongoslice', key)} | {cell('PyMongo', key)} |")
if os.environ.get("MONGOSLICE_BENCH_JSON"):
    with open(os.environ["MONGOSLICE_BENCH_JSON"], "w") as out:
        json.dump({"clients": clients, "seconds": seconds, "repeats": repeats, "warmup": warmup,
                   "heartbeat_ms": heartbeat_ms, **results}, out, indent=1)
PY
