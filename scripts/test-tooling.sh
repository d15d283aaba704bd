#!/usr/bin/env bash
# Tooling tests (make tooling, part of make test): make run, make
# services-stop, the port checks of scripts/run.sh and the Makefile's
# deps-then-build order, each checked from throw-away copies of the checkout
# (tests/tooling/*.test.sh; one file: scripts/test-tooling.sh FILE...).
# Every test runs even after a failure; the last line sums them up.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
if [ "$#" -gt 0 ]; then tests=("$@"); else tests=(tests/tooling/*.test.sh); fi
n=0; bad=""
for t in "${tests[@]}"; do
  n=$((n + 1))
  echo "== $t"
  start=$(date +%s)
  if bash "$t"; then echo "tooling: ${t##*/} passed ($(($(date +%s) - start)) s)"
  else bad="$bad ${t##*/}"; fi
done
if [ -n "$bad" ]; then echo "tooling: FAILED:$bad (of $n)"; exit 1; fi
echo "tooling: all $n tests passed"
