"""A scripted Kafka broker for the `kafka://` tests: it decodes each
ApiVersions request and encodes its response with kafka-python's own
protocol classes (the reference client's codecs), so the bytes on the wire
are Kafka's format, not the gate's reading of it.

Usage: kafka_broker.py PORT ERROR_CODE
Listens on 127.0.0.1:PORT, prints "listening" once it does, answers every
request with ERROR_CODE (0: the broker is up), until killed.
"""

import io
import struct
import sys

from kafka.protocol.old.api_versions import ApiVersionsRequest_v0, ApiVersionsResponse_v0

from scripted import read_exactly, serve

# The broker's socket.request.max.bytes default.
MAX_REQUEST = 104_857_600


def main():
    port, error = int(sys.argv[1]), int(sys.argv[2])

    def handle(conn):
        size = read_exactly(conn, 4)
        if size is None or not 0 < struct.unpack(">i", size)[0] <= MAX_REQUEST:
            # The broker closes on a size it will not read (a ClientHello to
            # this plaintext port reads as 369 MB).
            return
        request = read_exactly(conn, struct.unpack(">i", size)[0])
        if request is None:
            return
        header = ApiVersionsRequest_v0.parse_header(io.BytesIO(request))
        response = ApiVersionsResponse_v0(error_code=error, api_versions=[(18, 0, 3)])
        response.with_header(correlation_id=header.correlation_id)
        conn.sendall(response.encode(header=True, framed=True))

    serve(port, handle)


if __name__ == "__main__":
    main()
