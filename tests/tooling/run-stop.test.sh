#!/usr/bin/env bash
# make run and make services-stop from a copy of the checkout in a mode-700
# directory (as root the postgres user cannot enter it, so the cluster lives
# under /var/tmp), on free ports:
#  - the C libraries become visible to pkg-config only when the deps step
#    runs (a fake scripts/deps.sh in the copy): make run still builds (it
#    links bin/lookout; the objects are copied from the checkout's build/)
#    and serves /healthz;
#  - while it serves, a second copy asking for the same ports gets one line
#    naming the first copy's database and how to stop it or move, from
#    scripts/run.sh and from make run (before its deps step), exit non-zero;
#  - after Ctrl-C, make services-stop in the copy stops its PostgreSQL.
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d /tmp/lookout-tooling.XXXXXX)   # mode 700
co=$T/lookout
other=$T/other
make_pid=""
pg_dir=""
cleanup() {
  set +e
  if [ -n "$make_pid" ] && kill -0 "$make_pid" 2>/dev/null; then
    kill -INT -- "-$make_pid" 2>/dev/null; sleep 2; kill -KILL -- "-$make_pid" 2>/dev/null
  fi
  [ -x "$co/scripts/services.sh" ] && "$co/scripts/services.sh" stop all >/dev/null 2>&1
  case "$pg_dir" in /var/tmp/lookout-dev-*) rm -rf "$pg_dir" ;; esac
  rm -rf "$T"
}
trap cleanup EXIT

copy_checkout "$co"
copy_checkout "$other"
if [ -f "$root/build/liblookout.a" ] && [ -f "$root/build/src/main.o" ]; then
  cp -a "$root/build" "$co/build"   # up to date: make run only links bin/lookout
else
  say "no build/ in the checkout: make run compiles everything in the copy"
fi
mkdir "$T/pc"
export PKG_CONFIG_LIBDIR="$T/pc"
for c in "$co" "$other"; do
  cat >"$c/scripts/deps.sh" <<DEPS
#!/bin/sh
echo "deps: (tooling test) the C libraries' pkg-config files appear now"
$(reveal_pkgconfig_script "$T/pc")
touch "$c.deps-ran"
DEPS
done

pg_port=$(free_port)
otlp_port=$(free_port)
api_port=$(free_port)
export LO_DEV_PG_PORT=$pg_port LOOKOUT_OTLP_ADDR=127.0.0.1:$otlp_port LOOKOUT_API_ADDR=127.0.0.1:$api_port

say "make run in $co (mode $(stat -c %a "$T")), PostgreSQL $pg_port, OTLP $otlp_port, API $api_port"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL setsid make --no-print-directory -C "$co" run >"$T/run.log" 2>&1 &
make_pid=$!
if ! wait_http "http://127.0.0.1:$api_port/healthz" 180 "$make_pid"; then
  tail -n 40 "$T/run.log" >&2; fail "make run did not serve /healthz"
fi
[ -f "$co.deps-ran" ] || fail "make run did not run deps"
pg_dir=$("$co/scripts/services.sh" dev-dir)
if [ "$(id -u)" -eq 0 ]; then
  case "$pg_dir" in /var/tmp/lookout-dev-*) ;; *) fail "as root from a mode-700 directory the cluster is in $pg_dir, not under /var/tmp" ;; esac
  grep -q "the postgres user cannot reach $co/var; the cluster lives in $pg_dir" "$T/run.log" \
    || { cat "$T/run.log" >&2; fail "make run does not say where the cluster lives"; }
else
  say "not root: the mode-700 case (cluster under /var/tmp) is skipped; the cluster is in $pg_dir"
  [ "$pg_dir" = "$co/var" ] || fail "the cluster is in $pg_dir, not $co/var"
fi
[ "$(sed -n 4p "$pg_dir/pg/data/postmaster.pid")" = "$pg_port" ] || fail "no cluster on port $pg_port in $pg_dir"
say "serving; PostgreSQL in $pg_dir/pg"

# A second copy asking for the same ports.
set +e
"$other/scripts/run.sh" >"$T/taken.out" 2>&1; rc=$?
set -e
[ "$rc" -ne 0 ] || fail "scripts/run.sh succeeded with its ports taken"
one_line "$T/taken.out" || { cat "$T/taken.out" >&2; fail "scripts/run.sh: not one line"; }
for want in "127.0.0.1:$pg_port (PostgreSQL) is taken by the development PostgreSQL of the checkout $co" \
    "'make services-stop' in $co" "127.0.0.1:$otlp_port (OTLP) and 127.0.0.1:$api_port (API) are taken by process" \
    "LO_DEV_PG_PORT=" "LOOKOUT_OTLP_ADDR=127.0.0.1:" "LOOKOUT_API_ADDR=127.0.0.1:"; do
  grep -qF "$want" "$T/taken.out" || { cat "$T/taken.out" >&2; fail "scripts/run.sh: no \"$want\""; }
done
if [ "$(id -u)" -eq 0 ] && command -v ss >/dev/null; then
  grep -qF "lookout serve" "$T/taken.out" || { cat "$T/taken.out" >&2; fail "scripts/run.sh does not name the lookout serve holding the OTLP port"; }
fi
say "scripts/run.sh: $(cat "$T/taken.out")"
[ ! -e "$other/var/pg" ] || fail "scripts/run.sh started a cluster although the port was taken"

set +e
mk -C "$other" run >"$T/taken-make.out" 2>&1; rc=$?
set -e
[ "$rc" -ne 0 ] || fail "make run succeeded with its ports taken"
one_line "$T/taken-make.out" || { cat "$T/taken-make.out" >&2; fail "make run: not one line"; }
grep -qF "127.0.0.1:$pg_port (PostgreSQL) is taken by the development PostgreSQL of the checkout $co" "$T/taken-make.out" \
  || { cat "$T/taken-make.out" >&2; fail "make run does not name the other checkout's database"; }
[ ! -e "$other.deps-ran" ] || fail "make run ran deps before saying the port was taken"
say "make run: $(cat "$T/taken-make.out")"

# Ctrl-C, then make services-stop.
kill -INT -- "-$make_pid"
for _ in $(seq 1 100); do kill -0 "$make_pid" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$make_pid" 2>/dev/null || fail "make run did not stop on Ctrl-C"
wait "$make_pid" 2>/dev/null || true
make_pid=""
port_open "$pg_port" || fail "PostgreSQL stopped with the server (make services-stop should be needed)"
pg_pid=$(sed -n 1p "$pg_dir/pg/data/postmaster.pid")
mk -C "$co" services-stop >"$T/stop.out" 2>&1 || { cat "$T/stop.out" >&2; fail "make services-stop failed"; }
grep -qF "stopping PostgreSQL in $pg_dir/pg" "$T/stop.out" || { cat "$T/stop.out" >&2; fail "make services-stop did not stop $pg_dir/pg"; }
! port_open "$pg_port" || fail "port $pg_port still answers after make services-stop"
for _ in $(seq 1 50); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$pg_pid" 2>/dev/null || fail "PostgreSQL (pid $pg_pid) still runs 5 s after make services-stop"
"$other/scripts/run.sh" --check-ports || fail "the ports are still taken after make services-stop"
say "make services-stop stopped PostgreSQL $pg_pid in $pg_dir/pg"
