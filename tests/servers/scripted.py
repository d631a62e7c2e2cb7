"""What the scripted servers share: listen on 127.0.0.1:PORT, print
"listening" once they do (what the tests wait for), then serve each
connection in turn until killed."""

import socket


def serve(port, handle):
    """Calls handle(conn) for every connection, one at a time."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(16)
    print("listening", flush=True)
    while True:
        conn, _ = server.accept()
        with conn:
            try:
                handle(conn)
            except OSError:
                pass


def read_exactly(conn, count):
    """count bytes, or None if the peer closed first."""
    data = b""
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return data
