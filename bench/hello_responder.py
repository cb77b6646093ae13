"""Loopback hello responder for the topology benchmarks: N listening ports on 127.0.0.1, each
answering every hello/isMaster (OP_MSG, and legacy OP_QUERY for PyMongo's first handshake) as a
mongos ({msg: "isdbgrid"}), so a client monitors all N servers as one Sharded topology.

Usage: hello_responder.py N   -- prints the N ports on one line, runs until stdin closes.
One asyncio process serves all ports, so the client under test shares nothing with it.
"""
import asyncio
import struct
import sys

import bson

OP_REPLY, OP_QUERY, OP_MSG = 1, 2004, 2013
HELLO = bson.encode({
    "ismaster": True, "isWritablePrimary": True, "msg": "isdbgrid", "helloOk": True,
    "maxBsonObjectSize": 16 * 1024 * 1024, "maxMessageSizeBytes": 48000000,
    "maxWriteBatchSize": 100000, "minWireVersion": 0, "maxWireVersion": 21, "ok": 1.0,
})
OK = bson.encode({"ok": 1.0})


def reply_for(opcode, request_id, payload):
    if opcode == OP_QUERY:  # flags, cstring collection, skip, return, query document
        name_end = payload.index(b"\x00", 4)
        query = bson.decode(payload[name_end + 9:name_end + 9 + int.from_bytes(
            payload[name_end + 9:name_end + 13], "little")])
        name = next(iter(query), "").lower()
        doc = HELLO if name in ("ismaster", "hello") else OK
        body = struct.pack("<iqii", 0, 0, 0, 1) + doc
        return struct.pack("<iiii", 16 + len(body), 0, request_id, OP_REPLY) + body
    if opcode == OP_MSG:  # flags, then kind-0 body first
        doc_len = int.from_bytes(payload[5:9], "little")
        command = bson.decode(payload[5:5 + doc_len])
        name = next(iter(command), "").lower()
        doc = HELLO if name in ("ismaster", "hello") else OK
        body = struct.pack("<I", 0) + b"\x00" + doc
        return struct.pack("<iiii", 16 + len(body), 0, request_id, OP_MSG) + body
    return None


async def serve(reader, writer):
    try:
        while True:
            header = await reader.readexactly(16)
            length, request_id, _, opcode = struct.unpack("<iiii", header)
            payload = await reader.readexactly(length - 16)
            reply = reply_for(opcode, request_id, payload)
            if reply is None:
                break
            writer.write(reply)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(count):
    servers = [await asyncio.start_server(serve, "127.0.0.1", 0) for _ in range(count)]
    print(" ".join(str(s.sockets[0].getsockname()[1]) for s in servers), flush=True)
    loop = asyncio.get_running_loop()
    # Ends when the benchmark closes our stdin.
    await loop.run_in_executor(None, sys.stdin.buffer.read)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
