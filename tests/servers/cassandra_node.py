"""A scripted Cassandra node for the `cassandra://` tests: it checks each
request against cassandra-driver's own encoding of an OPTIONS message and
encodes its answer with the driver's protocol module (the reference
client's codecs, then decoded by the driver again as a check), so the bytes
on the wire are the native protocol's, not the gate's reading of it.

Usage: cassandra_node.py PORT STATE
STATE: up (SUPPORTED), bootstrapping or overloaded (an ERROR frame).
Listens on 127.0.0.1:PORT, prints "listening" once it does, until killed.
"""

import io
import struct
import sys

from cassandra.protocol import (
    OptionsMessage,
    ProtocolHandler,
    write_int,
    write_string,
    write_stringmultimap,
)

from scripted import read_exactly, serve

VERSION = 4
RESPONSE = 0x80
ERRORS = {
    "bootstrapping": (0x1002, "Cannot read from a bootstrapping node"),
    "overloaded": (0x1001, "Too many in flight requests"),
}


def answer(state):
    """The opcode and body of the answer in this state."""
    body = io.BytesIO()
    if state == "up":
        write_stringmultimap(body, {"CQL_VERSION": ["3.4.7"], "PROTOCOL_VERSIONS": ["4/v4", "5/v5"]})
        return 0x06, body.getvalue()
    code, message = ERRORS[state]
    write_int(body, code)
    write_string(body, message)
    return 0x00, body.getvalue()


def main():
    port, state = int(sys.argv[1]), sys.argv[2]
    opcode, body = answer(state)

    def handle(conn):
        header = read_exactly(conn, 9)
        if header is None:
            return
        stream = struct.unpack(">h", header[2:4])[0]
        expected = ProtocolHandler.encode_message(OptionsMessage(), stream, VERSION, None, False)
        if header != expected:
            print(f"not the driver's OPTIONS: {header!r} != {expected!r}", flush=True)
            return
        # The driver reads what is sent as the message meant.
        decoded = ProtocolHandler.decode_message(VERSION, {}, stream, 0, opcode, body, None, None)
        print(f"answering {type(decoded).__name__}", flush=True)
        frame = io.BytesIO()
        ProtocolHandler._write_header(frame, VERSION | RESPONSE, 0, stream, opcode, len(body))
        conn.sendall(frame.getvalue() + body)

    serve(port, handle)


if __name__ == "__main__":
    main()
