"""A real SMTP server (aiosmtpd, the standard library's smtpd successor)
for the `smtp://` and `smtps://` tests.

Usage: smtp_server.py PORT MODE [CERT KEY]
MODE: plain (a 220 greeting, no STARTTLS), starttls (EHLO offers STARTTLS,
with this certificate chain and key), tls (implicit TLS, as on 465).
Listens on 127.0.0.1:PORT, prints "listening" once it does, until killed.
"""

import ssl
import sys
import threading

from aiosmtpd.controller import Controller


class Discard:
    """Takes no mail: the gate never sends any."""

    async def handle_DATA(self, server, session, envelope):
        return "554 not taking mail"


def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    context = None
    if mode in ("starttls", "tls"):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[3], sys.argv[4])
    options = {"hostname": "127.0.0.1", "port": port, "ident": "linkerd-await test MTA"}
    if mode == "starttls":
        options.update(tls_context=context, require_starttls=True)
    elif mode == "tls":
        options.update(ssl_context=context)
    controller = Controller(Discard(), **options)
    # start() returns once the server answered a connection of its own.
    controller.start()
    print("listening", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
