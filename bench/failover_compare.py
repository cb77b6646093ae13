"""Failover, side by side: mongoslice and PyMongo run the same application (a write every 2 ms,
bench/failover_client.cpp and bench/failover_client_pymongo.py) against the same scripted
three-member replica set (integration/mock/replica_set.py: streaming hellos), which elects a new
primary ELECTIONS times per run. Per client and configuration:

  - latency: from the election (the mock's clock, when the new primary starts announcing
    itself) to the first successful write that reaches the new primary (the mock's log: an
    insert there answered ok, or answered from the retryable-write table); min / median / max
    over every election of every round;
  - missed: elections after which no write succeeded on the new primary before the next one;
  - errors: writes that raised in the application.

Both clients are measured by the mock's one clock, on the same schedule, one after the other
in each round; the order alternates between rounds. Configurations: retryable writes on
(default) and off, each in the monitoring modes given (stream: the default of both; poll:
serverMonitoringMode=poll).

    bench/failover_compare.py [--build DIR] [--elections 20] [--rounds 3] [--interval-ms 250]
                              [--modes stream,poll] [--json FILE]

With --idle SECONDS, instead: the idle cost of a client watching the same set, each client in
each mode after one write: context switches per second of the whole process (voluntary +
involuntary, summed over /proc/PID/task/*/status) over SECONDS, its threads, and the hellos
the set received from it; once per round, the order alternating.
"""
import argparse
import glob
import json
import os
import socket
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Mock:
    def __init__(self, python):
        self.process = subprocess.Popen(
            [python, os.path.join(REPO, "integration/mock/replica_set.py"), "--lifetime", "300"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ports = [int(p) for p in self.process.stdout.readline().split()]
        if len(ports) != 4:
            sys.exit("replica_set.py printed no ports")
        self.members, self.control_port = ports[:3], ports[3]

    def uri(self, options):
        hosts = ",".join("127.0.0.1:%d" % p for p in self.members)
        return "mongodb://%s/?replicaSet=rs0%s" % (hosts, options)

    def control(self, command):
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=10) as s:
            s.sendall((command + "\n").encode())
            data = b""
            while chunk := s.recv(1 << 20):
                data += chunk
        reply = json.loads(data)
        if not reply.get("ok"):
            sys.exit("control %r failed: %s" % (command, reply))
        return reply

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=10)


def run_once(python, client_argv, options, args):
    """One run: a fresh set, the client writing, ELECTIONS stepdowns. Returns the figures."""
    mock = Mock(python)
    try:
        client = subprocess.Popen(client_argv + [mock.uri(options)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        if client.stdout.readline().strip() != "ready":
            client.kill()
            sys.exit("%s did not get ready" % client_argv)
        time.sleep(args.interval_ms / 1000)  # steady state: monitors streaming, pool warm
        elections = []
        for _ in range(args.elections):
            reply = mock.control("stepdown")
            elections.append((reply["t"], reply["primary"]))
            time.sleep(args.interval_ms / 1000)
        end = time.monotonic_ns()  # the same clock as the mock's (one machine)
        client.stdin.close()
        result = json.loads(client.stdout.readline())
        client.wait(timeout=30)
        log = mock.control("log")["log"]
    finally:
        mock.close()
    successes = sorted((e["t"], e["member"]) for e in log
                       if e["cmd"] == "insert" and e["outcome"] in ("ok", "retried"))
    latencies, missed = [], 0
    for i, (at, primary) in enumerate(elections):
        until = elections[i + 1][0] if i + 1 < len(elections) else end
        first = next((t for t, member in successes if member == primary and at <= t < until),
                     None)
        if first is None:
            missed += 1
        else:
            latencies.append((first - at) / 1e6)
    return {"latencies_ms": latencies, "missed": missed, "errors": result["errors"],
            "writes": result["writes"], "messages": result["messages"]}


def switches_and_threads(pid):
    total = threads = 0
    for status in glob.glob("/proc/%d/task/*/status" % pid):
        try:
            for line in open(status):
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
            threads += 1
        except FileNotFoundError:
            pass
    return total, threads


def idle_once(python, client_argv, options, seconds):
    mock = Mock(python)
    try:
        client = subprocess.Popen(client_argv + [mock.uri(options), "idle"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if client.stdout.readline().strip() != "ready":
            client.kill()
            sys.exit("%s did not get ready" % client_argv)
        time.sleep(2)  # past discovery: monitors streaming, RTT monitors started
        mock.control("log")
        before, _ = switches_and_threads(client.pid)
        started = time.monotonic()
        time.sleep(seconds)
        after, threads = switches_and_threads(client.pid)
        elapsed = time.monotonic() - started
        log = mock.control("log")["log"]
        client.stdin.close()
        client.stdout.readline()
        client.wait(timeout=30)
    finally:
        mock.close()
    hellos = sum(1 for e in log if e["cmd"] in ("hello", "isMaster", "ismaster"))
    return {"switches_per_s": (after - before) / elapsed, "threads": threads,
            "hello_requests_per_s": hellos / elapsed}


def run_idle(python, clients, args):
    rows = {}
    for round_index in range(args.rounds):
        order = list(clients) if round_index % 2 == 0 else list(reversed(clients))
        for mode in args.modes.split(","):
            for client in order:
                r = idle_once(python, clients[client], "&serverMonitoringMode=" + mode, args.idle)
                rows.setdefault((mode, client), []).append(r)
                print("round %d  %-6s %-10s %.2f switches/s, %d threads" % (
                    round_index + 1, mode, client, r["switches_per_s"], r["threads"]),
                    file=sys.stderr)
    print("\nIdle client watching the three-member set, heartbeatFrequencyMS=10000, %d s per run, "
          "%d rounds" % (args.idle, args.rounds))
    print("%-6s %-10s %-28s %8s %22s" % ("mode", "client", "context switches/s min/med/max",
                                          "threads", "hello requests/s (med)"))
    for (mode, client), runs in rows.items():
        print("%-6s %-10s %-28s %8d %22.2f" % (
            mode, client, summary([r["switches_per_s"] for r in runs]),
            max(r["threads"] for r in runs),
            statistics.median(r["hello_requests_per_s"] for r in runs)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump([dict(mode=m, client=c, runs=r) for (m, c), r in rows.items()], f, indent=1)


def summary(values):
    if not values:
        return "-"
    return "%.2f / %.2f / %.2f" % (min(values), statistics.median(values), max(values))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(REPO, "build"))
    parser.add_argument("--elections", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--interval-ms", type=int, default=250)
    parser.add_argument("--modes", default="stream")
    parser.add_argument("--json")
    parser.add_argument("--idle", type=float, help="seconds: measure the idle cost instead")
    args = parser.parse_args()
    python = os.environ.get("MONGOSLICE_PYTHON", os.path.join(REPO, ".venv/bin/python"))
    ours = os.path.join(args.build, "bench/bench_failover_client")
    if not os.access(ours, os.X_OK):
        sys.exit("missing %s: ninja -C %s bench_failover_client" % (ours, args.build))
    clients = {"mongoslice": [ours],
               "PyMongo": [python, os.path.join(REPO, "bench/failover_client_pymongo.py")]}
    if args.idle:
        return run_idle(python, clients, args)
    configurations = []
    for mode in args.modes.split(","):
        for retries in ("on", "off"):
            options = "" if mode == "stream" else "&serverMonitoringMode=" + mode
            if retries == "off":
                options += "&retryWrites=false"
            configurations.append(("%s, retries %s" % (mode, retries), options))

    results = {}  # (configuration, client) -> merged figures
    for round_index in range(args.rounds):
        order = list(clients) if round_index % 2 == 0 else list(reversed(clients))
        for name, options in configurations:
            for client in order:
                r = run_once(python, clients[client], options, args)
                merged = results.setdefault((name, client), {
                    "latencies_ms": [], "missed": 0, "errors": 0, "writes": 0,
                    "elections": 0, "round_medians_ms": [], "messages": []})
                merged["latencies_ms"] += r["latencies_ms"]
                merged["missed"] += r["missed"]
                merged["errors"] += r["errors"]
                merged["writes"] += r["writes"]
                merged["elections"] += args.elections
                if r["latencies_ms"]:
                    merged["round_medians_ms"].append(statistics.median(r["latencies_ms"]))
                merged["messages"] = (merged["messages"] + r["messages"])[:3]
                print("round %d  %-20s %-10s median %s ms, missed %d, errors %d" % (
                    round_index + 1, name, client,
                    "%.2f" % statistics.median(r["latencies_ms"]) if r["latencies_ms"] else "-",
                    r["missed"], r["errors"]), file=sys.stderr)

    print("\nElection to first successful write on the new primary: %d elections x %d rounds "
          "per row, a write every 2 ms, %d ms between elections" % (
              args.elections, args.rounds, args.interval_ms))
    print("%-20s %-10s %-24s %-22s %7s %7s %7s" % (
        "configuration", "client", "latency ms min/med/max", "round medians ms", "missed",
        "errors", "writes"))
    for (name, client), m in results.items():
        print("%-20s %-10s %-24s %-22s %7d %7d %7d" % (
            name, client, summary(m["latencies_ms"]),
            " ".join("%.2f" % v for v in m["round_medians_ms"]), m["missed"], m["errors"],
            m["writes"]))
    for (name, client), m in results.items():
        for message in m["messages"][:1]:
            print("  first error, %s %s: %s" % (client, name, message[:160]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump([dict(configuration=name, client=client, **m)
                       for (name, client), m in results.items()], f, indent=1)


if __name__ == "__main__":
    main()
