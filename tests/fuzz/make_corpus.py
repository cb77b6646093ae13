#!/usr/bin/env python3
"""Writes the seed corpus of the OP_MSG fuzzer (tests/fuzz/corpus/op_msg/): a few small valid
replies and a few invalid ones, each a whole message, OP_MSG, OP_COMPRESSED (noop, snappy, zlib,
zstd) and (for the handshake's decoder) OP_REPLY. Run it with the project's venv
(.venv/bin/python: zstandard and cramjam give the zstd and snappy seeds); files are
overwritten."""

import os
import struct
import zlib

import cramjam
import zstandard

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "op_msg")


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def cstring(text: str) -> bytes:
    return text.encode() + b"\x00"


def document(*elements: bytes) -> bytes:
    body = b"".join(elements) + b"\x00"
    return struct.pack("<i", 4 + len(body)) + body


def int32(key, value):
    return b"\x10" + cstring(key) + struct.pack("<i", value)


def int64(key, value):
    return b"\x12" + cstring(key) + struct.pack("<q", value)


def double(key, value):
    return b"\x01" + cstring(key) + struct.pack("<d", value)


def string(key, value):
    raw = value.encode()
    return b"\x02" + cstring(key) + struct.pack("<i", len(raw) + 1) + raw + b"\x00"


def boolean(key, value):
    return b"\x08" + cstring(key) + (b"\x01" if value else b"\x00")


def oid(key, raw: bytes):
    return b"\x07" + cstring(key) + raw


def date(key, ms):
    return b"\x09" + cstring(key) + struct.pack("<q", ms)


def subdoc(key, doc, array=False):
    return (b"\x04" if array else b"\x03") + cstring(key) + doc


def message(sections: bytes, flags=0, request_id=1, response_to=0, opcode=2013, checksum=None):
    if checksum is None:
        checksum = bool(flags & 1)
    length = 16 + 4 + len(sections) + (4 if checksum else 0)
    out = struct.pack("<iiiiI", length, request_id, response_to, opcode, flags) + sections
    if checksum:
        out += struct.pack("<I", crc32c(out))
    return out


def op_reply(docs: bytes, flags=0, cursor_id=0, starting_from=0, number_returned=1,
             request_id=1, response_to=0):
    length = 16 + 20 + len(docs)
    return struct.pack("<iiiiiqii", length, request_id, response_to, 1, flags, cursor_id,
                       starting_from, number_returned) + docs


def body(doc):
    return b"\x00" + doc


def sequence(identifier, *docs):
    payload = cstring(identifier) + b"".join(docs)
    return b"\x01" + struct.pack("<i", 4 + len(payload)) + payload


OK = double("ok", 1.0)
cursor_reply = document(
    subdoc("cursor", document(int64("id", 0), string("ns", "db.c"),
                              subdoc("firstBatch", document(
                                  subdoc("0", document(int32("a", 1), string("s", "héllo"))),
                                  subdoc("1", document(int32("a", 2)))), array=True))),
    OK)

def strings(key, *values):
    return subdoc(key, document(*(string(str(i), v) for i, v in enumerate(values))), array=True)


hello_reply = document(
    boolean("isWritablePrimary", True), string("setName", "rs0"), int32("setVersion", 3),
    oid("electionId", bytes(range(12))), strings("hosts", "a:27017", "b:27017"),
    string("primary", "a:27017"), string("me", "a:27017"),
    subdoc("topologyVersion", document(oid("processId", bytes(range(12, 24))),
                                       int64("counter", 4))),
    subdoc("lastWrite", document(date("lastWriteDate", 1_700_000_000_000))),
    subdoc("tags", document(string("dc", "east"))), int32("maxBsonObjectSize", 16 * 1024 * 1024),
    int32("maxMessageSizeBytes", 48_000_000), int32("maxWriteBatchSize", 100_000),
    int32("minWireVersion", 0), int32("maxWireVersion", 21),
    int32("logicalSessionTimeoutMinutes", 30), OK)

seeds = {
    "ok.bin": message(body(document(OK))),
    "cursor_reply.bin": message(body(cursor_reply)),
    "checksum.bin": message(body(document(OK)), flags=1),
    "more_to_come.bin": message(body(cursor_reply), flags=2 | (1 << 16)),
    "sequence.bin": message(body(document(string("insert", "c"), OK)) +
                            sequence("documents", document(int32("_id", 1)),
                                     document(int32("_id", 2)))),
    "write_reply.bin": message(body(document(int32("n", 1), subdoc("writeErrors", document(
        subdoc("0", document(int32("index", 0), int32("code", 11000),
                             string("errmsg", "dup")))), array=True), OK))),
    "kill_reply.bin": message(body(document(subdoc("cursorsKilled", document(int64("0", 7)),
                                                   array=True), OK))),
    "hello.bin": message(body(hello_reply)),
    "error_reply.bin": message(body(document(
        double("ok", 0.0), string("errmsg", "E11000 duplicate key"), int32("code", 11000),
        string("codeName", "DuplicateKey"), strings("errorLabels", "RetryableWriteError")))),
    # Numbers no integer holds, where the driver converts them: each must be a clean error.
    "error_code_huge.bin": message(body(document(double("ok", 0.0), double("code", 1e300)))),
    "numbers_out_of_range.bin": message(body(document(
        double("maxWireVersion", float("nan")), double("setVersion", float("inf")),
        int64("maxMessageSizeBytes", 1 << 40), double("logicalSessionTimeoutMinutes", -1e19),
        subdoc("topologyVersion", document(oid("processId", bytes(12)),
                                           double("counter", 9.3e18))),
        subdoc("lastWrite", document(date("lastWriteDate", (1 << 63) - 1))), OK))),
    # Invalid ones, so the fuzzer starts near each check.
    "bad_checksum.bin": message(body(document(OK)), flags=1)[:-1] + b"\x00",
    "bad_utf8.bin": message(body(document(string("s", "ok") [:-3] + b"\xff\x00\x00"))),
    "two_bodies.bin": message(body(document(OK)) + body(document(OK))),
    "unknown_kind.bin": message(b"\x02" + document(OK)),
    "unknown_flag.bin": message(body(document(OK)), flags=4),
    "sequence_overrun.bin": message(body(document(OK)) + b"\x01\xff\x00\x00\x00docs\x00"),
    "op_query.bin": message(body(document(OK)), opcode=2004),
    "more_to_come_refused.bin": message(body(document(OK)), flags=2),
    "negative_length.bin": struct.pack("<i", -5) + message(body(document(OK)))[4:],
    # The handshake's OP_REPLY: a legacy hello reply, then one near each of its checks.
    "op_reply_hello.bin": op_reply(hello_reply, flags=8),
    "op_reply_query_failure.bin": op_reply(document(string("$err", "no"), int32("code", 2)),
                                           flags=2),
    "op_reply_cursor.bin": op_reply(document(OK), cursor_id=5),
    "op_reply_two_documents.bin": op_reply(document(OK) + document(OK), number_returned=2),
    "op_reply_trailing.bin": op_reply(document(OK) + b"\x00"),
}


def compressed(whole, compressor_id, data=None, original=None, size=None):
    """An OP_COMPRESSED around a whole message; data/original/size replace the honest ones."""
    rest = whole[16:]
    if data is None:
        data = {0: lambda b: b, 1: lambda b: bytes(cramjam.snappy.compress_raw(b)),
                2: zlib.compress, 3: lambda b: zstandard.ZstdCompressor().compress(b)}[
                    compressor_id](rest)
    original = struct.unpack_from("<i", whole, 12)[0] if original is None else original
    payload = struct.pack("<iiB", original, len(rest) if size is None else size,
                          compressor_id) + data
    return struct.pack("<iiii", 16 + len(payload), 1, 0, 2012) + payload


plain_cursor = message(body(cursor_reply))
seeds.update({
    "compressed_noop.bin": compressed(plain_cursor, 0),
    "compressed_snappy.bin": compressed(plain_cursor, 1),
    "compressed_zlib.bin": compressed(plain_cursor, 2),
    "compressed_zstd.bin": compressed(plain_cursor, 3),
    "compressed_hello_zstd.bin": compressed(message(body(hello_reply)), 3),
    # Near each check: an unknown id, OP_COMPRESSED inside, a lying size, a bomb, truncation.
    "compressed_unknown_id.bin": compressed(plain_cursor, 9, data=plain_cursor[16:]),
    "compressed_nested.bin": compressed(compressed(plain_cursor, 0), 0),
    "compressed_size_lie.bin": compressed(plain_cursor, 2, size=len(plain_cursor)),
    "compressed_bomb.bin": compressed(plain_cursor, 2, data=zlib.compress(bytes(100_000)),
                                      size=64),
    "compressed_truncated.bin": compressed(plain_cursor, 3)[:-7],
})


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(seeds)} seeds to {OUT}")


if __name__ == "__main__":
    main()
