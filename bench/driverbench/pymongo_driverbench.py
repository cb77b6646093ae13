#!/usr/bin/env python3
"""PyMongo's side of DriverBench: the same tasks, command line and output as
mongoslice_driverbench.cpp (see there and bench/driverbench/README.md).

    pymongo_driverbench.py URI DATA_DIR ITERATIONS SEED SCALE LDJSON_FILES TASK...

Refuses to run without PyMongo's C extensions (bson.has_c() and pymongo.has_c()). Its native
document type is dict: decode is bson.decode to a dict, then a visit of every value; encode is
bson.encode of that dict.
"""
import os
import resource
import shutil
import sys
import tempfile
import time

import bson
import pymongo
from bson import json_util

sink = 0


def cpu_s():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def visit(value):
    global sink
    if isinstance(value, dict):
        for k, v in value.items():
            sink += len(k)
            visit(v)
    elif isinstance(value, list):
        for v in value:
            visit(v)
    elif isinstance(value, (str, bytes)):
        sink += len(value)
    elif isinstance(value, bson.Code):
        sink += len(value)
        if value.scope is not None:
            visit(value.scope)
    else:
        sink += 1


def load_json(path):
    with open(path) as f:
        return json_util.loads(f.read(), json_options=json_util.CANONICAL_JSON_OPTIONS)


def measure(name, iterations, ops, task, before=None):
    wall, cpu = [], 0.0
    try:
        for _ in range(iterations):
            if before:
                before()
            c0, t0 = cpu_s(), time.monotonic()
            task()
            wall.append(time.monotonic() - t0)
            cpu += cpu_s() - c0
    except Exception as e:  # reported, never hidden
        print(f"{name} error={type(e).__name__}: {e}".replace("\n", " "), flush=True)
        return
    print(f"{name} wall={','.join(f'{t:.9f}' for t in wall)} cpu={cpu:.6f} ops={ops}", flush=True)


def bson_task(name, data, iterations):
    dataset = name.split("_")[1]
    doc = load_json(os.path.join(data, "extended_bson", f"{dataset}_bson.json"))
    ops = 10_000
    if name.endswith("_encode"):
        def task():
            global sink
            for _ in range(ops):
                sink += len(bson.encode(doc))
    else:
        raw = bson.encode(doc)

        def task():
            for _ in range(ops):
                visit(bson.decode(raw))
    measure(name, iterations, ops, task)


def driver_task(name, uri, data, iterations, seed, scale, ldjson_files):
    client = pymongo.MongoClient(uri)
    db = client.perftest
    coll = db.corpus
    ops = 10_000 // scale
    single = os.path.join(data, "single_and_multi_document")

    def fresh():
        coll.drop()
        db.create_collection("corpus")

    if name == "run_command":
        def task():
            for _ in range(ops):
                client.admin.command("hello", True)
        measure(name, iterations, ops, task)
    elif name == "find_one":
        tweet = load_json(os.path.join(single, "tweet.json"))
        if seed:
            client.drop_database("perftest")
            for start in range(1, ops + 1, 1000):
                coll.insert_many([dict(tweet, _id=i) for i in range(start, min(start + 1000, ops + 1))])

        def task():
            global sink
            for i in range(1, ops + 1):
                found = coll.find_one({"_id": i})
                if found is None:
                    raise RuntimeError(f"find_one: no document with _id {i}")
                sink += len(found)
        measure(name, iterations, ops, task)
    elif name in ("insert_one_small", "insert_one_large"):
        large = name.endswith("large")
        doc = load_json(os.path.join(single, "large_doc.json" if large else "small_doc.json"))
        n = 10 if large else ops
        client.drop_database("perftest")

        def task():
            for _ in range(n):
                coll.insert_one(dict(doc))  # a copy: insert_one adds _id to the dict it is given
        measure(name, iterations, n, task, fresh)
    elif name == "find_many":
        tweet = load_json(os.path.join(single, "tweet.json"))
        if seed:
            client.drop_database("perftest")
            for start in range(0, ops, 1000):
                coll.insert_many([dict(tweet) for _ in range(min(1000, ops - start))])

        def task():
            global sink
            docs = 0
            for doc in coll.find({}):
                docs += 1
                sink += len(doc["text"])  # read one field of every document
            if docs != ops:
                raise RuntimeError(f"find_many: {docs} documents")
        measure(name, iterations, ops, task)
    elif name in ("insert_many_small", "insert_many_large"):
        large = name.endswith("large")
        doc = load_json(os.path.join(single, "large_doc.json" if large else "small_doc.json"))
        n = 10 if large else ops
        client.drop_database("perftest")

        def task():
            coll.insert_many([dict(doc) for _ in range(n)])
        measure(name, iterations, n, task, fresh)
    elif name in ("ldjson_import", "ldjson_export"):
        paths = [os.path.join(data, "parallel", "ldjson_multi", f"ldjson{i:03d}.txt")
                 for i in range(ldjson_files)]

        def import_all():
            for path in paths:
                with open(path) as f:
                    coll.insert_many([json_util.loads(line) for line in f if line.strip()])
        total = 5000 * len(paths)
        if name == "ldjson_import":
            client.drop_database("perftest")
            measure(name, iterations, total, import_all, fresh)
        else:
            fresh()
            import_all()
            out_dir = tempfile.mkdtemp(prefix="pymongo-driverbench-export-")

            def export():
                docs = 0
                out = None
                for doc in coll.find({}):
                    if docs % 5000 == 0:
                        if out:
                            out.close()
                        out = open(os.path.join(out_dir, f"ldjson{docs // 5000:03d}.txt"), "w")
                    out.write(json_util.dumps(doc))
                    out.write("\n")
                    docs += 1
                if out:
                    out.close()
                if docs != total:
                    raise RuntimeError(f"ldjson_export: {docs} documents")
            measure(name, iterations, total, export)
            shutil.rmtree(out_dir, ignore_errors=True)
    else:
        print(f"{name} error=unknown task", flush=True)
    client.close()


def main():
    if len(sys.argv) < 8:
        sys.exit(f"usage: {sys.argv[0]} URI DATA_DIR ITERATIONS SEED SCALE LDJSON_FILES TASK...")
    if not (bson.has_c() and pymongo.has_c()):
        sys.exit("PyMongo's C extensions are missing (bson.has_c() / pymongo.has_c() is False)")
    print(f"# bson.has_c()={bson.has_c()} pymongo.has_c()={pymongo.has_c()} "
          f"pymongo={pymongo.version}", file=sys.stderr)
    uri, data = sys.argv[1], sys.argv[2]
    iterations, seed, scale, files = (int(a) for a in sys.argv[3:7])
    for name in sys.argv[7:]:
        try:
            if name.startswith("bson_"):
                bson_task(name, data, iterations)
            else:
                driver_task(name, uri, data, iterations, seed, max(1, scale), files)
        except Exception as e:
            print(f"{name} error={type(e).__name__}: {e}".replace("\n", " "), flush=True)


if __name__ == "__main__":
    main()
