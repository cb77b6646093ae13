#!/usr/bin/env python3
"""Writes the seed corpus of the OP_MSG fuzzer (tests/fuzz/corpus/op_msg/): a few small valid
replies and a few invalid ones, each a whole message. Run from anywhere; files are overwritten."""

import os
import struct

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
    # Invalid ones, so the fuzzer starts near each check.
    "bad_checksum.bin": message(body(document(OK)), flags=1)[:-1] + b"\x00",
    "bad_utf8.bin": message(body(document(string("s", "ok") [:-3] + b"\xff\x00\x00"))),
    "two_bodies.bin": message(body(document(OK)) + body(document(OK))),
    "unknown_kind.bin": message(b"\x02" + document(OK)),
    "unknown_flag.bin": message(body(document(OK)), flags=4),
    "sequence_overrun.bin": message(body(document(OK)) + b"\x01\xff\x00\x00\x00docs\x00"),
    "op_query.bin": message(body(document(OK)), opcode=2004),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(seeds)} seeds to {OUT}")


if __name__ == "__main__":
    main()
