#!/usr/bin/env python3
"""A minimal MongoDB wire-protocol server for the client's kill-cursors tests and benchmarks.

Raw asyncio OP_MSG (no mockupdb): cheap enough to hand out 100,000s of cursors. It answers
hello/isMaster/ping like a standalone server, `find` with a fresh cursor id (one document in
firstBatch), `getMore` with an empty batch, and records every `killCursors`: its namespace, ids
and arrival time (time.monotonic_ns, CLOCK_MONOTONIC, the same clock as C++ steady_clock on
Linux). Query commands the tests send:

  {mockStats: 1}  -> {cursors, killCommands, killedIds, duplicates, missing, unknown, mixed,
                      maxIdsPerCommand}   (mixed: ids killed under another namespace)
  {mockKills: 1}  -> {kills: [{ns, cursors: [ids], t: ns, command}]} (every killCursors so far)
  {mockReset: 1}  -> forgets everything

Usage: cursor_server.py [--port N] [--id-base N] [--mongos]; prints the port on the first line of stdout.
"""
import argparse
import asyncio
import struct
import sys
import time

import bson

OP_MSG = 2013
OP_QUERY = 2004
OP_REPLY = 1


class State:
    def __init__(self):
        self.reset()

    def reset(self):
        self.next_id = ID_BASE[0]
        self.issued = {}  # id -> namespace
        self.mixed = 0
        self.killed = {}
        self.duplicates = 0
        self.unknown = 0
        self.kills = []
        self.max_ids = 0


ID_BASE = [1_000_000]
MONGOS = [False]
STATE = State()
REQUEST_ID = [0]


def reply_bytes(response_to, doc):
    body = bson.encode(doc)
    REQUEST_ID[0] += 1
    length = 16 + 4 + 1 + len(body)
    return struct.pack('<iiiiIB', length, REQUEST_ID[0], response_to, OP_MSG, 0, 0) + body


def op_reply_bytes(response_to, doc):
    body = bson.encode(doc)
    REQUEST_ID[0] += 1
    length = 16 + 20 + len(body)
    return struct.pack('<iiiiiqii', length, REQUEST_ID[0], response_to, OP_REPLY, 0, 0, 0,
                       1) + body


def handle(cmd):
    name = next(iter(cmd))
    db = cmd.get('$db', 'test')
    if name in ('hello', 'isMaster', 'ismaster'):
        return {'helloOk': True, 'isWritablePrimary': True, 'ismaster': True,
                'maxBsonObjectSize': 16 * 1024 * 1024, 'maxMessageSizeBytes': 48_000_000,
                'maxWriteBatchSize': 100_000, 'localTime': bson.datetime.datetime.now(),
                'logicalSessionTimeoutMinutes': 30, 'connectionId': 1,
                'minWireVersion': 0, 'maxWireVersion': 21, 'ok': 1.0,
                **({'msg': 'isdbgrid'} if MONGOS[0] else {})}
    if name == 'ping' or name == 'endSessions':
        return {'ok': 1.0}
    if name == 'find':
        STATE.next_id += 1
        cid = STATE.next_id
        STATE.issued[cid] = f'{db}.{cmd[name]}'
        return {'cursor': {'id': bson.Int64(cid), 'ns': f'{db}.{cmd[name]}',
                           'firstBatch': [{'_id': cid}]}, 'ok': 1.0}
    if name == 'getMore':
        return {'cursor': {'id': cmd[name], 'ns': f"{db}.{cmd['collection']}",
                           'nextBatch': []}, 'ok': 1.0}
    if name == 'killCursors':
        t = time.monotonic_ns()
        ids = [int(i) for i in cmd['cursors']]
        ns = f'{db}.{cmd[name]}'
        STATE.kills.append({'ns': ns, 'cursors': [bson.Int64(i) for i in ids],
                            't': bson.Int64(t), 'command': cmd})
        STATE.max_ids = max(STATE.max_ids, len(ids))
        for i in ids:
            if i not in STATE.issued:
                STATE.unknown += 1
            elif STATE.issued[i] != ns:
                STATE.mixed += 1
            elif i in STATE.killed:
                STATE.duplicates += 1
            STATE.killed[i] = STATE.killed.get(i, 0) + 1
        return {'cursorsKilled': [bson.Int64(i) for i in ids], 'cursorsNotFound': [],
                'cursorsAlive': [], 'cursorsUnknown': [], 'ok': 1.0}
    if name == 'mockStats':
        return {'cursors': len(STATE.issued), 'killCommands': len(STATE.kills),
                'killedIds': len(STATE.killed), 'duplicates': STATE.duplicates,
                'missing': len(STATE.issued) - len(STATE.killed), 'unknown': STATE.unknown, 'mixed': STATE.mixed,
                'maxIdsPerCommand': STATE.max_ids, 'ok': 1.0}
    if name == 'mockKills':
        return {'kills': STATE.kills, 'ok': 1.0}
    if name == 'mockReset':
        STATE.reset()
        return {'ok': 1.0}
    return {'ok': 0.0, 'code': 59, 'codeName': 'CommandNotFound',
            'errmsg': f'no such command: {name}'}


async def serve(reader, writer):
    try:
        while True:
            header = await reader.readexactly(16)
            length, request_id, _, opcode = struct.unpack('<iiii', header)
            rest = await reader.readexactly(length - 16)
            if opcode == OP_QUERY:  # the legacy handshake some drivers (PyMongo) still send
                name_end = rest.index(b'\0', 4)
                query = bson.decode(rest[name_end + 9:name_end + 9 + struct.unpack_from(
                    '<i', rest, name_end + 9)[0]])
                writer.write(op_reply_bytes(request_id, handle(query)))
                await writer.drain()
                continue
            if opcode != OP_MSG:
                break
            flags = struct.unpack_from('<I', rest, 0)[0]
            pos, end = 4, len(rest) - (4 if flags & 1 else 0)
            cmd = None
            while pos < end:
                kind = rest[pos]
                pos += 1
                size = struct.unpack_from('<i', rest, pos)[0]
                if kind == 0:
                    cmd = bson.decode(rest[pos:pos + size])
                pos += size
            writer.write(reply_bytes(request_id, handle(cmd)))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--id-base', type=int, default=1_000_000)
    parser.add_argument('--mongos', action='store_true', help='answer hello as a mongos')
    args = parser.parse_args()
    ID_BASE[0] = args.id_base
    MONGOS[0] = args.mongos
    STATE.reset()
    server = await asyncio.start_server(serve, '127.0.0.1', args.port)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == '__main__':
    asyncio.run(main())
