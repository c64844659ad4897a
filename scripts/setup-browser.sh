#!/usr/bin/env bash
# Make a browser available for the dashboard's tests (tests/web), idempotently.
#
#   scripts/setup-browser.sh
#
# The tests drive Debian's chromium through Playwright; Playwright's own
# browser download is never used (launched with executable_path). If
# /usr/bin/chromium is missing and we are root with apt-get, install it.
#
# Exits 0 when /usr/bin/chromium runs; otherwise prints one line saying
# why and exits non-zero.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

say() { echo "setup-browser: $*"; }
fail() { echo "setup-browser: error: $*" >&2; exit 1; }

works() { "$CHROMIUM" --headless=new --no-sandbox --version >/dev/null 2>&1; }

if [ -x "$CHROMIUM" ] && works; then
    exit 0
fi
[ "$(id -u)" -eq 0 ] || fail "no $CHROMIUM, and installing it needs root (apt-get install chromium)"
command -v apt-get >/dev/null 2>&1 || fail "no $CHROMIUM, and no apt-get to install it with"
say "installing chromium"
DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null \
    || { apt-get update >/dev/null && \
         DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null; } \
    || fail "could not install chromium with apt-get"
works || fail "$CHROMIUM was installed but does not start"
say "chromium ready: $("$CHROMIUM" --version 2>/dev/null)"
