// The cold tier's rotation (docs/cold-store.md) end to end: telemetry sent
// over OTLP with times spread over days, rotated by `lookout rotate` (and by
// the serve task) into Parquet objects in a directory and in S3 (moto,
// signatures checked); DuckDB reads every object and must return exactly
// the rows PostgreSQL held, every column, to the microsecond; the catalog,
// the keys, the statistics, bloom filters and codec; a store that is down,
// a rotation killed mid-way, objects left by a crash, and two servers
// rotating at once.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connect as duckConnect, rows as duckRows } from '../parquet/duckdb.mjs';
import {
  env, post, get, cli, cliResult, startServer, startCluster, freePort, until, sleep, randHex, q, CT,
} from './lib/harness.mjs';

const execFileP = promisify(execFile);
const HOUR_MS = 3600e3;
// A time some hours ago, 5 minutes into its hour: rows sent from there for
// a few minutes fall in one hour, so one file, whenever the test runs.
const hourAt = (hoursAgo) => Math.floor((Date.now() - hoursAgo * HOUR_MS) / HOUR_MS) * HOUR_MS + 5 * 60e3;
const nsAt = (ms) => (BigInt(Math.floor(ms)) * 1000000n + BigInt(Math.floor(Math.random() * 1000)) * 1000n).toString();

// ------------------------------------------------------------ data

const resource = (service) => ({
  attributes: [
    { key: 'service.name', value: { stringValue: service } },
    { key: 'host.name', value: { stringValue: 'cold-host' } },
  ],
});
const scope = { name: 'cold-itest', version: '1.2.3' };

function logsBody(service, atMs, n, { traceId } = {}) {
  return {
    resourceLogs: [{
      resource: resource(service),
      scopeLogs: [{
        scope,
        logRecords: Array.from({ length: n }, (_, i) => ({
          timeUnixNano: nsAt(atMs + i * 1000),
          observedTimeUnixNano: nsAt(atMs + i * 1000 + 5),
          severityNumber: i % 3 === 0 ? 17 : 9,
          severityText: i % 3 === 0 ? 'ERROR' : 'INFO',
          body: { stringValue: `cold line ${i} of ${service} "quoted" ünïcode` },
          attributes: [
            { key: 'n', value: { intValue: String(i) } },
            { key: 'ratio', value: { doubleValue: i / 7 } },
            { key: 'route', value: { stringValue: `/r/${i % 4}` } },
          ],
          ...(traceId ? { traceId, spanId: randHex(8) } : {}),
        })),
      }],
    }],
  };
}

function spansBody(service, atMs, traces) {
  const spans = [];
  for (const traceId of traces) {
    const root = randHex(8);
    spans.push({
      traceId, spanId: root, name: 'GET /cold', kind: 2,
      startTimeUnixNano: nsAt(atMs), endTimeUnixNano: nsAt(atMs + 120),
      attributes: [{ key: 'http.route', value: { stringValue: '/cold' } }],
      events: [{ timeUnixNano: nsAt(atMs + 3), name: 'ev', attributes: [] }],
      status: { code: 1 },
    });
    spans.push({
      traceId, spanId: randHex(8), parentSpanId: root, name: 'SELECT', kind: 3,
      startTimeUnixNano: nsAt(atMs + 10), endTimeUnixNano: nsAt(atMs + 60),
      status: { code: 2, message: 'boom' },
    });
  }
  return { resourceSpans: [{ resource: resource(service), scopeSpans: [{ scope, spans }] }] };
}

function metricsBody(service, points) {
  return {
    resourceMetrics: [{
      resource: resource(service),
      scopeMetrics: [{
        scope,
        metrics: [
          {
            name: 'cold.gauge', unit: 'ms', description: 'a gauge',
            gauge: {
              dataPoints: points.map((ms, i) => ({
                timeUnixNano: nsAt(ms), asDouble: i + 0.25,
                attributes: [{ key: 'route', value: { stringValue: `/g/${i % 2}` } }],
                exemplars: [{ timeUnixNano: nsAt(ms - 1000), asDouble: i + 10.5, traceId: randHex(16), spanId: randHex(8),
                  filteredAttributes: [{ key: 'n', value: { intValue: String(i) } }] }],
              })),
            },
          },
          {
            name: 'cold.hist', unit: 's',
            histogram: {
              aggregationTemporality: 2,
              dataPoints: points.map((ms, i) => ({
                startTimeUnixNano: nsAt(ms - 60000), timeUnixNano: nsAt(ms), count: '3', sum: 1.5 + i,
                min: 0.1, max: 1.2, bucketCounts: ['1', '1', '1'], explicitBounds: [0.5, 1],
              })),
            },
          },
        ],
      }],
    }],
  };
}

async function send(otlpUrl, token, signal, body) {
  const r = await post(`${otlpUrl}/v1/${signal}`, JSON.stringify(body), { token, contentType: CT.json });
  assert.equal(r.status, 200, r.body.toString());
  const ps = JSON.parse(r.body.toString() || '{}').partialSuccess;
  assert.ok(!ps || !(Number(ps.rejectedLogRecords || ps.rejectedSpans || ps.rejectedDataPoints || 0)),
    `nothing rejected: ${r.body}`);
}

// ------------------------------------------------------------ expectations

// Every column of each signal's files: its expression over the hot table (t,
// and s for series) and how DuckDB shows it.  Kinds: ts (microseconds), f64
// (compared as numbers), text (the rest, compared as text).
const COLUMNS = {
  logs: {
    from: 'log_entries t', time: 't.time', order: 'ts, id',
    cols: [
      ['id', 't.id::text'], ['timestamp', 't.time', 'ts'], ['trace_id', "encode(t.trace_id, 'hex')"],
      ['span_id', "encode(t.span_id, 'hex')"], ['project_id', 't.project_id::text'],
      ['session_id', 't.session_id::text'], ['service', 't.service'], ['level', 't.level'],
      ['message', 't.message'], ['attributes', 't.attributes::text'],
      ['observed_timestamp', 't.observed_time', 'ts'], ['user_id', 't.user_id::text'],
      ['severity_number', 't.severity_number::text'], ['severity_text', 't.severity_text'],
      ['resource', 't.resource::text'], ['scope_name', 't.scope_name'], ['scope_version', 't.scope_version'],
      ['event_name', 't.event_name'], ['flags', 't.flags::text'],
      ['dropped_attributes_count', 't.dropped_attributes_count::text'], ['body_kind', 't.body_kind::text'],
    ],
  },
  spans: {
    from: 'spans t', time: 't.start_time', order: 'ts, trace_id, span_id',
    cols: [
      ['trace_id', "encode(t.trace_id, 'hex')"], ['span_id', "encode(t.span_id, 'hex')"],
      ['parent_span_id', "encode(t.parent_span_id, 'hex')"], ['start_time', 't.start_time', 'ts'],
      ['end_time', 't.end_time', 'ts'], ['duration_ns', 't.duration_ns::text'],
      ['project_id', 't.project_id::text'], ['session_id', 't.session_id::text'], ['user_id', 't.user_id::text'],
      ['service', 't.service'], ['name', 't.name'], ['kind', 't.kind::text'], ['status_code', 't.status_code::text'],
      ['status_message', 't.status_message'], ['trace_state', 't.trace_state'], ['flags', 't.flags::text'],
      ['attributes', 't.attributes::text'], ['events', 't.events::text'], ['links', 't.links::text'],
      ['resource', 't.resource::text'], ['scope_name', 't.scope_name'], ['scope_version', 't.scope_version'],
      ['dropped_attributes_count', 't.dropped_attributes_count::text'],
      ['dropped_events_count', 't.dropped_events_count::text'],
      ['dropped_links_count', 't.dropped_links_count::text'],
    ],
  },
  metrics: {
    from: 'metric_samples t JOIN metric_series s ON s.series_id = t.series_id', time: 't.time',
    order: 'series_id, ts',
    cols: [
      ['time', 't.time', 'ts'], ['series_id', 't.series_id::text'], ['name', 's.name'], ['type', 's.type::text'],
      ['temporality', 's.temporality::text'], ['monotonic', 's.monotonic::text'], ['unit', 's.unit'],
      ['description', 's.description'], ['labels', 's.labels::text'], ['resource_id', 's.resource_id::text'],
      ['resource', 's.resource::text'], ['start_time', 't.start_time', 'ts'], ['value', 't.value', 'f64'],
      ['count', 't.count::text'], ['sum', 't.sum', 'f64'], ['min', 't.min', 'f64'], ['max', 't.max', 'f64'],
      ['buckets', 't.buckets::text'], ['flags', 't.flags::text'], ['project_id', 't.project_id::text'],
      ['session_id', 't.session_id::text'], ['user_id', 't.user_id::text'], ['trace_id', "encode(t.trace_id, 'hex')"],
      ['span_id', "encode(t.span_id, 'hex')"], ['service', 't.service'], ['exemplars', 't.exemplars::text'],
    ],
  },
};

// The rows PostgreSQL holds of signal older than `before` (an SQL
// timestamptz expression), each column as text, in file order.
async function pgRows(dbUrl, signal, before) {
  const c = COLUMNS[signal];
  const sel = c.cols.map(([name, expr, kind]) => {
    if (kind === 'ts') return `(extract(epoch FROM ${expr}) * 1000000)::int8::text AS "${name}"`;
    if (kind === 'f64') return `${expr} AS "${name}"`;
    return `${expr} AS "${name}"`;
  });
  const tsName = c.cols.find((x) => x[2] === 'ts')[0];
  const rows = await q(`SELECT ${sel.join(', ')}, ${c.time} AS ord_time FROM ${c.from} WHERE ${c.time} < ${before}
                        ORDER BY ${c.order.replace('ts', c.time)}`, [], dbUrl);
  return rows.map((r) => { delete r.ord_time; return r; }).map((r) => normalize(signal, r, tsName));
}

function normalize(signal, r) {
  const out = {};
  for (const [name, , kind] of COLUMNS[signal].cols) {
    const v = r[name];
    out[name] = v === null || v === undefined ? null : kind === 'f64' ? Number(v) : String(v);
  }
  return out;
}

// The rows DuckDB reads from files, in the same order and shape.
async function duckRowsOf(files, signal) {
  const c = COLUMNS[signal];
  const conn = await duckConnect();
  const list = files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
  const sel = c.cols.map(([name, , kind]) => (kind === 'ts' ? `epoch_us("${name}")::VARCHAR AS "${name}"`
    : kind === 'f64' ? `"${name}"` : `"${name}"::VARCHAR AS "${name}"`));
  const tsName = c.cols.find((x) => x[2] === 'ts')[0];
  const order = c.order.replace('ts', `"${tsName}"`);
  const rows = await duckRows(conn, `SELECT ${sel.join(', ')} FROM read_parquet([${list}]) ORDER BY ${order}`);
  conn.closeSync?.();
  return rows.map((r) => normalize(signal, r));
}

// ------------------------------------------------------------ helpers

const KEY_RE = /^otel\/(logs|traces|metrics)\/(\d{4}-\d{2}-\d{2})\/(logs|spans|metrics)_[0-9a-f]{32}\.parquet$/;

async function setup(name, extraEnv = {}) {
  const cluster = await startCluster(name);
  const server = await startServer({ dbUrl: cluster.url, name: `server-${name}`, extraEnv });
  const token = await cli(['token', 'create', '--name', 'cold', '--scope', 'ingest,observe:read'], cluster.url);
  return { cluster, server, token };
}

// Data over three days: two rotatable hours per signal and a hot part.
async function sendSpread(s, token, service) {
  const now = Date.now();
  const tracesOld = [randHex(16), randHex(16)];
  await send(s.otlpUrl, token, 'logs', logsBody(service, hourAt(72), 30, { traceId: tracesOld[0] }));
  await send(s.otlpUrl, token, 'logs', logsBody(service, hourAt(50), 20));
  await send(s.otlpUrl, token, 'logs', logsBody(service, now - 1 * HOUR_MS, 10));
  await send(s.otlpUrl, token, 'traces', spansBody(service, hourAt(72), tracesOld));
  await send(s.otlpUrl, token, 'traces', spansBody(service, hourAt(50), [randHex(16)]));
  await send(s.otlpUrl, token, 'traces', spansBody(service, now - 1 * HOUR_MS, [randHex(16)]));
  await send(s.otlpUrl, token, 'metrics', metricsBody(service, [hourAt(3), hourAt(3) + 30 * 60e3, now - 10 * 60e3]));
  return { tracesOld };
}

// What rotation must move, by the default hot windows (48 h, 48 h, 1 h).
const LIMIT = {
  logs: "date_trunc('hour', now() - interval '48 hours')",
  spans: "date_trunc('hour', now() - interval '48 hours')",
  metrics: "date_trunc('hour', now() - interval '1 hour')",
};

async function snapshot(dbUrl) {
  const out = {};
  for (const sig of Object.keys(COLUMNS)) out[sig] = await pgRows(dbUrl, sig, LIMIT[sig]);
  return out;
}

async function catalog(dbUrl) {
  return q(`SELECT signal, key, rows::int, bytes::int, projects::text[] AS projects, services, sessions::text[] AS sessions,
                   min_time, max_time FROM cold_files ORDER BY signal, min_time`, [], dbUrl);
}

// Checks the catalog and the objects against what was in PostgreSQL.
async function checkRotated(dbUrl, before, fileOf) {
  const files = await catalog(dbUrl);
  for (const sig of Object.keys(COLUMNS)) {
    const mine = files.filter((f) => f.signal === sig);
    assert.ok(mine.length >= 1, `${sig}: files in the catalog`);
    for (const f of mine) {
      const m = KEY_RE.exec(f.key);
      assert.ok(m, `key ${f.key} as docs/cold-store.md says`);
      assert.equal(m[1], sig === 'spans' ? 'traces' : sig);
      assert.equal(m[2], f.min_time.toISOString().slice(0, 10), 'the key is dated by its rows');
    }
    const got = await duckRowsOf(await Promise.all(mine.map((f) => fileOf(f.key))), sig);
    assert.equal(got.length, before[sig].length, `${sig}: DuckDB reads every rotated row`);
    assert.deepEqual(got, before[sig], `${sig}: every column as PostgreSQL held it`);
    assert.equal(mine.reduce((a, f) => a + f.rows, 0), before[sig].length, `${sig}: catalog rows`);
    const left = await pgRows(dbUrl, sig, LIMIT[sig]);
    assert.equal(left.length, 0, `${sig}: PostgreSQL no longer holds the rotated rows`);
  }
  return files;
}

// `lookout rotate` now, waiting while a server's own rotation holds the lock
// (exit 3), as an operator would.
async function rotateNow(args, dbUrl, extraEnv) {
  for (let i = 0; ; i++) {
    const r = await cliResult(['rotate', ...args], dbUrl, extraEnv);
    if (r.code === 0) return r.stdout;
    assert.ok(r.code === 3 && i < 60, `lookout rotate: ${r.code} ${r.stderr}`);
    await sleep(500);
  }
}

// ------------------------------------------------------------ tests

describe('rotation into a directory', () => {
  let ctx;
  let dir;
  before(async () => {
    ctx = await setup('cold-file');
    dir = path.join(ctx.cluster.dir, 'cold');
    fs.mkdirSync(dir);
  });
  after(async () => { await ctx.server.stop(); await ctx.cluster.stop(); });

  test('moves whole hours past the hot window into Parquet that DuckDB reads back exactly', async () => {
    const { server, token, cluster } = ctx;
    const coldEnv = { LOOKOUT_COLD_URL: `file://${dir}` };
    const { tracesOld } = await sendSpread(server, token, 'cold-svc');
    const before = await snapshot(cluster.url);
    assert.equal(before.logs.length, 50);
    assert.equal(before.spans.length, 6);
    assert.equal(before.metrics.length, 4);
    const to = Date.now() + 60e3;
    const hotLogs = async () => (await get(`${server.apiUrl}/api/observe/logs?service=cold-svc&from=${to - 3 * HOUR_MS}&to=${to}&limit=100`,
      { token })).body.toString();
    const hotBefore = await hotLogs();

    // a dry run says what would move and moves nothing
    const dry = await cli(['rotate', '--dry-run'], cluster.url, coldEnv);
    assert.match(dry, /would move logs .*: 30 rows/);
    assert.match(dry, /would move logs .*: 20 rows/);
    assert.equal((await catalog(cluster.url)).length, 0);
    assert.equal((await pgRows(cluster.url, 'logs', LIMIT.logs)).length, 50);

    const out = await cli(['rotate'], cluster.url, coldEnv);
    assert.match(out, /moved logs .* 30 rows/);
    assert.match(out, /moved spans .* 4 rows/);
    assert.match(out, /moved metrics .* rows/);
    const files = await checkRotated(cluster.url, before, (key) => path.join(dir, key));
    const logFiles = files.filter((f) => f.signal === 'logs');
    assert.equal(logFiles.length, 2, 'one file per hour');
    assert.deepEqual(logFiles[0].services, ['cold-svc']);
    assert.equal(logFiles[0].projects.length, 0, 'an unbound token: rows without a project');
    assert.equal(await q('SELECT count(*)::int AS n FROM traces WHERE trace_id = ANY($1::bytea[])',
      [tracesOld.map((t) => `\\x${t}`)], cluster.url).then((r) => r[0].n), 2, 'summaries of rotated traces stay (the search reads them)');
    assert.equal(await hotLogs(), hotBefore, 'the hot range answers as before');
    assert.equal((await pgRows(cluster.url, 'logs', 'now()')).length, 10, 'the hot rows stay');

    // what DuckDB's own metadata shows: codec, statistics, bloom filters
    const conn = await duckConnect();
    const meta = await duckRows(conn, `SELECT path_in_schema AS col, compression, stats_min_value, stats_max_value, bloom_filter_offset
                                       FROM parquet_metadata('${path.join(dir, logFiles[0].key)}')`);
    assert.ok(meta.every((m) => m.compression === 'SNAPPY'), 'Snappy, the default codec');
    const ts = meta.find((m) => m.col === 'timestamp');
    assert.ok(ts.stats_min_value && ts.stats_max_value, 'timestamp statistics');
    assert.notEqual(meta.find((m) => m.col === 'trace_id').bloom_filter_offset, null, 'a bloom filter on trace_id');
    assert.equal(meta.find((m) => m.col === 'message').bloom_filter_offset, null);

    // again: nothing left to move; the catalog is listed
    const again = await cli(['rotate'], cluster.url, coldEnv);
    assert.doesNotMatch(again, /moved/);
    const ls = await cli(['cold', 'ls', '--signal', 'logs'], cluster.url);
    for (const f of logFiles) assert.match(ls, new RegExp(f.key));
    assert.doesNotMatch(ls, /otel\/traces/);
  });

  test('objects left by an unfinished rotation are removed on the next run', async () => {
    const { cluster } = ctx;
    const prefix = `otel/logs/2020-01-02/logs_${randHex(16)}`;
    fs.mkdirSync(path.join(dir, 'otel/logs/2020-01-02'), { recursive: true });
    fs.writeFileSync(path.join(dir, `${prefix}.parquet`), 'half an upload');
    fs.writeFileSync(path.join(dir, `${prefix}-2.parquet`), 'another');
    await q("INSERT INTO cold_pending (key, signal, why) VALUES ($1, 'logs', 'upload')", [prefix], cluster.url);
    const out = await cli(['rotate', '--signal', 'logs'], cluster.url, { LOOKOUT_COLD_URL: `file://${dir}` });
    assert.match(out, /removed 2 object\(s\)/);
    assert.ok(!fs.existsSync(path.join(dir, `${prefix}.parquet`)));
    assert.equal((await q('SELECT count(*)::int AS n FROM cold_pending', [], cluster.url))[0].n, 0);
  });

  test('bad settings and flags are refused with a clear message', async () => {
    const { cluster } = ctx;
    let r = await cliResult(['rotate'], cluster.url);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /LOOKOUT_COLD_URL/);
    r = await cliResult(['rotate'], cluster.url, { LOOKOUT_COLD_URL: 'file://relative/dir' });
    assert.equal(r.code, 2);
    r = await cliResult(['rotate', '--signal', 'nope'], cluster.url, { LOOKOUT_COLD_URL: `file://${dir}` });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--signal/);
    r = await cliResult(['rotate', '--older-than', '5x'], cluster.url, { LOOKOUT_COLD_URL: `file://${dir}` });
    assert.equal(r.code, 2);
  });
});

describe('faults: a rotation killed mid-way, two servers at once', () => {
  let ctx;
  let dir;
  before(async () => {
    ctx = await setup('cold-faults');
    dir = path.join(ctx.cluster.dir, 'cold');
    fs.mkdirSync(dir);
  });
  after(async () => { await ctx.server.stop(); await ctx.cluster.stop(); });

  test('killed between upload and commit: nothing lost, nothing twice, the object removed next run', async () => {
    const { server, token, cluster } = ctx;
    const coldEnv = { LOOKOUT_COLD_URL: `file://${dir}` };
    await send(server.otlpUrl, token, 'logs', logsBody('killed', hourAt(60), 25));
    const before = await pgRows(cluster.url, 'logs', LIMIT.logs);
    assert.equal(before.length, 25);

    // hold a lock that the rotation's DELETE waits for: it has uploaded
    // its object and written its catalog row, not yet committed
    const pg = (await import('pg')).default;
    const holder = new pg.Client({ connectionString: cluster.url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE log_entries IN SHARE MODE');
    const e = { ...process.env };
    for (const k of Object.keys(e)) if (k.startsWith('LOOKOUT_')) delete e[k];
    Object.assign(e, { LOOKOUT_DATABASE_URL: cluster.url, ...coldEnv });
    const child = spawn(env.bin, ['rotate', '--signal', 'logs'], { env: e, stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', r));
    try {
      await until(async () => (await q(
        "SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = 'log_entries'::regclass", [], cluster.url))[0].n > 0,
      { timeout: 20000, what: 'the rotation waiting to delete' });
      const pending = await q('SELECT key FROM cold_pending', [], cluster.url);
      assert.equal(pending.length, 1);
      assert.ok(fs.existsSync(path.join(dir, `${pending[0].key}.parquet`)), 'uploaded before the commit');
      child.kill('SIGKILL');
      await exited;
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    // the killed rotation's transaction ends with its connection
    await until(async () => (await q("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'DELETE FROM log_entries%'",
      [], cluster.url))[0].n === 0, { timeout: 10000, what: 'the killed transaction rolled back' });
    assert.equal((await catalog(cluster.url)).length, 0, 'nothing cataloged');
    assert.deepEqual(await pgRows(cluster.url, 'logs', LIMIT.logs), before, 'every row still hot');

    const out = await cli(['rotate', '--signal', 'logs'], cluster.url, coldEnv);
    assert.match(out, /removed 1 object\(s\)/);
    assert.match(out, /moved logs .* 25 rows/);
    const files = await catalog(cluster.url);
    assert.equal(files.length, 1);
    assert.deepEqual(await duckRowsOf(files.map((f) => path.join(dir, f.key)), 'logs'), before, 'each row once');
    const left = fs.readdirSync(path.join(dir, files[0].key, '..'));
    assert.equal(left.length, 1, `only the cataloged object is left: ${left}`);
  });

  test('two servers rotating on one database move each hour once', async () => {
    const { server, token, cluster } = ctx;
    const extraEnv = { LOOKOUT_COLD_URL: `file://${dir}`, LOOKOUT_ROTATE_INTERVAL: '10' };
    const s1 = await startServer({ dbUrl: cluster.url, name: 'server-cold-r1', extraEnv });
    const s2 = await startServer({ dbUrl: cluster.url, name: 'server-cold-r2', extraEnv });
    try {
      // inside one hour, so one file is right
      const at = hourAt(70);
      for (let i = 0; i < 4; i++) await send(server.otlpUrl, token, 'logs', logsBody('twice', at + i * 60e3, 10));
      const before = (await pgRows(cluster.url, 'logs', LIMIT.logs)).filter((r) => r.service === 'twice');
      assert.equal(before.length, 40);
      const mine = async () => (await catalog(cluster.url)).filter((f) => f.signal === 'logs' && f.services.includes('twice'));
      await until(async () => (await mine()).length > 0, { timeout: 30000, interval: 500, what: 'rotated by a server' });
      // both servers run again at least once more
      const runs = async (s) => {
        const m = (await get(`${s.apiUrl}/metrics`)).body.toString();
        return [...m.matchAll(/lookout_task_runs_total\{task="rotate",result="(ok|skipped)"\} (\d+)/g)]
          .reduce((a, x) => a + Number(x[2]), 0);
      };
      const r1 = await runs(s1);
      const r2 = await runs(s2);
      await until(async () => (await runs(s1)) > r1 && (await runs(s2)) > r2,
        { timeout: 40000, interval: 500, what: 'another run on each server' });
      const files = await mine();
      assert.equal(files.length, 1, 'one file for the hour');
      const got = (await duckRowsOf(files.map((f) => path.join(dir, f.key)), 'logs'));
      assert.deepEqual(got, before, 'each row once');
    } finally {
      await s1.stop();
      await s2.stop();
    }
  });
});

// S3 through moto with signature checks on (tests/unit/moto_setup.py makes
// the user, its key and the bucket; every later request must be signed).
describe('rotation into S3 (moto, signatures checked)', () => {
  let ctx;
  let moto;
  let endpoint;
  let creds;
  const tmp = () => fs.mkdtempSync(path.join(env.tmp, 's3get-'));
  before(async () => {
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    const log = fs.openSync(path.join(env.tmp, `moto-${port}.log`), 'a');
    moto = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
      env: { ...process.env, INITIAL_NO_AUTH_ACTION_COUNT: '4' }, stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    await until(async () => { try { await get(`${endpoint}/moto-api/`, { timeout: 1000 }); return true; } catch { return false; } },
      { timeout: 20000, what: 'moto listening' });
    const { stdout } = await execFileP('python3', ['tests/unit/moto_setup.py', endpoint, 'lookout-cold']);
    const [id, secret] = stdout.trim().split(/\s+/);
    creds = { AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret };
    ctx = await setup('cold-s3');
  });
  after(async () => {
    if (ctx) { await ctx.server.stop(); await ctx.cluster.stop(); }
    if (moto) moto.kill('SIGTERM');
  });

  // downloads keys with boto3 (another S3 client) into a directory
  async function download(keys) {
    const d = tmp();
    const py = `
import boto3, os, sys
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1")
for k in sys.argv[3:]:
    s3.download_file("lookout-cold", "tier/" + k, os.path.join(sys.argv[2], k.replace("/", "_")))
`;
    await execFileP('python3', ['-c', py, endpoint, d, ...keys], { env: { ...process.env, ...creds } });
    return (key) => path.join(d, key.replace(/\//g, '_'));
  }

  test('S3 down or refusing: nothing moves; then the next run moves it all, and queries read it', async () => {
    const { server, token, cluster } = ctx;
    const { tracesOld } = await sendSpread(server, token, 's3-svc');
    const before = await snapshot(cluster.url);
    const url = (ep) => `s3://lookout-cold/tier?endpoint=${encodeURIComponent(ep)}&region=us-east-1`;
    const to = Date.now() + 60e3;
    const asks = [`logs?service=s3-svc&from=${to - 96 * HOUR_MS}&to=${to}&limit=1000`, `traces/${tracesOld[0]}`,
      `metrics?name=cold.gauge&from=${to - 4 * HOUR_MS}&to=${to}&step=300&agg=avg`];
    const answers = async (s) => Promise.all(asks.map(async (a) => {
      const r = await get(`${s.apiUrl}/api/observe/${a}`, { token });
      return `${r.status} ${r.body}`;
    }));
    const hotAnswers = await answers(server);

    const closed = await freePort();
    let r = await cliResult(['rotate'], cluster.url, { LOOKOUT_COLD_URL: url(`http://127.0.0.1:${closed}`), ...creds });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /logs: /);
    r = await cliResult(['rotate'], cluster.url, {
      LOOKOUT_COLD_URL: url(endpoint), AWS_ACCESS_KEY_ID: creds.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: 'wrong',
    });
    assert.equal(r.code, 1, 'a wrong signature is refused');
    assert.equal((await catalog(cluster.url)).length, 0);
    assert.deepEqual(await snapshot(cluster.url), before, 'nothing removed');

    const out = await cli(['rotate'], cluster.url, { LOOKOUT_COLD_URL: url(endpoint), ...creds });
    assert.match(out, /moved logs/);
    const files = await catalog(cluster.url);
    const fileOf = await download(files.map((f) => f.key));
    await checkRotated(cluster.url, before, fileOf);
    assert.equal((await q('SELECT count(*)::int AS n FROM cold_pending', [], cluster.url))[0].n, 0,
      'what the failed runs left is settled');

    // a server reading the cold tier from S3 answers as before rotation
    const reader = await startServer({
      dbUrl: cluster.url, name: 'server-cold-s3-read',
      extraEnv: { LOOKOUT_COLD_URL: url(endpoint), LOOKOUT_ROTATE_INTERVAL: '86400', ...creds },
    });
    try {
      const coldAnswers = await answers(reader);
      for (const [i, a] of asks.entries()) assert.equal(coldAnswers[i], hotAnswers[i], `${a} over S3`);
      assert.ok(JSON.parse(coldAnswers[0].slice(4)).logs.length === 60, 'every log of the service');
    } finally {
      await reader.stop();
    }
  });
});

// Every query endpoint over both tiers: the same answers before and after
// rotation, for ranges inside, across and outside the hot window; a
// corrupt object is named and the rest answers.
describe('queries over both tiers', () => {
  let ctx;
  let dir;
  before(async () => {
    const cluster = await startCluster('cold-query');
    dir = path.join(cluster.dir, 'cold');
    fs.mkdirSync(dir);
    const server = await startServer({
      dbUrl: cluster.url, name: 'server-cold-query',
      extraEnv: { LOOKOUT_COLD_URL: `file://${dir}`, LOOKOUT_ROTATE_INTERVAL: '86400' },
    });
    const token = await cli(['token', 'create', '--name', 'coldq', '--scope', 'ingest,observe:read'], cluster.url);
    ctx = { cluster, server, token };
  });
  after(async () => { await ctx.server.stop(); await ctx.cluster.stop(); });

  test('every endpoint answers as before rotation; a corrupt object is named, the rest answers', async () => {
    const { server, token, cluster } = ctx;
    const { tracesOld } = await sendSpread(server, token, 'q-svc');
    await sendSpread(server, token, 'q-other');
    const session = '0b7c1f7e-3a52-4d59-9a3e-2f6f0e6f3b11';
    const sessionLogs = logsBody('q-svc', hourAt(70), 5);
    for (const r of sessionLogs.resourceLogs[0].scopeLogs[0].logRecords) r.attributes.push({ key: 'session.id', value: { stringValue: session } });
    await send(server.otlpUrl, token, 'logs', sessionLogs);
    const hotSession = logsBody('q-svc', Date.now() - 2 * HOUR_MS, 3);
    for (const r of hotSession.resourceLogs[0].scopeLogs[0].logRecords) r.attributes.push({ key: 'session.id', value: { stringValue: session } });
    await send(server.otlpUrl, token, 'logs', hotSession);

    // three hours of one day, for compaction
    const day0 = Math.floor((Date.now() - 5 * 24 * HOUR_MS) / (24 * HOUR_MS)) * 24 * HOUR_MS; // no other data that day
    for (const h of [1, 2, 3]) await send(server.otlpUrl, token, 'logs', logsBody('q-svc', day0 + h * HOUR_MS + 5 * 60e3, 3));
    const dayKey = new Date(day0).toISOString().slice(0, 10);

    const to = Date.now() + 60e3;
    const api = `${server.apiUrl}/api/observe`;
    const range = (h0, h1) => `from=${to - h0 * HOUR_MS}&to=${to - h1 * HOUR_MS}`;
    const urls = [
      `logs?${range(96, 0)}&limit=1000`, // across
      `logs?${range(144, 0)}&limit=1000`,
      `logs?${range(96, 0)}&limit=7&offset=25`, // a page inside the cold part
      `logs?${range(96, 0)}&limit=5&offset=58`, // a page across the boundary
      `logs?${range(96, 0)}&service=q-other&level=error&limit=100`,
      `logs?${range(96, 0)}&q=LINE%201&limit=100`,
      `logs?${range(96, 0)}&trace_id=${tracesOld[0]}&limit=100`,
      `logs?${range(74, 60)}&limit=100`, // outside the hot window
      `logs?${range(3, 0)}&limit=100`, // inside it
      `traces/${tracesOld[0]}`,
      `traces?${range(96, 0)}&limit=100`,
      `traces?${range(96, 0)}&service=q-other&status=error&limit=100`,
      `traces?${range(96, 0)}&limit=2&offset=3`,
      `sessions/${session}/timeline?limit=100`,
      `sessions/${session}/timeline?limit=3`,
      `metrics?name=cold.gauge&${range(4, 0)}&step=300&agg=avg`,
      `metrics?name=cold.gauge&${range(4, 0)}&step=1800&agg=count&group=none`,
      `metrics?name=cold.hist&${range(4, 0)}&step=3600&agg=p90`,
      `metrics?name=cold.hist&${range(4, 0)}&step=3600&agg=sum`,
      `metrics?name=cold.gauge&${range(4, 0)}&step=300&exemplars=true`,
    ];
    const answers = async () => {
      const out = [];
      for (const u of urls) {
        const r = await get(`${api}/${u}`, { token });
        out.push(`${r.status} ${r.body}`);
      }
      return out;
    };
    const before = await answers();
    for (const [i, a] of before.entries()) assert.match(a, /^200 /, `${urls[i]} answers`);
    const json = (a) => JSON.parse(a.slice(4));
    assert.ok(json(before[0]).logs.length >= 116, 'every log of both services');
    assert.equal(json(before[urls.indexOf(`traces?${range(96, 0)}&limit=100`)]).traces.length, 8, 'every trace');
    assert.equal(json(before[urls.indexOf(`sessions/${session}/timeline?limit=100`)]).items.length, 8, 'the session');
    assert.ok(json(before[urls.indexOf(`metrics?name=cold.gauge&${range(4, 0)}&step=300&agg=avg`)]).series.length > 0);
    const ex = json(before[urls.indexOf(`metrics?name=cold.gauge&${range(4, 0)}&step=300&exemplars=true`)]).exemplars;
    assert.equal(ex.length, 6, 'an exemplar per gauge point, two services');
    assert.ok(ex.every((e) => /^[0-9a-f]{32}$/.test(e.trace_id) && /^[0-9a-f]{16}$/.test(e.span_id)));

    await rotateNow([], cluster.url, { LOOKOUT_COLD_URL: `file://${dir}` });
    const files = await catalog(cluster.url);
    assert.ok(files.filter((f) => f.signal === 'logs').length >= 2, 'logs rotated');
    assert.ok(files.some((f) => f.signal === 'spans'), 'spans rotated');
    assert.ok(files.some((f) => f.signal === 'metrics'), 'metric samples rotated');
    assert.equal((await pgRows(cluster.url, 'logs', LIMIT.logs)).length, 0);

    const after = await answers();
    for (const [i, u] of urls.entries()) assert.equal(after[i], before[i], `${u}: the same answer from both tiers`);

    // compaction: the day's three files become one; answers unchanged; the
    // replaced objects stay for a grace period, then go
    const coldEnv = { LOOKOUT_COLD_URL: `file://${dir}` };
    const dayFiles = async () => (await catalog(cluster.url)).filter((f) => f.signal === 'logs' && f.key.includes(`/${dayKey}/`));
    const old = await dayFiles();
    assert.equal(old.length, 3, 'one file per hour');
    const dry = await rotateNow(['--dry-run'], cluster.url, { ...coldEnv, LOOKOUT_COLD_COMPACT_FILES: '3' });
    assert.match(dry, new RegExp(`would compact 3 logs files of ${dayKey}`));
    assert.equal((await dayFiles()).length, 3);
    const out = await rotateNow([], cluster.url, { ...coldEnv, LOOKOUT_COLD_COMPACT_FILES: '3' });
    assert.match(out, new RegExp(`compacted 3 logs files of ${dayKey}: 9 rows`));
    const merged = await dayFiles();
    assert.equal(merged.length, 1);
    assert.equal(merged[0].rows, 9);
    assert.match(merged[0].key, KEY_RE);
    assert.deepEqual(await duckRowsOf([path.join(dir, merged[0].key)], 'logs'),
      await duckRowsOf(old.map((f) => path.join(dir, f.key)), 'logs'), 'the merged file holds the same rows');
    const compacted = await answers();
    for (const [i, u] of urls.entries()) assert.equal(compacted[i], before[i], `${u}: the same answer after compaction`);
    assert.ok(old.every((f) => fs.existsSync(path.join(dir, f.key))), 'replaced objects stay for the grace period');
    await q("UPDATE cold_pending SET created_at = now() - interval '1 hour'", [], cluster.url);
    await rotateNow([], cluster.url, coldEnv);
    assert.ok(old.every((f) => !fs.existsSync(path.join(dir, f.key))), 'and are deleted after it');
    assert.equal((await q('SELECT count(*)::int AS n FROM cold_pending', [], cluster.url))[0].n, 0);

    // a corrupt object: named in cold_errors, the other objects answer (a
    // server without the cache, which holds the object as it was: objects
    // are never rewritten in place)
    const logFiles = (await catalog(cluster.url)).filter((f) => f.signal === 'logs');
    const victim = logFiles[0];
    const p = path.join(dir, victim.key);
    const bytes = fs.readFileSync(p);
    bytes.fill(0x5a, bytes.length - 64, bytes.length - 8);
    fs.writeFileSync(p, bytes);
    // and one the reader reads but whose rows the database refuses: a
    // message made invalid UTF-8 ("ü" cut in half; Snappy pages hold it as
    // a literal, and nothing checks a page's bytes)
    const refused = logFiles[1];
    const p2 = path.join(dir, refused.key);
    const bytes2 = fs.readFileSync(p2);
    const from = Buffer.from('ünïcode'), to2 = Buffer.from(from);
    to2[1] = 0x41;
    let hits = 0;
    for (let at = bytes2.indexOf(from); at >= 0; at = bytes2.indexOf(from, at + 1), hits++) to2.copy(bytes2, at);
    assert.ok(hits > 0, 'the message is in the file');
    fs.writeFileSync(p2, bytes2);
    const fresh = await startServer({
      dbUrl: cluster.url, name: 'server-cold-query-2',
      extraEnv: { LOOKOUT_COLD_URL: `file://${dir}`, LOOKOUT_ROTATE_INTERVAL: '86400', LOOKOUT_COLD_CACHE_MB: '0' },
    });
    let r;
    try {
      r = await get(`${fresh.apiUrl}/api/observe/${urls[1]}`, { token }); // the widest range
    } finally {
      await fresh.stop();
    }
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body.toString());
    const failed = Object.fromEntries(body.cold_errors.map((e) => [e.object, e.error]));
    assert.equal(body.cold_errors.length, 2, JSON.stringify(body.cold_errors));
    assert.ok(failed[victim.key], 'the corrupt object is named');
    assert.match(failed[refused.key] || '', /the database refused its rows/);
    assert.equal(body.logs.length, json(before[1]).logs.length - victim.rows - refused.rows, 'the rest answers');
  });
});
