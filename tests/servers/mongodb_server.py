"""A scripted MongoDB server for the `mongodb://` tests: it decodes each
OP_MSG command and encodes its reply with pymongo's `bson` (the reference
client's codec), so the documents on the wire are BSON as MongoDB writes
it, not the gate's reading of it. The replies hold what a real `hello`
reply holds (topologyVersion, localTime, $clusterTime, ...).

Usage: mongodb_server.py PORT STATE
STATE: primary, secondary, recovering (a replica set member that is
neither), legacy (a server before `hello`: "no such command", code 59,
then a primary's answer to `isMaster`), or large (the primary of a
replica set of 50 members, the most MongoDB allows, with the long names
of a StatefulSet's pods: a reply of several KiB).
Listens on 127.0.0.1:PORT, prints "listening" once it does, until killed.
"""

import datetime
import struct
import sys

import bson
from bson.int64 import Int64
from bson.objectid import ObjectId
from bson.timestamp import Timestamp

from scripted import read_exactly, serve

OP_MSG = 2013
# mongod's maxMessageSizeBytes.
MAX_MESSAGE = 48_000_000


def reply(state, command):
    """The reply document to `command` in this state."""
    if state == "legacy" and command == "hello":
        return {"ok": 0.0, "errmsg": "no such command: 'hello'", "code": 59, "codeName": "CommandNotFound"}
    document = {
        "topologyVersion": {"processId": ObjectId(), "counter": Int64(6)},
        "maxBsonObjectSize": 16777216,
        "maxMessageSizeBytes": 48000000,
        "localTime": datetime.datetime.now(datetime.timezone.utc),
        "minWireVersion": 0,
        "maxWireVersion": 21,
        "readOnly": False,
    }
    if state in ("primary", "legacy"):
        document["ismaster" if command == "isMaster" else "isWritablePrimary"] = True
    elif state == "large":
        names = [f"orders-mongodb-{n}.orders-mongodb-headless.payments.svc.cluster.local:27017" for n in range(50)]
        document.update({"hosts": names, "setName": "rs0", "isWritablePrimary": True, "primary": names[0], "me": names[0]})
    else:
        document.update(
            {
                "hosts": ["db-0.db:27017", "db-1.db:27017"],
                "setName": "rs0",
                "isWritablePrimary": False,
                "secondary": state == "secondary",
            }
        )
    document["ok"] = 1.0
    document["$clusterTime"] = {"clusterTime": Timestamp(1765000000, 1), "signature": {"keyId": Int64(0)}}
    document["operationTime"] = Timestamp(1765000000, 1)
    return document


def main():
    port, state = int(sys.argv[1]), sys.argv[2]

    def handle(conn):
        # Commands on one connection, as a driver sends them (hello, then
        # perhaps isMaster).
        while True:
            header = read_exactly(conn, 16)
            if header is None:
                return
            length, request_id, _, opcode = struct.unpack("<iiii", header)
            if not 16 <= length <= MAX_MESSAGE:
                # mongod closes on a length it will not read (a ClientHello
                # to this plaintext port reads as one).
                print(f"closing: a message of {length} bytes", flush=True)
                return
            rest = read_exactly(conn, length - 16)
            if rest is None or opcode != OP_MSG or rest[4] != 0:
                print(f"not an OP_MSG with a body section: {header + (rest or b'')!r}", flush=True)
                return
            command = bson.decode(rest[5:])
            name = next(iter(command))
            print(f"answering {name} on {command.get('$db')}", flush=True)
            document = bson.encode(reply(state, name))
            message = struct.pack("<I", 0) + b"\x00" + document
            conn.sendall(struct.pack("<iiii", 16 + len(message), request_id + 1000, request_id, OP_MSG) + message)

    serve(port, handle)


if __name__ == "__main__":
    main()
