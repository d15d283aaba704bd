// Tokens on the OTLP listener (401 / 403 / scopes / revocation) and
// project-bound tokens: stamp their project on records that claim none,
// reject (in partial_success) records that claim another project.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { env, postSignal, q, closeDb, tag, uuid, cli, CT } from './lib/harness.mjs';
import { request } from './lib/otlp.mjs';
import { SPEC, logsSpec, tracesSpec, metricsSpec, countAll } from './lib/records.mjs';
import { exportOk, statusBody } from './lib/expect.mjs';

after(closeDb);

const SIGNALS = ['logs', 'traces', 'metrics'];
const ENCODINGS = ['proto', 'json'];

describe('authentication', () => {
  for (const encoding of ENCODINGS) {
    test(`missing, malformed and unknown tokens get 401 (${encoding})`, async () => {
      const svc = tag('noauth');
      for (const signal of SIGNALS) {
        const body = request(signal, encoding, SPEC[signal](svc, 1));
        const cases = {
          'no Authorization': {},
          'unknown token': { headers: { Authorization: 'Bearer lo_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } },
          'not a lookout token': { headers: { Authorization: 'Bearer hello' } },
          'empty bearer': { headers: { Authorization: 'Bearer ' } },
          'basic auth': { headers: { Authorization: `Basic ${Buffer.from(`x:${env.token}`).toString('base64')}` } },
          'token without scheme': { headers: { Authorization: env.token } },
          'very long header': { headers: { Authorization: `Bearer ${'a'.repeat(6000)}` } },
        };
        for (const [what, o] of Object.entries(cases)) {
          const res = await postSignal(signal, body, { contentType: CT[encoding], token: null, ...o });
          const st = statusBody(res, 401, encoding, `${signal} ${what}`);
          assert.equal(st.code, 16, `${signal} ${what}: UNAUTHENTICATED`);
        }
      }
      assert.equal(await countAll(svc), 0, 'nothing stored');
    });

    test(`a token without the ingest scope gets 403 (${encoding})`, async () => {
      const svc = tag('noscope');
      for (const signal of SIGNALS) {
        const res = await postSignal(signal, request(signal, encoding, SPEC[signal](svc, 1)), { contentType: CT[encoding], token: env.tokenRead });
        const st = statusBody(res, 403, encoding, `${signal} observe:read token`);
        assert.equal(st.code, 7, 'PERMISSION_DENIED');
      }
      assert.equal(await countAll(svc), 0, 'nothing stored');
    });
  }

  test('the admin scope includes ingest', async () => {
    const svc = tag('admin');
    exportOk(await postSignal('logs', request('logs', 'proto', logsSpec(svc, 1)), { contentType: CT.proto, token: env.tokenAdmin }), 'logs', 'proto', 'admin');
  });

  test('a revoked token gets 401', async () => {
    const name = tag('revoked');
    const tok = await cli(['token', 'create', '--name', name, '--scope', 'ingest']);
    assert.match(tok, /^lo_[A-Za-z0-9_-]{43}$/, 'token format lo_ + 43 base64url characters');
    const [{ id }] = await q('SELECT id::text FROM api_tokens WHERE name = $1', [name]);
    const listed = await cli(['token', 'list']);
    assert.ok(listed.includes(name), 'token list shows it');
    assert.ok(!listed.includes(tok), 'token list never shows the token itself');
    await cli(['token', 'revoke', id]);
    const svc = tag('revoked');
    const res = await postSignal('logs', request('logs', 'proto', logsSpec(svc, 1)), { contentType: CT.proto, token: tok });
    assert.equal(res.status, 401);
    const [row] = await q('SELECT token_sha256, revoked_at FROM api_tokens WHERE id = $1::bigint', [id]);
    assert.equal(row.token_sha256.length, 32, 'only a SHA-256 is stored');
    assert.ok(row.revoked_at, 'revoked_at set');
  });
});

describe('project-bound tokens', () => {
  const specFor = { logs: logsSpec, traces: tracesSpec, metrics: metricsSpec };
  const table = { logs: 'log_entries', traces: 'spans', metrics: 'metric_samples' };

  for (const encoding of ENCODINGS) {
    for (const signal of SIGNALS) {
      test(`${signal} (${encoding}): unclaimed -> stamped A, claims B -> rejected, claims A -> stored`, async () => {
        const svc = tag(`bind-${signal}`);
        const A = env.projectA;
        const B = env.projectB;
        // three resources: no claim, claims B, claims A; plus a malformed claim (ignored -> A)
        const specs = [
          specFor[signal](svc, 2, { attributes: { case: 'none' } }),
          specFor[signal](svc, 3, { attributes: { case: 'B' }, resource: { project_id: B } }),
          specFor[signal](svc, 1, { attributes: { case: 'A' }, resource: { 'project.id': A } }),
          specFor[signal](svc, 1, { attributes: { case: 'bad' }, resource: { project_id: 'not-a-uuid' } }),
        ];
        const res = await postSignal(signal, request(signal, encoding, specs), { contentType: CT[encoding], token: env.tokenA });
        const r = exportOk(res, signal, encoding, 'mixed projects');
        assert.equal(r.rejected, 3, 'the three records claiming project B are rejected');
        assert.ok(r.message.length > 0, 'partial_success says why');
        const rows = await q(`SELECT project_id::text FROM ${table[signal]} WHERE service = $1`, [svc]);
        assert.equal(rows.length, 4, 'the other four are stored');
        for (const row of rows) assert.equal(row.project_id, A, 'stored under the token\'s project');
        const leaked = await q(`SELECT count(*)::int AS n FROM ${table[signal]} WHERE service = $1 AND project_id = $2`, [svc, B]);
        assert.equal(leaked[0].n, 0, 'nothing stored under project B');
      });
    }
  }

  test('a claim on the record itself (log attribute) is checked too', async () => {
    const svc = tag('bind-rec');
    const spec = logsSpec(svc, 2, { record: (i) => ({ attributes: { i, project_id: i === 0 ? env.projectB : env.projectA } }) });
    const r = exportOk(await postSignal('logs', request('logs', 'proto', spec), { contentType: CT.proto, token: env.tokenA }), 'logs', 'proto', 'record claim');
    assert.equal(r.rejected, 1);
    const rows = await q('SELECT project_id::text FROM log_entries WHERE service = $1', [svc]);
    assert.deepEqual(rows.map((x) => x.project_id), [env.projectA]);
  });

  test('an unbound token stores whatever project the records claim', async () => {
    const svc = tag('unbound');
    const other = uuid();
    exportOk(await postSignal('logs', request('logs', 'proto', logsSpec(svc, 1, { resource: { project_id: other } })), { contentType: CT.proto, token: env.token }), 'logs', 'proto', 'unbound');
    const [row] = await q('SELECT project_id::text FROM log_entries WHERE service = $1', [svc]);
    assert.equal(row.project_id, other);
  });
});

// agent_sessions once let a token bound to project A move a session of project B.
describe('tenant isolation of agent sessions', () => {
  test('a token bound to A cannot move a session of project B', async () => {
    const svc = tag('sessmove');
    const [S, U, U2] = [uuid(), uuid(), uuid()];
    const send = (attrs, token) => postSignal('logs', request('logs', 'proto', logsSpec(svc, 1, { attributes: attrs })), { contentType: CT.proto, token });
    exportOk(await send({ session_id: S, project_id: env.projectB, user_id: U, step: 'b' }, env.token), 'logs', 'proto', 'B teaches');
    exportOk(await send({ session_id: S, project_id: env.projectA, user_id: U2, step: 'a' }, env.tokenA), 'logs', 'proto', 'A claims the session');
    exportOk(await send({ session_id: S, step: 'later' }, env.token), 'logs', 'proto', 'session-only record');
    const [row] = await q(`SELECT project_id::text FROM log_entries WHERE service = $1 AND attributes->>'step' = 'later'`, [svc]);
    assert.equal(row.project_id, null, 'the session-only record of an unbound token joins no project (docs/auth.md)');
    const [m] = await q('SELECT project_id::text FROM agent_sessions WHERE session_id = $1', [S]);
    assert.equal(m.project_id, env.projectB, 'the session stays with B, which claimed it first');
    // and a record of A naming B's session gets no user of B's
    exportOk(await send({ session_id: S, step: 'a-only-session' }, env.tokenA), 'logs', 'proto', 'A names B\'s session');
    const [r2] = await q(`SELECT project_id::text, user_id::text FROM log_entries WHERE service = $1 AND attributes->>'step' = 'a-only-session'`, [svc]);
    assert.deepEqual(r2, { project_id: env.projectA, user_id: null }, 'stamped A, no user lent from project B');
  });

  // Session squatting: A claims a session id that B's agents use first; B's
  // project-less records (sent through an unbound collector token) must not
  // land in A.
  test('a session claimed first by A does not pull project-less records into A', async () => {
    const svc = tag('squat');
    const [S, U] = [uuid(), uuid()];
    const send = (attrs, token) => postSignal('logs', request('logs', 'proto', logsSpec(svc, 1, { attributes: attrs })), { contentType: CT.proto, token });
    exportOk(await send({ session_id: S, user_id: U, step: 'claim' }, env.tokenA), 'logs', 'proto', 'A claims');
    const [m] = await q('SELECT project_id::text FROM agent_sessions WHERE session_id = $1', [S]);
    assert.equal(m.project_id, env.projectA);
    exportOk(await send({ session_id: S, step: 'victim' }, env.token), 'logs', 'proto', 'unbound, session only');
    const [row] = await q(`SELECT project_id::text, user_id::text FROM log_entries WHERE service = $1 AND attributes->>'step' = 'victim'`, [svc]);
    assert.deepEqual(row, { project_id: null, user_id: null });
    const inA = await q('SELECT attributes->>\'step\' AS step FROM log_entries WHERE session_id = $1 AND project_id = $2', [S, env.projectA]);
    assert.deepEqual(inA.map((r) => r.step), ['claim'], 'project A holds only its own record');
  });
});

describe('correlation envelope', () => {
  test('lookup order: record, then scope, then resource; key aliases', async () => {
    const svc = tag('env');
    const [s1, s2, p1, u1, u2, u3] = [uuid(), uuid(), uuid(), uuid(), uuid(), uuid()];
    const spec = logsSpec(svc, 3, {
      resource: { session_id: s2, 'project.id': p1, 'enduser.id': u3 },
      record: (i) => ({ attributes: [{ i, 'session.id': s1, 'user.id': u1 }, { i, user_id: u2 }, { i }][i] }),
    });
    spec.scope.attributes = { user_id: u2 };
    exportOk(await postSignal('logs', request('logs', 'proto', spec), { contentType: CT.proto }), 'logs', 'proto', 'envelope');
    const rows = await q(`SELECT session_id::text, project_id::text, user_id::text FROM log_entries
      WHERE service = $1 ORDER BY (attributes->>'i')::int`, [svc]);
    assert.deepEqual(rows[0], { session_id: s1, project_id: p1, user_id: u1 });
    assert.deepEqual(rows[1], { session_id: s2, project_id: p1, user_id: u2 });
    assert.deepEqual(rows[2], { session_id: s2, project_id: p1, user_id: u2 }, 'scope before resource');
  });

  test('trace and span ids from attributes when the record has none; service fallback', async () => {
    const svc = tag('envtid');
    const tid = 'ab'.repeat(16);
    const sid = 'cd'.repeat(8);
    const spec = logsSpec(svc, 1, { attributes: { trace_id: tid, span_id: sid } });
    exportOk(await postSignal('logs', request('logs', 'proto', spec), { contentType: CT.proto }), 'logs', 'proto', 'ids from attributes');
    const [row] = await q(`SELECT encode(trace_id,'hex') AS t, encode(span_id,'hex') AS s FROM log_entries WHERE service = $1`, [svc]);
    assert.deepEqual(row, { t: tid, s: sid });

    const marker = tag('nosvc');
    const spec2 = logsSpec('x', 1, { attributes: { marker } });
    delete spec2.resource['service.name'];
    exportOk(await postSignal('logs', request('logs', 'proto', spec2), { contentType: CT.proto }), 'logs', 'proto', 'no service.name');
    const [row2] = await q(`SELECT service FROM log_entries WHERE attributes->>'marker' = $1`, [marker]);
    assert.equal(row2.service, 'unknown_service');
  });

  test('agent_sessions: a full record teaches the mapping, a session-only record uses it', async () => {
    const svc = tag('sessmap');
    const [s, p, u] = [uuid(), uuid(), uuid()];
    exportOk(await postSignal('logs', request('logs', 'proto', logsSpec(svc, 1, { attributes: { session_id: s, project_id: p, user_id: u } })), { contentType: CT.proto }), 'logs', 'proto', 'teach');
    const [m] = await q('SELECT project_id::text, user_id::text FROM agent_sessions WHERE session_id = $1', [s]);
    assert.deepEqual(m, { project_id: p, user_id: u }, 'agent_sessions upserted');
    const svc2 = tag('sessuse');
    exportOk(await postSignal('traces', request('traces', 'proto', tracesSpec(svc2, 1, { attributes: { session_id: s, project_id: p } })), { contentType: CT.proto }), 'traces', 'proto', 'use');
    const [row] = await q('SELECT session_id::text, project_id::text, user_id::text FROM spans WHERE service = $1', [svc2]);
    assert.deepEqual(row, { session_id: s, project_id: p, user_id: u }, 'user resolved from agent_sessions within the project');
    const svc3 = tag('sessbare');
    exportOk(await postSignal('traces', request('traces', 'proto', tracesSpec(svc3, 1, { attributes: { session_id: s } })), { contentType: CT.proto }), 'traces', 'proto', 'session only');
    const [bare] = await q('SELECT project_id::text, user_id::text FROM spans WHERE service = $1', [svc3]);
    assert.deepEqual(bare, { project_id: null, user_id: null }, 'a project-less record takes nothing from a session (session_lend_project=0)');
  });
});
