// Small request specs for lib/otlp.mjs, each tagged by a unique service
// name so a test can count exactly its own rows.

import { randHex, nowNs, q } from './harness.mjs';

export function logsSpec(service, n = 3, { attributes = {}, resource = {}, record = () => ({}) } = {}) {
  const t = nowNs();
  return {
    resource: { 'service.name': service, ...resource },
    scope: { name: 'itest-raw', version: '1' },
    records: Array.from({ length: n }, (_, i) => ({
      timeNs: t + BigInt(i) * 1000n,
      observedNs: t + BigInt(i) * 1000n + 500n,
      severityNumber: 9, severityText: 'INFO',
      body: `record ${i}`,
      attributes: { i, ...attributes },
      ...record(i),
    })),
  };
}

export function tracesSpec(service, n = 3, { attributes = {}, resource = {}, span = () => ({}) } = {}) {
  const t = nowNs();
  const traceId = randHex(16);
  const rootId = randHex(8);
  return {
    resource: { 'service.name': service, ...resource },
    scope: { name: 'itest-raw', version: '1' },
    spans: Array.from({ length: n }, (_, i) => ({
      traceId, spanId: i === 0 ? rootId : randHex(8), parentSpanId: i === 0 ? undefined : rootId,
      name: `op ${i}`, kind: 2, startNs: t + BigInt(i) * 1000n, endNs: t + BigInt(i) * 1000n + 250000n,
      attributes: { i, ...attributes }, status: { code: 0 },
      ...span(i),
    })),
  };
}

export function metricsSpec(service, n = 3, { attributes = {}, resource = {} } = {}) {
  const t = nowNs();
  return {
    resource: { 'service.name': service, ...resource },
    scope: { name: 'itest-raw', version: '1' },
    metrics: Array.from({ length: n }, (_, i) => ({
      name: `itest.raw.${i}`, unit: '1', description: 'raw',
      gauge: { points: [{ attributes: { i, ...attributes }, startNs: t - 1000000000n, timeNs: t, value: i + 0.5 }] },
    })),
  };
}

export const SPEC = { logs: logsSpec, traces: tracesSpec, metrics: metricsSpec };

// Rows stored under a service name, per signal.
export async function countStored(signal, service) {
  if (signal === 'logs') return Number((await q('SELECT count(*) FROM log_entries WHERE service = $1', [service]))[0].count);
  if (signal === 'traces') return Number((await q('SELECT count(*) FROM spans WHERE service = $1', [service]))[0].count);
  return Number((await q('SELECT count(*) FROM metric_samples WHERE service = $1', [service]))[0].count);
}

export async function countAll(service) {
  return (await countStored('logs', service)) + (await countStored('traces', service)) + (await countStored('metrics', service))
    + Number((await q('SELECT count(*) FROM metric_series WHERE service = $1', [service]))[0].count);
}
