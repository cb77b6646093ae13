"""mockupdb server that answers the handshake, then {ok: 0, code: 2, codeName: "BadValue"} to
every other command."""
from mockupdb import Matcher, MockupDB

from mock_support import HELLO_REPLY, announce_and_wait

server = MockupDB(request_timeout=int(1e6))
server.autoresponds("hello", HELLO_REPLY)
server.autoresponds("isMaster", HELLO_REPLY)
# A responder of last resort: whatever the handshake responders do not take.
server.append_responder(Matcher(), {
    "ok": 0,
    "code": 2,
    "codeName": "BadValue",
    "errmsg": "mock error_reply.py refuses every command",
})
port = server.run()
try:
    announce_and_wait(port)
finally:
    server.stop()
