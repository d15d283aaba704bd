// What every integration test needs: the environment scripts/test-integration.sh
// sets up (LO_TEST_*), raw HTTP posting, PostgreSQL access, polling, and
// starting extra server instances for the tests that kill or stop things.

import http from 'node:http';
import zlib from 'node:zlib';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import net from 'node:net';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';

const execFileP = promisify(execFile);

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the integration tests with scripts/test-integration.sh (make integration)`);
  return v;
}

export const env = {
  get otlpUrl() { return need('LO_TEST_OTLP_URL'); },
  get apiUrl() { return need('LO_TEST_API_URL'); },
  get dbUrl() { return need('LO_TEST_DATABASE_URL'); },
  get token() { return need('LO_TEST_TOKEN'); },
  get tokenA() { return need('LO_TEST_TOKEN_A'); },
  get tokenRead() { return need('LO_TEST_TOKEN_READ'); },
  get tokenAdmin() { return need('LO_TEST_TOKEN_ADMIN'); },
  get projectA() { return need('LO_TEST_PROJECT_A'); },
  get projectB() { return need('LO_TEST_PROJECT_B'); },
  get bin() { return need('LO_BIN'); },
  get tmp() { return need('LO_TEST_TMP'); },
  get services() { return need('LO_TEST_SERVICES'); },
  get maxBody() { return Number(process.env.LO_TEST_MAX_BODY_BYTES || 16 * 1024 * 1024); },
  get maxDecompressed() { return Number(process.env.LO_TEST_MAX_DECOMPRESSED_BYTES || 64 * 1024 * 1024); },
};

export const uuid = () => crypto.randomUUID();
export const tag = (prefix = 't') => `${prefix}-${crypto.randomBytes(6).toString('hex')}`;
export const randHex = (bytes) => crypto.randomBytes(bytes).toString('hex');
export const nowNs = () => BigInt(Date.now()) * 1000000n + BigInt(Math.floor(Math.random() * 1000)) * 1000n;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const CT = { proto: 'application/x-protobuf', json: 'application/json' };

// POST a raw body.  opts: { token, contentType, encoding ('gzip' compresses
// body unless raw), contentEncoding (header as is), headers, chunked, timeout }.
// Resolves { status, headers, body: Buffer }; a reset after the response
// arrived is not an error (servers may close while we still send).
export function post(url, body, opts = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    let data = Buffer.isBuffer(body) ? body : Buffer.from(body);
    const headers = { ...(opts.headers || {}) };
    if (opts.contentType !== null) headers['Content-Type'] = opts.contentType || CT.proto;
    if (opts.gzip) { data = zlib.gzipSync(data); headers['Content-Encoding'] = 'gzip'; }
    if (opts.contentEncoding) headers['Content-Encoding'] = opts.contentEncoding;
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    if (!opts.chunked) headers['Content-Length'] = data.length;
    const req = http.request({
      host: u.hostname, port: u.port, path: u.pathname + u.search, method: opts.method || 'POST', headers,
      agent: opts.agent || false,
    });
    let answered = false;
    const timer = setTimeout(() => { req.destroy(new Error(`timeout after ${opts.timeout || 20000} ms: ${url}`)); }, opts.timeout || 20000);
    req.on('response', (res) => {
      answered = true;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => { clearTimeout(timer); resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }); });
      res.on('error', (e) => { clearTimeout(timer); reject(e); });
    });
    req.on('error', (e) => { if (!answered) { clearTimeout(timer); reject(e); } });
    if (opts.chunked) {
      const step = 64 * 1024;
      for (let i = 0; i < data.length; i += step) req.write(data.subarray(i, i + step));
      req.end();
    } else {
      req.end(data);
    }
  });
}

export function postSignal(signal, body, opts = {}) {
  return post(`${opts.url || env.otlpUrl}/v1/${signal}`, body, { token: env.token, ...opts });
}

export async function get(url, opts = {}) {
  return post(url, Buffer.alloc(0), { ...opts, method: 'GET', contentType: null });
}

// ------------------------------------------------------------ PostgreSQL

let pool = null;
export function db() {
  if (!pool) {
    pool = new pg.Pool({ connectionString: env.dbUrl, max: 4 });
    pool.on('error', () => {});
  }
  return pool;
}
export async function closeDb() {
  if (pool) { const p = pool; pool = null; await p.end(); }
}
// Rows of sql on the suite's database, or on dbUrl (another cluster).
export async function q(sql, params = [], dbUrl = null) {
  if (!dbUrl) return (await db().query(sql, params)).rows;
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try { return (await c.query(sql, params)).rows; } finally { await c.end(); }
}

// Polls fn until it returns a truthy value (bounded).
export async function until(fn, { timeout = 10000, interval = 100, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(interval);
  }
}

// Microseconds since the epoch of a timestamptz column: select it as
// `(extract(epoch from col) * 1000000)::bigint::text`.
export const usOf = (ns) => BigInt(ns) / 1000n;
export function assertTimeUs(assert, gotText, ns, what) {
  const got = BigInt(gotText);
  const want = BigInt(ns) / 1000n;
  const d = got > want ? got - want : want - got;
  assert.ok(d <= 1n, `${what}: stored ${got} us, sent ${ns} ns`);
}

// --------------------------------------------------------- extra servers

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// Starts `lookout serve` on free loopback ports; resolves
// { proc, otlpUrl, apiUrl, log, stop(signal), kill(), exited }.
export async function startServer({ dbUrl = env.dbUrl, extraEnv = {}, name = 'server-extra' } = {}) {
  const otlpPort = await freePort();
  let apiPort = await freePort();
  while (apiPort === otlpPort) apiPort = await freePort();
  const log = path.join(env.tmp, `${name}-${Date.now()}.log`);
  const fd = fs.openSync(log, 'a');
  const e = { ...process.env };
  for (const k of Object.keys(e)) if (k.startsWith('LOOKOUT_')) delete e[k];
  Object.assign(e, {
    LOOKOUT_DATABASE_URL: dbUrl,
    LOOKOUT_OTLP_ADDR: `127.0.0.1:${otlpPort}`,
    LOOKOUT_API_ADDR: `127.0.0.1:${apiPort}`,
    ...extraEnv,
  });
  const proc = spawn(env.bin, ['serve'], { env: e, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const s = {
    proc, log, exited,
    otlpUrl: `http://127.0.0.1:${otlpPort}`,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    async stop(sig = 'SIGTERM', timeout = 30000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill(sig);
      const t = setTimeout(() => proc.kill('SIGKILL'), timeout);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
    logText: () => { try { return fs.readFileSync(log, 'utf8'); } catch { return ''; } },
  };
  let early = null;
  exited.then((r) => { early = r; });
  await until(async () => {
    if (early) throw new Error(`lookout serve exited during start-up (${JSON.stringify(early)}):\n${s.logText().slice(-3000)}`);
    try { return (await get(`${s.apiUrl}/healthz`, { timeout: 1000 })).status === 200; } catch { return false; }
  }, { timeout: 15000, what: 'lookout serve /healthz' });
  return s;
}

// A private PostgreSQL cluster for tests that stop and start it.
export async function startCluster(name) {
  const dir = path.join(env.tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const { stdout } = await execFileP(env.services, ['start', 'pg', dir, String(port)], { timeout: 60000 });
  const url = stdout.trim().split('\n').pop();
  return {
    dir, port, url,
    stop: () => execFileP(env.services, ['stop', 'pg', dir], { timeout: 60000 }),
    start: () => execFileP(env.services, ['start', 'pg', dir, String(port)], { timeout: 60000 }),
  };
}

// Runs the lookout CLI (settings: LOOKOUT_DATABASE_URL and extraEnv);
// resolves its trimmed stdout, rejects when it fails.
export async function cli(args, dbUrl = env.dbUrl, extraEnv = {}) {
  const e = { ...process.env };
  for (const k of Object.keys(e)) if (k.startsWith('LOOKOUT_')) delete e[k];
  Object.assign(e, { LOOKOUT_DATABASE_URL: dbUrl, ...extraEnv });
  const { stdout } = await execFileP(env.bin, args, { env: e, timeout: 60000 });
  return stdout.trim();
}

// As cli, but resolves { code, stdout, stderr } whatever the exit code.
export async function cliResult(args, dbUrl = env.dbUrl, extraEnv = {}) {
  try {
    const stdout = await cli(args, dbUrl, extraEnv);
    return { code: 0, stdout, stderr: '' };
  } catch (e) {
    if (typeof e.code !== 'number') throw e;
    return { code: e.code, stdout: (e.stdout || '').trim(), stderr: e.stderr || '' };
  }
}
