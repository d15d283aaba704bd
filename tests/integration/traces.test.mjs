// The `traces` summary row stays right when the spans of one trace arrive
// out of order, in different requests, some of them concurrently; and the
// raw encoders' fields (trace state, flags, links, dropped counts) land.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { env, get, postSignal, q, closeDb, tag, randHex, CT } from './lib/harness.mjs';
import { request } from './lib/otlp.mjs';
import { exportOk } from './lib/expect.mjs';

after(closeDb);

const US = (col) => `(extract(epoch from ${col}) * 1000000)::bigint::text AS ${col}_us`;

test('trace summary from spans arriving out of order across requests', async () => {
  const svcRoot = tag('tr-root');
  const svcWorker = tag('tr-worker');
  const traceId = randHex(16);
  const rootId = randHex(8);
  const t0 = BigInt(Date.now()) * 1000000n;
  const span = (name, id, parent, startOff, endOff, code = 0) => ({
    traceId, spanId: id, parentSpanId: parent, name, kind: 1,
    startNs: t0 + BigInt(startOff) * 1000000n, endNs: t0 + BigInt(endOff) * 1000000n, status: { code },
  });
  const children = [
    span('child-a', randHex(8), rootId, -5, 40, 1), // starts before the root (clock skew), ok
    span('child-b', randHex(8), rootId, 10, 120, 2), // error, ends after the root
    span('child-c', randHex(8), rootId, 20, 30, 2), // error
    span('child-d', randHex(8), rootId, 25, 26),
  ];
  const spec = (svc, spans) => ({ resource: { 'service.name': svc }, scope: { name: 's' }, spans });
  // children first (two requests at once), then the root, then one more child as JSON
  await Promise.all([
    postSignal('traces', request('traces', 'proto', spec(svcWorker, children.slice(0, 2))), { contentType: CT.proto }),
    postSignal('traces', request('traces', 'proto', spec(svcWorker, children.slice(2, 3))), { contentType: CT.proto }),
  ]).then((rs) => rs.forEach((r) => exportOk(r, 'traces', 'proto', 'children')));
  const [mid] = await q('SELECT root_span_name, span_count FROM traces WHERE trace_id = decode($1, \'hex\')', [traceId]);
  assert.ok(mid, 'summary row exists before the root arrives');
  assert.equal(mid.root_span_name, null, 'no root name before the root arrives');
  assert.equal(mid.span_count, 3);
  exportOk(await postSignal('traces', request('traces', 'proto', spec(svcRoot, [span('GET /', rootId, undefined, 0, 100, 0)])), { contentType: CT.proto }), 'traces', 'proto', 'root');
  exportOk(await postSignal('traces', request('traces', 'json', spec(svcWorker, children.slice(3))), { contentType: CT.json }), 'traces', 'json', 'last child');

  const [tr] = await q(`SELECT root_span_name, service, status_code, span_count, error_count, ${US('start_time')}, ${US('end_time')}
    FROM traces WHERE trace_id = decode($1, 'hex')`, [traceId]);
  assert.equal(tr.root_span_name, 'GET /');
  assert.equal(tr.service, svcRoot, 'the service of the root span');
  assert.equal(tr.span_count, 5);
  assert.equal(tr.error_count, 2);
  assert.equal(tr.status_code, 2);
  assert.equal(BigInt(tr.start_time_us), (t0 - 5000000n) / 1000n, 'earliest start');
  assert.equal(BigInt(tr.end_time_us), (t0 + 120000000n) / 1000n, 'latest end');
});

test('span fields from a raw request: trace state, flags, links, dropped counts, kinds', async () => {
  const svc = tag('tr-raw');
  const t = BigInt(Date.now()) * 1000000n + 123n;
  const s = {
    traceId: randHex(16), spanId: randHex(8), parentSpanId: randHex(8), traceState: 'vendor=a,other=b',
    name: 'produce', kind: 4, startNs: t, endNs: t + 1500n, flags: 0x301,
    attributes: { 'big.int': -9223372036854775808n, 'bytes': Buffer.from('hi'), arr: [], kv: {} },
    droppedAttributesCount: 3, droppedEventsCount: 4, droppedLinksCount: 5,
    events: [{ timeNs: t + 10n, name: 'e1', attributes: {} }],
    links: [{ traceId: randHex(16), spanId: randHex(8), traceState: 'x=y', attributes: { w: 1.5 }, flags: 1 }],
    status: { code: 1, message: '' },
  };
  for (const encoding of ['proto', 'json']) {
    const svcE = `${svc}-${encoding}`;
    exportOk(await postSignal('traces', request('traces', encoding, { resource: { 'service.name': svcE }, scope: { name: 's', version: 'v' }, spans: [s] }), { contentType: CT[encoding] }), 'traces', encoding, encoding);
    const [r] = await q(`SELECT encode(parent_span_id,'hex') AS parent, trace_state, flags, kind, status_code, duration_ns::text,
        dropped_attributes_count, dropped_events_count, dropped_links_count, attributes, attributes::text AS atext, links, events
      FROM spans WHERE service = $1`, [svcE]);
    assert.ok(r, `${encoding}: stored`);
    assert.equal(r.parent, s.parentSpanId);
    assert.equal(r.trace_state, s.traceState);
    assert.equal(r.flags, 0x301);
    assert.equal(r.kind, 4);
    assert.equal(r.status_code, 1);
    assert.equal(r.duration_ns, '1500');
    assert.equal(r.dropped_attributes_count, 3);
    assert.equal(r.dropped_events_count, 4);
    assert.equal(r.dropped_links_count, 5);
    assert.match(r.atext, /"big.int": "-9223372036854775808"/, 'int64 min as a string');
    assert.equal(r.attributes.bytes, Buffer.from('hi').toString('base64'));
    assert.deepEqual(r.attributes.arr, []);
    assert.deepEqual(r.attributes.kv, {});
    assert.equal(r.links[0].trace_state, 'x=y');
    assert.equal(r.links[0].flags, 1);
    assert.deepEqual(r.links[0].attributes, { w: 1.5 });
    assert.equal(r.events[0].name, 'e1');
  }
});

test('trace search: a trace matches when one of its spans does (service, span name, duration, attributes)', async () => {
  const svcA = tag('tsA');
  const svcB = tag('tsB');
  const t0 = BigInt(Date.now()) * 1000000n;
  const tid1 = randHex(16);
  const tid2 = randHex(16);
  const root1 = randHex(8);
  const root2 = randHex(8);
  // trace 1: root in A, a slow child in B with attributes; trace 2: root in A only
  const spans = (svc, list) => ({ resource: { 'service.name': svc }, scope: { name: 's' }, spans: list });
  const sp = (traceId, spanId, parentSpanId, name, startNs, durNs, attributes = {}) => ({
    traceId, spanId, parentSpanId, name, kind: 2, startNs, endNs: startNs + durNs, attributes, status: { code: 0 },
  });
  exportOk(await postSignal('traces', request('traces', 'proto', spans(svcA, [
    sp(tid1, root1, undefined, 'GET /a', t0, 900000000n),
    sp(tid2, root2, undefined, 'GET /a', t0 + 1000n, 5000000n),
  ])), { contentType: CT.proto }), 'traces', 'proto', 'A');
  exportOk(await postSignal('traces', request('traces', 'proto', spans(svcB, [
    sp(tid1, randHex(8), root1, 'SELECT items', t0 + 1000000n, 700000000n, { 'db.system': 'postgresql', rows: 12 }),
    sp(tid1, randHex(8), root1, 'SELECT items', t0 + 2000000n, 1000000n, { 'db.system': 'postgresql', rows: 3 }),
  ])), { contentType: CT.proto }), 'traces', 'proto', 'B');
  const from = Date.now() - 60000;
  const to = Date.now() + 60000;
  const search = async (qs) => {
    const r = await get(`${env.apiUrl}/api/observe/traces?from=${from}&to=${to}&${qs}`, { token: env.tokenRead });
    assert.equal(r.status, 200, r.body.toString());
    return JSON.parse(r.body.toString()).traces;
  };
  const ids = (ts) => ts.map((t) => t.trace_id).sort();
  // by a service that is not the root's
  let got = await search(`service=${svcB}`);
  assert.deepEqual(ids(got), [tid1]);
  assert.deepEqual(got[0].services, [svcA, svcB].sort(), 'the services the trace touched');
  assert.equal(got[0].service, svcA, 'the root service stays the trace\'s');
  assert.equal(got[0].matched_span_count, 3, 'no span condition: every span');
  assert.deepEqual(ids(await search(`service=${svcA}`)), [tid1, tid2].sort());
  // span name, duration, attributes: one span must meet them all
  got = await search(`service=${svcA}&span_name=SELECT%20items`);
  assert.deepEqual(ids(got), [tid1]);
  assert.equal(got[0].matched_span_count, 2);
  got = await search(`service=${svcA}&span_name=SELECT%20items&min_duration=500ms`);
  assert.equal(got[0].matched_span_count, 1);
  assert.deepEqual(ids(await search(`service=${svcA}&min_duration=1s`)), []);
  assert.deepEqual(ids(await search(`service=${svcA}&max_duration=10ms`)).sort(), [tid1, tid2].sort());
  assert.deepEqual(ids(await search(`service=${svcA}&max_duration=2000us&min_duration=0.5`)), [tid1]);
  got = await search(`service=${svcA}&attr.db.system=postgresql&attr.rows=12`);
  assert.deepEqual(ids(got), [tid1], 'an int attribute matches its text');
  assert.equal(got[0].matched_span_count, 1);
  assert.deepEqual(ids(await search(`service=${svcA}&attr.db.system=postgresql&attr.rows=4`)), []);
  assert.deepEqual(ids(await search(`service=${svcA}&span_name=GET%20%2Fa&attr.rows=12`)), [], 'one span meets all');
  for (const bad of ['min_duration=fast', 'max_duration=-1s', 'min_duration=5parsecs']) {
    const r = await get(`${env.apiUrl}/api/observe/traces?${bad}`, { token: env.tokenRead });
    assert.equal(r.status, 400, bad);
    assert.match(JSON.parse(r.body.toString()).error.message, /duration/);
  }
});
