"""PyMongo side of the idle-clients comparison (bench/idle_clients_compare.sh; ours is
bench/idle_clients.cpp): N MongoClients, each with one server, idle, with
serverMonitoringMode=poll (no RTT thread, like mongoslice's polling monitors; the responder has
no topologyVersion, so streaming would not start anyway). Client i uses the i-th host (cycling).

Usage: pymongo_idle_clients.py CLIENTS SECONDS WARMUP_SECONDS HEARTBEAT_MS host:port ...

Same protocol as ours: every client runs {ping: 1}, the program sleeps WARMUP_SECONDS, reads
each thread's voluntary + involuntary context switches from /proc/<pid>/task/*/status, idles
SECONDS, reads them again and prints one JSON line with the switches in the window by thread
kind. Python threads all show the process name in /proc, so kinds come from threading's names
(matched to kernel tids by Thread.native_id): "monitor" pymongo_server_monitor_thread, "rtt"
pymongo_server_rtt_thread, "kill" pymongo_kill_cursors_thread (which also runs
_process_periodic_tasks), "other" the rest (this main thread).
"""
import json
import os
import sys
import threading
import time

from pymongo import MongoClient, monitoring

KINDS = {"pymongo_server_monitor_thread": "monitor", "pymongo_server_rtt_thread": "rtt",
         "pymongo_kill_cursors_thread": "kill"}


class Heartbeats(monitoring.ServerHeartbeatListener):
    count = 0

    def started(self, event):
        pass

    def succeeded(self, event):
        Heartbeats.count += 1

    def failed(self, event):
        pass


def sample():
    """tid -> (voluntary, involuntary) for every thread of this process."""
    threads = {}
    task = f"/proc/{os.getpid()}/task"
    for tid in os.listdir(task):
        try:
            counts = {}
            with open(f"{task}/{tid}/status") as status:
                for line in status:
                    key, _, value = line.partition(":")
                    if key in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
                        counts[key] = int(value)
            threads[int(tid)] = (counts["voluntary_ctxt_switches"],
                                 counts["nonvoluntary_ctxt_switches"])
        except (FileNotFoundError, KeyError):
            pass  # the thread just ended
    return threads


def main():
    clients, seconds, warmup = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    heartbeat_ms, hosts = int(sys.argv[4]), sys.argv[5:]
    pool = [MongoClient(hosts[i % len(hosts)], heartbeatFrequencyMS=heartbeat_ms,
                        serverMonitoringMode="poll", event_listeners=[Heartbeats()])
            for i in range(clients)]
    for client in pool:
        client.admin.command("ping")
    time.sleep(warmup)

    beats_before = Heartbeats.count
    before = sample()
    t0 = time.monotonic()
    time.sleep(seconds)
    after = sample()
    elapsed = time.monotonic() - t0
    beats = Heartbeats.count - beats_before

    names = {t.native_id: t.name for t in threading.enumerate()}
    kinds = {k: {"threads": 0, "voluntary": 0, "involuntary": 0}
             for k in ("monitor", "rtt", "kill", "other")}
    others = {}
    for tid, (voluntary, involuntary) in after.items():
        name = names.get(tid, "?")
        kind = KINDS.get(name, "other")
        v0, i0 = before.get(tid, (0, 0))
        kinds[kind]["threads"] += 1
        kinds[kind]["voluntary"] += voluntary - v0
        kinds[kind]["involuntary"] += involuntary - i0
        if kind == "other":
            others[name] = others.get(name, 0) + 1
    print(json.dumps({
        "side": "PyMongo", "clients": clients, "servers_per_client": 1,
        "heartbeat_ms": heartbeat_ms, "seconds": elapsed, "heartbeats": beats, "kinds": kinds,
        "other_threads": others,
        "threads_started_in_window": sum(tid not in before for tid in after),
        "threads_ended_in_window": sum(tid not in after for tid in before),
    }), flush=True)
    for client in pool:
        client.close()


if __name__ == "__main__":
    main()
