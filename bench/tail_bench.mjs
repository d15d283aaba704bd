// The live tail's latency client (bench/tail_bench.sh; docs/BENCHMARKS.md).
//
//   node bench/tail_bench.mjs latency  API OTLP TOKEN SECONDS RATE
//     one tail (its own service), logs sent at RATE per second in requests of
//     100: for each entry, its arrival at the tail minus the moment its
//     request's 200 was read (negative: it arrived first).
//
// Prints one line "RESULT key=value ...".  (The many-client runs use
// bench/tailhold.c, which costs the machine far less per message.)

import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../tests/integration/package.json'));
const WebSocket = require('ws');

const [mode, ...args] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function tail(api, token, params) {
  const url = `${api.replace(/^http/, 'ws')}/api/observe/logs/tail?${new URLSearchParams(params)}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` }, perMessageDeflate: false });
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
    ws.on('unexpected-response', (_q, r) => reject(new Error(`HTTP ${r.statusCode}`)));
  });
}

function post(otlp, token, body) {
  return new Promise((resolve, reject) => {
    const u = new URL(`${otlp}/v1/logs`);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent,
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function logs(service, n, tag, level = 9) {
  const t = BigInt(Date.now()) * 1000000n;
  return JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
    scopeLogs: [{ logRecords: Array.from({ length: n }, (_, i) => ({
      timeUnixNano: String(t + BigInt(i)), severityNumber: level,
      body: { stringValue: `${tag} ${i} request handled in ${i % 97} ms` },
      attributes: [{ key: 'http.route', value: { stringValue: '/api/items/{id}' } }, { key: 'i', value: { intValue: String(i) } }],
    })) }] }] });
}

const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function latency([api, otlp, token, seconds, rate]) {
  const svc = `tail-bench-lat-${process.pid}`;
  const ws = await tail(api, token, { service: svc });
  const arrived = new Map(); // "b<batch>" -> arrival times
  ws.on('message', (m) => {
    const now = performance.now();
    const s = m.toString();
    const i = s.indexOf('"message":"b');
    if (i < 0) return;
    const key = s.slice(i + 11, s.indexOf(' ', i + 11));
    (arrived.get(key) || arrived.set(key, []).get(key)).push(now);
  });
  await sleep(300);
  const per = 100, every = (1000 * per) / Number(rate);
  const ok = new Map();
  const end = performance.now() + Number(seconds) * 1000;
  let b = 0, failed = 0;
  const inflight = [];
  for (let next = performance.now(); next < end; next += every, b++) {
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
    const key = `b${b}`;
    inflight.push(post(otlp, token, logs(svc, per, key)).then((st) => { if (st === 200) ok.set(key, performance.now()); else failed++; }));
  }
  await Promise.all(inflight);
  await sleep(2000);
  const lat = [];
  let missing = 0;
  for (const [key, t200] of ok) {
    const a = arrived.get(key) || [];
    missing += per - a.length;
    for (const t of a) lat.push(t - t200);
  }
  lat.sort((x, y) => x - y);
  ws.close();
  const sent = ok.size * per;
  console.log(`RESULT mode=latency sent=${sent} rate=${(sent / Number(seconds)).toFixed(0)} received=${lat.length} missing=${missing} failed_requests=${failed} ` +
    `p50_ms=${pct(lat, 50).toFixed(2)} p90_ms=${pct(lat, 90).toFixed(2)} p99_ms=${pct(lat, 99).toFixed(2)} max_ms=${lat[lat.length - 1].toFixed(2)} ` +
    `before_200=${lat.filter((x) => x < 0).length}`);
  agent.destroy();
}

const modes = { latency };
if (!modes[mode]) { console.error('usage: tail_bench.mjs latency API OTLP TOKEN SECONDS RATE'); process.exit(2); }
modes[mode](args).then(() => process.exit(0), (e) => { console.error(`tail_bench: ${e.message}`); process.exit(1); });
