"""A scripted Kafka broker for the `kafka://` tests: it decodes each
ApiVersions request and encodes its response with kafka-python's own
protocol classes (the reference client's codecs), so the bytes on the wire
are Kafka's format, not the gate's reading of it.

Usage: kafka_broker.py PORT ERROR_CODE
Listens on 127.0.0.1:PORT, prints "listening" once it does, answers every
request with ERROR_CODE (0: the broker is up), until killed.
"""

import io
import socket
import struct
import sys

from kafka.protocol.old.api_versions import ApiVersionsRequest_v0, ApiVersionsResponse_v0


def main():
    port, error = int(sys.argv[1]), int(sys.argv[2])
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(16)
    print("listening", flush=True)
    while True:
        conn, _ = server.accept()
        with conn:
            data = b""
            while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            if len(data) < 4:
                continue
            header = ApiVersionsRequest_v0.parse_header(io.BytesIO(data[4:]))
            response = ApiVersionsResponse_v0(error_code=error, api_versions=[(18, 0, 3)])
            response.with_header(correlation_id=header.correlation_id)
            conn.sendall(response.encode(header=True, framed=True))


if __name__ == "__main__":
    main()
