"""N mockupdb servers on 127.0.0.1 whose roles the test changes at runtime, for topology tests.

Usage: topology_members.py N replset|mongos

Prints the N ports on the first stdout line ("p1 p2 p3"). Then reads commands on stdin, one a
line, applies each and answers "ok <command>" (so the test knows it took effect):
  primary I   member I answers as primary with a higher electionId; the others as secondaries
  hang I      member I keeps accepting but never answers hello again
  stop I      member I closes its listener and every connection (refused from now on)
Members are numbered from 0. A mongos set answers {msg: "isdbgrid"}. Exits when stdin closes or
after 120 s.
"""
import select
import sys

from bson import ObjectId
from mockupdb import MockupDB

LIFETIME_SECONDS = 120

count = int(sys.argv[1])
kind = sys.argv[2]
servers = [MockupDB(port=0, request_timeout=int(1e6)) for _ in range(count)]
ports = [s.run() for s in servers]
hosts = ["127.0.0.1:%d" % p for p in ports]
responders = [[] for _ in servers]
election = [0]


def answer(i, doc):
    """Makes member i answer hello/isMaster with doc (the newest responder wins; older ones go)."""
    for r in responders[i]:
        servers[i].cancel_responder(r)
    base = {"ok": 1, "maxWireVersion": 21, "minWireVersion": 0, "helloOk": True,
            "maxBsonObjectSize": 16 * 1024 * 1024, "maxMessageSizeBytes": 48000000,
            "maxWriteBatchSize": 100000}
    base.update(doc)
    responders[i] = [servers[i].autoresponds("hello", base),
                     servers[i].autoresponds("isMaster", base),
                     servers[i].autoresponds("ismaster", base)]


def member(i, primary):
    doc = {"setName": "rs", "hosts": hosts, "me": hosts[i], "setVersion": 1,
           "isWritablePrimary": primary, "ismaster": primary, "secondary": not primary}
    if primary:
        doc["electionId"] = ObjectId("7fffffff%016x" % election[0])
        doc["primary"] = hosts[i]
    return doc


def make_primary(p):
    election[0] += 1
    for i in range(count):
        answer(i, member(i, i == p))


if kind == "mongos":
    for i in range(count):
        answer(i, {"isWritablePrimary": True, "ismaster": True, "msg": "isdbgrid"})
else:
    make_primary(0)

print(" ".join(str(p) for p in ports), flush=True)

remaining = LIFETIME_SECONDS
buffer = b""
while remaining > 0:
    ready, _, _ = select.select([sys.stdin], [], [], 1.0)
    remaining -= 1
    if not ready:
        continue
    chunk = sys.stdin.buffer.read1(4096)
    if not chunk:
        break
    buffer += chunk
    while b"\n" in buffer:
        line, buffer = buffer.split(b"\n", 1)
        words = line.decode().split()
        if len(words) != 2:
            continue
        verb, i = words[0], int(words[1])
        if verb == "primary":
            make_primary(i)
        elif verb == "hang":
            for r in responders[i]:
                servers[i].cancel_responder(r)
            responders[i] = []
        elif verb == "stop":
            servers[i].stop()
        print("ok " + line.decode(), flush=True)

for s in servers:
    try:
        s.stop()
    except Exception:
        pass
