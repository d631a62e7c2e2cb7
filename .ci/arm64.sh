#!/usr/bin/env bash
# The arm64 side of CI: cross-build the static arm64 gate and run the tests
# against it under qemu-user (binfmt), with nothing but this repository.
#
#   bash .ci/arm64.sh setup   rustup's aarch64 musl target, the build, qemu-user
#                             and its binfmt handler (enabled if it is not)
#   bash .ci/arm64.sh test    every test target against the arm64 gate, except
#                             the tests tests/emulation.txt lists (printed, with why)
#
# Works as root on a fresh Debian machine; installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=aarch64-unknown-linux-musl
GATE="$PWD/target/$TARGET/release/linkerd-await"
BINFMT=/proc/sys/fs/binfmt_misc
# The size budget of every shipped gate (README, Benchmarks).
MAX_BYTES=$((7 * 512 * 1024)) # 3.5 MiB with TLS: xtask/src/elf.rs SIZE_BUDGET

log() { echo "== arm64: $*"; }

setup() {
    log "target $TARGET and the static build"
    rustup target add "$TARGET" >/dev/null
    # The linker (rust-lld) is set in .cargo/config.toml; ring's C and
    # assembly are compiled by clang (CC_aarch64_unknown_linux_musl there),
    # which targets arm64 from this machine: no cross toolchain.
    if ! command -v clang >/dev/null; then
        log "installing clang (ring's C for the musl target)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang >/dev/null
    fi
    cargo build --release --locked --target "$TARGET" --bin linkerd-await
    local size
    size=$(stat -c %s "$GATE")
    log "size $size bytes (budget $MAX_BYTES)"
    [ "$size" -le "$MAX_BYTES" ] || { echo "the arm64 gate is over its 3.5 MiB budget" >&2; exit 1; }

    if ! command -v qemu-aarch64-static >/dev/null; then
        log "installing qemu-user-static"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user-static >/dev/null
    fi
    if [ ! -e "$BINFMT/register" ]; then
        mount -t binfmt_misc binfmt_misc "$BINFMT"
    fi
    if [ ! -e "$BINFMT/qemu-aarch64" ]; then
        # Debian's registration carries the F (fix-binary) flag: the kernel
        # opens the interpreter now, so it also works inside FROM scratch
        # containers, which have no /usr/libexec/qemu-binfmt.
        log "enabling the qemu-aarch64 binfmt handler"
        cat /usr/lib/binfmt.d/qemu-aarch64.conf > "$BINFMT/register"
    fi
    grep -q '^enabled' "$BINFMT/qemu-aarch64" || echo 1 > "$BINFMT/qemu-aarch64"
    log "$("$GATE" --version) runs under emulation"
}

run_tests() {
    local skips=() name why
    log "not run under emulation (tests/emulation.txt):"
    while IFS= read -r line; do
        case "$line" in ''|'#'*) continue ;; esac
        name=${line%%:*}
        why=${line#*: }
        echo "   - $name: $why"
        skips+=(--skip "$name")
    done < tests/emulation.txt
    log "every other test, against $GATE"
    LINKERD_AWAIT_TEST_GATE="$GATE" cargo test --locked --tests -- --exact "${skips[@]}"
}

case "${1:-}" in
    setup) setup ;;
    test) run_tests ;;
    *) echo "usage: $0 setup|test" >&2; exit 2 ;;
esac
