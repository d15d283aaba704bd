// Reading back what was sent (docs/query-api.md): the points of the
// fidelity work covered so far — levels and enums that forgive the usual
// spellings.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { env, get, postSignal, closeDb, tag, q } from './lib/harness.mjs';
import { request } from './lib/otlp.mjs';
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
