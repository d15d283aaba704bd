// Captures real OTLP request bodies from the OpenTelemetry JS SDK exporters
// as seed corpus for the fuzz targets:
//
//   node tests/integration/capture.mjs [OUTDIR]     (default: fuzz/corpus)
//
// A tiny HTTP server on 127.0.0.1 stores every request body and answers 200
// with an empty Export*ServiceResponse in the request's encoding (zero bytes
// of protobuf, or {}).  The SDK code in lib/sdk.mjs exports traces, logs and
// metrics through the protobuf and the JSON exporters with gzip off; bodies
// are written to OUTDIR/fuzz_{pb,json}_{traces,logs,metrics}/sdk-N.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sendTraces, sendLogs, sendMetrics } from './lib/sdk.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(process.argv[2] || path.join(here, '..', '..', 'fuzz', 'corpus'));

// Starts a capture server; returns { url, bodies, close }.
export async function startCapture() {
  const bodies = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const type = (req.headers['content-type'] || '').split(';')[0].trim();
      bodies.push({ path: req.url, type, encoding: req.headers['content-encoding'] || '', body: Buffer.concat(chunks) });
      if (type === 'application/json') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{}');
      } else {
        res.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
        res.end();
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}

async function main() {
  const cap = await startCapture();
  const variants = [
    { tag: 'corpus1', ids: { session: '3f1c2b7a-9d4e-4c8b-a1f0-5e6d7c8b9a01', project: '0b7e9a52-1c3d-4e5f-8a9b-0c1d2e3f4a5b', user: 'c2d3e4f5-a6b7-4c8d-9e0f-a1b2c3d4e5f6' } },
    { tag: 'corpus2', ids: {} },
  ];
  const counters = {};
  try {
    for (const v of variants) {
      for (const encoding of ['proto', 'json']) {
        const opts = { encoding, gzip: false, url: cap.url, token: 'lo_capture', tag: v.tag, ids: v.ids };
        await sendTraces(opts);
        await sendLogs(opts);
        await sendMetrics(opts);
      }
    }
  } finally {
    await cap.close();
  }
  for (const b of cap.bodies) {
    const signal = b.path.replace(/^\/v1\//, '');
    const enc = b.type === 'application/json' ? 'json' : 'pb';
    if (b.encoding && b.encoding !== 'identity') throw new Error(`unexpected Content-Encoding ${b.encoding}`);
    const dir = path.join(outDir, `fuzz_${enc}_${signal}`);
    fs.mkdirSync(dir, { recursive: true });
    const key = `${enc}_${signal}`;
    counters[key] = (counters[key] || 0) + 1;
    const file = path.join(dir, `sdk-${counters[key]}`);
    fs.writeFileSync(file, b.body);
    console.log(`capture: ${path.relative(process.cwd(), file)} (${b.body.length} bytes)`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
