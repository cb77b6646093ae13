"""PyMongo side of the failover comparison (bench/failover_compare.py): the same program as
bench/failover_client.cpp. One insert_one({_id: n}) into bench.failover started every 2 ms on
a fixed schedule (no burst to catch up after a slow write); "ready" after the first success;
runs until stdin closes, then prints {"writes", "errors", "messages"} as one JSON line.

    failover_client_pymongo.py URI [idle]

With "idle": one write, "ready", then nothing but the client's background threads until stdin
closes (bench/failover_compare.py --idle).
"""
import json
import sys
import threading
import time

import pymongo


def main():
    uri = sys.argv[1]
    stop = threading.Event()

    def watch_stdin():
        while sys.stdin.buffer.read1(64):
            pass
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    coll = pymongo.MongoClient(uri)["bench"]["failover"]
    if len(sys.argv) > 2 and sys.argv[2] == "idle":
        coll.insert_one({"_id": -1})
        print("ready", flush=True)
        stop.wait()
        print(json.dumps({"writes": 1, "errors": 0, "messages": []}), flush=True)
        return
    writes = errors = 0
    messages = []
    ready = False
    next_at = time.monotonic()
    while not stop.is_set():
        doc_id = writes
        writes += 1
        try:
            coll.insert_one({"_id": doc_id})
            if not ready:
                ready = True
                print("ready", flush=True)
        except pymongo.errors.PyMongoError as e:
            if ready:  # before the set is found, a failure is start-up, not failover
                errors += 1
                if len(messages) < 5:
                    messages.append(str(e))
        next_at += 0.002
        now = time.monotonic()
        if next_at < now:
            next_at = now
        time.sleep(next_at - now)
    print(json.dumps({"writes": writes, "errors": errors, "messages": messages}), flush=True)


if __name__ == "__main__":
    main()
