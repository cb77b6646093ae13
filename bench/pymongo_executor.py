"""PyMongo's own PeriodicExecutor measured like bench/executor_metrics.cpp measures ours.

Modes (same output format, "metric value" lines):
  idle N INTERVAL_S IDLE_S  context switches per executor thread per second while idle
  close TRIALS              close() until join() returns, p50/p99 (microseconds)
  wake TRIALS               wake() until the target starts, p50/p99 (microseconds)
  rss N                     resident memory added per open executor (KiB)
  exit N                    N executors (half asleep, half inside a 100 ms target), prints
                            "ready <CLOCK_MONOTONIC ns>" and returns from the main module

min_interval is 0.5 s, what PyMongo's monitors use (common.MIN_HEARTBEAT_INTERVAL): its thread
sleeps in steps of min_interval and looks at the close/wake flags between steps. Close and
wake are issued at a random phase of that step, so one trial takes up to 1 s: the runner asks
for fewer trials than for ours.
"""

import atexit
import os
import random
import sys
import threading
import time

from pymongo.synchronous.periodic_executor import PeriodicExecutor, _shutdown_executors

MIN_INTERVAL = 0.5

# PyMongo registers this at exit from pymongo.synchronous.monitor; importing that module pulls
# in the whole client, so register the same function here.
atexit.register(_shutdown_executors)


def status_field(path, key):
    with open(path) as f:
        for line in f:
            if line.startswith(key):
                return int(line[len(key) :].split()[0])
    return 0


def executor_thread_switches():
    pid = str(os.getpid())
    total = 0
    for tid in os.listdir("/proc/self/task"):
        if tid == pid:
            continue
        path = f"/proc/self/task/{tid}/status"
        try:
            total += status_field(path, "voluntary_ctxt_switches:")
            total += status_field(path, "nonvoluntary_ctxt_switches:")
        except FileNotFoundError:
            pass
    return total


def print_percentiles(name, micros):
    micros.sort()

    def at(q):
        return micros[min(len(micros) - 1, int(q * len(micros)))]

    print(f"{name}_trials {len(micros)}")
    print(f"{name}_p50_us {at(0.5):.1f}")
    print(f"{name}_p99_us {at(0.99):.1f}")
    print(f"{name}_max_us {micros[-1]:.1f}")


class Runs:
    """Counts target runs; records when the last one started."""

    def __init__(self):
        self.count = 0
        self.started = 0.0
        self.cond = threading.Condition()

    def target(self):
        with self.cond:
            self.started = time.monotonic()
            self.count += 1
            self.cond.notify_all()
        return True

    def wait_above(self, seen):
        with self.cond:
            self.cond.wait_for(lambda: self.count > seen, timeout=30)


def idle(n, interval_s, idle_s):
    runs = Runs()
    executors = []
    for i in range(n):
        e = PeriodicExecutor(interval_s, MIN_INTERVAL, runs.target, name=f"idle-{i}")
        e.open()
        executors.append(e)
    runs.wait_above(n - 1)
    time.sleep(0.1)
    before = executor_thread_switches()
    start = time.monotonic()
    time.sleep(idle_s)
    after = executor_thread_switches()
    seconds = time.monotonic() - start
    print(f"idle_executors {n}\nidle_seconds {seconds:.1f}\nidle_runs {runs.count}")
    print(f"idle_switches_per_executor_per_s {(after - before) / n / seconds:.4f}")
    for e in executors:
        e.close()


def close_latency(trials):
    rng = random.Random(42)
    micros = []
    for _ in range(trials):
        runs = Runs()
        e = PeriodicExecutor(3600, MIN_INTERVAL, runs.target, name="close-bench")
        e.open()
        runs.wait_above(0)
        time.sleep(rng.uniform(0.001, MIN_INTERVAL))
        start = time.monotonic()
        e.close()
        e.join(5)
        micros.append((time.monotonic() - start) * 1e6)
    print_percentiles("close", micros)


def wake_latency(trials):
    rng = random.Random(7)
    micros = []
    runs = Runs()
    e = PeriodicExecutor(3600, MIN_INTERVAL, runs.target, name="wake-bench")
    e.open()
    runs.wait_above(0)
    for _ in range(trials):
        time.sleep(rng.uniform(0.001, MIN_INTERVAL))
        seen = runs.count
        start = time.monotonic()
        e.wake()
        runs.wait_above(seen)
        micros.append((runs.started - start) * 1e6)
    e.close()
    print_percentiles("wake", micros)


def rss(n):
    runs = Runs()
    before = status_field("/proc/self/status", "VmRSS:")
    executors = []
    for i in range(n):
        e = PeriodicExecutor(3600, MIN_INTERVAL, runs.target, name=f"rss-{i}")
        e.open()
        executors.append(e)
    runs.wait_above(n - 1)
    time.sleep(0.2)
    after = status_field("/proc/self/status", "VmRSS:")
    print(f"rss_executors {n}\nrss_kib_per_executor {(after - before) / n:.1f}")
    for e in executors:
        e.close()


def exit_with_executors(n):
    runs = Runs()

    def busy():
        runs.target()
        time.sleep(0.1)
        return True

    for i in range(n):
        if i % 2:
            e = PeriodicExecutor(0, MIN_INTERVAL, busy, name=f"exit-{i}")
        else:
            e = PeriodicExecutor(3600, MIN_INTERVAL, runs.target, name=f"exit-{i}")
        e.open()
        # Kept alive by its thread only, like an executor of an unreferenced client.
    runs.wait_above(n - 1)
    print(f"ready {time.monotonic_ns()}", flush=True)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    args = [int(a) for a in sys.argv[2:]]
    modes = {
        "idle": lambda: idle(*(args or [100, 10, 20])),
        "close": lambda: close_latency(*(args or [50])),
        "wake": lambda: wake_latency(*(args or [50])),
        "rss": lambda: rss(*(args or [1000])),
        "exit": lambda: exit_with_executors(*(args or [50])),
    }
    if mode not in modes:
        sys.exit(f"usage: {sys.argv[0]} idle|close|wake|rss|exit [args]")
    modes[mode]()


if __name__ == "__main__":
    main()
