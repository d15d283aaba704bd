// Edge cases of decoding to rows (docs/ingest-storage.md): time
// fallbacks, the ingest time window, non-string bodies, big requests, many
// attributes, id case, and metric series identity.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { postSignal, q, closeDb, tag, randHex, CT } from './lib/harness.mjs';
import { request, pbRequest, jsonRequest } from './lib/otlp.mjs';
import { logsSpec } from './lib/records.mjs';
import { exportOk } from './lib/expect.mjs';

after(closeDb);

const US = (col) => `(extract(epoch from ${col}) * 1000000)::bigint::text AS ${col}_us`;

test('log time falls back to observed time, then to receive time', async () => {
  const svc = tag('tfb');
  const obs = BigInt(Date.now() - 5000) * 1000000n;
  const spec = logsSpec(svc, 2, { record: (i) => ({ attributes: { i }, timeNs: undefined, observedNs: i === 0 ? obs : undefined }) });
  const before = BigInt(Date.now()) * 1000n;
  exportOk(await postSignal('logs', pbRequest('logs', spec), { contentType: CT.proto }), 'logs', 'proto', 'fallbacks');
  const after2 = BigInt(Date.now()) * 1000n;
  const rows = await q(`SELECT ${US('time')}, ${US('observed_time')} FROM log_entries WHERE service = $1 ORDER BY (attributes->>'i')::int`, [svc]);
  assert.equal(rows.length, 2);
  assert.equal(BigInt(rows[0].time_us), obs / 1000n, 'time = observed time');
  assert.ok(BigInt(rows[1].time_us) >= before - 1000n && BigInt(rows[1].time_us) <= after2 + 1000n, 'time = receive time');
});

test('records outside the ingest time window are rejected in partial_success, the rest stored', async () => {
  const svc = tag('window');
  const day = 86400n * 1000000000n;
  const now = BigInt(Date.now()) * 1000000n;
  const spec = logsSpec(svc, 3, { record: (i) => ({ attributes: { i }, timeNs: [now, now - 30n * day, now + 3n * day][i] }) });
  for (const encoding of ['proto', 'json']) {
    const r = exportOk(await postSignal('logs', request('logs', encoding, spec), { contentType: CT[encoding] }), 'logs', encoding, 'window');
    assert.equal(r.rejected, 2, `${encoding}: 30 days old and 3 days ahead are rejected`);
    assert.ok(r.message.length > 0);
  }
  const rows = await q(`SELECT attributes->>'i' AS i FROM log_entries WHERE service = $1`, [svc]);
  assert.deepEqual(rows.map((x) => x.i), ['0', '0']);
});

test('message from non-string bodies; absent body is an empty message', async () => {
  const svc = tag('body');
  const bodies = [42, true, 2.5, ['a', 1], { k: 'v' }, Buffer.from([1, 2, 3]), undefined, ''];
  const spec = logsSpec(svc, bodies.length, { record: (i) => ({ attributes: { i }, body: bodies[i] }) });
  for (const encoding of ['proto', 'json']) {
    exportOk(await postSignal('logs', request('logs', encoding, spec), { contentType: CT[encoding] }), 'logs', encoding, 'bodies');
  }
  const rows = await q(`SELECT attributes->>'i' AS i, message FROM log_entries WHERE service = $1 ORDER BY 1`, [svc]);
  assert.equal(rows.length, bodies.length * 2);
  const want = ['42', 'true', '2.5', '["a",1]', '{"k":"v"}', '"AQID"', '', ''];
  for (const r of rows) {
    const w = want[Number(r.i)];
    if (w.startsWith('[') || w.startsWith('{')) assert.deepEqual(JSON.parse(r.message), JSON.parse(w), `body ${r.i}`);
    else if (w === '"AQID"') assert.ok(r.message === 'AQID' || r.message === '"AQID"', `bytes body as base64: ${r.message}`);
    else assert.equal(r.message, w, `body ${r.i}`);
  }
});

test('one request with more records than a writer batch (25,000 logs) is stored whole', { timeout: 60000 }, async () => {
  const svc = tag('bigreq');
  const spec = logsSpec(svc, 25000);
  const res = await postSignal('logs', pbRequest('logs', spec), { contentType: CT.proto, timeout: 60000 });
  exportOk(res, 'logs', 'proto', '25k records');
  const [{ n }] = await q('SELECT count(*)::int AS n FROM log_entries WHERE service = $1', [svc]);
  assert.equal(n, 25000);
});

test('a record with 5,000 attributes', async () => {
  const svc = tag('manyattrs');
  const attributes = {};
  for (let i = 0; i < 5000; i++) attributes[`k${i}`] = i % 2 ? `v${i}` : i;
  const res = await postSignal('logs', pbRequest('logs', logsSpec(svc, 1, { attributes })), { contentType: CT.proto });
  if (res.status === 200) {
    const [row] = await q('SELECT attributes FROM log_entries WHERE service = $1', [svc]);
    assert.equal(Object.keys(row.attributes).length, 5001);
    assert.equal(row.attributes.k4999, 'v4999');
  } else {
    assert.equal(res.status, 400, 'stored or refused as a whole');
  }
});

test('OTLP/JSON ids in upper case are the same ids', async () => {
  const svc = tag('idcase');
  const traceId = randHex(16);
  const spanId = randHex(8);
  const spec = logsSpec(svc, 1, { record: () => ({ attributes: {}, traceId: traceId.toUpperCase(), spanId: spanId.toUpperCase() }) });
  exportOk(await postSignal('logs', jsonRequest('logs', spec), { contentType: CT.json }), 'logs', 'json', 'upper-case ids');
  const [row] = await q(`SELECT encode(trace_id,'hex') AS t, encode(span_id,'hex') AS s FROM log_entries WHERE service = $1`, [svc]);
  assert.deepEqual(row, { t: traceId, s: spanId });
});

test('metric series identity: label order and non-identifying resource attributes do not split a series; host.name does', async () => {
  const svc = tag('series');
  const t = BigInt(Date.now()) * 1000000n;
  const mk = (labels, resource, value, dt) => ({
    resource: { 'service.name': svc, ...resource }, scope: { name: 's' },
    metrics: [{ name: 'itest.identity', unit: '1', gauge: { points: [{ attributes: labels, timeNs: t + BigInt(dt), value }] } }],
  });
  exportOk(await postSignal('metrics', pbRequest('metrics', mk({ a: 'x', b: 'y' }, { 'process.pid': 1 }, 1, 0)), { contentType: CT.proto }), 'metrics', 'proto', 'first');
  exportOk(await postSignal('metrics', pbRequest('metrics', mk({ b: 'y', a: 'x' }, { 'process.pid': 2 }, 2, 1000)), { contentType: CT.proto }), 'metrics', 'proto', 'reordered');
  exportOk(await postSignal('metrics', jsonRequest('metrics', mk({ a: 'x', b: 'y' }, {}, 3, 2000)), { contentType: CT.json }), 'metrics', 'json', 'json');
  exportOk(await postSignal('metrics', pbRequest('metrics', mk({ a: 'x', b: 'z' }, {}, 4, 3000)), { contentType: CT.proto }), 'metrics', 'proto', 'other labels');
  const series = await q('SELECT series_id::text, labels FROM metric_series WHERE service = $1 ORDER BY labels->>\'b\'', [svc]);
  assert.equal(series.length, 2, 'two label sets, two series');
  const samples = await q('SELECT series_id::text, value FROM metric_samples WHERE service = $1 ORDER BY value', [svc]);
  assert.deepEqual(samples.map((s) => s.series_id), [series[0].series_id, series[0].series_id, series[0].series_id, series[1].series_id]);
  // another host is another producer: a series of its own (docs/query-api.md, "Series")
  exportOk(await postSignal('metrics', pbRequest('metrics', mk({ a: 'x', b: 'y' }, { 'host.name': 'h9' }, 5, 4000)), { contentType: CT.proto }), 'metrics', 'proto', 'other host');
  assert.equal((await q('SELECT count(*)::int AS n FROM metric_series WHERE service = $1', [svc]))[0].n, 3);
});

test('keep-alive connections stay usable after early answers (401, 413, 415) and with Expect: 100-continue', async () => {
  const http = await import('node:http');
  const { post, env } = await import('./lib/harness.mjs');
  const { tracesSpec } = await import('./lib/records.mjs');
  const svc = tag('keepalive');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = `${env.otlpUrl}/v1/logs`;
  const good = () => pbRequest('logs', logsSpec(svc, 2));
  const big = pbRequest('logs', (() => { const s = logsSpec(svc, 1); s.records[0].body = 'y'.repeat(env.maxBody + 100); return s; })());
  try {
    const steps = [
      ['401 (no token), body unread', () => post(url, good(), { agent, token: null, contentType: CT.proto }), 401],
      ['then a good request', () => post(url, good(), { agent, token: env.token, contentType: CT.proto }), 200],
      ['415, body unread', () => post(url, good(), { agent, token: env.token, contentType: 'text/plain' }), 415],
      ['then a good request', () => post(url, good(), { agent, token: env.token, contentType: CT.proto }), 200],
      ['413 over the limit', () => post(url, big, { agent, token: env.token, contentType: CT.proto, timeout: 60000 }), 413],
      ['then a good request', () => post(url, good(), { agent, token: env.token, contentType: CT.proto }), 200],
      ['traces on the same connection', () => post(`${env.otlpUrl}/v1/traces`, pbRequest('traces', tracesSpec(svc, 1)), { agent, token: env.token, contentType: CT.proto }), 200],
    ];
    for (const [what, fn, want] of steps) {
      const r = await fn();
      assert.equal(r.status, want, `${what}: ${r.status} ${r.body.toString('utf8', 0, 200)}`);
    }
  } finally {
    agent.destroy();
  }
  // Expect: 100-continue (curl sends it for bodies over 1 MiB)
  const body = pbRequest('logs', logsSpec(svc, 3000));
  const u = new URL(url);
  const status = await new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: false,
      headers: { 'Content-Type': CT.proto, 'Content-Length': body.length, Authorization: `Bearer ${env.token}`, Expect: '100-continue' } });
    const t = setTimeout(() => req.destroy(new Error('no answer to Expect: 100-continue within 10 s')), 10000);
    req.on('continue', () => req.end(body));
    req.on('response', (res) => { res.resume(); res.on('end', () => { clearTimeout(t); resolve(res.statusCode); }); });
    req.on('error', (e) => { clearTimeout(t); reject(e); });
  });
  assert.equal(status, 200, 'Expect: 100-continue');
  const [{ n }] = await q('SELECT count(*)::int AS n FROM log_entries WHERE service = $1', [svc]);
  assert.equal(n, 2 * 3 + 3000);
});

test('NaN and infinities never break storage', async () => {
  const svc = tag('nan');
  const s = logsSpec(svc, 1, { attributes: { nan: { double: NaN }, inf: { double: Infinity }, arr: [{ double: -Infinity }] } });
  s.records[0].body = { double: NaN };
  exportOk(await postSignal('logs', pbRequest('logs', s), { contentType: CT.proto }), 'logs', 'proto', 'NaN attributes');
  const t = BigInt(Date.now()) * 1000000n;
  const m = { resource: { 'service.name': svc }, scope: { name: 's' }, metrics: [
    { name: 'g', gauge: { points: [{ timeNs: t, value: NaN }] } },
    { name: 'h', histogram: { temporality: 2, points: [{ timeNs: t, count: 1, sum: Infinity, bucketCounts: [1], bounds: [], min: NaN, max: -Infinity }] } },
    { name: 'novalue', gauge: { points: [{ timeNs: t }] } },
  ] };
  exportOk(await postSignal('metrics', pbRequest('metrics', m), { contentType: CT.proto }), 'metrics', 'proto', 'NaN samples');
  const [row] = await q('SELECT attributes FROM log_entries WHERE service = $1', [svc]);
  assert.equal(typeof row.attributes.nan, 'string', 'NaN kept as a string in JSON');
  const [{ n }] = await q('SELECT count(*)::int AS n FROM metric_samples WHERE service = $1', [svc]);
  assert.equal(n, 3);
});

// uint32 fields at or above 2^31 (flags, dropped counts) and enums beyond
// smallint once made COPY fail (sqlstate 22003: 500, records lost).
test('uint32 fields at their maximum and out-of-range enums are stored or refused, never 5xx', async () => {
  const { tracesSpec, metricsSpec } = await import('./lib/records.mjs');
  const svc = tag('u32');
  const cases = [
    ['logs', logsSpec(svc, 1, { record: () => ({ flags: 0xffffffff, droppedAttributesCount: 0xffffffff }) })],
    ['logs', logsSpec(svc, 1, { record: () => ({ severityNumber: 70000 }) })],
    ['traces', tracesSpec(svc, 1, { span: () => ({ flags: 0xffffffff, droppedAttributesCount: 0xffffffff, droppedEventsCount: 0x80000000, droppedLinksCount: 0xffffffff, kind: 99, status: { code: 77 } }) })],
    ['metrics', (() => { const m = metricsSpec(svc, 1); m.metrics[0].gauge.points[0].flags = 0xffffffff; return m; })()],
  ];
  const bad = [];
  for (const [signal, spec] of cases) {
    for (const encoding of ['proto', 'json']) {
      const r = await postSignal(signal, request(signal, encoding, spec), { contentType: CT[encoding] });
      if (r.status !== 200 && r.status !== 400) bad.push(`${signal}/${encoding}: ${r.status} ${r.body.toString('latin1', 0, 100)}`);
    }
  }
  assert.deepEqual(bad, []);
  const [{ n }] = await q(`SELECT (SELECT count(*) FROM log_entries WHERE service = $1) + (SELECT count(*) FROM spans WHERE service = $1)
    + (SELECT count(*) FROM metric_samples WHERE service = $1) AS n`, [svc]);
  assert.equal(Number(n), 8, 'all stored (both encodings)');
  const [sp] = await q('SELECT flags, dropped_links_count, dropped_events_count FROM spans WHERE service = $1 LIMIT 1', [svc]);
  assert.equal(sp.flags >>> 0, 0xffffffff, 'flags kept bit for bit');
  assert.equal(sp.dropped_events_count, 2147483647, 'counts saturate');
});

test('span end times before the start or far away: stored, duration never negative, no overflow', async () => {
  const { tracesSpec } = await import('./lib/records.mjs');
  const svc = tag('endtime');
  const now = BigInt(Date.now()) * 1000000n;
  const ends = [0n, now - 1000n, 1n << 63n, (1n << 64n) - 1n, (1n << 63n) - 1n];
  for (const end of ends) {
    const r = await postSignal('traces', pbRequest('traces', tracesSpec(svc, 1, { span: () => ({ startNs: now, endNs: end, attributes: { end: String(end) } }) })), { contentType: CT.proto });
    assert.ok(r.status === 200 || r.status === 400, `end ${end}: ${r.status}`);
  }
  const rows = await q('SELECT duration_ns::text AS d FROM spans WHERE service = $1', [svc]);
  for (const r of rows) assert.ok(BigInt(r.d) >= 0n, `duration ${r.d}`);
});
