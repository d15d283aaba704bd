// Operating lookout: /healthz, /readyz, /metrics, response encodings of the
// OTLP listener, and start-up errors for bad settings.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { env, get, postSignal, closeDb, tag, CT } from './lib/harness.mjs';
import { request } from './lib/otlp.mjs';
import { logsSpec, tracesSpec, metricsSpec } from './lib/records.mjs';
import { exportOk } from './lib/expect.mjs';

const execFileP = promisify(execFile);
after(closeDb);

test('/healthz and /readyz answer 200', async () => {
  assert.equal((await get(`${env.apiUrl}/healthz`)).status, 200);
  assert.equal((await get(`${env.apiUrl}/readyz`)).status, 200);
});

test('/metrics is Prometheus text and counts ingested records', async () => {
  const svc = tag('metrics');
  exportOk(await postSignal('logs', request('logs', 'proto', logsSpec(svc, 3)), { contentType: CT.proto }), 'logs', 'proto', 'ingest');
  const res = await get(`${env.apiUrl}/metrics`);
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain/);
  const text = res.body.toString('utf8');
  assert.match(text, /^# (HELP|TYPE) /m, 'HELP/TYPE lines');
  const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
  assert.ok(lines.length > 0);
  for (const l of lines) assert.match(l, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eEInfNa]+( \d+)?$/, `sample line: ${l}`);
  assert.ok(lines.some((l) => /logs/.test(l)), 'a per-signal counter for logs');
});

test('200 responses are empty Export*ServiceResponses in the request encoding', async () => {
  const svc = tag('resp');
  const specs = { logs: logsSpec(svc, 1), traces: tracesSpec(svc, 1), metrics: metricsSpec(svc, 1) };
  for (const signal of Object.keys(specs)) {
    const pb = await postSignal(signal, request(signal, 'proto', specs[signal]), { contentType: CT.proto });
    assert.deepEqual(exportOk(pb, signal, 'proto', `${signal} proto`), { rejected: 0, message: '' });
    assert.equal(pb.body.length, 0, 'an empty message is zero bytes');
    const js = await postSignal(signal, request(signal, 'json', specs[signal]), { contentType: CT.json });
    assert.deepEqual(exportOk(js, signal, 'json', `${signal} json`), { rejected: 0, message: '' });
  }
});

test('exponential histogram percentiles with counts in the zero bucket and in negative buckets', async () => {
  const svc = tag('expq');
  const t = BigInt(Date.now()) * 1000000n;
  // base 2: (-2, -1] x 2, the zero bucket (threshold 0) x 6, (2, 4] x 2
  const spec = {
    resource: { 'service.name': svc },
    scope: { name: 's' },
    metrics: [{ name: `${svc}.exp`, unit: 'ms', expHistogram: { temporality: 1, points: [{ startNs: t - 1000n, timeNs: t, count: 10, sum: 0, scale: 0, zeroCount: 6, zeroThreshold: 0, positive: { offset: 1, counts: [2] }, negative: { offset: 0, counts: [2] } }] } }],
  };
  exportOk(await postSignal('metrics', request('metrics', 'json', spec), { contentType: CT.json }), 'metrics', 'json', 'exp');
  const to = Date.now() + 60000;
  const want = { p10: -1.5, p50: 0, p80: 0, p95: 3.5 };
  for (const [agg, v] of Object.entries(want)) {
    const r = await get(`${env.apiUrl}/api/observe/metrics?name=${svc}.exp&agg=${agg}&step=7200&group=none&from=${to - 3600000}&to=${to}`, { token: env.tokenRead });
    assert.equal(r.status, 200, r.body.toString());
    const pts = JSON.parse(r.body.toString()).series[0].points;
    assert.equal(pts.length, 1, r.body.toString());
    assert.ok(Math.abs(pts[0][1] - v) < 1e-9, `${agg}: ${pts[0][1]} != ${v} (the zero bucket is 0, a bucket is its own range)`);
  }
});

test('every metric type is accepted (exponential histogram, summary, int sums)', async () => {
  const svc = tag('mtypes');
  const t = BigInt(Date.now()) * 1000000n;
  const spec = {
    resource: { 'service.name': svc },
    scope: { name: 's' },
    metrics: [
      { name: 'x.exp', unit: 'ms', expHistogram: { temporality: 1, points: [{ startNs: t - 1000n, timeNs: t, count: 6, sum: 21.5, scale: 2, zeroCount: 1, zeroThreshold: 0.001, min: 0, max: 9, positive: { offset: -1, counts: [1, 2, 2] }, negative: { offset: 0, counts: [] } }] } },
      { name: 'x.summary', summary: { points: [{ startNs: t - 1000n, timeNs: t, count: 10, sum: 55, quantiles: [[0.5, 5], [0.99, 9.9]] }] } },
      { name: 'x.isum', sum: { temporality: 1, monotonic: true, points: [{ startNs: t - 1000n, timeNs: t, intValue: 42n }] } },
    ],
  };
  for (const encoding of ['proto', 'json']) {
    exportOk(await postSignal('metrics', request('metrics', encoding, spec), { contentType: CT[encoding] }), 'metrics', encoding, `types ${encoding}`);
  }
  const { q } = await import('./lib/harness.mjs');
  const rows = await q(`SELECT s.name, s.type, s.temporality, m.value, m.count::int, m.sum, m.min, m.max, m.buckets
    FROM metric_samples m JOIN metric_series s USING (series_id) WHERE m.service = $1 ORDER BY s.name`, [svc]);
  assert.equal(rows.length, 6, 'two of each');
  const exp = rows.find((r) => r.name === 'x.exp');
  assert.equal(exp.type, 4);
  assert.equal(exp.count, 6);
  assert.equal(exp.sum, 21.5);
  assert.equal(exp.buckets.scale, 2);
  assert.equal(exp.buckets.zero_count, 1);
  assert.equal(exp.buckets.positive.offset, -1);
  assert.deepEqual(exp.buckets.positive.counts.map(Number), [1, 2, 2]);
  const sm = rows.find((r) => r.name === 'x.summary');
  assert.equal(sm.type, 5);
  assert.deepEqual(sm.buckets.quantiles.map((p) => p.map(Number)), [[0.5, 5], [0.99, 9.9]]);
  const is = rows.find((r) => r.name === 'x.isum');
  assert.equal(is.type, 2);
  assert.equal(is.value, 42);
  assert.equal(is.temporality, 1);
});

test('bad settings are clear start-up errors; --help lists every setting', async () => {
  const run = async (args, extraEnv) => {
    const e = { ...process.env };
    for (const k of Object.keys(e)) if (k.startsWith('LOOKOUT_')) delete e[k];
    Object.assign(e, { LOOKOUT_DATABASE_URL: env.dbUrl, LOOKOUT_OTLP_ADDR: '127.0.0.1:1', LOOKOUT_API_ADDR: '127.0.0.1:2' }, extraEnv);
    try {
      const r = await execFileP(env.bin, args, { env: e, timeout: 10000 });
      return { code: 0, out: r.stdout + r.stderr };
    } catch (err) {
      return { code: err.code, out: `${err.stdout}${err.stderr}` };
    }
  };
  const a = await run(['serve'], { LOOKOUT_NO_SUCH_SETTING: '1' });
  assert.notEqual(a.code, 0);
  assert.match(a.out, /NO_SUCH_SETTING|no_such_setting/i);
  const b = await run(['serve'], { LOOKOUT_HTTP_THREADS: '0' });
  assert.notEqual(b.code, 0);
  assert.match(b.out, /http_threads|HTTP_THREADS/i);
  const c = await run(['serve', '--max-body-bytes', 'lots'], {});
  assert.notEqual(c.code, 0);
  const h = await run(['serve', '--help'], {});
  assert.equal(h.code, 0);
  for (const k of ['LOOKOUT_DATABASE_URL', 'LOOKOUT_OTLP_ADDR', 'LOOKOUT_API_ADDR', 'LOOKOUT_MAX_BODY_BYTES']) assert.ok(h.out.includes(k), `--help mentions ${k}`);
});

test('per-project rate limit answers 429 with Retry-After and stores nothing of it', async () => {
  const { startServer, post, q } = await import('./lib/harness.mjs');
  const { pbRequest } = await import('./lib/otlp.mjs');
  const { retryAfter } = await import('./lib/expect.mjs');
  const srv = await startServer({ name: 'server-ratelimit', extraEnv: { LOOKOUT_RATE_LIMIT_RECORDS: '50', LOOKOUT_RATE_LIMIT_BURST: '100' } });
  try {
    const svc = tag('rl');
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      const res = await post(`${srv.otlpUrl}/v1/logs`, pbRequest('logs', logsSpec(svc, 60, { attributes: { batch: String(i) } })),
        { token: env.tokenA, contentType: CT.proto });
      statuses.push(res.status);
      if (res.status === 429) retryAfter(res, '429');
      else assert.equal(res.status, 200, `status ${res.status}`);
    }
    assert.equal(statuses[0], 200, 'the first request fits the burst');
    assert.ok(statuses.includes(429), `some requests are limited: ${statuses}`);
    const rows = await q(`SELECT attributes->>'batch' AS b, count(*)::int AS n FROM log_entries WHERE service = $1 GROUP BY 1`, [svc]);
    assert.equal(rows.length, statuses.filter((s) => s === 200).length, 'only accepted requests are stored');
    for (const r of rows) assert.equal(r.n, 60);
  } finally {
    const e = await srv.stop('SIGTERM');
    assert.equal(e.code, 0);
  }
});

// The periodic tasks: listed and run once from the command line, counted in /metrics.
test('lookout task list / task run, and task counters in /metrics', async () => {
  const { cli } = await import('./lib/harness.mjs');
  assert.match(await cli(['task', 'list']), /^partitions every 3600 s, on one node at a time$/m);
  assert.equal(await cli(['task', 'run', 'partitions']), 'task partitions: done');
  await assert.rejects(cli(['task', 'run', 'nope']), /no task named "nope"/);
  const m = (await get(`${env.apiUrl}/metrics`)).body.toString();
  assert.match(m, /^lookout_task_runs_total\{task="partitions",result="ok"\} \d+$/m);
});
