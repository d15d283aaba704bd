#!/usr/bin/env bash
# tests/integration/send-sample.mjs without the OTEL_EXPORTER_OTLP_* variables
# says which ones are missing and exits non-zero.
. "$(dirname "$0")/lib.sh"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
if env -u OTEL_EXPORTER_OTLP_ENDPOINT -u OTEL_EXPORTER_OTLP_HEADERS \
    node "$root/tests/integration/send-sample.mjs" >"$out" 2>&1; then
  cat "$out" >&2; fail "it succeeded without the variables"
fi
grep -q "OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_HEADERS are not set" "$out" \
  || { cat "$out" >&2; fail "it does not say what is missing"; }
if env -u OTEL_EXPORTER_OTLP_HEADERS OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9 \
    node "$root/tests/integration/send-sample.mjs" >"$out" 2>&1; then
  cat "$out" >&2; fail "it succeeded without OTEL_EXPORTER_OTLP_HEADERS"
fi
grep -q "OTEL_EXPORTER_OTLP_HEADERS is not set" "$out" || { cat "$out" >&2; fail "it does not name OTEL_EXPORTER_OTLP_HEADERS"; }
say "$(head -n 1 "$out")"
