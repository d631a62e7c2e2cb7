"""A real HTTP server (Python's http.server) serving a Spring-Boot-like
health document for the `http://` expectation tests: GET /actuator/health
answers 200 with {"status":"DOWN"} (as Spring Boot does in some
configurations) until a line "up" comes on stdin, then {"status":"UP"}.

Usage: health_server.py PORT [CERT KEY]
Listens on 127.0.0.1:PORT (with TLS, when given a certificate chain and its
key: the https:// tests), prints "listening" once it does, until killed.
"""

import json
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = {"status": "DOWN"}


class Health(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path != "/actuator/health":
            self.send_error(404)
            return
        body = json.dumps({"status": STATE["status"], "components": {"db": {"status": "UP"}}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/vnd.spring-boot.actuator.v3+json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Health)
    if len(sys.argv) == 4:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[2], sys.argv[3])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("listening", flush=True)
    for line in sys.stdin:
        if line.strip() == "up":
            STATE["status"] = "UP"
            print("up", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
