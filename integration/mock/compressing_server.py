"""A server that negotiates wire compression and compresses its replies (the compression spec),
with Python's own zlib, PyPI's zstandard and cramjam's snappy: implementations independent of
mongoslice's, so a passing test is not our codec agreeing with itself.

    compressing_server.py <compressors> [<mode>]

<compressors> is the comma-separated list it supports ("zstd,snappy,zlib"; "none" for none).
In the handshake it answers `compression` with the client's offered names that it supports (in
the client's order). After that it checks every message it receives: a command other than hello
and the authentication commands must arrive in an OP_COMPRESSED with the negotiated compressor,
those must arrive uncompressed, and every OP_COMPRESSED must hold an OP_MSG whose
uncompressedSize is right. Its replies are compressed the same way (the handshake's never).
`mockStats` answers what it has seen (counts per compressor id and the violations); `bigFind`
answers a batch of n documents of `size` bytes each; any other command is echoed back.

<mode> makes it hostile after the handshake, to show the client's checks end to end: "bomb"
(a zlib reply that inflates far beyond its uncompressedSize), "nested" (an OP_COMPRESSED inside
an OP_COMPRESSED), "unknown-id" (compressorId 42), "truncated" (zstd data cut short).

Prints its port, and exits when stdin closes (mock_support.announce_and_wait).
"""
import asyncio
import struct
import sys
import threading
import zlib

import bson
import cramjam
import zstandard

import mock_support

OP_COMPRESSED = 2012
IDS = {"noop": 0, "snappy": 1, "zlib": 2, "zstd": 3}
NEVER_COMPRESSED = {"hello", "isMaster", "ismaster", "saslStart", "saslContinue", "getnonce",
                    "authenticate", "createUser", "updateUser", "copydbSaslStart",
                    "copydbgetnonce", "copydb"}

supported = [] if sys.argv[1] == "none" else sys.argv[1].split(",")
mode = sys.argv[2] if len(sys.argv) > 2 else ""
stats = {"compressed": {}, "plain": 0, "violations": [], "offered": [], "handshakes": 0}


def compress(compressor_id, data):
    if compressor_id == 0:
        return data
    if compressor_id == 1:
        return bytes(cramjam.snappy.compress_raw(data))
    if compressor_id == 2:
        return zlib.compress(data)
    return zstandard.ZstdCompressor().compress(data)


def decompress(compressor_id, data, size):
    if compressor_id == 0:
        return data
    if compressor_id == 1:
        return bytes(cramjam.snappy.decompress_raw(data))
    if compressor_id == 2:
        return zlib.decompress(data)
    if compressor_id == 3:
        return zstandard.ZstdDecompressor().decompress(data, max_output_size=size)
    raise ValueError("unknown compressor id %d" % compressor_id)


def wrap(message, compressor_id):
    """An OP_COMPRESSED around a whole message."""
    _, request_id, response_to, opcode = struct.unpack_from("<iiii", message)
    body = message[16:]
    payload = struct.pack("<iiB", opcode, len(body), compressor_id) + compress(compressor_id, body)
    return struct.pack("<iiii", 16 + len(payload), request_id, response_to,
                       OP_COMPRESSED) + payload


def hostile(message):
    _, request_id, response_to, opcode = struct.unpack_from("<iiii", message)
    body = message[16:]
    if mode == "bomb":
        payload = struct.pack("<iiB", opcode, len(body), 2) + zlib.compress(body + bytes(4_000_000))
    elif mode == "nested":
        inner = wrap(message, 0)
        payload = struct.pack("<iiB", OP_COMPRESSED, len(inner) - 16, 0) + inner[16:]
    elif mode == "unknown-id":
        payload = struct.pack("<iiB", opcode, len(body), 42) + body
    else:  # truncated
        data = zstandard.ZstdCompressor().compress(body)
        payload = struct.pack("<iiB", opcode, len(body), 3) + data[: len(data) // 2]
    return struct.pack("<iiii", 16 + len(payload), request_id, response_to,
                       OP_COMPRESSED) + payload


async def read_message(reader):
    header = await reader.readexactly(16)
    length, request_id, _, opcode = struct.unpack("<iiii", header)
    return request_id, opcode, header + await reader.readexactly(length - 16)


def command_of(message):
    """(name, body) of an OP_MSG whose first section is the body."""
    body = bson.decode(message[21:21 + struct.unpack_from("<i", message, 21)[0]])
    return next(iter(body)), body


def answer(name, body):
    if name == "mockStats":
        return dict(stats, ok=1.0)
    if name == "bigFind":
        size, n = int(body.get("size", 1000)), int(body.get("n", 10))
        docs = [{"_id": i, "pad": "m%d" % i * (size // 4)} for i in range(n)]
        return {"cursor": {"id": 0, "ns": "db.coll", "firstBatch": docs}, "ok": 1.0}
    if name in ("hello", "isMaster", "ismaster"):
        return dict(mock_support.HELLO_REPLY)
    return {"echo": body, "ok": 1.0}


async def handle(reader, writer):
    chosen = None
    try:
        request_id, opcode, message = await read_message(reader)
        hello = bson.decode(message[message.index(b"\x00", 20) + 9:]) \
            if opcode == mock_support.OP_QUERY else command_of(message)[1]
        offered = list(hello.get("compression", []))
        stats["offered"] = offered
        stats["handshakes"] += 1
        agreed = [name for name in offered if name in supported]
        chosen = IDS[agreed[0]] if agreed else None
        reply = dict(mock_support.HELLO_REPLY)
        if "compression" in hello:
            reply["compression"] = agreed
        writer.write(mock_support.reply_in_kind(request_id, opcode, reply))
        while True:
            request_id, opcode, message = await read_message(reader)
            if opcode == OP_COMPRESSED:
                original, size, cid = struct.unpack_from("<iiB", message, 16)
                inner = decompress(cid, message[25:], size)
                if len(inner) != size:
                    stats["violations"].append("uncompressedSize %d for %d bytes" %
                                               (size, len(inner)))
                if original != mock_support.OP_MSG:
                    stats["violations"].append("originalOpcode %d" % original)
                message = message[:12] + struct.pack("<i", original) + inner
                key = str(cid)
                stats["compressed"][key] = stats["compressed"].get(key, 0) + 1
                name, body = command_of(message)
                if cid != chosen:
                    stats["violations"].append("%s compressed with id %d, not %s" %
                                               (name, cid, chosen))
                if name in NEVER_COMPRESSED:
                    stats["violations"].append("%s arrived compressed" % name)
            else:
                stats["plain"] += 1
                name, body = command_of(message)
                if chosen is not None and name not in NEVER_COMPRESSED:
                    stats["violations"].append("%s arrived uncompressed" % name)
            out = mock_support.op_msg(request_id, answer(name, body))
            if mode and name != "mockStats" and name not in NEVER_COMPRESSED:
                out = hostile(out)
            elif chosen is not None and name not in NEVER_COMPRESSED:
                out = wrap(out, chosen)
            writer.write(out)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    except Exception as e:  # a message the mock cannot read is itself a violation
        stats["violations"].append("%s: %s" % (type(e).__name__, e))
    finally:
        writer.close()


def main():
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    threading.Thread(target=loop.run_forever, daemon=True).start()
    mock_support.announce_and_wait(port)


if __name__ == "__main__":
    main()
