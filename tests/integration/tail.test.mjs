// The live tail (docs/tail.md) end to end: WebSocket clients (`ws`) against
// `lookout serve`, logs sent with the OpenTelemetry SDK and raw OTLP, the
// entries compared with what the search API returns for them; filters,
// authorization before the upgrade, tokens in the query string and the
// subprotocol, revocation, two nodes sharing one Redis, Redis restarted
// under a tail, a client that never reads, and the memory of idle tails.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { sendLogs as sendSdkLogs } from './lib/sdk.mjs';
import { env, get, postSignal, closeDb, tag, uuid, cli, sleep, until, startServer, q, CT } from './lib/harness.mjs';
import { jsonRequest } from './lib/otlp.mjs';
import { logsSpec } from './lib/records.mjs';

const execFileP = promisify(execFile);
after(closeDb);

const redisUrl = () => process.env.LO_TEST_REDIS_URL;
const wsUrl = (apiUrl, params = {}) => `${apiUrl.replace(/^http/, 'ws')}/api/observe/logs/tail?${new URLSearchParams(params)}`;

// Opens a tail; resolves { ws, msgs, logs(), wait(pred, ms), closed } or
// rejects with { status, body } when the server answered without upgrading.
function openTail(apiUrl, params, { token = env.tokenRead, how = 'header', protocols } = {}) {
  return new Promise((resolve, reject) => {
    const opts = {};
    let url = wsUrl(apiUrl, params);
    let prots = protocols;
    if (how === 'header' && token) opts.headers = { Authorization: `Bearer ${token}` };
    if (how === 'query') url = wsUrl(apiUrl, { ...params, access_token: token });
    if (how === 'protocol') prots = [`bearer.${token}`];
    const ws = prots ? new WebSocket(url, prots, opts) : new WebSocket(url, opts);
    const msgs = [];
    const waiters = new Set();
    let closeInfo = null;
    const closed = new Promise((r) => ws.on('close', (code, reason) => { closeInfo = { code, reason: reason.toString() }; r(closeInfo); }));
    ws.on('message', (m) => {
      msgs.push(JSON.parse(m.toString()));
      for (const w of waiters) w();
    });
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body, headers: res.headers })));
    });
    ws.on('error', (e) => reject(e));
    ws.on('open', () => {
      const t = {
        ws, msgs, closed, get closeInfo() { return closeInfo; },
        logs: () => msgs.filter((m) => m.type === 'log').map((m) => m.entry),
        wait(pred, ms = 10000, what = 'tail messages') {
          return new Promise((res, rej) => {
            const check = () => { if (pred(msgs)) { clearTimeout(timer); waiters.delete(check); res(msgs); } };
            const timer = setTimeout(() => { waiters.delete(check); rej(new Error(`timed out waiting for ${what}; got ${JSON.stringify(msgs).slice(0, 600)}`)); }, ms);
            waiters.add(check);
            check();
          });
        },
        close() { ws.close(); return closed; },
      };
      resolve(t);
    });
  });
}

async function refusal(apiUrl, params, opts) {
  try {
    const t = await openTail(apiUrl, params, opts);
    t.close();
  } catch (e) {
    if (e.status) return e;
    throw e;
  }
  throw new Error('the tail was opened');
}

// Sends log records as raw OTLP/JSON; asserts the 200.
async function sendLogs(otlpUrl, spec, token = env.token) {
  const r = await postSignal('logs', jsonRequest('logs', spec), { url: otlpUrl, token, contentType: CT.json });
  assert.equal(r.status, 200, r.body.toString());
}

// The search API's entries for a service (newest first).
async function searched(service, apiUrl = env.apiUrl) {
  const r = await get(`${apiUrl}/api/observe/logs?${new URLSearchParams({ service, limit: '1000', from: String(Date.now() - 3600000) })}`, { token: env.tokenRead });
  assert.equal(r.status, 200, r.body.toString());
  return JSON.parse(r.body.toString()).logs;
}

const byMessage = (a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0);

describe('live tail, in process (no Valkey)', () => {
  for (const encoding of ['proto', 'json']) {
    test(`entries sent with the OpenTelemetry SDK (${encoding}) arrive equal to what the search API returns`, async () => {
      const T = tag('tail');
      const t = await openTail(env.apiUrl, { service: `svc-${T}` });
      const sent = await sendSdkLogs({ tag: T, encoding, gzip: encoding === 'json', url: env.otlpUrl, token: env.token });
      await t.wait((m) => m.filter((x) => x.type === 'log').length >= sent.logs.length, 10000, `${sent.logs.length} entries`);
      await sleep(300);
      const got = t.logs().sort(byMessage);
      assert.equal(got.length, sent.logs.length, 'no entry twice');
      const stored = (await searched(sent.service)).sort(byMessage);
      assert.equal(stored.length, sent.logs.length);
      assert.deepStrictEqual(got, stored);
      await t.close();
    });
  }

  test('level, service, q and session filters are applied on the server', async () => {
    const svc = `tail-f-${tag()}`;
    const other = `${svc}-other`;
    const session = uuid();
    const tails = {
      level: await openTail(env.apiUrl, { level: 'error,FATAL', service: svc }),
      service: await openTail(env.apiUrl, { service: other }),
      q: await openTail(env.apiUrl, { q: 'NeEdLe', service: svc }),
      session: await openTail(env.apiUrl, { session_id: session }),
    };
    const rec = (severityNumber, body, attributes = {}) => ({ timeNs: BigInt(Date.now()) * 1000000n, severityNumber, body, attributes });
    await sendLogs(env.otlpUrl, { resource: { 'service.name': svc }, records: [
      rec(17, 'an error'), rec(21, 'a fatal one'), rec(9, 'info with needle inside'), rec(13, 'warn in session', { 'session.id': session }),
      rec(9, 'plain info'),
    ] });
    await sendLogs(env.otlpUrl, { resource: { 'service.name': other }, records: [rec(9, 'from the other service NEEDLE')] });
    const want = {
      level: ['a fatal one', 'an error'],
      service: ['from the other service NEEDLE'],
      q: ['info with needle inside'],
      session: ['warn in session'],
    };
    for (const [k, t] of Object.entries(tails)) {
      await t.wait((m) => m.filter((x) => x.type === 'log').length >= want[k].length, 10000, `${k} entries`);
    }
    await sleep(500); // anything that should not arrive would have by now
    for (const [k, t] of Object.entries(tails)) {
      assert.deepStrictEqual(t.logs().map((e) => e.message).sort(), want[k], `filter ${k}`);
      await t.close();
    }
  });

  test('refused before the upgrade: 401 without a token, 403 without observe:read, 404 for a project not readable, 400 for bad parameters', async () => {
    assert.equal((await refusal(env.apiUrl, {}, { token: null })).status, 401);
    assert.equal((await refusal(env.apiUrl, {}, { token: 'lo_' + 'x'.repeat(43) })).status, 401);
    assert.equal((await refusal(env.apiUrl, {}, { token: env.token })).status, 403);
    const readA = await cli(['token', 'create', '--name', `tail-a-${tag()}`, '--scope', 'observe:read', '--project', env.projectA]);
    assert.equal((await refusal(env.apiUrl, { project_id: env.projectB }, { token: readA })).status, 404);
    for (const bad of [{ level: 'no way' }, { project_id: 'nope' }, { q: '' }, { session_id: '1' }, { unknown: '1' }]) {
      const e = await refusal(env.apiUrl, bad);
      assert.equal(e.status, 400, `${JSON.stringify(bad)}: ${e.body}`);
      assert.match(JSON.parse(e.body).error.message, /\w/);
    }
    // a plain GET (no upgrade) is told to upgrade
    const r = await get(`${env.apiUrl}/api/observe/logs/tail`, { token: env.tokenRead });
    assert.equal(r.status, 426);
  });

  test('a bound token tails only its projects; the token may come in the query string or the subprotocol', async () => {
    const readA = await cli(['token', 'create', '--name', `tail-qa-${tag()}`, '--scope', 'observe:read', '--project', env.projectA]);
    const svc = `tail-bound-${tag()}`;
    const viaQuery = await openTail(env.apiUrl, { service: svc }, { token: readA, how: 'query' });
    const viaProto = await openTail(env.apiUrl, { service: svc }, { token: readA, how: 'protocol' });
    assert.equal(viaProto.ws.protocol, `bearer.${readA}`);
    const rec = (body) => ({ timeNs: BigInt(Date.now()) * 1000000n, severityNumber: 9, body });
    await sendLogs(env.otlpUrl, { resource: { 'service.name': svc, 'project.id': env.projectA }, records: [rec('for A')] });
    await sendLogs(env.otlpUrl, { resource: { 'service.name': svc, 'project.id': env.projectB }, records: [rec('for B')] });
    await sendLogs(env.otlpUrl, { resource: { 'service.name': svc }, records: [rec('for nobody')] });
    for (const t of [viaQuery, viaProto]) await t.wait((m) => m.some((x) => x.type === 'log'), 10000, 'the entry of A');
    await sleep(500);
    for (const t of [viaQuery, viaProto]) {
      assert.deepStrictEqual(t.logs().map((e) => e.message), ['for A']);
      assert.equal(t.logs()[0].project_id, env.projectA);
      await t.close();
    }
  });
});

describe('live tail across nodes (Redis)', { skip: !redisUrl() && 'LO_TEST_REDIS_URL not set' }, () => {
  let n1, n2;
  before(async () => {
    const extraEnv = { LOOKOUT_VALKEY_URL: redisUrl(), LOOKOUT_TAIL_TOKEN_CHECK_SECONDS: '1' };
    n1 = await startServer({ name: 'server-tail-1', extraEnv });
    n2 = await startServer({ name: 'server-tail-2', extraEnv });
  });
  after(async () => { await n1?.stop(); await n2?.stop(); });

  test('a log ingested through node 1 reaches a tail on node 2', async () => {
    const svc = `tail-x-${tag()}`;
    const t = await openTail(n2.apiUrl, { service: svc });
    await sleep(1500); // node 1 learns of the subscription within a second
    await sendLogs(n1.otlpUrl, logsSpec(svc, 5));
    await t.wait((m) => m.filter((x) => x.type === 'log').length >= 5, 10000, 'entries from node 1');
    const stored = (await searched(svc, n2.apiUrl)).sort(byMessage);
    assert.deepStrictEqual(t.logs().sort(byMessage), stored);
    await t.close();
  });

  test('a revoked token\'s tail is closed with 1008', async () => {
    const name = `tail-rev-${tag()}`;
    const tok = await cli(['token', 'create', '--name', name, '--scope', 'observe:read']);
    const t = await openTail(n2.apiUrl, {}, { token: tok });
    const id = (await q('SELECT id FROM api_tokens WHERE name = $1', [name]))[0].id;
    await cli(['token', 'revoke', String(id)]);
    const c = await Promise.race([t.closed, sleep(15000).then(() => null)]);
    assert.ok(c, 'closed within 15 s (token checks every second here)');
    assert.equal(c.code, 1008);
    assert.match(c.reason, /revoked/);
  });

  test('Redis restarted under a tail: the tail says reconnecting, then resumed; ingest answers 200 throughout', async () => {
    const svc = `tail-r-${tag()}`;
    const t = await openTail(n2.apiUrl, { service: svc });
    const dir = process.env.LO_TEST_REDIS_DIR;
    const port = process.env.LO_TEST_REDIS_PORT;
    await execFileP(env.services, ['stop', 'redis', dir]);
    let sent = 0;
    for (let i = 0; i < 10; i++) { await sendLogs(n1.otlpUrl, logsSpec(svc, 2)); sent += 2; await sleep(100); }
    await t.wait((m) => m.some((x) => x.type === 'status' && x.status === 'reconnecting'), 10000, 'reconnecting');
    await execFileP(env.services, ['start', 'redis', dir, port]);
    await t.wait((m) => m.some((x) => x.type === 'status' && x.status === 'resumed'), 15000, 'resumed');
    const c = (await q('SELECT count(*)::int AS n FROM log_entries WHERE service = $1', [svc]))[0].n;
    assert.equal(c, sent, 'every record sent while Redis was down is stored');
    await sleep(1500);
    await sendLogs(n1.otlpUrl, logsSpec(svc, 1));
    await t.wait((m) => m.some((x) => x.type === 'log'), 10000, 'an entry after the restart');
    await t.close();
  });
});

describe('live tail under pressure', () => {
  let s;
  before(async () => {
    s = await startServer({ name: 'server-tail-p', extraEnv: { LOOKOUT_TAIL_CLIENT_BUFFER_BYTES: '16K', LOOKOUT_TAIL_MAX_PER_TOKEN: '600', LOOKOUT_TAIL_MAX_CLIENTS: '700', LOOKOUT_HTTP_CONNECTIONS_PER_IP: '0' } });
  });
  after(async () => { await s?.stop(); });

  test('a client that never reads is closed while every record of a concurrent ingest is stored', async () => {
    const svc = `tail-slow-${tag()}`;
    const slow = await openTail(s.apiUrl, { service: svc });
    slow.ws._socket.pause(); // reads nothing from here on
    const fast = await openTail(s.apiUrl, { service: svc, q: 'record 0' });
    let sent = 0;
    const deadline = Date.now() + 30000;
    const body = (i) => logsSpec(svc, 200, { attributes: { pad: 'x'.repeat(400), i } });
    while (Date.now() < deadline) {
      await sendLogs(s.otlpUrl, body(sent));
      sent += 200;
      const m = (await get(`${s.apiUrl}/metrics`)).body.toString();
      if (/lookout_tail_closed_total\{reason="lag"\} [1-9]/.test(m) && sent >= 4000) break;
    }
    const m = (await get(`${s.apiUrl}/metrics`)).body.toString();
    assert.match(m, /lookout_tail_closed_total\{reason="lag"\} [1-9]/, 'the slow client was closed for lag');
    assert.match(m, /lookout_tail_dropped_total\{where="client"\} [1-9]/);
    const stored = (await q('SELECT count(*)::int AS n FROM log_entries WHERE service = $1', [svc]))[0].n;
    assert.equal(stored, sent, 'every record stored');
    assert.ok(fast.logs().length > 0 && fast.closeInfo === null, 'a client that keeps up stays open');
    slow.ws._socket.resume();
    await fast.close();
  });

  test('500 idle tails keep the server under 100 MiB more memory', async () => {
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${s.proc.pid}/status`, 'utf8'))[1]) * 1024;
    const before = rss();
    const tails = [];
    for (let i = 0; i < 500; i += 50) {
      tails.push(...await Promise.all(Array.from({ length: 50 }, (_, k) => openTail(s.apiUrl, { service: `idle-${i + k}` }))));
    }
    await until(async () => /lookout_tail_open 500/.test((await get(`${s.apiUrl}/metrics`)).body.toString()), { what: '500 open tails' });
    const grown = rss() - before;
    assert.ok(grown < 100 * 1024 * 1024, `RSS grew by ${(grown / 1048576).toFixed(1)} MiB`);
    await Promise.all(tails.map((t) => t.close()));
  });
});
