// Sends a sample of traces, logs and metrics to lookout with the
// OpenTelemetry JS SDK, configured by the standard variables:
//
//   export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318
//   export OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer%20<token>"
//   node tests/integration/send-sample.mjs [proto|json] [gzip]

import crypto from 'node:crypto';
import { sendTraces, sendLogs, sendMetrics } from './lib/sdk.mjs';

// Both variables are needed: lookout answers 401 without a token.
const missing = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_HEADERS'].filter((v) => !process.env[v]);
if (missing.length) {
  console.error(`send-sample: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set; ` +
    'make run prints the two export lines to paste (the token is also in var/dev-token)');
  process.exit(2);
}
const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
const headers = {};
for (const part of process.env.OTEL_EXPORTER_OTLP_HEADERS.split(',')) {
  const i = part.indexOf('=');
  if (i > 0) headers[decodeURIComponent(part.slice(0, i).trim())] = decodeURIComponent(part.slice(i + 1).trim());
}
if (!Object.keys(headers).some((k) => k.toLowerCase() === 'authorization')) {
  console.error('send-sample: OTEL_EXPORTER_OTLP_HEADERS has no Authorization header ' +
    '(expected "Authorization=Bearer%20<token>", as make run prints it)');
  process.exit(2);
}
const encoding = process.argv[2] === 'json' ? 'json' : 'proto';
const gzip = process.argv.includes('gzip');
const tag = `sample-${crypto.randomBytes(3).toString('hex')}`;
const ids = { session: crypto.randomUUID(), user: crypto.randomUUID() };
const opts = { encoding, gzip, url: endpoint, headers, tag, ids };

try {
  const t = await sendTraces(opts);
  const l = await sendLogs(opts);
  const m = await sendMetrics(opts);
  console.log(`sent ${t.spans.length} spans, ${l.logs.length} log records and ${m.expect.length} metric series ` +
    `as service "${t.service}" (${encoding}${gzip ? ', gzip' : ''}) to ${endpoint}; session ${ids.session}`);
} catch (e) {
  // the exporters may fail with an array of errors (one per attempt)
  const msgs = [...new Set((Array.isArray(e) ? e : [e]).map((x) => (x && x.message) || String(x)))];
  console.error(`send-sample: ${endpoint}: ${msgs.join('; ')}`);
  process.exit(1);
}
