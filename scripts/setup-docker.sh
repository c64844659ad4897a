#!/usr/bin/env bash
# Make a Docker engine and the local test images available, idempotently.
#
#   scripts/setup-docker.sh
#
# 1. If `docker info` answers, the engine is left alone.
#    Otherwise, as root with apt-get: install Debian's docker.io and
#    busybox-static if missing, start `dockerd --storage-driver=vfs` in the
#    background (log: $BACALAO_DOCKERD_LOG, pid: $BACALAO_DOCKERD_PIDFILE)
#    and wait up to $BACALAO_DOCKERD_WAIT seconds for it.
# 2. Build the test images if missing. No image is ever pulled: busybox:latest
#    and busybox:1.37.0 are imported from a rootfs holding Debian's static
#    busybox and a symlink per applet.
#
# Exits 0 when an engine runs and the images exist; otherwise prints one
# line saying why and exits non-zero.
set -euo pipefail

DOCKERD_LOG=${BACALAO_DOCKERD_LOG:-/tmp/bacalao-dockerd.log}
DOCKERD_PIDFILE=${BACALAO_DOCKERD_PIDFILE:-/tmp/bacalao-dockerd.pid}
DOCKERD_WAIT=${BACALAO_DOCKERD_WAIT:-30}
IMAGES=(busybox:latest busybox:1.37.0)

say() { echo "setup-docker: $*"; }
fail() { echo "setup-docker: error: $*" >&2; exit 1; }

engine_up() { docker info >/dev/null 2>&1; }

install_packages() {
    local missing=()
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
    static_busybox || missing+=(busybox-static)
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null \
        || { apt-get update >/dev/null && \
             DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null; } \
        || fail "could not install ${missing[*]} with apt-get"
}

start_dockerd() {
    if [ -f "$DOCKERD_PIDFILE" ] && kill -0 "$(cat "$DOCKERD_PIDFILE")" 2>/dev/null; then
        say "dockerd already started (pid $(cat "$DOCKERD_PIDFILE")), waiting for it"
    else
        say "starting dockerd --storage-driver=vfs (log: $DOCKERD_LOG)"
        nohup dockerd --storage-driver=vfs >"$DOCKERD_LOG" 2>&1 </dev/null &
        echo $! >"$DOCKERD_PIDFILE"
    fi
    local waited=0
    until engine_up; do
        kill -0 "$(cat "$DOCKERD_PIDFILE")" 2>/dev/null \
            || fail "dockerd exited; last log line: $(tail -n 1 "$DOCKERD_LOG")"
        [ "$waited" -ge $((DOCKERD_WAIT * 2)) ] \
            && fail "dockerd did not answer within ${DOCKERD_WAIT}s (see $DOCKERD_LOG)"
        sleep 0.5
        waited=$((waited + 1))
    done
    say "dockerd is up"
}

ensure_engine() {
    if engine_up; then
        say "docker engine already running"
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 \
        || fail "no docker engine answers and apt-get is not available to install one"
    [ "$(id -u)" -eq 0 ] \
        || fail "no docker engine answers and we are not root (cannot install/start dockerd)"
    install_packages
    start_dockerd
}

static_busybox() { [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; }

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

build_busybox_rootfs() {
    local root=$1 applet
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,proc,sys,dev,home}
    chmod 1777 "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    for applet in $(/bin/busybox --list-full); do
        [ "$applet" = bin/busybox ] && continue
        mkdir -p "$root/$(dirname "$applet")"
        ln -sf /bin/busybox "$root/$applet"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' \
        >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
}

import_busybox() {
    local image=$1 root
    static_busybox || fail "no static /bin/busybox (install busybox-static) to build $image"
    say "building $image from /bin/busybox"
    root=$(mktemp -d /tmp/bacalao-busybox-rootfs.XXXXXX)
    build_busybox_rootfs "$root"
    if ! tar -C "$root" -c . | docker import --change 'CMD ["sh"]' - "$image" >/dev/null; then
        rm -rf "$root"
        fail "docker import of the busybox rootfs failed"
    fi
    rm -rf "$root"
}

ensure_images() {
    local base=${IMAGES[0]} image
    image_exists "$base" || import_busybox "$base"
    for image in "${IMAGES[@]:1}"; do
        image_exists "$image" || { say "tagging $image"; docker tag "$base" "$image"; }
    done
    say "images ready: ${IMAGES[*]}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    ensure_engine
    ensure_images
fi
