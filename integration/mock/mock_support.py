"""Shared by the Connection mock servers: lifetime and raw OP_MSG framing.

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
    """One whole message: (request_id, body document of a kind-0-first OP_MSG)."""
    header = read_exact(conn, 16)
    length, request_id, _, _ = struct.unpack("<iiii", header)
    rest = read_exact(conn, length - 16)
    body = bson.decode(rest[5:])  # flagBits (4), kind 0 (1), then the body
    return request_id, body


def op_msg(response_to, body):
    payload = struct.pack("<I", 0) + b"\x00" + bson.encode(body)
    return struct.pack("<iiii", 16 + len(payload), 1000 + response_to, response_to, OP_MSG) + payload


def serve_raw(on_command):
    """A raw server: answers each connection's hello, then calls on_command(conn, request_id,
    body) for the next command. Runs the accept loop in a daemon thread; returns the port."""
    listener = listen()

    def handle(conn):
        with conn:
            try:
                request_id, _ = read_message(conn)
                conn.sendall(op_msg(request_id, HELLO_REPLY))
                request_id, body = read_message(conn)
                on_command(conn, request_id, body)
            except (ConnectionError, OSError):
                pass

    def accept_loop():
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    return listener.getsockname()[1]
