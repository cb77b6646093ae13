"""Self-test of replica_set.py: PyMongo (an independent driver) drives the mock through
discovery, streaming monitoring, stepdowns, a killed primary and retried writes, and raw sockets
check the wire details PyMongo does not exercise (checksums, OP_QUERY, exhaust framing, cursors,
refused connections).

    .venv/bin/python integration/mock/replica_set_selftest.py

Each test gets its own mock process. Prints one line per test; exits 0 when all pass, 1 with the
failing test's message otherwise. Every wait is bounded; the whole run takes well under 60 s.
"""
import json
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time

import bson
from bson import ObjectId
from bson.int64 import Int64
from pymongo import MongoClient, WriteConcern, monitoring
from pymongo.errors import AutoReconnect, NotPrimaryError, PyMongoError

MOCK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "replica_set.py")
OP_QUERY, OP_REPLY, OP_MSG = 2004, 1, 2013
CHECKSUM_PRESENT, MORE_TO_COME, EXHAUST_ALLOWED = 1, 2, 1 << 16


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def wait_until(predicate, timeout, interval=0.005):
    """True as soon as predicate() is, False after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class ReplicaSetMock:
    """replica_set.py as a subprocess: its ports, its control port, clients onto it."""

    def __init__(self):
        self.process = subprocess.Popen([sys.executable, MOCK], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE)
        ready, _, _ = select.select([self.process.stdout], [], [], 10)
        line = self.process.stdout.readline().decode() if ready else ""
        words = line.split()
        if len(words) != 4:
            self.close()
            raise Failure("replica_set.py printed %r, not 3 member ports and a control port" %
                          line)
        *self.ports, self.control_port = [int(w) for w in words]
        self.clients = []

    def host(self, i):
        return ("127.0.0.1", self.ports[i])

    def control(self, command):
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=5) as sock:
            sock.sendall(command.encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(1 << 16)
                if not chunk:
                    break
                data += chunk
        reply = json.loads(data)
        check(reply.get("ok"), "control %r failed: %s" % (command, reply))
        return reply

    def client(self, **options):
        seeds = ",".join("127.0.0.1:%d" % p for p in self.ports)
        options.setdefault("heartbeatFrequencyMS", 500)
        options.setdefault("serverSelectionTimeoutMS", 10000)
        client = MongoClient("mongodb://%s/?replicaSet=rs0" % seeds, **options)
        self.clients.append(client)
        return client

    def close(self):
        for client in self.clients:
            client.close()
        if self.process.stdin:
            self.process.stdin.close()  # the mock's signal to exit
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class RawConnection:
    """One socket to a member, speaking OP_MSG/OP_QUERY by hand."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.request_id = 0

    def close(self):
        self.sock.close()

    def send(self, body, flags=0, sequences=None):
        self.request_id += 1
        payload = struct.pack("<I", flags) + b"\x00" + bson.encode(body)
        for identifier, docs in (sequences or {}).items():
            section = identifier.encode() + b"\x00" + b"".join(bson.encode(d) for d in docs)
            payload += b"\x01" + struct.pack("<i", 4 + len(section)) + section
        if flags & CHECKSUM_PRESENT:
            payload += b"\x00\x00\x00\x00"  # the mock skips the CRC without checking it
        self.sock.sendall(struct.pack("<iiii", 16 + len(payload), self.request_id, 0, OP_MSG)
                          + payload)
        return self.request_id

    def send_legacy_hello(self):
        self.request_id += 1
        query = bson.encode({"isMaster": 1, "helloOk": True})
        payload = struct.pack("<i", 0) + b"admin.$cmd\x00" + struct.pack("<ii", 0, -1) + query
        self.sock.sendall(struct.pack("<iiii", 16 + len(payload), self.request_id, 0, OP_QUERY)
                          + payload)
        return self.request_id

    def read_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise Failure("the mock closed the connection")
            data += chunk
        return data

    def receive(self):
        """(flags, requestID, responseTo, document) of the next reply."""
        header = self.read_exact(16)
        length, request_id, response_to, opcode = struct.unpack("<iiii", header)
        data = self.read_exact(length - 16)
        if opcode == OP_REPLY:
            return 0, request_id, response_to, bson.decode(data[20:])
        check(opcode == OP_MSG, "reply opcode %d" % opcode)
        flags = struct.unpack_from("<I", data)[0]
        return flags, request_id, response_to, bson.decode(data[5:])

    def command(self, body, **kw):
        self.send(body, **kw)
        return self.receive()[3]


class Recorder(monitoring.CommandListener):
    """The (name, code) of every command that failed as PyMongo saw it: each one a retry or a
    surfaced error."""

    def __init__(self):
        self.failures = []

    def started(self, event):
        pass

    def succeeded(self, event):
        pass

    def failed(self, event):
        self.failures.append((event.command_name, event.failure.get("code")))


# ---- tests --------------------------------------------------------------------------------------

def test_discovery(rs):
    client = rs.client()
    client.admin.command("ping")
    check(wait_until(lambda: client.primary == rs.host(0) and len(client.secondaries) == 2, 5),
          "primary %s, secondaries %s (want member 0 and two secondaries)" %
          (client.primary, client.secondaries))
    kind = client.topology_description.topology_type_name
    check(kind == "ReplicaSetWithPrimary", "topology type %s" % kind)
    return "primary %s:%d, 2 secondaries" % rs.host(0)


def test_streaming(rs):
    # A heartbeat of 10 s: a stepdown noticed within 2 s cannot come from polling.
    client = rs.client(heartbeatFrequencyMS=10000)
    client.admin.command("ping")
    check(wait_until(lambda: rs.control("state")["streaming"] == [1, 1, 1], 3, 0.05),
          "exhaust hello streams open per member: %s" % rs.control("state")["streaming"])
    log = rs.control("log")["log"]
    awaited = {e["member"] for e in log if e["cmd"] == "hello" and e["topologyVersion"]
               and e["maxAwaitTimeMS"] == 10000 and e["exhaust"]}
    check(awaited == {0, 1, 2}, "members that got an awaitable exhaust hello: %s" % awaited)

    start = time.monotonic()
    rs.control("stepdown")
    noticed = wait_until(lambda: client.primary == rs.host(1), 2.0, 0.001)
    elapsed = time.monotonic() - start
    check(noticed, "the new primary (member 1) was not discovered within 2 s; primary %s" %
          (client.primary,))
    # The stepdown arrived as a streamed reply: no monitor had to send a new awaitable hello.
    renewed = [e for e in rs.control("log")["log"] if e["cmd"] == "hello" and e["topologyVersion"]]
    check(not renewed, "awaitable hellos re-sent after the stepdown: %s" % renewed)
    client.t.c.insert_one({"_id": 1})
    inserts = [e["member"] for e in rs.control("log")["log"] if e["cmd"] == "insert"]
    check(inserts == [1], "insert went to members %s, not [1]" % inserts)
    return "stepdown noticed in %.1f ms with heartbeatFrequencyMS=10000" % (elapsed * 1000)


def test_failover_loop(rs):
    recorder = Recorder()
    client = rs.client(retryWrites=True, retryReads=True, event_listeners=[recorder])
    coll = client.t.loop
    coll.insert_one({"_id": -1})
    # Fired from a thread at fixed times, so they land while operations are in flight.
    schedule = [(0.5, "kill 0"), (1.2, "revive 0"), (1.9, "stepdown")]
    fired = []

    def fire():
        start = time.monotonic()
        for at, command in schedule:
            time.sleep(max(0.0, start + at - time.monotonic()))
            fired.append((command, rs.control(command)["primary"]))

    thread = threading.Thread(target=fire, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    i = 0
    after = 0  # iterations since the last control command
    while i < 5000 and time.monotonic() < deadline and (thread.is_alive() or after < 50):
        try:
            coll.insert_one({"_id": i})
            found = coll.find_one({"_id": i})
        except PyMongoError as e:
            raise Failure("iteration %d (after %s): %s: %s" % (i, fired, type(e).__name__, e))
        check(found == {"_id": i}, "iteration %d read back %r" % (i, found))
        if not thread.is_alive():
            after += 1
        i += 1
    thread.join(5)
    check(len(fired) == 3, "only %s ran within 15 s" % fired)
    check([p for _, p in fired] == [1, 1, 2], "primaries after the commands: %s" % fired)
    ids = sorted(d["_id"] for d in coll.find({}, batch_size=50))
    check(ids == list(range(-1, i)), "%d documents for %d inserts (duplicates or losses)" %
          (len(ids), i + 1))
    check(client.primary == rs.host(2), "final primary %s, not member 2" % (client.primary,))
    return "%d insert+find iterations through kill 0 / revive 0 / stepdown; %d commands " \
           "failed and were retried: %s" % (i, len(recorder.failures), recorder.failures)


def test_no_retry_surfaces_error(rs):
    # Polling with a long heartbeat: in streaming mode the monitor usually learns of the
    # stepdown before the next insert is sent, so whether the error surfaces would be a race.
    client = rs.client(retryWrites=False, retryReads=False, heartbeatFrequencyMS=10000,
                       serverMonitoringMode="poll")
    coll = client.t.noretry
    coll.insert_one({"_id": "before"})
    rs.control("stepdown")
    errors = []
    deadline = time.monotonic() + 10
    recovered = False
    for i in range(100):
        if time.monotonic() > deadline:
            break
        try:
            coll.insert_one({"_id": i})
        except (NotPrimaryError, AutoReconnect) as e:
            errors.append(e)
            continue
        if errors:
            recovered = True
            break
    check(errors, "no NotWritablePrimary/AutoReconnect surfaced after the stepdown")
    first = errors[0]
    details = getattr(first, "details", None) or {}
    check(isinstance(first, NotPrimaryError) and details.get("code") == 10107,
          "first error %s: %s" % (type(first).__name__, details or first))
    check("errorLabels" not in details,
          "a write without txnNumber got errorLabels %s" % details.get("errorLabels"))
    check(recovered, "inserts never succeeded again after the error")
    txns = {e["txnNumber"] for e in rs.control("log")["log"] if e["cmd"] == "insert"}
    check(txns == {None}, "retryWrites=false inserts carried txnNumbers %s" % txns)
    return "%d error(s) surfaced (%s code %s), then the new primary took writes" % (
        len(errors), type(first).__name__, details.get("code"))


def test_retried_write_applied_once(rs):
    client = rs.client(retryWrites=True, retryReads=True)
    coll = client.t.once
    coll.insert_one({"_id": "warm-up"})
    rs.control("log")

    # The reply is lost after the insert was applied: the retry must be recognised, not
    # re-applied (a re-applied insert would fail with a duplicate key).
    rs.control("fail insert 1 network")
    coll.insert_one({"_id": "lost-reply", "v": 1})
    check(len(list(coll.find({"_id": "lost-reply"}))) == 1, "lost-reply stored more than once")
    inserts = [e for e in rs.control("log")["log"] if e["cmd"] == "insert"]
    check([e["outcome"] for e in inserts] == ["network", "retried"],
          "insert outcomes %s, want network then retried" % [e["outcome"] for e in inserts])
    check(inserts[0]["txnNumber"] is not None and
          inserts[0]["txnNumber"] == inserts[1]["txnNumber"] and
          inserts[0]["lsid"] and inserts[1]["lsid"],
          "the retry did not repeat lsid and txnNumber: %s" % inserts)

    # A retryable error code: not applied the first time, applied by the retry.
    rs.control("fail insert 1 91 RetryableWriteError")
    coll.insert_one({"_id": "shutdown"})
    outcomes = [(e["outcome"], e["code"]) for e in rs.control("log")["log"] if e["cmd"] == "insert"]
    check(outcomes == [("error", 91), ("ok", None)], "insert outcomes %s" % outcomes)

    rs.control("fail find 1 network")
    found = coll.find_one({"_id": "shutdown"})
    check(found == {"_id": "shutdown"}, "retried read returned %r" % found)
    finds = [e["outcome"] for e in rs.control("log")["log"] if e["cmd"] == "find"]
    check(finds == ["network", "ok"], "find outcomes %s" % finds)

    ids = sorted(d["_id"] for d in coll.find())
    check(ids == ["lost-reply", "shutdown", "warm-up"], "documents %s" % ids)
    return "lost reply: 2 inserts, 1 document; code 91: retried once; find retried once"


def test_crud_and_sessions(rs):
    client = rs.client()
    coll = client.t.crud
    coll.insert_many([{"_id": i, "k": i % 2} for i in range(10)])
    check(coll.update_many({"k": 1}, {"$set": {"odd": True}}).modified_count == 5, "update_many")
    result = coll.update_one({"_id": 42}, {"$set": {"k": 9}}, upsert=True)
    check(result.upserted_id == 42 and coll.find_one({"_id": 42}) == {"_id": 42, "k": 9},
          "upsert: %s" % result.raw_result)
    coll.replace_one({"_id": 0}, {"k": 7})
    check(coll.find_one({"_id": 0}) == {"_id": 0, "k": 7}, "replacement")
    check(coll.delete_many({"k": 1}).deleted_count == 5, "delete_many")
    check(coll.delete_one({"k": 9}).deleted_count == 1, "delete_one")
    ids = [d["_id"] for d in coll.find({}, skip=1, limit=3, batch_size=2)]
    check(ids == [2, 4, 6], "find skip 1 limit 3 batch 2: %s" % ids)
    check(rs.control("state")["cursors"] == [0, 0, 0], "cursors left open after a limit")
    try:
        coll.find_one({"k": {"$gt": 1}})
        raise Failure("an operator filter was not refused")
    except PyMongoError as e:
        check(getattr(e, "code", None) == 2, "operator filter: %s" % e)
    coll.with_options(write_concern=WriteConcern(w=0)).insert_one({"_id": "w0"})
    check(wait_until(lambda: coll.find_one({"_id": "w0"}) is not None, 2, 0.05),
          "the unacknowledged insert (moreToCome) was not applied")
    log = rs.control("log")["log"]
    # Implicit sessions on acknowledged commands; none on the unacknowledged insert.
    inserts = [e["lsid"] for e in log if e["cmd"] == "insert"]
    check(inserts == [True, False], "lsid on the inserts (w:1 then w:0): %s" % inserts)
    check(all(e["lsid"] for e in log if e["cmd"] == "find"), "a find without lsid")
    client.close()
    ended = rs.control("state")["endedSessions"]
    check(ended, "client.close() sent no endSessions")
    return "insert/update/upsert/replace/delete/find, w:0, %d ended session(s)" % len(ended)


def test_wire_details(rs):
    primary, secondary = RawConnection(rs.ports[0]), RawConnection(rs.ports[1])
    try:
        # The legacy handshake: OP_QUERY in, OP_REPLY out, `ismaster` spelling.
        secondary.send_legacy_hello()
        _, _, _, hello = secondary.receive()
        check(hello.get("ismaster") is False and hello.get("secondary") is True
              and hello.get("primary") == "127.0.0.1:%d" % rs.ports[0]
              and "electionId" not in hello and "$clusterTime" in hello,
              "legacy hello from a secondary: %s" % hello)
        hello = primary.command({"hello": 1, "$db": "admin"}, flags=CHECKSUM_PRESENT)
        check(hello.get("isWritablePrimary") is True and isinstance(hello.get("electionId"),
                                                                    ObjectId),
              "hello from the primary (with a checksum): %s" % hello)

        # Document sequences, and the cluster time advancing on writes.
        reply = primary.command({"insert": "c", "$db": "t"},
                                sequences={"documents": [{"_id": i} for i in range(5)]})
        check(reply.get("n") == 5, "insert from a document sequence: %s" % reply)
        check(reply["operationTime"] > hello["operationTime"], "cluster time did not advance")

        # Writes on a secondary; the label only with a txnNumber.
        lsid = {"id": bson.Binary(os.urandom(16), 4)}
        reply = secondary.command({"insert": "c", "$db": "t", "documents": [{}], "lsid": lsid,
                                   "txnNumber": Int64(1)})
        check(reply.get("code") == 10107 and reply.get("errorLabels") == ["RetryableWriteError"],
              "retryable write on a secondary: %s" % reply)
        reply = secondary.command({"insert": "c", "$db": "t", "documents": [{}]})
        check(reply.get("code") == 10107 and "errorLabels" not in reply,
              "plain write on a secondary: %s" % reply)

        # Reads on a secondary need a non-primary read preference.
        reply = secondary.command({"find": "c", "$db": "t"})
        check(reply.get("code") == 13435, "find on a secondary without secondaryOk: %s" % reply)
        reply = secondary.command({"find": "c", "$db": "t", "batchSize": 2,
                                   "$readPreference": {"mode": "secondaryPreferred"}})
        cursor = reply["cursor"]
        check(len(cursor["firstBatch"]) == 2 and cursor["id"] != 0,
              "find batchSize 2 on a secondary: %s" % reply)
        cursor_id = cursor["id"]

        # Cursors belong to their member.
        reply = primary.command({"getMore": Int64(cursor_id), "collection": "c", "$db": "t"})
        check(reply.get("code") == 43, "getMore on another member: %s" % reply)
        reply = secondary.command({"getMore": Int64(cursor_id), "collection": "c", "$db": "t",
                                   "batchSize": 2})
        check([d["_id"] for d in reply["cursor"]["nextBatch"]] == [2, 3],
              "getMore: %s" % reply)
        check(rs.control("state")["cursors"] == [0, 1, 0], "open cursors per member")
        reply = secondary.command({"killCursors": "c", "$db": "t",
                                   "cursors": [Int64(cursor_id), Int64(12345)]})
        check(reply.get("cursorsKilled") == [cursor_id] and reply.get("cursorsNotFound") == [12345],
              "killCursors: %s" % reply)

        # Awaitable hello without exhaust: held for maxAwaitTimeMS when nothing changes.
        version = secondary.command({"hello": 1, "$db": "admin"})["topologyVersion"]
        start = time.monotonic()
        reply = secondary.command({"hello": 1, "$db": "admin", "topologyVersion": version,
                                   "maxAwaitTimeMS": 300})
        held = time.monotonic() - start
        check(0.25 < held < 1.5 and reply["topologyVersion"] == version,
              "awaitable hello held %.3f s, version %s" % (held, reply["topologyVersion"]))
        stale = dict(version, counter=Int64(version["counter"] - 1))
        for other in (stale, dict(version, processId=ObjectId())):
            start = time.monotonic()
            secondary.command({"hello": 1, "$db": "admin", "topologyVersion": other,
                               "maxAwaitTimeMS": 5000})
            check(time.monotonic() - start < 0.5, "a different topologyVersion was held")

        # Exhaust: replies keep coming unasked, each responding to the previous one.
        request_id = secondary.send({"hello": 1, "$db": "admin", "topologyVersion": version,
                                     "maxAwaitTimeMS": 200}, flags=EXHAUST_ALLOWED)
        response_to = request_id
        for _ in range(2):
            flags, reply_id, got_to, reply = secondary.receive()
            check(flags & MORE_TO_COME and got_to == response_to,
                  "streamed reply flags %d responseTo %d (want %d)" % (flags, got_to, response_to))
            response_to = reply_id
        # A stream held for 5 s answers a stepdown at once, with the counter incremented.
        streamer = RawConnection(rs.ports[1])
        try:
            streamer.send({"hello": 1, "$db": "admin", "topologyVersion": version,
                           "maxAwaitTimeMS": 5000}, flags=EXHAUST_ALLOWED)
            time.sleep(0.1)
            start = time.monotonic()
            rs.control("stepdown")
            flags, _, _, reply = streamer.receive()
            fired = time.monotonic() - start
        finally:
            streamer.close()
        check(fired < 2 and flags & MORE_TO_COME and reply.get("isWritablePrimary") is True
              and reply["topologyVersion"]["counter"] == version["counter"] + 1,
              "streamed reply after the stepdown (%.3f s): %s" % (fired, reply))
    finally:
        primary.close()
        secondary.close()

    # A killed member refuses connections; revived, it is a new process.
    before = rs.control("state")
    rs.control("kill 2")
    try:
        socket.create_connection(("127.0.0.1", rs.ports[2]), timeout=2).close()
        raise Failure("a killed member accepted a connection")
    except ConnectionRefusedError:
        pass
    rs.control("revive 2")
    after = rs.control("state")
    check(after["alive"] == [True] * 3 and after["counters"][2] == 0 and
          after["processIds"][2] != before["processIds"][2], "after revive: %s" % after)
    revived = RawConnection(rs.ports[2])
    try:
        reply = revived.command({"hello": 1, "$db": "admin"})
        check(reply.get("secondary") is True, "revived member's hello: %s" % reply)
    finally:
        revived.close()
    return "OP_QUERY, checksum, document sequence, 10107/13435/43, awaitable and exhaust " \
           "hello (stepdown streamed in %.1f ms), kill/revive" % (fired * 1000)


TESTS = [test_discovery, test_streaming, test_failover_loop, test_no_retry_surfaces_error,
         test_retried_write_applied_once, test_crud_and_sessions, test_wire_details]


def main():
    started = time.monotonic()
    failed = 0
    for test in TESTS:
        if time.monotonic() - started > 60:
            print("FAIL %s: not run, the 60 s budget is spent" % test.__name__, flush=True)
            failed += 1
            continue
        test_start = time.monotonic()
        try:
            with ReplicaSetMock() as rs:
                detail = test(rs)
            print("ok   %s (%.2f s): %s" % (test.__name__, time.monotonic() - test_start, detail),
                  flush=True)
        except Failure as e:
            failed += 1
            print("FAIL %s (%.2f s): %s" % (test.__name__, time.monotonic() - test_start, e),
                  flush=True)
        except Exception as e:  # an unexpected driver or socket error is a failure too
            failed += 1
            print("FAIL %s (%.2f s): %s: %s" % (test.__name__, time.monotonic() - test_start,
                                                type(e).__name__, e), flush=True)
    total = time.monotonic() - started
    print("%s: %d of %d tests passed in %.1f s" % ("ok" if not failed else "FAILED",
                                                   len(TESTS) - failed, len(TESTS), total))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
