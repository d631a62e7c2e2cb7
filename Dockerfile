# The linkerd-await image: a static binary, alone in a scratch image, meant to be
# copied into app images (it is not a base image).
#
#   docker build -t linkerd-await:latest .
#
# Use it from an app image's Dockerfile (any final stage works: the binary is
# static and needs no libc, /etc/hosts or CA certificates):
#
#   FROM linkerd-await:latest AS linkerd-await
#
#   FROM gcr.io/distroless/static-debian12
#   COPY --from=linkerd-await /linkerd-await /linkerd-await
#   COPY app /app
#   ENTRYPOINT ["/linkerd-await", "--"]
#   CMD ["/app"]
#
# Keep the exec form of ENTRYPOINT: the shell form would put /bin/sh in front
# of the gate, which then would not be PID 1 and the app not get its signals.

# ---- build: a static (musl) binary -------------------------------------------
# Debian-based rust image; its gcc links the musl target (rustup's musl target
# ships its own C runtime and libc). Override the toolchain with
# --build-arg RUST_IMAGE=rust:1.85 (the crate's rust-version) or a digest.
ARG RUST_IMAGE=rust:1
FROM ${RUST_IMAGE} AS build
RUN rustup target add x86_64-unknown-linux-musl
WORKDIR /src

# Dependencies first, in their own layer: it is rebuilt only when the lock file
# changes. The placeholder sources give cargo targets to read the manifests
# with: the gate's, and those of the workspace's other members (the simulated
# proxy and the xtask; cargo reads every member's manifest, builds none of them).
COPY Cargo.toml Cargo.lock ./
COPY sim-proxy/Cargo.toml sim-proxy/
COPY xtask/Cargo.toml xtask/
RUN mkdir src sim-proxy/src xtask/src \
 && echo 'fn main() {}' > src/main.rs \
 && touch sim-proxy/src/lib.rs \
 && echo 'fn main() {}' > xtask/src/main.rs \
 && cargo fetch --locked --target x86_64-unknown-linux-musl \
 && rm -r src

# Cargo.toml declares no explicit [[example]]/[[test]]/[[bench]] targets, so the
# sources of the binary are all the build needs (cargo checks that every target
# the manifest declares exists: copy those files too if it ever declares some).
COPY src ./src
# --frozen = --locked (Cargo.lock is used as is) + --offline (everything was fetched above).
RUN cargo build --release --frozen --target x86_64-unknown-linux-musl --bin linkerd-await \
 && cp target/x86_64-unknown-linux-musl/release/linkerd-await /linkerd-await

# ---- the image: nothing but the binary ---------------------------------------
FROM scratch
LABEL org.opencontainers.image.title="linkerd-await" \
      org.opencontainers.image.description="Startup gate for meshed containers: wait for the service-mesh proxy to be ready, then exec the app" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /linkerd-await /linkerd-await
ENTRYPOINT ["/linkerd-await"]
