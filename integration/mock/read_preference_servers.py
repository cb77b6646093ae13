"""Scripted servers that apply the server's read-preference rules, for read-preference tests.

Usage: read_preference_servers.py replset|mongos

  replset: a primary and a secondary of set "rs" (the primary tagged {dc: "sf"}, the secondary
           {dc: "ny"}); prints "primary_port secondary_port". The secondary applies mongod's rule:
           a command without a non-primary $readPreference fails with 13435
           NotPrimaryNoSecondaryOk, as a real secondary refuses reads without secondaryOk.
  mongos:  one mongos; prints its port.

Every command other than the handshake is answered with what the server saw: the server's role
and the $readPreference the command carried ("none" when it carried none). find gets a cursor
whose one document holds them; other commands get them as fields of the reply:
  {server: "primary"|"secondary"|"mongos", readPreference: <document>|"none", command: <name>}
Exits when stdin closes or after 120 s. Both the legacy handshake (isMaster over OP_QUERY) and
hello over OP_MSG are answered.
"""
import datetime
import select
import sys

from bson import ObjectId
from mockupdb import MockupDB

LIFETIME_SECONDS = 120
NOT_PRIMARY_NO_SECONDARY_OK = 13435

kind = sys.argv[1]
roles = ["primary", "secondary"] if kind == "replset" else ["mongos"]
servers = [MockupDB(port=0, request_timeout=int(1e6)) for _ in roles]
ports = [s.run() for s in servers]
hosts = ["127.0.0.1:%d" % p for p in ports]


def seen(role, request):
    rp = request.doc.get("$readPreference")
    return {"server": role, "readPreference": rp if rp is not None else "none",
            "command": request.command_name}


def answer(role):
    def handle(request):
        if request.command_name.lower() in ("hello", "ismaster"):
            return False  # the hello responders below
        rp = request.doc.get("$readPreference")
        if role == "secondary" and (rp is None or rp.get("mode") == "primary"):
            return request.command_err(code=NOT_PRIMARY_NO_SECONDARY_OK,
                                       errmsg="not primary and secondaryOk=false",
                                       codeName="NotPrimaryNoSecondaryOk")
        if request.command_name == "find":
            ns = "%s.%s" % (request.doc.get("$db", "test"), request.doc["find"])
            return request.ok(cursor={"id": 0, "ns": ns, "firstBatch": [seen(role, request)]})
        return request.ok(**seen(role, request))
    return handle


def hello_of(i, role):
    doc = {"ok": 1, "maxWireVersion": 21, "minWireVersion": 0, "helloOk": True,
           "maxBsonObjectSize": 16 * 1024 * 1024, "maxMessageSizeBytes": 48000000,
           "maxWriteBatchSize": 100000}
    if role == "mongos":
        doc.update({"isWritablePrimary": True, "ismaster": True, "msg": "isdbgrid"})
        return doc
    primary = role == "primary"
    doc.update({"setName": "rs", "hosts": hosts, "me": hosts[i], "primary": hosts[0],
                "setVersion": 1, "isWritablePrimary": primary, "ismaster": primary,
                "secondary": not primary, "tags": {"dc": "sf" if primary else "ny"},
                # maxStalenessSeconds needs both: the secondary is not behind at all.
                "lastWrite": {"lastWriteDate": datetime.datetime.now(datetime.timezone.utc)}})
    if primary:
        doc["electionId"] = ObjectId("7fffffff0000000000000001")
    return doc


for i, (server, role) in enumerate(zip(servers, roles)):
    server.autoresponds(answer(role))  # added first: the hello responders are tried before it
    for name in ("hello", "isMaster", "ismaster"):
        server.autoresponds(name, hello_of(i, role))

print(" ".join(str(p) for p in ports), flush=True)

remaining = LIFETIME_SECONDS
while remaining > 0:
    ready, _, _ = select.select([sys.stdin], [], [], 1.0)
    remaining -= 1
    if ready and not sys.stdin.buffer.read1(4096):
        break

for s in servers:
    try:
        s.stop()
    except Exception:
        pass
