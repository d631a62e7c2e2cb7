# The linkerd-await image: a static binary, alone in a scratch image, meant to be
# copied into app images (it is not a base image).
#
#   docker build -t linkerd-await:latest .
#   docker buildx build --platform linux/amd64,linux/arm64 -t linkerd-await:latest .
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
# Runs on the build machine's own platform and cross-compiles for the platform
# asked for (`docker buildx build --platform linux/amd64,linux/arm64 .`): no
# emulation inside the build. rustup's musl targets ship their C runtime and
# libc, and .cargo/config.toml links them with rustc's rust-lld; clang
# compiles ring's C and assembly (rustls's crypto, for TLS targets) for
# either architecture, so no cross toolchain is involved. Override the toolchain with
# --build-arg RUST_IMAGE=rust:1.85 (the crate's rust-version) or a digest.
ARG RUST_IMAGE=rust:1
# hadolint ignore=DL3029
FROM --platform=$BUILDPLATFORM ${RUST_IMAGE} AS build
# Set by BuildKit from --platform (amd64 when building without it).
ARG TARGETARCH=amd64
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends clang \
 && rm -rf /var/lib/apt/lists/*
RUN case "$TARGETARCH" in \
      amd64) echo x86_64-unknown-linux-musl ;; \
      arm64) echo aarch64-unknown-linux-musl ;; \
      *) echo "unsupported platform: linux/$TARGETARCH (amd64 and arm64 are)" >&2; exit 1 ;; \
    esac > /rust-target \
 && rustup target add "$(cat /rust-target)"
WORKDIR /src

# Dependencies first, in their own layer: it is rebuilt only when the lock file
# changes. The placeholder sources give cargo targets to read the manifests
# with: the gate's, and those of the workspace's other members (the simulated
# proxy and the xtask; cargo reads every member's manifest, builds none of them).
COPY Cargo.toml Cargo.lock ./
COPY .cargo ./.cargo
COPY sim-proxy/Cargo.toml sim-proxy/
COPY xtask/Cargo.toml xtask/
RUN mkdir src sim-proxy/src xtask/src \
 && echo 'fn main() {}' > src/main.rs \
 && touch sim-proxy/src/lib.rs \
 && echo 'fn main() {}' > xtask/src/main.rs \
 && cargo fetch --locked --target "$(cat /rust-target)" \
 && rm -r src

# Cargo.toml declares no explicit [[example]]/[[test]]/[[bench]] targets, so the
# sources of the binary and its build script are all the build needs (cargo checks that every target
# the manifest declares exists: copy those files too if it ever declares some).
COPY build.rs ./
COPY src ./src
# --version names the commit; there is no .git in the build context, so pass
# it in: --build-arg LINKERD_AWAIT_BUILD_COMMIT=$(git rev-parse --short HEAD).
ARG LINKERD_AWAIT_BUILD_COMMIT
# --frozen = --locked (Cargo.lock is used as is) + --offline (everything was fetched above).
RUN cargo build --release --frozen --target "$(cat /rust-target)" --bin linkerd-await \
 && cp "target/$(cat /rust-target)/release/linkerd-await" /linkerd-await

# ---- the image: nothing but the binary ---------------------------------------
FROM scratch
LABEL org.opencontainers.image.title="linkerd-await" \
      org.opencontainers.image.description="Startup gate for meshed containers: wait for the service-mesh proxy to be ready, then exec the app" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /linkerd-await /linkerd-await
ENTRYPOINT ["/linkerd-await"]
