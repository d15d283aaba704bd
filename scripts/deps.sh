#!/usr/bin/env bash
# Installs what lookout needs to build and test, if it is missing:
# Debian 12 packages (C libraries, PostgreSQL 15, redis-server, Prometheus
# Alertmanager, clang) and the
# npm packages of the integration tests (pinned by tests/integration/package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(build-essential pkg-config clang clang-format libclang-rt-14-dev
      libmicrohttpd-dev libpq-dev libjansson-dev zlib1g-dev libssl-dev
      libhiredis-dev libwslay-dev libcurl4-openssl-dev
      libsnappy-dev libzstd-dev libxxhash-dev
      libcmocka-dev protobuf-c-compiler libprotobuf-c-dev
      postgresql-15 redis-server prometheus-alertmanager nodejs npm python3 curl)
# (pg_trgm and the other contrib extensions ship in postgresql-15 on Debian 12;
# postgresql-contrib-15 is only a virtual name there, which dpkg never reports
# installed, so listing it ran apt-get on every make test.)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs/npm may come from elsewhere than Debian: a working binary is enough
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "deps: Debian packages present"
fi

if [ -f tests/integration/package-lock.json ]; then
  lock=tests/integration/package-lock.json
  stamp=tests/integration/node_modules/.lookout-stamp
  if [ ! -f "$stamp" ] || ! cmp -s "$lock" "$stamp"; then
    echo "deps: npm ci in tests/integration"
    (cd tests/integration && npm ci --no-audit --no-fund --loglevel=error)
    cp "$lock" "$stamp"
  else
    echo "deps: npm packages present"
  fi
fi
