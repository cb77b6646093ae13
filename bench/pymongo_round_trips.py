#!/usr/bin/env python3
"""PyMongo's side of bench/round_trips_compare.sh; the same operations and "metric value" lines
as bench/client_round_trips.cpp (see there). Refuses to run without PyMongo's and bson's C
extensions (pymongo.has_c(), bson.has_c()): the pure-Python encoder would be a different driver.

    pymongo_round_trips.py URI DB COLL OPS KEYS [WARMUP]
"""
import sys
import time

import bson
import pymongo


def measure(kind, op, ops, keys, warmup):
    failures = 0
    for i in range(warmup):
        failures += not op(i % keys)
    process, thread, wall = time.process_time_ns(), time.thread_time_ns(), time.monotonic_ns()
    for i in range(ops):
        failures += not op(i % keys)
    process = time.process_time_ns() - process
    thread = time.thread_time_ns() - thread
    wall = time.monotonic_ns() - wall
    print(f'{kind}_cpu_ns_per_op {process / ops:.1f}')
    print(f'{kind}_thread_cpu_ns_per_op {thread / ops:.1f}')
    print(f'{kind}_wall_ns_per_op {wall / ops:.1f}')
    print(f'{kind}_ops {ops}')
    if failures:
        print(f'{kind}: {failures} operations missed their document', file=sys.stderr)
    return failures == 0


def main():
    if len(sys.argv) not in (6, 7):
        sys.exit('usage: pymongo_round_trips.py URI DB COLL OPS KEYS [WARMUP]')
    if not (bson.has_c() and pymongo.has_c()):
        sys.exit('PyMongo without its C extensions: not the driver users run')
    uri, db, coll_name = sys.argv[1:4]
    ops, keys = int(sys.argv[4]), int(sys.argv[5])
    warmup = int(sys.argv[6]) if len(sys.argv) == 7 else 100
    if not (0 < ops <= 1_000_000 and keys > 0 and warmup >= 0):
        sys.exit('OPS must be in 1..1000000, KEYS > 0, WARMUP >= 0')
    coll = pymongo.MongoClient(uri)[db][coll_name]
    inc = {'$inc': {'n': 1}}
    ok = measure('update_one', lambda k: coll.update_one({'_id': k}, inc).matched_count == 1,
                 ops, keys, warmup)
    ok &= measure('find_one', lambda k: coll.find_one({'_id': k}) is not None, ops, keys, warmup)
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
