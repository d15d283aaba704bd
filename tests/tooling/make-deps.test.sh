#!/usr/bin/env bash
# The Makefile on a machine without the C libraries (pkg-config finds none of
# them: PKG_CONFIG_LIBDIR points at an empty directory):
#  - `make` and `make unit` stop at once with one line naming the missing
#    Debian packages and `make deps`, before any compiler runs;
#  - `make run|test|bench|asan` run deps first and leave every compile to a
#    new make started after it (which reads pkg-config again).  Checked with
#    `make -n`: the top-level make prints no compile command, only deps and
#    the new make, whose line about the missing libraries comes after deps.
# (tests/tooling/run-stop.test.sh builds and serves for real with a deps step
# that makes the libraries visible only when it runs.)
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d /tmp/lookout-tooling.XXXXXX)
trap 'rm -rf "$T"' EXIT
copy_checkout "$T/co"
mkdir "$T/nopc"
export PKG_CONFIG_LIBDIR="$T/nopc"

for goal in all unit integration; do
  if mk -C "$T/co" "$goal" >"$T/out" 2>&1; then cat "$T/out" >&2; fail "make $goal succeeded without the C libraries"; fi
  one_line "$T/out" || { cat "$T/out" >&2; fail "make $goal: not one line"; }
  grep -q "run 'make deps'" "$T/out" && grep -q "libmicrohttpd-dev" "$T/out" && grep -q "libpq-dev" "$T/out" \
    || { cat "$T/out" >&2; fail "make $goal: the line names neither the packages nor make deps"; }
  [ ! -e "$T/co/build" ] || fail "make $goal compiled something"
done
say "make, make unit, make integration: $(cat "$T/out")"

# make -n run checks the ports first: give it free ones
LO_DEV_PG_PORT=$(free_port); LOOKOUT_OTLP_ADDR=127.0.0.1:$(free_port); LOOKOUT_API_ADDR=127.0.0.1:$(free_port)
export LO_DEV_PG_PORT LOOKOUT_OTLP_ADDR LOOKOUT_API_ADDR
for goal in run test bench asan; do
  mk -n -C "$T/co" "$goal" BUILD="$T/b" >"$T/out" 2>&1 || true
  deps=$(grep -n 'scripts/deps.sh' "$T/out" | head -n 1 | cut -d: -f1)
  missing=$(grep -n 'C libraries missing' "$T/out" | head -n 1 | cut -d: -f1)
  if [ -z "$deps" ] || [ -z "$missing" ] || [ "$deps" -ge "$missing" ]; then
    cat "$T/out" >&2; fail "make $goal: deps does not come before a new make that reads pkg-config"
  fi
  if grep -E -- ' -c [^ ]+\.c( |$)|-o [^ ]*bin/lookout( |$)' "$T/out" >&2; then
    fail "make $goal: the make that runs deps compiles (with the flags it read before deps)"
  fi
done
say "make run, test, bench, asan: deps first, every compile in a make started after it"
