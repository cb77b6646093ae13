"""Shared by the Connection mock servers: lifetime and raw framing (OP_MSG, and the OP_QUERY /
OP_REPLY of the handshake's legacy hello).

Every mock listens on 127.0.0.1 on a free port, prints that port on its first stdout line, and
exits by itself when its stdin closes (the test's MockServer closes it) or after 60 seconds,
so a crashed test run leaves nothing behind.
"""
import select
import socket
import struct
import sys
import threading

import bson

LIFETIME_SECONDS = 60
OP_MSG = 2013
OP_QUERY = 2004
OP_REPLY = 1

HELLO_REPLY = {
    "isWritablePrimary": True,
    "helloOk": True,
    "maxBsonObjectSize": 16 * 1024 * 1024,
    "maxMessageSizeBytes": 48000000,
    "maxWriteBatchSize": 100000,
    "minWireVersion": 0,
    "maxWireVersion": 21,
    "ok": 1.0,
}


def announce_and_wait(port):
    """Prints the port, then blocks until stdin closes or the lifetime ends."""
    print(port, flush=True)
    deadline = LIFETIME_SECONDS
    while deadline > 0:
        ready, _, _ = select.select([sys.stdin], [], [], 1.0)
        deadline -= 1
        if ready and not sys.stdin.buffer.read1(4096):
            return


def listen():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    return sock


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("client closed")
        data += chunk
    return data


def read_message(conn):
    """One whole message: (request_id, opcode, command). The command is an OP_QUERY's query
    document or the body of a kind-0-first OP_MSG."""
    header = read_exact(conn, 16)
    length, request_id, _, opcode = struct.unpack("<iiii", header)
    rest = read_exact(conn, length - 16)
    if opcode == OP_QUERY:
        # flags (4), fullCollectionName (cstring), numberToSkip (4), numberToReturn (4), query
        at = rest.index(b"\x00", 4) + 1 + 8
        size = struct.unpack_from("<i", rest, at)[0]
        return request_id, opcode, bson.decode(rest[at:at + size])
    body = bson.decode(rest[5:])  # flagBits (4), kind 0 (1), then the body
    return request_id, opcode, body


def op_msg(response_to, body):
    payload = struct.pack("<I", 0) + b"\x00" + bson.encode(body)
    return struct.pack("<iiii", 16 + len(payload), 1000 + response_to, response_to, OP_MSG) + payload


def op_reply(response_to, document):
    """The OP_REPLY to an OP_QUERY: no flags, no cursor, one document."""
    payload = struct.pack("<iqii", 0, 0, 0, 1) + bson.encode(document)
    return struct.pack("<iiii", 16 + len(payload), 1000 + response_to, response_to,
                       OP_REPLY) + payload


def reply_in_kind(request_id, opcode, document):
    """OP_REPLY to an OP_QUERY (the handshake), OP_MSG to an OP_MSG."""
    if opcode == OP_QUERY:
        return op_reply(request_id, document)
    return op_msg(request_id, document)


def serve_raw(on_command):
    """A raw server: answers each connection's handshake (the legacy hello over OP_QUERY, or a
    hello over OP_MSG), then calls on_command(conn, request_id, body) for the next command. Runs
    the accept loop in a daemon thread; returns the port."""
    listener = listen()

    def handle(conn):
        with conn:
            try:
                request_id, opcode, _ = read_message(conn)
                conn.sendall(reply_in_kind(request_id, opcode, HELLO_REPLY))
                request_id, _, body = read_message(conn)
                on_command(conn, request_id, body)
            except (ConnectionError, OSError):
                pass

    def accept_loop():
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    return listener.getsockname()[1]
