"""A gRPC server for the `grpc://` tests, on the reference implementation
(grpcio and grpcio-health-checking): its health service starts with the
whole server ("") and the service app.Orders NOT_SERVING, and sets both
SERVING when a line "serve" comes on stdin. The service app.Unknown is
never registered (the health service answers NOT_FOUND).

Usage: grpc_health_server.py PORT MODE
MODE: health (the above), or bare (no health service at all: every call
answers UNIMPLEMENTED).
Listens on 127.0.0.1:PORT, prints "listening" once it does, until killed.
"""

import sys
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

SERVICES = ("", "app.Orders")


def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    servicer = health.HealthServicer()
    if mode == "health":
        health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
        for service in SERVICES:
            servicer.set(service, health_pb2.HealthCheckResponse.NOT_SERVING)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    print("listening", flush=True)
    for line in sys.stdin:
        if line.strip() == "serve":
            for service in SERVICES:
                servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
            print("serving", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
