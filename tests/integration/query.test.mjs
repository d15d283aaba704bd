// The query API (docs/query-api.md) end to end: telemetry goes in through the
// OTLP endpoints with the OpenTelemetry JS SDK, then every /api/observe
// endpoint is queried over HTTP and checked against what was sent —
// contents, ordering, paging, step alignment, aggregation values (a counter
// reset for rate/increase, histogram percentiles), the authorization matrix
// and bad parameters.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader, AggregationType } from '@opentelemetry/sdk-metrics';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { env, get, q, closeDb, tag, uuid, cli } from './lib/harness.mjs';

after(closeDb);

const T = tag('q');                  // unique per run: in every service name and message
const SVC = `svc-${T}`;
const SECRET = `secret-b-${T}`;      // marks project B's records: must never reach A's tokens
const M = `qt_${T.replace(/-/g, '_')}`; // metric name prefix
const S = uuid();                    // one session, used by A's and (adversarially) by B's records
const base = Date.now() - 120000;    // log and span times: base + offsets (ms)
const from = base - 300000;
const tok = {};                      // readA, readB, readAll, ingestOnly, revoked
let P;                               // a public project
let traceA, traceB;                  // trace ids
const sentLogsA = [];                // { t, msg, level }

function exporterOpts(signal) {
  return { url: `${env.otlpUrl}/v1/${signal}`, headers: { Authorization: `Bearer ${env.token}` }, timeoutMillis: 10000 };
}

// Records with a fixed resource; every record goes out (SimpleProcessor) and is committed when the export answers 200.
async function sendLogs(resource, records) {
  const results = [];
  const exp = new OTLPLogExporter(exporterOpts('logs'));
  const wrapped = { export: (items, cb) => exp.export(items, (r) => { results.push(r); cb(r); }), shutdown: () => exp.shutdown(), forceFlush: () => Promise.resolve() };
  const provider = new LoggerProvider({ resource: resourceFromAttributes(resource), processors: [new SimpleLogRecordProcessor({ exporter: wrapped })] });
  const logger = provider.getLogger('query-itest');
  for (const r of records) logger.emit(r);
  await provider.forceFlush();
  await provider.shutdown();
  assert.ok(results.length > 0 && results.every((r) => r.code === 0), 'log export succeeded');
}

function tracer(resource, results) {
  const exp = new OTLPTraceExporter(exporterOpts('traces'));
  const wrapped = { export: (items, cb) => exp.export(items, (r) => { results.push(r); cb(r); }), shutdown: () => exp.shutdown(), forceFlush: () => Promise.resolve() };
  return new BasicTracerProvider({ resource: resourceFromAttributes(resource), spanProcessors: [new SimpleSpanProcessor(wrapped)] });
}

function meterProvider(resource, results, views = []) {
  const exp = new OTLPMetricExporter(exporterOpts('metrics'));
  const wrapped = {
    export: (items, cb) => exp.export(items, (r) => { results.push(r); cb(r); }),
    shutdown: () => exp.shutdown(), forceFlush: () => Promise.resolve(),
    selectAggregationTemporality: (k) => exp.selectAggregationTemporality(k),
  };
  const reader = new PeriodicExportingMetricReader({ exporter: wrapped, exportIntervalMillis: 600000 });
  return new MeterProvider({ resource: resourceFromAttributes(resource), readers: [reader], views });
}

async function api(path, params = {}, token = tok.readAll) {
  const u = new URL(env.apiUrl + path);
  for (const [k, v] of Object.entries(params)) u.searchParams.append(k, String(v));
  const res = await get(u.toString(), { token });
  const text = res.body.toString();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text };
}

// GET with a raw (already encoded) query string, for bytes URLSearchParams would re-encode.
async function apiRaw(pathAndQuery, token = tok.readAll) {
  const res = await get(env.apiUrl + pathAndQuery, { token });
  const text = res.body.toString();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text };
}

function expectError(r, status, what) {
  assert.equal(r.status, status, `${what}: status (${r.text.slice(0, 200)})`);
  assert.ok(r.json && r.json.error, `${what}: error body`);
  assert.equal(typeof r.json.error.code, 'string', `${what}: error.code`);
  assert.ok(r.json.error.message.length > 10, `${what}: a useful message`);
}

const range = () => ({ from, to: Date.now() + 60000 });

before(async () => {
  const A = env.projectA;
  const B = env.projectB;
  P = await cli(['project', 'create', '--name', `public-${T}`, '--public']);
  tok.readA = await cli(['token', 'create', '--name', `qa-${T}`, '--scope', 'observe:read', '--project', A]);
  tok.readB = await cli(['token', 'create', '--name', `qb-${T}`, '--scope', 'observe:read', '--project', B]);
  tok.readAll = env.tokenRead;
  tok.ingestOnly = env.token;
  tok.revoked = await cli(['token', 'create', '--name', `qr-${T}`, '--scope', 'observe:read']);
  const [{ id }] = await q('SELECT id::text FROM api_tokens WHERE name = $1', [`qr-${T}`]);
  await cli(['token', 'revoke', id]);

  // logs: 12 in A (alternating info/error), 3 in B, 2 in the public project
  const recsA = [];
  for (let i = 0; i < 12; i++) {
    const err = i % 3 === 0;
    const msg = `query-${T} log ${i}`;
    sentLogsA.push({ t: base + i * 1000, msg, level: err ? 'error' : 'info' });
    recsA.push({
      severityNumber: err ? SeverityNumber.ERROR : SeverityNumber.INFO, severityText: err ? 'ERROR' : 'INFO',
      body: msg, timestamp: base + i * 1000, attributes: { i, session_id: S },
    });
  }
  await sendLogs({ 'service.name': SVC, project_id: A }, recsA);
  await sendLogs({ 'service.name': SVC, project_id: B },
    [0, 1, 2].map((i) => ({ severityNumber: SeverityNumber.ERROR, body: `${SECRET} log ${i}`, timestamp: base + 500 + i * 1000, attributes: { session_id: S } })));
  await sendLogs({ 'service.name': SVC, project_id: P },
    [0, 1].map((i) => ({ severityNumber: SeverityNumber.INFO, body: `public-${T} log ${i}`, timestamp: base + 700 + i * 1000 })));

  // traces: a nested trace in A (root, two children, a grandchild), one span in B
  const results = [];
  const pa = tracer({ 'service.name': SVC, project_id: A, session_id: S }, results);
  const ta = pa.getTracer('query-itest');
  const root = ta.startSpan('GET /checkout', { kind: SpanKind.SERVER, startTime: base + 100 });
  const rctx = trace.setSpan(context.active(), root);
  const c1 = ta.startSpan('load cart', { kind: SpanKind.INTERNAL, startTime: base + 110 }, rctx);
  const g = ta.startSpan('SELECT cart', { kind: SpanKind.CLIENT, startTime: base + 115 }, trace.setSpan(rctx, c1));
  g.end(base + 125);
  c1.end(base + 140);
  const c2 = ta.startSpan('charge', { kind: SpanKind.CLIENT, startTime: base + 150 }, rctx);
  c2.setStatus({ code: SpanStatusCode.ERROR, message: 'declined' });
  c2.end(base + 190);
  root.end(base + 200);
  traceA = root.spanContext().traceId;
  await pa.forceFlush();
  await pa.shutdown();
  const pb = tracer({ 'service.name': SVC, project_id: B, session_id: S }, results);
  const sb = pb.getTracer('query-itest').startSpan(SECRET, { startTime: base + 300 });
  sb.end(base + 310);
  traceB = sb.spanContext().traceId;
  await pb.forceFlush();
  await pb.shutdown();
  assert.ok(results.length > 0 && results.every((r) => r.code === 0), 'trace export succeeded');

  // metrics in A: a counter that restarts (two providers: 5, 10, 10, then 3),
  // a histogram with bounds 10/100/1000, a gauge.  B: the same counter at 1000.
  const mres = [];
  const m1 = meterProvider({ 'service.name': SVC, project_id: A }, mres);
  const ctr1 = m1.getMeter('q').createCounter(`${M}.requests`, { unit: '1' });
  ctr1.add(5, { route: '/a' });
  await m1.forceFlush();
  ctr1.add(5, { route: '/a' });
  await m1.forceFlush();
  const hist = m1.getMeter('q').createHistogram(`${M}.latency`, { unit: 'ms', advice: { explicitBucketBoundaries: [10, 100, 1000] } });
  for (let i = 0; i < 10; i++) hist.record(5, { route: '/a' });
  for (let i = 0; i < 80; i++) hist.record(50, { route: '/a' });
  for (let i = 0; i < 10; i++) hist.record(500, { route: '/a' });
  m1.getMeter('q').createGauge(`${M}.temperature`).record(21.5, { room: 'lab' });
  await m1.shutdown();
  await new Promise((r) => setTimeout(r, 20));
  const m2 = meterProvider({ 'service.name': SVC, project_id: A }, mres);
  m2.getMeter('q').createCounter(`${M}.requests`, { unit: '1' }).add(3, { route: '/a' });
  await m2.shutdown();
  // an exponential histogram (the SDK picks the scale): 10 x 5, 80 x 50, 10 x 500
  const m4 = meterProvider({ 'service.name': SVC, project_id: A }, mres,
    [{ instrumentName: `${M}.exp_latency`, aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }]);
  const eh = m4.getMeter('q').createHistogram(`${M}.exp_latency`, { unit: 'ms' });
  for (let i = 0; i < 10; i++) eh.record(5);
  for (let i = 0; i < 80; i++) eh.record(50);
  for (let i = 0; i < 10; i++) eh.record(500);
  await m4.shutdown();
  const m3 = meterProvider({ 'service.name': SVC, project_id: B }, mres);
  m3.getMeter('q').createCounter(`${M}.requests`, { unit: '1' }).add(1000, { route: '/a' });
  await m3.shutdown();
  assert.ok(mres.length > 0 && mres.every((r) => r.code === 0), 'metric export succeeded');
});

describe('logs', () => {
  test('newest first, every field, only readable projects', async () => {
    const all = await api('/api/observe/logs', { service: SVC, ...range() });
    assert.equal(all.status, 200, all.text);
    assert.equal(all.json.logs.length, 17, 'an unbound token sees A, B and the public project');
    const a = await api('/api/observe/logs', { service: SVC, ...range() }, tok.readA);
    assert.equal(a.status, 200, a.text);
    assert.ok(!a.text.includes(SECRET), 'nothing of project B');
    assert.equal(a.json.logs.length, 14, 'A and the public project');
    const times = a.json.logs.map((e) => e.time_unix_ms);
    for (let i = 1; i < times.length; i++) assert.ok(times[i - 1] >= times[i], 'newest first');
    const mine = a.json.logs.filter((e) => e.project_id === env.projectA);
    assert.deepEqual(mine.map((e) => e.message), sentLogsA.map((l) => l.msg).reverse());
    const e = mine[mine.length - 1];
    assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'RFC 3339 with microseconds, UTC');
    assert.equal(Date.parse(e.time), sentLogsA[0].t);
    assert.equal(e.time_unix_ms, sentLogsA[0].t);
    assert.equal(e.level, 'error');
    assert.equal(e.severity_number, 17);
    assert.equal(e.service, SVC);
    assert.equal(e.session_id, S);
    assert.equal(e.attributes.i, 0);
    assert.equal(e.resource['service.name'], SVC);
    const b = await api('/api/observe/logs', { service: SVC, ...range() }, tok.readB);
    assert.equal(b.json.logs.length, 5, 'B and the public project');
  });

  test('filters: q, level, session, project', async () => {
    const r = await api('/api/observe/logs', { service: SVC, q: 'LOG 1', ...range() }, tok.readA);
    assert.deepEqual(r.json.logs.map((e) => e.message), [`query-${T} log 11`, `query-${T} log 10`, `public-${T} log 1`, `query-${T} log 1`]);
    const lv = await api('/api/observe/logs', { service: SVC, level: 'error', project_id: env.projectA, ...range() }, tok.readA);
    assert.deepEqual(lv.json.logs.map((e) => e.message), sentLogsA.filter((l) => l.level === 'error').map((l) => l.msg).reverse());
    const ss = await api('/api/observe/logs', { session_id: S, ...range() }, tok.readA);
    assert.equal(ss.json.logs.length, 12, 'the session\'s logs in A only');
    const pub = await api('/api/observe/logs', { service: SVC, project_id: P, ...range() }, tok.readA);
    assert.equal(pub.json.logs.length, 2, 'a public project is readable by a token bound to A');
    const pct = await api('/api/observe/logs', { service: SVC, q: '%', ...range() });
    assert.equal(pct.json.logs.length, 0, '% is a literal character');
  });

  test('paging with limit and offset', async () => {
    const full = (await api('/api/observe/logs', { service: SVC, ...range() }, tok.readA)).json.logs.map((e) => e.id);
    const pages = [];
    for (let off = 0; off < 15; off += 5) {
      const r = await api('/api/observe/logs', { service: SVC, limit: 5, offset: off, ...range() }, tok.readA);
      assert.equal(r.json.has_more, off + 5 < 14, `has_more at offset ${off}`);
      pages.push(...r.json.logs.map((e) => e.id));
    }
    assert.deepEqual(pages, full);
  });
});

describe('traces', () => {
  test('summaries by service, status', async () => {
    const r = await api('/api/observe/traces', { service: SVC, ...range() }, tok.readA);
    assert.equal(r.status, 200, r.text);
    assert.ok(!r.text.includes(traceB), 'B\'s trace is not listed for A');
    const t = r.json.traces.find((x) => x.trace_id === traceA);
    assert.ok(t, 'A\'s trace listed');
    assert.equal(t.root_span_name, 'GET /checkout');
    assert.equal(t.span_count, 4);
    assert.equal(t.error_count, 1);
    assert.equal(t.status, 'error');
    assert.equal(t.duration_ns, 100 * 1e6);
    const e = await api('/api/observe/traces', { service: SVC, status: 'ok', ...range() }, tok.readA);
    assert.ok(!e.json.traces.some((x) => x.trace_id === traceA), 'status filter');
    const all = await api('/api/observe/traces', { service: SVC, ...range() });
    assert.ok(all.json.traces.some((x) => x.trace_id === traceB), 'unbound token sees B\'s trace');
  });

  test('one trace as a span tree', async () => {
    const r = await api(`/api/observe/traces/${traceA}`, {}, tok.readA);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.span_count, 4);
    assert.equal(r.json.spans.length, 1, 'one root');
    const root = r.json.spans[0];
    assert.equal(root.name, 'GET /checkout');
    assert.equal(root.kind, 'server');
    assert.equal(root.depth, 0);
    assert.equal(root.orphan, false);
    assert.deepEqual(root.children.map((c) => c.name), ['load cart', 'charge'], 'children by start time');
    const [cart, charge] = root.children;
    assert.equal(cart.offset_ns, 10 * 1e6);
    assert.equal(cart.duration_ns, 30 * 1e6);
    assert.equal(cart.children[0].name, 'SELECT cart');
    assert.equal(cart.children[0].depth, 2);
    assert.equal(cart.children[0].offset_ns, 15 * 1e6);
    assert.equal(charge.status, 'error');
    assert.equal(charge.status_message, 'declined');
    assert.equal(charge.kind, 'client');
    assert.equal((await api(`/api/observe/traces/${traceB}`, {}, tok.readA)).status, 404, 'another project: 404');
    assert.equal((await api(`/api/observe/traces/${traceB}`, {}, tok.readB)).status, 200);
    assert.equal((await api(`/api/observe/traces/${'ab'.repeat(16)}`)).status, 404, 'unknown trace');
  });
});

describe('metrics', () => {
  const sumPoints = (series) => series.reduce((s, x) => s + x.points.reduce((a, p) => a + p[1], 0), 0);

  test('increase and rate across a counter reset', async () => {
    for (const step of [60, 3600]) {
      const r = await api('/api/observe/metrics', { name: `${M}.requests`, agg: 'increase', step, ...range() }, tok.readA);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.series.length, 1);
      assert.deepEqual(r.json.series[0].labels, { route: '/a' });
      for (const [ts] of r.json.series[0].points) assert.equal(ts % (step * 1000), 0, 'aligned to step');
      assert.equal(sumPoints(r.json.series), 13, '5 + 5 + 0 (repeated export) + 3 (after the restart)');
      const rate = await api('/api/observe/metrics', { name: `${M}.requests`, agg: 'rate', step, ...range() }, tok.readA);
      assert.ok(Math.abs(sumPoints(rate.json.series) * step - 13) < 1e-9, 'rate = increase / step');
    }
    const all = await api('/api/observe/metrics', { name: `${M}.requests`, agg: 'increase', step: 3600, group: 'none', ...range() });
    assert.equal(sumPoints(all.json.series), 1013, 'an unbound token adds project B');
  });

  test('histogram percentiles', async () => {
    const want = { p50: 55, p90: 100, p95: 550, p99: 910 };
    for (const [agg, v] of Object.entries(want)) {
      const r = await api('/api/observe/metrics', { name: `${M}.latency`, agg, step: 60, ...range() }, tok.readA);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.type, 'histogram');
      const pts = r.json.series[0].points;
      assert.equal(pts.length, 1);
      assert.equal(pts[0][0] % 60000, 0);
      assert.ok(Math.abs(pts[0][1] - v) < 1e-9, `${agg}: ${pts[0][1]} != ${v}`);
    }
    const c = await api('/api/observe/metrics', { name: `${M}.latency`, agg: 'count', step: 60, ...range() }, tok.readA);
    assert.equal(c.json.series[0].points[0][1], 100);
    // exponential buckets: the estimate lies in the bucket of the true value (width < 10 % at the SDK's scale)
    for (const [agg, v] of Object.entries({ p50: 50, p95: 500 })) {
      const r = await api('/api/observe/metrics', { name: `${M}.exp_latency`, agg, step: 3600, group: 'none', ...range() }, tok.readA);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.type, 'exponential_histogram');
      const got = r.json.series[0].points.map((p) => p[1]);
      assert.equal(got.length, 1, r.text);
      assert.ok(Math.abs(got[0] - v) / v < 0.1, `${agg} of the exponential histogram: ${got[0]} vs ${v}`);
    }
  });

  test('gauges, names, and bounds', async () => {
    const g = await api('/api/observe/metrics', { name: `${M}.temperature`, labels: '{"room":"lab"}', ...range() }, tok.readA);
    assert.equal(g.status, 200, g.text);
    assert.equal(g.json.series[0].points[0][1], 21.5);
    const n = await api('/api/observe/metrics/names', { prefix: M }, tok.readA);
    assert.deepEqual(n.json.metrics.map((m) => [m.name, m.type]),
      [[`${M}.exp_latency`, 'exponential_histogram'], [`${M}.latency`, 'histogram'], [`${M}.requests`, 'sum'],
        [`${M}.temperature`, 'gauge']]);
    assert.deepEqual(n.json.metrics[2].label_keys, ['route']);
    assert.equal(n.json.metrics[2].series_count, 1, 'B\'s series is not counted for A');
    const now = Date.now();
    const big = await api('/api/observe/metrics', { name: `${M}.requests`, step: 1, from: now - 11001 * 1000, to: now });
    expectError(big, 400, '11,001 points');
    assert.match(big.json.error.message, /raise step/);
  });
});

describe('session timeline', () => {
  test('logs and spans in time order, by cursor', async () => {
    const r = await api(`/api/observe/sessions/${S}/timeline`, { limit: 1000 }, tok.readA);
    assert.equal(r.status, 200, r.text);
    assert.ok(!r.text.includes(SECRET), 'B\'s records in the same session stay hidden');
    const items = r.json.items;
    assert.equal(items.filter((i) => i.kind === 'log').length, 12);
    assert.equal(items.filter((i) => i.kind === 'span').length, 4);
    for (let i = 1; i < items.length; i++) assert.ok(items[i - 1].time_unix_ms <= items[i].time_unix_ms, 'time order');
    assert.equal(r.json.next_cursor, null);
    const paged = [];
    let cursor = null;
    for (let n = 0; n < 10; n++) {
      const p = await api(`/api/observe/sessions/${S}/timeline`, cursor ? { limit: 5, cursor } : { limit: 5 }, tok.readA);
      assert.equal(p.status, 200, p.text);
      paged.push(...p.json.items);
      cursor = p.json.next_cursor;
      if (!cursor) break;
    }
    assert.deepEqual(paged.map((i) => i.id || i.span_id), items.map((i) => i.id || i.span_id));
    const b = await api(`/api/observe/sessions/${S}/timeline`, {}, tok.readB);
    assert.equal(b.json.items.length, 4, 'B sees its own three logs and one span');
    assert.equal((await api(`/api/observe/sessions/${uuid()}/timeline`, {}, tok.readA)).status, 404);
  });
});

describe('authorization matrix', () => {
  const endpoints = () => [
    ['/api/observe/logs', { service: SVC, ...range() }],
    ['/api/observe/traces', { service: SVC, ...range() }],
    [`/api/observe/traces/${traceA}`, {}],
    ['/api/observe/metrics', { name: `${M}.requests`, ...range() }],
    ['/api/observe/metrics/names', { prefix: M }],
    [`/api/observe/sessions/${S}/timeline`, {}],
  ];
  const withProject = (path) => !path.includes('/traces/') && !path.includes('/sessions/');

  test('status per token, with and without project_id; nothing of B leaks', async () => {
    for (const [path, params] of endpoints()) {
      const cases = [
        ['no token', null, {}, 401],
        ['revoked', tok.revoked, {}, 401],
        ['ingest only', tok.ingestOnly, {}, 403],
        ['bound to A', tok.readA, {}, 200],
        ['unbound', tok.readAll, {}, 200],
      ];
      if (withProject(path)) {
        cases.push(['A asks for A', tok.readA, { project_id: env.projectA }, 200]);
        cases.push(['A asks for B', tok.readA, { project_id: env.projectB }, 404]);
        cases.push(['A asks for a project that does not exist', tok.readA, { project_id: uuid() }, 404]);
        cases.push(['A asks for the public project', tok.readA, { project_id: P }, 200]);
        cases.push(['B asks for A', tok.readB, { project_id: env.projectA }, 404]);
      }
      for (const [what, token, extra, status] of cases) {
        const r = await api(path, { ...params, ...extra }, token);
        assert.equal(r.status, status, `${path} ${what}: ${r.text.slice(0, 200)}`);
        if (token === tok.readA) assert.ok(!r.text.includes(SECRET), `${path} ${what}: no record of B`);
      }
    }
  });
});

describe('bad parameters', () => {
  test('400 with a message, never 500', async () => {
    const bad = {
      '/api/observe/logs': ['limit=0', 'limit=1001', 'limit=x', 'offset=-1', 'offset=100001', 'project_id=nope',
        'session_id=123', 'trace_id=xyz', `q=${'a'.repeat(1001)}`, 'q=', 'from=yesterday', 'to=2026-02-30T00:00:00Z',
        'from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z', 'servce=api', 'limit=1&limit=2', 'q=%00', 'q=a%00b',
        'q=%FF%FE', 'service=%C3', 'level=%27%3B--', 'from=2000000000000&to=1000000000000', 'x%00=1'],
      '/api/observe/traces': ['status=failed', 'limit=0', 'service=', 'trace_id=' + 'a'.repeat(32)],
      [`/api/observe/traces/${'z'.repeat(32)}`]: [''],
      '/api/observe/metrics': ['', 'name=x&agg=median', 'name=x&step=0', 'name=x&labels=%7B', 'name=x&labels=%5B1%5D',
        `name=x&labels=${encodeURIComponent(JSON.stringify({ k: 'v'.repeat(5000) }))}`,
        `name=x&labels=${encodeURIComponent(JSON.stringify(Object.fromEntries([...Array(33).keys()].map((i) => [`k${i}`, 'v']))))}`,
        'name=x&group=host', 'name=%FF'],
      '/api/observe/metrics/names': ['prefix=', 'limit=0', 'name=x'],
      [`/api/observe/sessions/${S}/timeline`]: ['cursor=bogus', 'limit=0', 'from=1'],
      '/api/observe/sessions/not-a-uuid/timeline': [''],
    };
    for (const [path, list] of Object.entries(bad)) {
      for (const qs of list) {
        const r = await apiRaw(qs ? `${path}?${qs}` : path);
        expectError(r, 400, `${path}?${qs.slice(0, 60)}`);
      }
    }
    // SQL metacharacters are data
    const sq = await api('/api/observe/logs', { service: "x'; DROP TABLE log_entries; --", q: "' OR 1=1 --", ...range() });
    assert.equal(sq.status, 200);
    assert.equal(sq.json.logs.length, 0);
    assert.equal((await api('/api/observe/logs', { service: SVC, ...range() })).json.logs.length, 17, 'table intact');
  });
});
