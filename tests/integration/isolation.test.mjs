// Isolation between projects at ingest (docs/auth.md): identities that
// one project's data could share with another's — trace ids that cross
// organisations, metric series with equal names and labels — stay apart,
// and each project reads exactly its own.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { env, get, postSignal, q, closeDb, tag, cli, randHex, nowNs, CT } from './lib/harness.mjs';
import { request } from './lib/otlp.mjs';
import { metricsSpec } from './lib/records.mjs';
import { exportOk } from './lib/expect.mjs';

after(closeDb);

const T = tag('iso');
const tok = {};
let tokenB; // ingest, bound to B

before(async () => {
  tok.readA = await cli(['token', 'create', '--name', `isoa-${T}`, '--scope', 'observe:read', '--project', env.projectA]);
  tok.readB = await cli(['token', 'create', '--name', `isob-${T}`, '--scope', 'observe:read', '--project', env.projectB]);
  tokenB = await cli(['token', 'create', '--name', `isoib-${T}`, '--scope', 'ingest', '--project', env.projectB]);
});

async function api(path, token) {
  const res = await get(env.apiUrl + path, { token });
  return { status: res.status, json: JSON.parse(res.body.toString() || 'null') };
}

function span(traceId, spanId, parent, name, service, startNs, status = 0) {
  return { traceId, spanId, parentSpanId: parent, name, kind: 2, startNs, endNs: startNs + 5000000n, attributes: {}, status: { code: status } };
}

describe('a trace id shared by two projects', () => {
  test('each project sees its own spans and its own summary', async () => {
    const tid = randHex(16);
    const t0 = nowNs();
    const rootA = randHex(8);
    const specA = {
      resource: { 'service.name': `shop-${T}` }, scope: { name: 'iso' },
      spans: [span(tid, rootA, undefined, 'checkout', `shop-${T}`, t0), span(tid, randHex(8), rootA, 'db', `shop-${T}`, t0 + 1000000n)],
    };
    // B's entry point is parentless in B (its caller is in A): under one
    // summary per trace it used to rename A's trace and take its status
    const specB = {
      resource: { 'service.name': `bank-${T}` }, scope: { name: 'iso' },
      spans: [span(tid, randHex(8), undefined, 'authorize', `bank-${T}`, t0 + 2000000n, 2)],
    };
    exportOk(await postSignal('traces', request('traces', 'proto', specA), { contentType: CT.proto, token: env.tokenA }), 'traces', 'proto', 'A');
    exportOk(await postSignal('traces', request('traces', 'proto', specB), { contentType: CT.proto, token: tokenB }), 'traces', 'proto', 'B');

    const range = `from=${Date.now() - 600000}&to=${Date.now() + 60000}`;
    const la = await api(`/api/observe/traces?${range}&limit=1000`, tok.readA);
    assert.equal(la.status, 200);
    const sa = la.json.traces.filter((t) => t.trace_id === tid);
    assert.equal(sa.length, 1);
    assert.deepEqual([sa[0].root_span_name, sa[0].service, sa[0].status, sa[0].span_count, sa[0].error_count, sa[0].project_id],
      ['checkout', `shop-${T}`, 'unset', 2, 0, env.projectA]);
    const lb = await api(`/api/observe/traces?${range}&limit=1000`, tok.readB);
    const sb = lb.json.traces.filter((t) => t.trace_id === tid);
    assert.equal(sb.length, 1);
    assert.deepEqual([sb[0].root_span_name, sb[0].service, sb[0].status, sb[0].span_count, sb[0].error_count, sb[0].project_id],
      ['authorize', `bank-${T}`, 'error', 1, 1, env.projectB]);

    const ta = await api(`/api/observe/traces/${tid}`, tok.readA);
    assert.equal(ta.status, 200);
    assert.equal(ta.json.span_count, 2);
    assert.ok(ta.json.spans.every((s) => s.project_id === env.projectA));
    const tb = await api(`/api/observe/traces/${tid}`, tok.readB);
    assert.equal(tb.json.span_count, 1);
    assert.equal(tb.json.spans[0].name, 'authorize');
    // an unbound reader can narrow a shared trace to one project
    const tall = await api(`/api/observe/traces/${tid}`, env.tokenRead);
    assert.equal(tall.json.span_count, 3);
    const tonly = await api(`/api/observe/traces/${tid}?project_id=${env.projectB}`, env.tokenRead);
    assert.equal(tonly.json.span_count, 1);
    // and A may not ask for B's half
    assert.equal((await api(`/api/observe/traces/${tid}?project_id=${env.projectB}`, tok.readA)).status, 404);
  });
});

describe('metric series of two projects with one name and label set', () => {
  test('stay two series; each project reads only its own values', async () => {
    const svc = `m-${T}`;
    const send = (value, token) => {
      const spec = metricsSpec(svc, 1, { attributes: { route: '/pay' } });
      spec.metrics[0].name = `iso.orders.${T}`;
      spec.metrics[0].gauge.points[0].value = value;
      return postSignal('metrics', request('metrics', 'proto', spec), { contentType: CT.proto, token });
    };
    exportOk(await send(100, tokenB), 'metrics', 'proto', 'B');
    exportOk(await send(666, env.tokenA), 'metrics', 'proto', 'A');
    const rows = await q('SELECT project_id::text FROM metric_series WHERE name = $1 ORDER BY 1', [`iso.orders.${T}`]);
    assert.deepEqual(rows.map((r) => r.project_id), [env.projectA, env.projectB].sort());
    const bad = await q(`SELECT count(*)::int AS n FROM metric_samples s JOIN metric_series m USING (series_id)
      WHERE m.name = $1 AND m.project_id IS DISTINCT FROM s.project_id`, [`iso.orders.${T}`]);
    assert.equal(bad[0].n, 0, 'every sample under a series of its own project');
    const from = Date.now() - 600000, to = Date.now() + 60000;
    for (const [token, want] of [[tok.readA, 666], [tok.readB, 100]]) {
      const r = await api(`/api/observe/metrics?name=iso.orders.${T}&from=${from}&to=${to}&step=60&agg=max`, token);
      assert.equal(r.status, 200);
      const values = r.json.series.flatMap((s) => s.points.map((p) => p[1]));
      assert.deepEqual(values, [want]);
    }
  });
});
