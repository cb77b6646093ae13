#!/usr/bin/env python3
"""PyMongo's side of bench/cursor_compare.sh; prints the same "metric value" lines as
bench/client_cursors.cpp. PyMongo's Cursor.__del__ only appends the id to a list; its
kill-cursors executor sends them later (every kKillCursorFrequency = 1 s).

    pymongo_cursors.py FERRETDB_URI DB COLL MOCK_URI
"""
import resource
import statistics
import sys
import time
import tracemalloc

import pymongo


def cpu_seconds():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def main():
    ferret_uri, db, coll_name, mock_uri = sys.argv[1:5]
    client = pymongo.MongoClient(ferret_uri)
    coll = client[db][coll_name]

    # (1) Destruction of live cursors (the reference drop runs __del__), in rounds: FerretDB's
    # SQLite backend blocks beyond ~100 open cursors, and PyMongo kills them only every second.
    ns = []
    blocks = 0
    tracemalloc.start()
    for _ in range(20):
        cursors = []
        for _ in range(25):
            c = coll.find({}, batch_size=1)
            next(c)
            cursors.append(c)
        for i in range(len(cursors)):
            before = tracemalloc.get_traced_memory()[0]
            start = time.perf_counter_ns()
            cursors[i] = None
            ns.append(time.perf_counter_ns() - start)
            blocks += tracemalloc.get_traced_memory()[0] > before
        time.sleep(1.1)
    tracemalloc.stop()
    print('destroy_median_ns', int(statistics.median(ns)))
    # tracemalloc cannot count allocations one by one; this is destructions that left memory
    # allocated (the id appended to the client's list), a lower bound.
    print('destroy_allocs', f'{blocks / len(ns):.3f}')

    # (2) Kill latency at the mock server's clock (time.monotonic_ns is CLOCK_MONOTONIC).
    mock = pymongo.MongoClient(mock_uri)
    mock.admin.command('mockReset')
    mcoll = mock.bench.latency
    destroyed = {}
    for _ in range(10):  # each waits for the 1 s executor, so few trials
        c = mcoll.find({})
        next(c)
        cid = c.cursor_id
        t0 = time.monotonic_ns()
        del c
        destroyed[cid] = t0
        time.sleep(0.3)
    time.sleep(1.2)
    ms = []
    for kill in mock.admin.command('mockKills')['kills']:
        for cid in kill['cursors']:
            if cid in destroyed:
                ms.append((kill['t'] - destroyed[cid]) / 1e6)
    print('kill_latency_median_ms', f'{statistics.median(ms):.3f}' if ms else -1)
    print('kill_latency_samples', len(ms))

    # (3) Iteration CPU per document.
    before = cpu_seconds()
    docs = 0
    for _ in coll.find({}, batch_size=1000):
        docs += 1
    cpu = cpu_seconds() - before
    print('iterate_docs', docs)
    print('iterate_cpu_ns_per_doc', f'{cpu * 1e9 / docs:.1f}' if docs else 0)


if __name__ == '__main__':
    main()
