// Durability and shutdown, each against its own `lookout serve` instance:
//  - SIGKILL in the middle of a load run loses no record answered 200, and
//    no request is ever stored in part;
//  - SIGTERM answers what is in flight (even a request still uploading),
//    commits it, and exits 0.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { post, q, closeDb, tag, sleep, startServer, CT, env } from './lib/harness.mjs';
import { pbRequest } from './lib/otlp.mjs';
import { logsSpec, tracesSpec } from './lib/records.mjs';

after(closeDb);

// Bounded load: `senders` loops posting unique batches until stop() or the
// deadline.  Each batch's records carry attribute batch=<id>.
function load({ url, service, senders = 4, perBatch = 200, signal = 'logs', maxMs = 8000, maxRequests = 3000 }) {
  let stopped = false;
  const acked = []; // batch ids answered 200
  const statuses = {};
  const deadline = Date.now() + maxMs;
  const one = async (k) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let n = 0; !stopped && n < maxRequests && Date.now() < deadline; n++) {
      const id = `${k}-${n}`;
      const spec = signal === 'logs'
        ? logsSpec(service, perBatch, { attributes: { batch: id } })
        : tracesSpec(service, perBatch, { attributes: { batch: id } });
      try {
        const res = await post(`${url}/v1/${signal}`, pbRequest(signal, spec), { token: env.token, contentType: CT.proto, agent, timeout: 15000 });
        statuses[res.status] = (statuses[res.status] || 0) + 1;
        if (res.status === 200) acked.push(id);
        else await sleep(50);
      } catch {
        statuses.error = (statuses.error || 0) + 1;
        await sleep(50);
      }
    }
    agent.destroy();
  };
  const all = Promise.all(Array.from({ length: senders }, (_, k) => one(k)));
  return { acked, statuses, stop: () => { stopped = true; return all; }, done: all };
}

async function storedBatches(table, service, perBatch) {
  const rows = await q(`SELECT attributes->>'batch' AS b, count(*)::int AS n FROM ${table} WHERE service = $1 GROUP BY 1`, [service]);
  const m = new Map(rows.map((r) => [r.b, r.n]));
  for (const [b, n] of m) assert.equal(n, perBatch, `batch ${b} stored whole (${n}/${perBatch})`);
  return m;
}

describe('durability', () => {
  test('SIGKILL under load loses no acknowledged record', async () => {
    const srv = await startServer({ name: 'server-sigkill' });
    const svcLogs = tag('kill-logs');
    const svcSpans = tag('kill-spans');
    const perBatch = 200;
    const l1 = load({ url: srv.otlpUrl, service: svcLogs, senders: 3, perBatch });
    const l2 = load({ url: srv.otlpUrl, service: svcSpans, senders: 2, perBatch: 100, signal: 'traces' });
    // let it run until some batches were acknowledged, then kill
    const t0 = Date.now();
    while (Date.now() - t0 < 5000 && (l1.acked.length < 10 || l2.acked.length < 5)) await sleep(50);
    await sleep(300);
    const r = await srv.stop('SIGKILL');
    assert.equal(r.signal, 'SIGKILL');
    await Promise.all([l1.stop(), l2.stop()]);
    const ackedLogs = [...l1.acked];
    const ackedSpans = [...l2.acked];
    assert.ok(ackedLogs.length > 0 && ackedSpans.length > 0, `load was acknowledged before the kill (${JSON.stringify(l1.statuses)} ${JSON.stringify(l2.statuses)})`);

    // the server comes back on the same database
    const srv2 = await startServer({ name: 'server-sigkill-restart' });
    try {
      const logs = await storedBatches('log_entries', svcLogs, perBatch);
      const spans = await storedBatches('spans', svcSpans, 100);
      for (const id of ackedLogs) assert.equal(logs.get(id), perBatch, `acknowledged log batch ${id} is stored`);
      for (const id of ackedSpans) assert.equal(spans.get(id), 100, `acknowledged span batch ${id} is stored`);
      const storedLogs = [...logs.values()].reduce((a, b) => a + b, 0);
      assert.ok(storedLogs >= ackedLogs.length * perBatch, `stored ${storedLogs} >= acknowledged ${ackedLogs.length * perBatch}`);
      // and ingests again
      const res = await post(`${srv2.otlpUrl}/v1/logs`, pbRequest('logs', logsSpec(svcLogs, 1, { attributes: { batch: 'after' } })), { token: env.token, contentType: CT.proto });
      assert.equal(res.status, 200);
      console.log(`SIGKILL: acknowledged ${ackedLogs.length} log batches (${ackedLogs.length * perBatch} records) and ${ackedSpans.length} span batches; stored ${storedLogs} log records`);
    } finally {
      const e = await srv2.stop('SIGTERM');
      assert.equal(e.code, 0, 'restarted server exits 0 on SIGTERM');
    }
  });

  test('SIGTERM answers in-flight requests, commits them and exits 0', async () => {
    const srv = await startServer({ name: 'server-sigterm' });
    const svc = tag('term');
    const perBatch = 100;
    // a request whose body is still uploading when SIGTERM arrives
    const spec = logsSpec(svc, perBatch, { attributes: { batch: 'slow' } });
    const body = pbRequest('logs', spec);
    const u = new URL(`${srv.otlpUrl}/v1/logs`);
    let slowReq;
    const slow = new Promise((resolve, reject) => {
      const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: false,
        headers: { 'Content-Type': CT.proto, 'Content-Length': body.length, Authorization: `Bearer ${env.token}` } });
      req.on('response', (res) => { const c = []; res.on('data', (d) => c.push(d)); res.on('end', () => resolve(res.statusCode)); });
      req.on('error', reject);
      req.write(body.subarray(0, 100));
      slowReq = req;
    });
    await sleep(200); // the connection is accepted and the request started
    // plus ordinary concurrent load
    const l = load({ url: srv.otlpUrl, service: svc, senders: 3, perBatch, maxMs: 5000 });
    await sleep(400);
    srv.proc.kill('SIGTERM');
    await sleep(100);
    slowReq.end(body.subarray(100));
    const slowStatus = await slow;
    await l.stop();
    const exit = await srv.exited;
    assert.equal(slowStatus, 200, 'the request in flight at SIGTERM is answered 200');
    assert.equal(exit.code, 0, `exit status 0 (got ${JSON.stringify(exit)})`);
    const stored = await storedBatches('log_entries', svc, perBatch);
    assert.equal(stored.get('slow'), perBatch, 'the in-flight request is committed');
    for (const id of l.acked) assert.equal(stored.get(id), perBatch, `acknowledged batch ${id} committed`);
    assert.ok(l.acked.length > 0, 'some load was acknowledged');
    assert.match(srv.logText(), /level=/, 'the server logs in logfmt');
  });
});

test('SIGINT is a graceful shutdown too', async () => {
  const srv = await startServer({ name: 'server-sigint' });
  const svc = tag('int');
  const res = await post(`${srv.otlpUrl}/v1/logs`, pbRequest('logs', logsSpec(svc, 10)), { token: env.token, contentType: CT.proto });
  assert.equal(res.status, 200);
  const e = await srv.stop('SIGINT');
  assert.equal(e.code, 0, `exit 0 on SIGINT (got ${JSON.stringify(e)})`);
  const [{ n }] = await q('SELECT count(*)::int AS n FROM log_entries WHERE service = $1', [svc]);
  assert.equal(n, 10);
});

describe('backpressure', () => {
  test('writers stuck on a locked table: bounded queue answers 429, other signals and /healthz unaffected, all acknowledged stored', { timeout: 90000 }, async () => {
    const { default: pg } = await import('pg');
    const { get } = await import('./lib/harness.mjs');
    const { retryAfter } = await import('./lib/expect.mjs');
    const srv = await startServer({ name: 'server-backpressure', extraEnv: { LOOKOUT_QUEUE_MAX_BYTES: '1M', LOOKOUT_WRITERS: '1' } });
    const locker = new pg.Client({ connectionString: env.dbUrl });
    await locker.connect();
    const svc = tag('bp');
    const perBatch = 1000;
    let locked = false;
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE log_entries IN ACCESS EXCLUSIVE MODE');
      locked = true;
      const results = new Map();
      const reqs = Array.from({ length: 24 }, (_, i) => post(`${srv.otlpUrl}/v1/logs`,
        pbRequest('logs', logsSpec(svc, perBatch, { attributes: { batch: String(i), pad: 'x'.repeat(64) } })),
        { token: env.token, contentType: CT.proto, timeout: 60000 })
        .then((r) => { results.set(String(i), r); }, (e) => { results.set(String(i), { status: 'error', error: e }); }));
      // the 429s come back while the table is still locked
      const t0 = Date.now();
      while (Date.now() - t0 < 10000 && ![...results.values()].some((r) => r.status === 429)) await sleep(50);
      const early = [...results.values()].map((r) => r.status);
      assert.ok(early.includes(429), `429 while the queue is full (so far: ${early})`);
      for (const r of results.values()) if (r.status === 429) retryAfter(r, '429');
      // HTTP threads are not blocked: health and another signal still answer at once
      const h0 = Date.now();
      assert.equal((await get(`${srv.apiUrl}/healthz`, { timeout: 3000 })).status, 200);
      const tr = await post(`${srv.otlpUrl}/v1/traces`, pbRequest('traces', tracesSpec(svc, 2)), { token: env.token, contentType: CT.proto, timeout: 5000 });
      assert.equal(tr.status, 200, 'traces are written while the logs table is locked');
      assert.ok(Date.now() - h0 < 3000, 'answered quickly');
      await locker.query('COMMIT');
      locked = false;
      await Promise.all(reqs);
      const statuses = [...results.values()].map((r) => r.status);
      assert.ok(statuses.every((s) => s === 200 || s === 429 || s === 503), `statuses ${statuses}`);
      const acked = [...results.entries()].filter(([, r]) => r.status === 200).map(([k]) => k);
      assert.ok(acked.length > 0, 'the queued requests are answered 200 once the lock is gone');
      const stored = await storedBatches('log_entries', svc, perBatch);
      for (const id of acked) assert.equal(stored.get(id), perBatch, `acknowledged batch ${id} stored`);
      for (const [id, r] of results) if (r.status === 429) assert.equal(stored.get(id), undefined, `refused batch ${id} not stored`);
      console.log(`backpressure: ${statuses.filter((s) => s === 200).length} accepted, ${statuses.filter((s) => s === 429).length} answered 429`);
    } finally {
      if (locked) await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
      const e = await srv.stop('SIGTERM');
      assert.equal(e.code, 0, 'exit 0');
    }
  });
});
