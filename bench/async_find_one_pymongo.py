#!/usr/bin/env python3
"""bench/run_async.sh, PyMongo's AsyncMongoClient: IN_FLIGHT asyncio tasks on one event loop share
one client (the URI's maxPoolSize must be >= IN_FLIGHT) and each awaits find_one({'_id': k}) in a
loop. Phases and the output line: as bench/async_find_one_mongoslice_sync.cpp (see there), with
kind=pymongo_async; CPU is time.process_time() (user+sys of the process, as getrusage gives it).
Refuses to run without PyMongo's and bson's C extensions.

    async_find_one_pymongo.py URI TOTAL IN_FLIGHT
"""
import asyncio
import os
import sys
import time

import bson
import pymongo

PAGE_KIB = os.sysconf('SC_PAGESIZE') / 1024


def rss_kib():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * PAGE_KIB


def peak_rss_kib():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return float(line.split()[1])
    return 0.0


async def run(uri, total, in_flight):
    client = pymongo.AsyncMongoClient(uri)
    coll = client.bench.c

    async def find_one(k):
        try:
            doc = await coll.find_one({'_id': k})
            return doc is not None and doc['_id'] == k
        except pymongo.errors.PyMongoError as e:
            print(f'find_one: {e}', file=sys.stderr)
            return False

    if not await find_one(-1):
        sys.exit(1)
    rss_base = rss_kib()
    state = {'ready': 0, 'next': 0, 'running': in_flight, 'failures': 0, 'rss_mid': 0.0,
             'fds_mid': 0}
    go, done = asyncio.Event(), asyncio.Event()
    clocks = {}

    async def worker(w):
        for _ in range(2):
            state['failures'] += not await find_one(-2 - w)
        state['ready'] += 1
        if state['ready'] == in_flight:
            state['warmup_failures'] = state['failures']
            state['failures'] = 0
            clocks['t0'], clocks['cpu0'] = time.monotonic(), time.process_time()
            go.set()
        else:
            await go.wait()
        while state['next'] < total:
            k = state['next']
            state['next'] += 1
            if k == total // 2:
                state['rss_mid'] = rss_kib()
                state['fds_mid'] = len(os.listdir('/proc/self/fd'))
            state['failures'] += not await find_one(k)
        state['running'] -= 1
        if state['running'] == 0:
            clocks['t1'], clocks['cpu1'] = time.monotonic(), time.process_time()
            clocks['rss_peak'] = peak_rss_kib()
            done.set()

    tasks = [asyncio.create_task(worker(w)) for w in range(in_flight)]
    await done.wait()
    await asyncio.gather(*tasks)
    await client.close()
    seconds = clocks['t1'] - clocks['t0']
    cpu = clocks['cpu1'] - clocks['cpu0']
    failures = state['failures'] + state['warmup_failures']
    print(f"kind=pymongo_async in_flight={in_flight} ops={total} seconds={seconds:.4f} "
          f"ops_per_s={total / seconds:.1f} cpu_us_per_op={cpu * 1e6 / total:.2f} "
          f"rss_base_kib={rss_base:.0f} "
          f"rss_steady_kib_per_op={(state['rss_mid'] - rss_base) / in_flight:.3f} "
          f"rss_peak_kib_per_op={(clocks['rss_peak'] - rss_base) / in_flight:.3f} "
          f"fds_mid={state['fds_mid']} failures={failures}")
    return failures == 0


def main():
    if len(sys.argv) != 4:
        sys.exit('usage: async_find_one_pymongo.py URI TOTAL IN_FLIGHT')
    if not (bson.has_c() and pymongo.has_c()):
        sys.exit('PyMongo without its C extensions: not the driver users run')
    uri, total, in_flight = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if not (0 < total <= 10_000_000 and 0 < in_flight <= 10_000):
        sys.exit('TOTAL must be in 1..10000000, IN_FLIGHT in 1..10000')
    sys.exit(0 if asyncio.run(run(uri, total, in_flight)) else 1)


if __name__ == '__main__':
    main()
