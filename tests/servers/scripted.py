"""What the scripted servers share: listen on 127.0.0.1:PORT, print
"listening" once they do (what the tests wait for), then serve each
connection in turn until killed.

With TLS_CERT and TLS_KEY in the environment (a certificate chain and its
key, PEM), every connection is TLS, as a managed service's port is: the
handshake first (a client that does not complete it is dropped, as
OpenSSL's servers do), then the same exchange inside it."""

import os
import socket
import ssl


def serve(port, handle):
    """Calls handle(conn) for every connection, one at a time."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(16)
    context = tls_context()
    print("listening", flush=True)
    while True:
        conn, _ = server.accept()
        try:
            if context is not None:
                conn.settimeout(5)
                # wrap_socket detaches conn: the TLS socket is the one to close.
                conn = context.wrap_socket(conn, server_side=True)
                conn.settimeout(None)
            handle(conn)
        except OSError:
            # ssl.SSLError too: a client that refused the certificate, or
            # spoke plaintext to this port.
            pass
        finally:
            conn.close()


def tls_context():
    """The server's TLS context, if TLS_CERT and TLS_KEY are given."""
    cert, key = os.environ.get("TLS_CERT"), os.environ.get("TLS_KEY")
    if not (cert and key):
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def read_exactly(conn, count):
    """count bytes, or None if the peer closed first."""
    data = b""
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return data
