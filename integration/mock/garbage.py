"""Raw server that answers the handshake, then replies to the next command with random bytes
behind a plausible length, so the client reads the whole thing and must reject its content."""
import os
import struct

from mock_support import announce_and_wait, serve_raw


def garbage(conn, request_id, body):
    noise = os.urandom(60)
    conn.sendall(struct.pack("<i", 4 + len(noise)) + noise)


announce_and_wait(serve_raw(garbage))
