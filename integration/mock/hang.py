"""mockupdb server that answers the handshake, then never replies to any other command."""
from mockupdb import MockupDB

from mock_support import HELLO_REPLY, announce_and_wait

server = MockupDB(request_timeout=int(1e6))
server.autoresponds("hello", HELLO_REPLY)
server.autoresponds("isMaster", HELLO_REPLY)
# Other commands wait in mockupdb's queue for a reply that this script never gives.
port = server.run()
try:
    announce_and_wait(port)
finally:
    server.stop()
