// PostgreSQL goes away under load: lookout answers 503 (or 429) with
// Retry-After, stays up, and ingests again by itself once the database is
// back.  Runs on a private cluster so the other tests are not disturbed.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import pg from 'pg';
import { post, get, tag, sleep, startServer, startCluster, cli, CT } from './lib/harness.mjs';
import { pbRequest } from './lib/otlp.mjs';
import { logsSpec } from './lib/records.mjs';
import { retryAfter } from './lib/expect.mjs';

let cluster = null;
let srv = null;
after(async () => {
  if (srv) await srv.stop('SIGKILL');
  if (cluster) await cluster.stop().catch(() => {});
});

test('database outage under load: 503 + Retry-After, no crash, recovery', { timeout: 120000 }, async () => {
  cluster = await startCluster('pg-outage');
  await cli(['migrate'], cluster.url);
  const token = await cli(['token', 'create', '--name', 'outage', '--scope', 'ingest'], cluster.url);
  srv = await startServer({ dbUrl: cluster.url, name: 'server-outage', extraEnv: { LOOKOUT_TOKEN_CACHE_SECONDS: '600' } });
  const svc = tag('outage');
  const perBatch = 50;

  let phase = 'up';
  let stopped = false;
  const seen = { up: {}, down: {}, back: {} };
  const acked = [];
  const bad = [];
  const sender = async (k) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let n = 0; !stopped && n < 5000; n++) {
      const id = `${k}-${n}`;
      const ph = phase;
      let res;
      try {
        res = await post(`${srv.otlpUrl}/v1/logs`, pbRequest('logs', logsSpec(svc, perBatch, { attributes: { batch: id } })),
          { token, contentType: CT.proto, agent, timeout: 20000 });
      } catch (e) {
        seen[ph].error = (seen[ph].error || 0) + 1;
        await sleep(100);
        continue;
      }
      seen[ph][res.status] = (seen[ph][res.status] || 0) + 1;
      if (res.status === 200) acked.push(id);
      else if (res.status === 503 || res.status === 429) {
        try { retryAfter(res, `${res.status}`); } catch (e) { bad.push(e.message); }
        await sleep(100);
      } else {
        bad.push(`unexpected ${res.status}: ${res.body.toString('utf8', 0, 200)}`);
        await sleep(100);
      }
    }
    agent.destroy();
  };
  const senders = Promise.all([0, 1, 2].map(sender));
  try {
    await sleep(800);
    assert.ok(acked.length > 0, `ingest works before the outage (${JSON.stringify(seen.up)})`);

    phase = 'down';
    await cluster.stop();
    const downAt = Date.now();
    // keep loading while the database is away; wait until lookout says so
    while (Date.now() - downAt < 15000 && !(seen.down[503] || seen.down[429])) await sleep(100);
    await sleep(1000);
    assert.ok(seen.down[503] || seen.down[429], `503/429 while PostgreSQL is down (${JSON.stringify(seen.down)})`);
    assert.ok(seen.down[503], `storage unavailable is 503 (${JSON.stringify(seen.down)})`);
    const h = await get(`${srv.apiUrl}/healthz`);
    assert.equal(h.status, 200, '/healthz: the process is up');
    const r = await get(`${srv.apiUrl}/readyz`);
    assert.notEqual(r.status, 200, '/readyz: not ready without the database');
    assert.equal(srv.proc.exitCode, null, 'the server did not exit');

    phase = 'back';
    await cluster.start();
    const upAt = Date.now();
    const before = acked.length;
    while (Date.now() - upAt < 30000 && acked.length < before + 5) await sleep(100);
    assert.ok(acked.length >= before + 5, `ingest resumes after PostgreSQL returns (${JSON.stringify(seen.back)})`);
    console.log(`outage: up ${JSON.stringify(seen.up)} down ${JSON.stringify(seen.down)} back ${JSON.stringify(seen.back)}; recovered in ${Date.now() - upAt} ms`);
  } finally {
    stopped = true;
    await senders;
  }
  assert.deepEqual(bad, [], 'only 200, 429 or 503 (with Retry-After) were answered');

  // every acknowledged batch is there, whole
  const c = new pg.Client({ connectionString: cluster.url });
  await c.connect();
  try {
    const rows = (await c.query(`SELECT attributes->>'batch' AS b, count(*)::int AS n FROM log_entries WHERE service = $1 GROUP BY 1`, [svc])).rows;
    const m = new Map(rows.map((x) => [x.b, x.n]));
    for (const [b, n] of m) assert.equal(n, perBatch, `batch ${b} stored whole`);
    for (const id of acked) assert.equal(m.get(id), perBatch, `acknowledged batch ${id} stored`);
  } finally {
    await c.end();
  }

  // the real SDK exporter rides out a short outage: it retries the 503s
  // (honouring Retry-After) and its export succeeds once PostgreSQL is back
  const { sendLogs } = await import('./lib/sdk.mjs');
  await cluster.stop();
  const t0 = Date.now();
  const pending = sendLogs({ encoding: 'proto', gzip: true, url: srv.otlpUrl, token, tag: tag('sdkretry'), ids: {} });
  await sleep(1500);
  await cluster.start();
  const sent = await pending; // throws if the SDK gave up
  console.log(`outage: the SDK export succeeded after ${Date.now() - t0} ms`);
  const c2 = new pg.Client({ connectionString: cluster.url });
  await c2.connect();
  try {
    const { rows } = await c2.query('SELECT count(*)::int AS n FROM log_entries WHERE service = $1', [sent.service]);
    assert.equal(rows[0].n, sent.logs.length, 'every record the SDK exported is stored');
  } finally {
    await c2.end();
  }

  const e = await srv.stop('SIGTERM');
  srv = null;
  assert.equal(e.code, 0, 'exits 0 on SIGTERM');
});
