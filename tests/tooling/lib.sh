# shellcheck shell=bash
# Helpers for the tooling tests (sourced by tests/tooling/*.test.sh, run by
# scripts/test-tooling.sh).  Each test works in copies of the checkout, never
# in the checkout itself.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
test_name=$(basename "$0" .test.sh)

say() { echo "tooling/$test_name: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

# A new make, not a sub-make of the one that runs the tests.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory "$@"; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# copy_checkout DEST: the checkout's files as `make` sees them (tracked and
# untracked-but-not-ignored, modification times kept), without build output.
copy_checkout() {
  mkdir -p "$1"
  if command -v git >/dev/null && git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$root" && git ls-files -z --cached --others --exclude-standard \
      | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$1"
  else   # not a git checkout (or no git): everything but what .gitignore names
    tar -C "$root" --exclude=./.git --exclude=./build --exclude=./build-asan --exclude=./build-fuzz \
      --exclude=./bin --exclude=./var --exclude=node_modules -cf - . | tar -xf - -C "$1"
  fi
}

# hide_pkgconfig DIR: pkg-config then finds nothing (export the variable it
# prints); reveal_pkgconfig_script DIR prints a shell command that makes
# every .pc file of the machine visible in DIR again (a fake deps step).
pc_path=$(pkg-config --variable pc_path pkg-config 2>/dev/null || true)
reveal_pkgconfig_script() {
  local dirs=${pc_path//:/ }
  echo "for d in $dirs; do [ -d \"\$d\" ] && ln -sf \"\$d\"/*.pc '$1'/ 2>/dev/null; done; true"
}

# wait_http URL SECONDS PID: until URL answers 2xx; fails when PID exits first
wait_http() {
  for _ in $(seq 1 $(($2 * 10))); do
    curl -fsS -m 1 -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# port_open PORT: something accepts connections on 127.0.0.1:PORT
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# one_line FILE: the file holds exactly one non-empty line
one_line() { [ "$(grep -c . "$1")" -eq 1 ]; }
