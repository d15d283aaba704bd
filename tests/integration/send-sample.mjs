// Sends a sample of traces, logs and metrics to lookout with the
// OpenTelemetry JS SDK, configured by the standard variables:
//
//   export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318
//   export OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer%20<token>"
//   node tests/integration/send-sample.mjs [proto|json] [gzip]

import crypto from 'node:crypto';
import { sendTraces, sendLogs, sendMetrics } from './lib/sdk.mjs';

const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT || 'http://127.0.0.1:4318';
const headers = {};
for (const part of (process.env.OTEL_EXPORTER_OTLP_HEADERS || '').split(',')) {
  const i = part.indexOf('=');
  if (i > 0) headers[decodeURIComponent(part.slice(0, i).trim())] = decodeURIComponent(part.slice(i + 1).trim());
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
  console.error(`send-sample: ${e.message}`);
  process.exit(1);
}
