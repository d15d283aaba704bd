// Reading back what was sent (docs/query-api.md): the points of the
// fidelity work covered so far — levels and enums that forgive the usual
// spellings.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { env, get, post, postSignal, closeDb, tag, q, startServer } from './lib/harness.mjs';
import { request, decodeExportResponse } from './lib/otlp.mjs';
import { logsSpec, tracesSpec } from './lib/records.mjs';

after(closeDb);

const query = async (path, params) => {
  const r = await get(`${env.apiUrl}${path}?${new URLSearchParams(params)}`, { headers: { Authorization: `Bearer ${env.tokenRead}` } });
  return { status: r.status, json: JSON.parse(r.body.toString()) };
};

describe('levels and enums forgive the usual spellings', () => {
  test('severity text alone is stored as its level; level= takes any spelling, any case', async () => {
    const svc = tag('lv');
    const texts = ['WARNING', 'Err', 'CRITICAL', 'notice', 'Verbose', 'custom-level'];
    const spec = logsSpec(svc, texts.length, { record: (i) => ({ severityNumber: 0, severityText: texts[i], body: texts[i] }) });
    for (const enc of ['proto', 'json']) {
      const r = await postSignal('logs', request('logs', enc, [spec]), { contentType: enc === 'json' ? 'application/json' : undefined });
      assert.equal(r.status, 200);
    }
    const stored = (await q('SELECT DISTINCT message, level FROM log_entries WHERE service = $1 ORDER BY 1', [svc]))
      .map((x) => `${x.message}=${x.level}`);
    assert.deepEqual(stored, ['CRITICAL=fatal', 'Err=error', 'Verbose=trace', 'WARNING=warn', 'custom-level=custom-level', 'notice=info']);
    const found = async (level) => (await query('/api/observe/logs', { service: svc, level })).json.logs.map((l) => l.message).sort();
    assert.deepEqual(await found('warning'), ['WARNING', 'WARNING']);
    assert.deepEqual(await found('WARN'), ['WARNING', 'WARNING']);
    assert.deepEqual(await found('err,Critical'), ['CRITICAL', 'CRITICAL', 'Err', 'Err']);
    assert.deepEqual(await found('Custom-Level'), ['custom-level', 'custom-level']);
    assert.equal((await query('/api/observe/logs', { service: svc, level: 'warn;drop' })).status, 400);
  });

  test('status=ERROR and other enums in any case', async () => {
    const svc = tag('st');
    const spec = tracesSpec(svc, 2, { span: (i) => ({ status: { code: i === 0 ? 2 : 0, message: 'boom' } }) });
    assert.equal((await postSignal('traces', request('traces', 'proto', [spec]))).status, 200);
    const r = await query('/api/observe/traces', { service: svc, status: 'ERROR' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.traces.length, 1);
    assert.equal((await query('/api/observe/traces', { service: svc, status: 'Ok' })).json.traces.length, 0);
    assert.equal((await query('/api/observe/traces', { service: svc, status: 'broken' })).status, 400);
    const m = await query('/api/observe/metrics', { name: 'x', agg: 'AVG', group: 'NONE' });
    assert.equal(m.status, 200);
  });
});

describe('API answers are compressed for clients that accept it', () => {
  test('Accept-Encoding: gzip gives the same JSON, gzipped, with Vary', async () => {
    const svc = tag('gz');
    assert.equal((await postSignal('logs', request('logs', 'proto', [logsSpec(svc, 50)]))).status, 200);
    const url = `${env.apiUrl}/api/observe/logs?${new URLSearchParams({ service: svc })}`;
    const auth = { Authorization: `Bearer ${env.tokenRead}` };
    const plain = await get(url, { headers: auth });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.headers.vary, 'Accept-Encoding');
    const z = await get(url, { headers: { ...auth, 'Accept-Encoding': 'br;q=1, gzip;q=0.8' } });
    assert.equal(z.status, 200);
    assert.equal(z.headers['content-encoding'], 'gzip');
    assert.ok(z.body.length < plain.body.length / 3, `${z.body.length} vs ${plain.body.length} bytes`);
    assert.deepEqual(JSON.parse(zlib.gunzipSync(z.body)).logs, JSON.parse(plain.body).logs);
    const refused = await get(url, { headers: { ...auth, 'Accept-Encoding': 'gzip;q=0' } });
    assert.equal(refused.headers['content-encoding'], undefined);
    const small = await get(`${env.apiUrl}/api/observe/logs?service=none-${svc}`, { headers: { ...auth, 'Accept-Encoding': 'gzip' } });
    assert.equal(small.headers['content-encoding'], undefined, 'small answers are sent as they are');
  });
});

describe('the log search can leave out fields that repeat', () => {
  test('fields=a,b keeps those (and id); fields=-resource leaves the resource out', async () => {
    const svc = tag('fl');
    assert.equal((await postSignal('logs', request('logs', 'proto', [logsSpec(svc, 3, { resource: { 'host.name': 'h1', big: 'x'.repeat(500) } })]))).status, 200);
    const full = (await query('/api/observe/logs', { service: svc })).json.logs;
    const only = await query('/api/observe/logs', { service: svc, fields: 'time,level,message' });
    assert.equal(only.status, 200);
    assert.deepEqual(only.json.logs.map((l) => Object.keys(l).sort()), full.map(() => ['id', 'level', 'message', 'time']));
    assert.deepEqual(only.json.logs.map((l) => l.message), full.map((l) => l.message));
    const compact = (await query('/api/observe/logs', { service: svc, fields: '-resource,-attributes' })).json.logs;
    for (const [i, l] of compact.entries()) {
      const want = { ...full[i] };
      delete want.resource;
      delete want.attributes;
      assert.deepEqual(l, want);
    }
    for (const bad of ['time,-resource', 'nope', '', 'time,,level', '-']) {
      assert.equal((await query('/api/observe/logs', { service: svc, fields: bad })).status, 400, `fields=${bad}`);
    }
  });
});

describe('stable order', () => {
  test('entries with equal timestamps come back in reverse ingest order, the same on every page and in the timeline', async () => {
    const svc = tag('ord');
    const session = crypto.randomUUID();
    const t = BigInt(Date.now()) * 1000000n; // an SDK with a millisecond clock: every record ties
    const mk = (from) => logsSpec(svc, 5, { attributes: { session_id: session }, record: (i) => ({ timeNs: t, observedNs: t, body: `m${from + i}` }) });
    for (const from of [0, 5, 10]) assert.equal((await postSignal('logs', request('logs', 'proto', [mk(from)]))).status, 200);
    const want = Array.from({ length: 15 }, (_, i) => `m${14 - i}`);
    const all = (await query('/api/observe/logs', { service: svc })).json.logs.map((l) => l.message);
    assert.deepEqual(all, want);
    const paged = [];
    for (let off = 0; off < 15; off += 4) {
      paged.push(...(await query('/api/observe/logs', { service: svc, limit: 4, offset: off })).json.logs.map((l) => l.message));
    }
    assert.deepEqual(paged, want);
    const tl = await get(`${env.apiUrl}/api/observe/sessions/${session}/timeline`, { headers: { Authorization: `Bearer ${env.tokenAdmin}` } });
    const items = JSON.parse(tl.body.toString()).items.filter((x) => x.kind === 'log').map((x) => x.message);
    assert.deepEqual(items, [...want].reverse(), 'the timeline, oldest first, in ingest order');
  });
});

describe('metric series identity includes the resource; a name with two types is two metrics', () => {
  test('two replicas of one service: counters summed, never read as resets; group and filter by resource', async () => {
    const t = tag('rep');
    const name = `fidelity.${t}.requests`;
    const replicas = ['i-1', 'i-2'].map((id) => {
      const exporter = new OTLPMetricExporter({ url: `${env.otlpUrl}/v1/metrics`, headers: { Authorization: `Bearer ${env.token}` } });
      const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3600000 });
      const provider = new MeterProvider({
        resource: resourceFromAttributes({ 'service.name': `svc-${t}`, 'service.instance.id': id, 'host.name': `host-${id}` }),
        readers: [reader],
      });
      const counter = provider.getMeter('fidelity').createCounter(name);
      return { counter, reader, provider };
    });
    // interleaved cumulative values: replica 1 at 100, 200, 300; replica 2 at 5, 10, 15
    for (let step = 1; step <= 3; step++) {
      replicas[0].counter.add(100, { route: '/a' });
      await replicas[0].reader.forceFlush();
      replicas[1].counter.add(5, { route: '/a' });
      await replicas[1].reader.forceFlush();
    }
    for (const r of replicas) await r.provider.shutdown();
    const range = { from: Date.now() - 600000, to: Date.now() + 60000, step: 86400 };
    const sum = (series) => series.reduce((a, s) => a + s.points.reduce((b, p) => b + p[1], 0), 0);
    const inc = await query('/api/observe/metrics', { name, agg: 'increase', group: 'none', ...range });
    assert.equal(inc.status, 200, JSON.stringify(inc.json));
    assert.equal(sum(inc.json.series), 315, 'each replica differenced alone: 300 + 15');
    assert.equal(inc.json.series[0].series_count, 2);
    const byInstance = await query('/api/observe/metrics', { name, agg: 'increase', group_by: 'resource.service.instance.id', ...range });
    const per = Object.fromEntries(byInstance.json.series.map((s) => [s.labels['resource.service.instance.id'], sum([s])]));
    assert.deepEqual(per, { 'i-1': 300, 'i-2': 15 });
    const one = await query('/api/observe/metrics', { name, agg: 'increase', resource: JSON.stringify({ 'host.name': 'host-i-2' }), ...range });
    assert.equal(sum(one.json.series), 15);
    assert.equal(sum((await query('/api/observe/metrics', { name, agg: 'increase', service: 'nope', ...range })).json.series), 0);
    const names = await query('/api/observe/metrics/names', { prefix: name });
    assert.equal(names.json.metrics.length, 1);
    assert.ok(names.json.metrics[0].resource_keys.includes('service.instance.id'));
    assert.deepEqual(names.json.metrics[0].services, [`svc-${t}`]);
    assert.equal(names.json.metrics[0].series_count, 2);
  });

  test('a name sent as a gauge and as a sum is two metrics', async () => {
    const svc = tag('two');
    const name = `fidelity.${svc}.x`;
    const spec = (kind) => ({
      resource: { 'service.name': svc },
      scope: { name: 's', version: '1' },
      metrics: [kind === 'gauge'
        ? { name, unit: '1', gauge: { points: [{ attributes: {}, timeNs: BigInt(Date.now()) * 1000000n, value: 1.5 }] } }
        : { name, unit: '1', sum: { temporality: 2, monotonic: true, points: [{ attributes: {}, startNs: BigInt(Date.now() - 1000) * 1000000n, timeNs: BigInt(Date.now()) * 1000000n, value: 7 }] } }],
    });
    for (const k of ['gauge', 'sum']) assert.equal((await postSignal('metrics', request('metrics', 'json', [spec(k)]), { contentType: 'application/json' })).status, 200);
    const names = (await query('/api/observe/metrics/names', { prefix: name })).json.metrics;
    assert.deepEqual(names.map((m) => m.type), ['gauge', 'sum']);
    const mixed = await query('/api/observe/metrics', { name });
    assert.equal(mixed.status, 400);
    assert.match(mixed.json.error.message, /type=/);
    const g = await query('/api/observe/metrics', { name, type: 'gauge', agg: 'max' });
    assert.equal(g.status, 200);
    assert.equal(g.json.type, 'gauge');
    assert.equal(g.json.series[0].points[0][1], 1.5);
  });
});

describe('CORS for configured origins', () => {
  test('preflight answered without a token; answers to allowed origins say so; others get nothing', async () => {
    const s = await startServer({ extraEnv: { LOOKOUT_CORS_ORIGINS: 'https://ui.example, http://localhost:5173' } });
    try {
      const pre = await post(`${s.apiUrl}/api/observe/logs`, Buffer.alloc(0), {
        method: 'OPTIONS', contentType: null,
        headers: { Origin: 'https://ui.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
      });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers['access-control-allow-origin'], 'https://ui.example');
      assert.match(pre.headers['access-control-allow-headers'], /Authorization/);
      assert.match(pre.headers['access-control-allow-methods'], /PATCH/);
      const bad = await post(`${s.apiUrl}/api/observe/logs`, Buffer.alloc(0), {
        method: 'OPTIONS', contentType: null, headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' },
      });
      assert.equal(bad.status, 403);
      assert.equal(bad.headers['access-control-allow-origin'], undefined);
      const auth = { Authorization: `Bearer ${env.tokenRead}` };
      const ok = await get(`${s.apiUrl}/api/observe/logs`, { headers: { ...auth, Origin: 'http://localhost:5173' } });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers['access-control-allow-origin'], 'http://localhost:5173');
      assert.match(ok.headers['access-control-expose-headers'], /Retry-After/);
      const noauth = await get(`${s.apiUrl}/api/observe/logs`, { headers: { Origin: 'https://ui.example' } });
      assert.equal(noauth.status, 401);
      assert.equal(noauth.headers['access-control-allow-origin'], 'https://ui.example', 'errors are readable too');
      const other = await get(`${s.apiUrl}/api/observe/logs`, { headers: { ...auth, Origin: 'https://evil.example' } });
      assert.equal(other.headers['access-control-allow-origin'], undefined);
    } finally {
      await s.stop();
    }
    // the main server has no origins configured: a preflight is refused
    const none = await post(`${env.apiUrl}/api/observe/logs`, Buffer.alloc(0), {
      method: 'OPTIONS', contentType: null, headers: { Origin: 'https://ui.example', 'Access-Control-Request-Method': 'GET' },
    });
    assert.equal(none.status, 403);
  });
});

describe('every stored field is returned', () => {
  test('span flags and scope version; metric temporality and monotonicity', async () => {
    const svc = tag('fld');
    const spec = tracesSpec(svc, 2, { span: (i) => ({ flags: i === 0 ? 0x301 : 1 }) });
    spec.scope = { name: 'lib', version: '9.8.7' };
    assert.equal((await postSignal('traces', request('traces', 'proto', [spec]))).status, 200);
    const tr = (await query(`/api/observe/traces/${spec.spans[0].traceId}`, {})).json;
    const flat = [];
    const walk = (s) => { flat.push(s); for (const c of s.children || []) walk(c); };
    for (const s of tr.spans) walk(s);
    const root = flat.find((s) => s.span_id === spec.spans[0].spanId);
    assert.equal(root.flags, 0x301);
    assert.equal(root.scope_version, '9.8.7');
    const name = `fidelity.${svc}.updown`;
    const m = {
      resource: { 'service.name': svc }, scope: { name: 's', version: '1' },
      metrics: [{ name, unit: '1', sum: { temporality: 2, monotonic: false, points: [{ attributes: {}, startNs: BigInt(Date.now() - 1000) * 1000000n, timeNs: BigInt(Date.now()) * 1000000n, value: 3 }] } }],
    };
    assert.equal((await postSignal('metrics', request('metrics', 'proto', [m]))).status, 200);
    const [entry] = (await query('/api/observe/metrics/names', { prefix: name })).json.metrics;
    assert.equal(entry.temporality, 'cumulative');
    assert.equal(entry.monotonic, false);
    const inc = await query('/api/observe/metrics', { name, agg: 'increase' });
    assert.equal(inc.status, 400, 'an up-down counter has no increase');
    assert.match(inc.json.error.message, /up-down/);
  });
});

describe("the data model's own rules", () => {
  test('spans without an end or ending before they start, nameless metrics: refused one by one in partial_success', async () => {
    const svc = tag('dm');
    const spec = tracesSpec(svc, 3, { span: (i) => (i === 1 ? { endNs: undefined } : {}) });
    spec.spans[2].endNs = spec.spans[2].startNs - 1000n;
    const r = await postSignal('traces', request('traces', 'proto', [spec]));
    assert.equal(r.status, 200);
    const ps = decodeExportResponse(r.body).partialSuccess;
    assert.equal(ps.rejected, 2);
    assert.match(ps.message, /2 record\(s\) malformed \(first: span without an end time\)/);
    assert.equal((await q('SELECT count(*)::int AS n FROM spans WHERE service = $1', [svc]))[0].n, 1);
    const [t] = await q("SELECT (end_time > now() - interval '1 hour') AS sane, span_count FROM traces WHERE trace_id = decode($1, 'hex')", [spec.spans[0].traceId]);
    assert.equal(t.sane, true, 'no 1970 end');
    assert.equal(t.span_count, 1);

    const now = BigInt(Date.now()) * 1000000n;
    const m = {
      resource: { 'service.name': svc }, scope: { name: 's', version: '1' },
      metrics: [
        { name: '', unit: '1', gauge: { points: [{ attributes: {}, timeNs: now, value: 1 }] } },
        { name: `fidelity.${svc}.g`, unit: '1', gauge: { points: [
          { attributes: {}, timeNs: now - 2000000000n, value: 4 },
          { attributes: {}, timeNs: now - 1000000000n, value: 0, flags: 1 }, // no recorded value
        ] } },
      ],
    };
    const mr = await postSignal('metrics', request('metrics', 'proto', [m]));
    assert.equal(mr.status, 200);
    const mps = decodeExportResponse(mr.body).partialSuccess;
    assert.equal(mps.rejected, 1);
    assert.match(mps.message, /metric without a name/);
    for (const enc of ['proto', 'json']) {
      const h = (counts) => ({
        name: `fidelity.${svc}.h`, unit: 'ms',
        histogram: { temporality: 2, points: [{ attributes: { enc }, startNs: now - 5000000000n, timeNs: now, count: 6, sum: 9, bounds: [1, 2], bucketCounts: counts }] },
      });
      const hr = await postSignal('metrics', request('metrics', enc, [{ resource: { 'service.name': svc }, scope: { name: 's', version: '1' }, metrics: [h([1, 2]), h([1, 2, 3])] }]),
        { contentType: enc === 'json' ? 'application/json' : undefined });
      assert.equal(hr.status, 200);
      if (enc === 'proto') {
        const hps = decodeExportResponse(hr.body).partialSuccess;
        assert.equal(hps.rejected, 1);
        assert.match(hps.message, /bucket counts do not match its bounds/);
      } else {
        const body = JSON.parse(hr.body.toString());
        assert.equal(Number(body.partialSuccess.rejectedDataPoints), 1);
      }
    }
    assert.equal((await q('SELECT count(*)::int AS n FROM metric_samples s JOIN metric_series m USING (series_id) WHERE m.name = $1', [`fidelity.${svc}.h`]))[0].n, 2);
    const avg = await query('/api/observe/metrics', { name: `fidelity.${svc}.g`, agg: 'avg', group: 'none', step: 86400 });
    assert.equal(avg.json.series[0].points.reduce((a, p) => a + p[1], 0), 4, 'a point without a recorded value is not a 0');
  });
});

describe('unknown enum values are kept as numbers', () => {
  test('a span kind and a status code this version does not know are stored and shown as sent', async () => {
    const svc = tag('enum');
    for (const enc of ['proto', 'json']) {
      const spec = tracesSpec(`${svc}-${enc}`, 1, { span: () => ({ kind: 9, status: { code: 7, message: 'new' } }) });
      const r = await postSignal('traces', request('traces', enc, [spec]), { contentType: enc === 'json' ? 'application/json' : undefined });
      assert.equal(r.status, 200);
      const [row] = await q('SELECT kind, status_code FROM spans WHERE service = $1', [`${svc}-${enc}`]);
      assert.deepEqual(row, { kind: 9, status_code: 7 }, enc);
      const tr = (await query(`/api/observe/traces/${spec.spans[0].traceId}`, {})).json;
      assert.equal(tr.spans[0].kind, '9');
      assert.equal(tr.spans[0].status, '7');
    }
  });
});

describe('exemplars are stored and returned with their trace and span ids', () => {
  test('number and histogram points, protobuf and OTLP/JSON: metrics?exemplars=true lists them, newest first', async () => {
    const svc = tag('ex');
    const now = BigInt(Date.now()) * 1000000n;
    const trace = crypto.randomBytes(16).toString('hex'), span = crypto.randomBytes(8).toString('hex');
    const gauge = {
      resource: { 'service.name': svc },
      scope: { name: 's', version: '1' },
      metrics: [{ name: `fidelity.${svc}.latency`, unit: 'ms', gauge: { points: [
        { attributes: { route: '/a' }, timeNs: now - 2000000000n, value: 12.5,
          exemplars: [
            { timeNs: now - 2500000000n, value: 41.25, traceId: trace, spanId: span, attributes: { 'user.id': 'u1' } },
            { timeNs: now - 2600000000n, intValue: 7, traceId: '00000000000000000000000000000000' }, // an all-zero id is none
          ] },
        { attributes: { route: '/a' }, timeNs: now - 1000000000n, value: 3 }, // none
      ] } }],
    };
    const hist = {
      resource: { 'service.name': svc },
      scope: { name: 's', version: '1' },
      metrics: [{ name: `fidelity.${svc}.size`, unit: 'By', histogram: { temporality: 2, points: [
        { attributes: {}, startNs: now - 60000000000n, timeNs: now - 500000000n, count: 3, sum: 30, bounds: [10], bucketCounts: [1, 2],
          exemplars: [{ timeNs: now - 700000000n, value: 20, traceId: trace, spanId: span }] },
      ] } }],
    };
    assert.equal((await postSignal('metrics', request('metrics', 'proto', [gauge]))).status, 200);
    assert.equal((await postSignal('metrics', request('metrics', 'json', [hist]), { contentType: 'application/json' })).status, 200);
    const range = { from: Date.now() - 600000, to: Date.now() + 60000 };

    const g = await query('/api/observe/metrics', { name: `fidelity.${svc}.latency`, exemplars: 'true', ...range });
    assert.equal(g.status, 200, JSON.stringify(g.json));
    assert.equal(g.json.exemplars_truncated, false);
    assert.equal(g.json.exemplars.length, 2);
    const [e1, e2] = g.json.exemplars;
    assert.deepEqual(e1, {
      series_id: e1.series_id, labels: { route: '/a' }, time_unix_nano: String(now - 2500000000n),
      value: 41.25, trace_id: trace, span_id: span, attributes: { 'user.id': 'u1' },
    });
    assert.equal(typeof e1.series_id, 'number');
    assert.deepEqual(e2, { series_id: e1.series_id, labels: { route: '/a' }, time_unix_nano: String(now - 2600000000n), value: 7, attributes: {} });
    // the trace id leads to the trace's logs and spans: here it is only checked to be what was sent
    const h = await query('/api/observe/metrics', { name: `fidelity.${svc}.size`, agg: 'p50', exemplars: 'true', ...range });
    assert.equal(h.status, 200, JSON.stringify(h.json));
    assert.deepEqual(h.json.exemplars.map((e) => [e.value, e.trace_id, e.span_id]), [[20, trace, span]]);
    // without the parameter the answer has no exemplars; a bad value is refused
    assert.equal('exemplars' in (await query('/api/observe/metrics', { name: `fidelity.${svc}.latency`, ...range })).json, false);
    const bad = await query('/api/observe/metrics', { name: `fidelity.${svc}.latency`, exemplars: 'maybe', ...range });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /exemplars/);
  });
});

describe('a log body keeps its type', () => {
  for (const encoding of ['proto', 'json']) {
    test(`string, bool, int, double, array, map and bytes bodies (${encoding}): body_type and body, message as before`, async () => {
      const svc = tag(`body${encoding}`);
      const bodies = ['plain text', true, 42, 2.5, [1, 'two', false], { user: 'u1', n: 3, nested: { ok: true } }, Buffer.from('hi!')];
      const want = [
        ['string', null, 'plain text'],
        ['bool', true, 'true'],
        ['int', 42, '42'],
        ['double', 2.5, '2.5'],
        ['array', [1, 'two', false], '[1,"two",false]'],
        ['map', { user: 'u1', n: 3, nested: { ok: true } }, '{"user":"u1","n":3,"nested":{"ok":true}}'],
        ['bytes', 'aGkh', '"aGkh"'],
      ];
      const spec = logsSpec(svc, bodies.length, { record: (i) => ({ body: bodies[i] }) });
      spec.records.push({ timeNs: spec.records[0].timeNs + 100000n, severityNumber: 9 }); // no body at all
      const ct = encoding === 'json' ? { contentType: 'application/json' } : {};
      assert.equal((await postSignal('logs', request('logs', encoding, [spec]), ct)).status, 200);
      const logs = (await query('/api/observe/logs', { service: svc, limit: 100 })).json.logs.reverse(); // oldest first
      assert.equal(logs.length, bodies.length + 1);
      for (const [i, [type, body, message]] of want.entries()) {
        assert.equal(logs[i].body_type, type, `record ${i}`);
        assert.deepEqual(logs[i].body, body, `record ${i}`);
        assert.equal(logs[i].message, message, `record ${i}`);
      }
      assert.equal(logs.at(-1).body_type, null);
      assert.equal(logs.at(-1).body, null);
      assert.equal(logs.at(-1).message, '');
      // fields=body chooses both; fields=-body leaves both out
      const only = (await query('/api/observe/logs', { service: svc, fields: 'body', limit: 100 })).json.logs;
      assert.deepEqual(Object.keys(only[0]).sort(), ['body', 'body_type', 'id']);
      const none = (await query('/api/observe/logs', { service: svc, fields: '-body', limit: 100 })).json.logs;
      assert.ok(!('body' in none[0]) && !('body_type' in none[0]));
    });
  }
});
