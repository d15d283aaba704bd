// Clients that try to starve or confuse the server (docs/http.md): health
// checks and a small ingest keep answering in milliseconds whatever the
// queries and the attackers do.  Bounds are generous: the machine is shared.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { env, get, postSignal, db, closeDb, tag, startServer, CT } from './lib/harness.mjs';
import { request } from './lib/otlp.mjs';
import { tracesSpec } from './lib/records.mjs';
import { exportOk } from './lib/expect.mjs';

after(closeDb);

async function timed(fn) {
  const t0 = performance.now();
  const r = await fn();
  return { r, ms: performance.now() - t0 };
}

describe('queries run on their own threads', () => {
  let srv;
  before(async () => {
    srv = await startServer({ name: 'server-hostile-q', extraEnv: { LOOKOUT_QUERY_THREADS: '2', LOOKOUT_QUERY_QUEUE_MAX: '2' } });
  });
  after(async () => { await srv?.stop(); });

  test('/healthz, /readyz, /metrics and ingest answer at once while every query thread is stuck', async () => {
    // Stall every logs query: a lock the queries wait on (until their
    // statement timeout, or until we let go).
    const locker = await db().connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE log_entries IN ACCESS EXCLUSIVE MODE');
    let released = false;
    try {
      const url = `${srv.apiUrl}/api/observe/logs?q=x&limit=1`;
      const slow = Array.from({ length: 4 }, () => get(url, { token: env.tokenRead, timeout: 60000 }));
      await new Promise((r) => setTimeout(r, 500)); // two running, two queued
      // the queue is full: one more is refused at once, with Retry-After
      const over = await timed(() => get(url, { token: env.tokenRead, timeout: 5000 }));
      assert.equal(over.r.status, 429, over.r.body.toString());
      assert.ok(over.r.headers['retry-after']);
      assert.ok(over.ms < 1000, `refusal took ${over.ms} ms`);
      for (const p of ['/healthz', '/readyz', '/metrics']) {
        const h = await timed(() => get(`${srv.apiUrl}${p}`, { timeout: 5000 }));
        assert.equal(h.r.status, 200, p);
        assert.ok(h.ms < 100 * 5, `${p} took ${h.ms} ms while the query threads were busy`);
      }
      const m = (await get(`${srv.apiUrl}/metrics`)).body.toString();
      assert.match(m, /lookout_api_queries_in_progress 4/);
      assert.match(m, /lookout_api_queries_refused_total [1-9]/);
      const spec = tracesSpec(tag('hostile'), 3);
      const ing = await timed(() => postSignal('traces', request('traces', 'proto', spec), { url: srv.otlpUrl, contentType: CT.proto }));
      exportOk(ing.r, 'traces', 'proto', 'ingest during stalled queries');
      assert.ok(ing.ms < 2000, `ingest took ${ing.ms} ms`);
      await locker.query('COMMIT');
      released = true;
      const done = await Promise.all(slow);
      assert.deepEqual(done.map((r) => r.status), [200, 200, 200, 200], 'the stalled queries complete once the lock is gone');
    } finally {
      if (!released) await locker.query('ROLLBACK').catch(() => {});
      locker.release();
    }
  });
});
