"""PyMongo side of the idle-topology comparison: a MongoClient monitoring the given servers
(mongos responders: a Sharded topology) with heartbeatFrequencyMS=10000, polling mode.

Usage: pymongo_topology_idle.py SECONDS host:port ...
Prints "ready <pid> <discovery ms>" once every server is known, then idles for SECONDS (the
comparison script samples /proc/<pid> meanwhile) and exits.
"""
import os
import sys
import time

from pymongo import MongoClient
from pymongo import monitoring


class Heartbeats(monitoring.ServerHeartbeatListener):
    count = 0

    def started(self, event):
        pass

    def succeeded(self, event):
        Heartbeats.count += 1

    def failed(self, event):
        pass


seconds = float(sys.argv[1])
hosts = sys.argv[2:]
start = time.monotonic()
client = MongoClient(hosts, heartbeatFrequencyMS=10000, serverMonitoringMode="poll",
                     event_listeners=[Heartbeats()])
while True:
    servers = client.topology_description.server_descriptions().values()
    if len(servers) == len(hosts) and all(s.is_server_type_known for s in servers):
        break
    if time.monotonic() - start > 30:
        sys.exit("pymongo: servers not discovered within 30 s")
    time.sleep(0.05)
print("ready %d %.1f" % (os.getpid(), (time.monotonic() - start) * 1000), flush=True)
before = Heartbeats.count
time.sleep(seconds)
print("heartbeats %d" % (Heartbeats.count - before), flush=True)
client.close()
