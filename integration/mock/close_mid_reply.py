"""Raw server that answers the handshake, then writes the first half of a reply to the next
command and closes the socket (mockupdb cannot cut a message in two)."""
from mock_support import announce_and_wait, op_msg, serve_raw


def half_reply(conn, request_id, body):
    reply = op_msg(request_id, {"ok": 1.0, "padding": "x" * 200})
    conn.sendall(reply[: len(reply) // 2])


announce_and_wait(serve_raw(half_reply))
