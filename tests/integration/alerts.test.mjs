// Alerts (docs/alerts.md) end to end: rules made through the API, data sent
// with the OpenTelemetry SDK, the evaluator (every second here:
// LOOKOUT_ALERT_INTERVAL=1) moving them through pending, firing and
// resolved, notifications received by a webhook (signature checked) and
// by a real Prometheus Alertmanager (checked with its own API and its own
// webhook), restarts and two servers on one database, a failing webhook,
// the authorization and validation matrices, and the audit log.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { SeverityNumber } from '@opentelemetry/api-logs';
import {
  env, get, post, closeDb, tag, cli, sleep, until, startServer, startCluster, freePort, q,
} from './lib/harness.mjs';

after(closeDb);

const ALERTS = (api = env.apiUrl) => `${api}/api/observe/alerts`;

async function api(method, url, { token = env.tokenAdmin, body } = {}) {
  const res = await post(url, body === undefined ? Buffer.alloc(0) : JSON.stringify(body), {
    method, token, contentType: body === undefined ? null : 'application/json',
  });
  let json = null;
  try { json = JSON.parse(res.body.toString()); } catch { /* not JSON */ }
  return { status: res.status, json, headers: res.headers };
}

// ------------------------------------------------------------ data sources

// An observable gauge through the SDK's OTLP/proto exporter: set values
// per attribute set, then flush() exports them with the time of the flush.
function gauge({ name, service, url = env.otlpUrl, token = env.token }) {
  const exporter = new OTLPMetricExporter({ url: `${url}/v1/metrics`, headers: { Authorization: `Bearer ${token}` } });
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3600000 });
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': service }), readers: [reader] });
  const values = new Map();
  provider.getMeter('alerts-itest').createObservableGauge(name).addCallback((o) => {
    for (const [k, v] of values) o.observe(v, JSON.parse(k));
  });
  let timer = null;
  const g = {
    set(attrs, v) { values.set(JSON.stringify(attrs), v); },
    flush: () => reader.forceFlush(),
    // flushes every 500 ms until stop()
    pump() {
      if (!timer) timer = setInterval(() => { reader.forceFlush().catch(() => {}); }, 500);
      timer.unref(); // a failed test must not keep the process alive
    },
    async stop() { clearInterval(timer); timer = null; await provider.shutdown().catch(() => {}); },
  };
  return g;
}

// Log records through the SDK's OTLP/JSON exporter, one export per record.
function logger({ service, url = env.otlpUrl, token = env.token }) {
  const exporter = new OTLPLogExporter({ url: `${url}/v1/logs`, headers: { Authorization: `Bearer ${token}` } });
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const l = provider.getLogger('alerts-itest');
  return {
    error(msg) { l.emit({ severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', body: msg }); },
    info(msg) { l.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: msg }); },
    flush: () => provider.forceFlush(),
    stop: () => provider.shutdown().catch(() => {}),
  };
}

// ------------------------------------------------------------ receivers

// A webhook receiver: records every request; fail(prefix, n) answers 500 to
// the next n requests whose path starts with prefix.
async function receiver() {
  const got = [];
  const failures = new Map();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let body = null;
      try { body = JSON.parse(raw.toString()); } catch { /* recorded raw */ }
      let failed = false;
      for (const [prefix, n] of failures) {
        if (n > 0 && req.url.startsWith(prefix)) { failures.set(prefix, n - 1); failed = true; }
      }
      got.push({ path: req.url, headers: req.headers, raw, body, failed, at: Date.now() });
      res.writeHead(failed ? 500 : 200, { 'Content-Type': 'text/plain' });
      res.end(failed ? 'not now' : 'ok');
    });
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${port}`,
    got,
    fail(prefix, n) { failures.set(prefix, n); },
    ok: (pathPrefix) => got.filter((g) => !g.failed && g.path.startsWith(pathPrefix)),
    close: () => new Promise((r) => server.close(r)),
  };
}

const verify = (secret, g) =>
  g.headers['x-lookout-signature'] === `sha256=${crypto.createHmac('sha256', secret).update(g.raw).digest('hex')}`;

async function alertmanager(hookUrl) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(env.tmp, 'am-'));
  fs.writeFileSync(path.join(dir, 'am.yml'), [
    'route:',
    '  receiver: hook',
    "  group_by: ['alertname', 'route']",
    '  group_wait: 1s',
    '  group_interval: 1s',
    '  repeat_interval: 1h',
    'receivers:',
    '- name: hook',
    '  webhook_configs:',
    `  - url: ${hookUrl}/am`,
    '    send_resolved: true',
    '',
  ].join('\n'));
  const log = fs.openSync(path.join(dir, 'am.log'), 'a');
  const proc = spawn('prometheus-alertmanager', [
    `--config.file=${dir}/am.yml`, `--storage.path=${dir}/data`, `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=', '--log.level=warn',
  ], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const url = `http://127.0.0.1:${port}`;
  await until(async () => {
    try { return (await get(`${url}/-/ready`, { timeout: 1000 })).status === 200; } catch { return false; }
  }, { timeout: 20000, what: 'Alertmanager ready' });
  return {
    url,
    async alerts() { return JSON.parse((await get(`${url}/api/v2/alerts`)).body.toString()); },
    stop: () => { proc.kill('SIGTERM'); },
  };
}

// ------------------------------------------------------------ helpers

function metricRule(name, extra = {}) {
  return {
    name: `rule ${name}`,
    query: { type: 'metric', name, agg: 'min', window_seconds: 10 },
    condition: 'gt',
    threshold: 5,
    for_seconds: 0,
    ...extra,
  };
}

async function createRule(rule, { token = env.tokenAdmin, apiUrl = env.apiUrl } = {}) {
  const r = await api('POST', ALERTS(apiUrl), { token, body: rule });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json;
}

const events = async (id, apiUrl = env.apiUrl) => (await api('GET', `${ALERTS(apiUrl)}/${id}/events`)).json.events;
const ruleState = async (id, apiUrl = env.apiUrl) => (await api('GET', `${ALERTS(apiUrl)}/${id}`)).json;

// ------------------------------------------------------------ tests

describe('alert rules: firing, resolving, notifying', { concurrency: true }, () => {
  let hook;
  let am;
  before(async () => {
    hook = await receiver();
    am = await alertmanager(hook.url);
  });
  after(async () => { am.stop(); await hook.close(); });

  test('a metric rule: pending -> firing (event, signed webhook, Alertmanager) -> resolved (both told)', async () => {
    const t = tag('m');
    const name = `alerts.${t}.queue_depth`;
    const g = gauge({ name, service: `svc-${t}` });
    const secret = 'topsecret-' + t;
    const rule = await createRule(metricRule(name, {
      severity: 'critical',
      targets: [{ type: 'webhook', url: `${hook.url}/hook/${t}`, secret }, { type: 'alertmanager', url: am.url }],
    }));
    assert.equal(rule.targets[0].secret, undefined, 'secrets are never shown');
    assert.equal(rule.targets[0].secret_set, true);
    assert.equal(rule.state, 'inactive');
    g.set({ queue: 'q1' }, 12);
    g.pump();
    const fired = await until(() => hook.ok(`/hook/${t}`).find((x) => x.body?.status === 'firing'),
      { timeout: 15000, what: 'firing webhook' });
    assert.ok(verify(secret, fired), 'X-Lookout-Signature is HMAC-SHA256 of the body under the secret');
    assert.equal(fired.body.rule.id, rule.id);
    assert.equal(fired.body.rule.severity, 'critical');
    assert.equal(fired.body.value, 12);
    assert.equal(fired.body.threshold, 5);
    assert.equal(fired.body.condition, 'gt');
    assert.equal(fired.body.resolved_at, null);
    assert.match(fired.body.link, /\/api\/observe\/metrics\?/);
    const link = await get(fired.body.link, { headers: { Authorization: `Bearer ${env.tokenRead}` } });
    assert.equal(link.status, 200, 'the link is a working query API request');
    assert.equal((await ruleState(rule.id)).state, 'firing');
    const inAm = await until(async () => (await am.alerts()).find((a) => a.labels.lookout_rule_id === rule.id),
      { timeout: 15000, what: 'the alert in Alertmanager' });
    assert.equal(inAm.labels.alertname, rule.name);
    assert.equal(inAm.labels.severity, 'critical');
    assert.equal(inAm.status.state, 'active');
    await until(() => hook.ok('/am').find((x) => x.body?.alerts?.some((a) => a.labels.lookout_rule_id === rule.id && a.status === 'firing')),
      { timeout: 15000, what: "Alertmanager's own webhook told of the firing alert" });
    // while firing, Alertmanager is told again (LOOKOUT_ALERT_RESEND_SECONDS=10 here)
    await until(async () => (await events(rule.id))[0]?.refreshes_sent >= 1, { timeout: 20000, what: 'a re-send to Alertmanager' });
    assert.equal(hook.ok(`/hook/${t}`).filter((x) => x.body?.status === 'firing').length, 1, 'webhooks are not re-sent');

    g.set({ queue: 'q1' }, 1);
    const resolved = await until(() => hook.ok(`/hook/${t}`).find((x) => x.body?.status === 'resolved'),
      { timeout: 20000, what: 'resolved webhook' });
    assert.ok(verify(secret, resolved));
    assert.equal(resolved.body.event_id, fired.body.event_id);
    assert.ok(resolved.body.resolved_at >= resolved.body.fired_at);
    await until(() => hook.ok('/am').find((x) => x.body?.alerts?.some((a) => a.labels.lookout_rule_id === rule.id && a.status === 'resolved')),
      { timeout: 20000, what: "Alertmanager's webhook told of the resolution" });
    await g.stop();
    const ev = await events(rule.id);
    assert.equal(ev.length, 1, 'one event for one firing');
    assert.ok(ev[0].fired_at && ev[0].resolved_at);
    const firingNotes = ev[0].notifications.filter((n) => n.kind === 'firing');
    assert.equal(firingNotes.length, 2, 'one firing notification per target');
    for (const n of ev[0].notifications) {
      await until(async () => (await events(rule.id))[0].notifications.find((x) => x.id === n.id).state === 'sent',
        { timeout: 10000, what: `notification ${n.id} sent` });
    }
    const webhookSent = hook.ok(`/hook/${t}`);
    assert.equal(webhookSent.filter((x) => x.body.status === 'firing').length, 1, 'told once of the firing');
    assert.equal(webhookSent.filter((x) => x.body.status === 'resolved').length, 1, 'told once of the resolution');
  });

  test('a log-count rule fires on error logs of one service and resolves when they stop', async () => {
    const t = tag('l');
    const svc = `svc-${t}`;
    const lg = logger({ service: svc });
    const noise = logger({ service: `other-${t}` });
    const rule = await createRule({
      name: `errors of ${svc}`,
      query: { type: 'log', filter: { level: 'error', service: svc }, window_seconds: 10 },
      condition: 'gt', threshold: 2,
      targets: [{ type: 'webhook', url: `${hook.url}/hook/${t}` }],
    });
    for (let i = 0; i < 5; i++) noise.error(`noise ${i}`); // another service: not counted
    lg.info('fine'); lg.error('boom 1'); lg.error('boom 2');
    await lg.flush(); await noise.flush();
    await sleep(2500);
    assert.equal((await ruleState(rule.id)).state, 'inactive', 'two errors are not above 2');
    lg.error('boom 3');
    await lg.flush();
    const fired = await until(() => hook.ok(`/hook/${t}`).find((x) => x.body?.status === 'firing'),
      { timeout: 10000, what: 'firing webhook' });
    assert.equal(fired.body.value, 3);
    assert.equal(fired.headers['x-lookout-signature'], undefined, 'no secret, no signature');
    await until(() => hook.ok(`/hook/${t}`).find((x) => x.body?.status === 'resolved'),
      { timeout: 20000, what: 'resolved once the errors left the window' });
    await lg.stop(); await noise.stop();
  });

  test('a rule grouped by route keeps one alert per route, each firing on its own', async () => {
    const t = tag('g');
    const name = `alerts.${t}.latency`;
    const g = gauge({ name, service: `svc-${t}` });
    const rule = await createRule(metricRule(name, {
      query: { type: 'metric', name, agg: 'max', window_seconds: 10, group_by: ['route'] },
      targets: [{ type: 'webhook', url: `${hook.url}/hook/${t}` }],
    }));
    g.set({ route: '/a', method: 'GET' }, 10);
    g.set({ route: '/b', method: 'GET' }, 1);
    g.pump();
    const a = await until(() => hook.ok(`/hook/${t}`).find((x) => x.body?.status === 'firing'),
      { timeout: 10000, what: 'route /a firing' });
    assert.deepEqual(a.body.group, { route: '/a' });
    await sleep(2000);
    assert.equal(hook.ok(`/hook/${t}`).filter((x) => x.body?.status === 'firing').length, 1, '/b is not firing');
    g.set({ route: '/b', method: 'GET' }, 20);
    const b = await until(() => hook.ok(`/hook/${t}`).find((x) => x.body?.status === 'firing' && x.body.group.route === '/b'),
      { timeout: 10000, what: 'route /b firing' });
    assert.notEqual(b.body.event_id, a.body.event_id);
    const st = await ruleState(rule.id);
    assert.equal(st.instances.length, 2);
    assert.deepEqual(st.instances.map((i) => i.state), ['firing', 'firing']);
    await g.stop();
    assert.equal((await events(rule.id)).length, 2);
  });

  test('absent fires when the window holds no data and resolves when data arrives', async () => {
    const t = tag('a');
    const name = `alerts.${t}.heartbeat`;
    const rule = await createRule({
      name: `heartbeat ${t}`, query: { type: 'metric', name, agg: 'count', window_seconds: 10 },
      condition: 'absent', targets: [{ type: 'webhook', url: `${hook.url}/hook/${t}` }],
    });
    assert.equal(rule.threshold, null);
    const fired = await until(() => hook.ok(`/hook/${t}`).find((x) => x.body?.status === 'firing'),
      { timeout: 10000, what: 'absent firing' });
    assert.equal(fired.body.value, null);
    const g = gauge({ name, service: `svc-${t}` });
    g.set({}, 1);
    g.pump();
    await until(() => hook.ok(`/hook/${t}`).find((x) => x.body?.status === 'resolved'),
      { timeout: 10000, what: 'absent resolved' });
    await g.stop();
  });

  test('a webhook that fails, then recovers: retried with backoff, every attempt recorded', async () => {
    const t = tag('w');
    const name = `alerts.${t}.x`;
    const g = gauge({ name, service: `svc-${t}` });
    const rule = await createRule(metricRule(name, { targets: [{ type: 'webhook', url: `${hook.url}/hook/${t}` }] }));
    hook.fail(`/hook/${t}`, 2);
    g.set({}, 50);
    g.pump();
    await until(() => hook.ok(`/hook/${t}`).find((x) => x.body?.status === 'firing'),
      { timeout: 20000, what: 'delivered after two failures' });
    await g.stop();
    const ev = await until(async () => {
      const e = await events(rule.id);
      const n = e[0]?.notifications.find((x) => x.kind === 'firing');
      return n && n.state === 'sent' ? n : null;
    }, { timeout: 10000, what: 'notification recorded as sent' });
    assert.equal(ev.attempts, 3);
    assert.deepEqual(ev.deliveries.map((d) => d.http_status), [500, 500, 200]);
    assert.equal(ev.deliveries[0].error, 'HTTP 500');
    const gap = Date.parse(ev.deliveries[2].at) - Date.parse(ev.deliveries[1].at);
    assert.ok(gap >= 1500, `backoff grows (second retry ${gap} ms after the first)`);
  });
});

describe('restarts and two servers on one database', () => {
  test('restart while pending keeps the timer; while firing neither re-fires nor re-notifies; two nodes notify once', async () => {
    const cluster = await startCluster('alerts-restart');
    const hook = await receiver();
    const extraEnv = { LOOKOUT_ALERT_INTERVAL: '1' };
    let s1 = await startServer({ dbUrl: cluster.url, extraEnv, name: 'server-alerts-1' });
    let s2 = null;
    try {
      const token = await cli(['token', 'create', '--name', 'alerts', '--scope', 'admin'], cluster.url);
      const t = tag('r');
      const name = `alerts.${t}.restart`;
      const rule = await createRule(metricRule(name, {
        for_seconds: 6, targets: [{ type: 'webhook', url: `${hook.url}/hook` }],
      }), { token, apiUrl: s1.apiUrl });
      let g = gauge({ name, service: `svc-${t}`, url: s1.otlpUrl, token });
      g.set({}, 9);
      g.pump();
      const inst = async (apiUrl) => (await api('GET', `${ALERTS(apiUrl)}/${rule.id}`, { token })).json.instances;
      const p1 = await until(async () => (await inst(s1.apiUrl)).find((i) => i.state === 'pending'),
        { timeout: 10000, what: 'pending' });
      await g.stop();
      await s1.stop();
      await sleep(1500);
      s1 = await startServer({ dbUrl: cluster.url, extraEnv, name: 'server-alerts-1b' });
      g = gauge({ name, service: `svc-${t}`, url: s1.otlpUrl, token });
      g.set({}, 9);
      g.pump();
      const p2 = (await inst(s1.apiUrl))[0];
      assert.equal(p2.pending_since, p1.pending_since, 'the pending timer survived the restart');
      const fired = await until(() => hook.ok('/hook').find((x) => x.body?.status === 'firing'),
        { timeout: 15000, what: 'firing after the restart' });
      const held = (Date.parse(fired.body.fired_at) - Date.parse(p1.pending_since)) / 1000;
      assert.ok(held >= 6 && held < 12, `fired ${held} s after it became pending, counting the time down`);

      // restart while firing, now with a second server on the same database
      await g.stop();
      await s1.stop();
      s1 = await startServer({ dbUrl: cluster.url, extraEnv, name: 'server-alerts-1c' });
      s2 = await startServer({ dbUrl: cluster.url, extraEnv, name: 'server-alerts-2' });
      g = gauge({ name, service: `svc-${t}`, url: s2.otlpUrl, token });
      g.set({}, 9);
      g.pump();
      await sleep(4000);
      const ev = (await api('GET', `${ALERTS(s1.apiUrl)}/${rule.id}/events`, { token })).json.events;
      assert.equal(ev.length, 1, 'no second event after the restart');
      assert.equal(hook.ok('/hook').filter((x) => x.body?.status === 'firing').length, 1, 'no second firing notification');
      g.set({}, 1);
      await until(() => hook.ok('/hook').find((x) => x.body?.status === 'resolved'),
        { timeout: 15000, what: 'resolved' });
      await sleep(3000);
      await g.stop();
      assert.equal(hook.ok('/hook').filter((x) => x.body?.status === 'resolved').length, 1,
        'two servers: exactly one resolved notification');
      const deliveries = new Set(hook.got.map((x) => x.headers['x-lookout-delivery']));
      assert.equal(deliveries.size, hook.got.length, 'no notification sent twice');
    } finally {
      await s1.stop();
      if (s2) await s2.stop();
      await hook.close();
      await cluster.stop();
    }
  });
});

// The evaluator's clock moved forward by the test (LOOKOUT_ALERT_CLOCK_FILE,
// docs/alerts.md): an hour of for_seconds passes in a few seconds.  Its own
// database, so the moved clock touches no other test's rules.
describe('for_seconds, on a clock the test moves', () => {
  test('a blip shorter than for_seconds never fires; a condition held that long fires', async () => {
    const cluster = await startCluster('alerts-clock');
    const hook = await receiver();
    const clockFile = path.join(cluster.dir, 'alert-clock');
    const setClock = (seconds) => fs.writeFileSync(clockFile, `${seconds}\n`);
    setClock(0);
    const s = await startServer({
      dbUrl: cluster.url,
      extraEnv: { LOOKOUT_ALERT_INTERVAL: '1', LOOKOUT_ALERT_CLOCK_FILE: clockFile },
      name: 'server-alerts-clock',
    });
    try {
      const token = await cli(['token', 'create', '--name', 'clock', '--scope', 'admin'], cluster.url);
      const t = tag('f');
      // min over two hours: samples sent now stay in the window while the
      // clock is moved up to an hour ahead; one low sample ends the blip
      const rule = async (which) => createRule(metricRule(`alerts.${t}.${which}`, {
        query: { type: 'metric', name: `alerts.${t}.${which}`, agg: 'min', window_seconds: 7200 },
        for_seconds: 3600,
        targets: [{ type: 'webhook', url: `${hook.url}/hook/${which}` }],
      }), { token, apiUrl: s.apiUrl });
      const blip = await rule('blip');
      const held = await rule('held');
      const state = async (id) => (await api('GET', `${ALERTS(s.apiUrl)}/${id}`, { token })).json;
      // resolves once an evaluation has run at (or past) the moved clock
      const evaluatedAt = (id, seconds) => until(async () => {
        const st = await state(id);
        return st.last_evaluated_at && Date.parse(st.last_evaluated_at) >= Date.now() + seconds * 1000 - 1000 ? st : null;
      }, { timeout: 10000, what: `an evaluation at +${seconds} s` });
      const gB = gauge({ name: `alerts.${t}.blip`, service: `svc-${t}`, url: s.otlpUrl, token });
      const gH = gauge({ name: `alerts.${t}.held`, service: `svc-${t}`, url: s.otlpUrl, token });
      gB.set({}, 9);
      gH.set({}, 9);
      await gB.flush();
      await gH.flush();
      await until(async () => (await state(blip.id)).state === 'pending' && (await state(held.id)).state === 'pending',
        { timeout: 10000, what: 'both pending' });

      setClock(1800); // half of for_seconds: both still pending
      assert.equal((await evaluatedAt(blip.id, 1800)).state, 'pending');
      assert.equal((await evaluatedAt(held.id, 1800)).state, 'pending');
      gB.set({}, 1); // the blip ends before for_seconds
      await gB.flush();
      await until(async () => (await state(blip.id)).state === 'inactive', { timeout: 10000, what: 'blip cancelled' });

      setClock(3700); // past for_seconds since both became pending
      const fired = await until(() => hook.ok('/hook/held').find((x) => x.body?.status === 'firing'),
        { timeout: 10000, what: 'the held condition firing' });
      const inst = await q('SELECT extract(epoch FROM fired_at - (SELECT pending_since FROM alert_instances WHERE rule_id = $1))::float8 AS held FROM alert_events WHERE rule_id = $1',
        [held.id], cluster.url);
      assert.ok(inst[0].held >= 3600 && inst[0].held < 3800, `held ${inst[0].held} s (moved clock) before firing`);
      assert.ok(Date.parse(fired.body.fired_at) >= Date.now() + 3600e3, 'fired_at is on the moved clock');
      assert.equal((await evaluatedAt(blip.id, 3700)).state, 'inactive', 'the blip never fires');
      assert.equal(hook.ok('/hook/blip').length, 0);
      assert.equal((await api('GET', `${ALERTS(s.apiUrl)}/${blip.id}/events`, { token })).json.events.length, 0);
      await gB.stop();
      await gH.stop();
    } finally {
      await s.stop();
      await hook.close();
      await cluster.stop();
    }
  });
});

describe('the rules API: validation, authorization, audit', () => {
  const valid = () => metricRule(`alerts.${tag('v')}.m`);

  test('every bad field is a 400 naming it', async () => {
    const cases = [
      [{ ...valid(), name: '' }, /name/],
      [{ ...valid(), name: 'x'.repeat(201) }, /name/],
      [{ ...valid(), condition: 'above' }, /condition/],
      [{ ...valid(), threshold: 'ten' }, /threshold/],
      [{ ...valid(), threshold: undefined }, /threshold/],
      [{ ...valid(), for_seconds: 86401 }, /for_seconds/],
      [{ ...valid(), for_seconds: -1 }, /for_seconds/],
      [{ ...valid(), query: { type: 'sql', sql: 'SELECT 1' } }, /query.type/],
      [{ ...valid(), query: { type: 'metric', name: 'x', agg: 'avg', window_seconds: 9 } }, /window_seconds/],
      [{ ...valid(), query: { type: 'metric', name: 'x', agg: 'avg', window_seconds: 86401 } }, /window_seconds/],
      [{ ...valid(), query: { type: 'metric', name: 'x', agg: 'median', window_seconds: 60 } }, /query.agg/],
      [{ ...valid(), query: { type: 'metric', name: 'x', window_seconds: 60, labels: { a: { b: 1 } } } }, /query.labels/],
      [{ ...valid(), query: { type: 'metric', name: 'x', window_seconds: 60, sql: 'DROP TABLE x' } }, /query.sql/],
      [{ ...valid(), query: { type: 'log', filter: { level: 'error; DROP' }, window_seconds: 60 } }, /query.filter.level/],
      [{ ...valid(), query: { type: 'log', filter: {}, window_seconds: 60, group_by: ['route'] } }, /group_by/],
      [{ ...valid(), targets: [{ type: 'email', url: 'http://x' }] }, /targets\[0\].type/],
      [{ ...valid(), targets: [{ type: 'webhook', url: 'ftp://x/y' }] }, /targets\[0\].url/],
      [{ ...valid(), targets: [{ type: 'webhook', url: `http://h/${'a'.repeat(2048)}` }] }, /targets\[0\].url/],
      [{ ...valid(), targets: Array(11).fill({ type: 'webhook', url: 'http://h/x' }) }, /targets/],
      [{ ...valid(), project_id: 'not-a-uuid' }, /project_id/],
      [{ ...valid(), severity: 'Very Bad!' }, /severity/],
      [{ ...valid(), condition: 'absent', threshold: 3 }, /threshold/],
      [{ ...valid(), extra: 1 }, /extra/],
    ];
    for (const [rule, re] of cases) {
      const r = await api('POST', ALERTS(), { body: rule });
      assert.equal(r.status, 400, `${JSON.stringify(rule).slice(0, 200)} -> ${r.status}`);
      assert.match(r.json.error.message, re, JSON.stringify(r.json));
    }
    const bad = await post(ALERTS(), '{"name":', { token: env.tokenAdmin, contentType: 'application/json' });
    assert.equal(bad.status, 400);
    const absentProject = await api('POST', ALERTS(), { body: { ...valid(), project_id: crypto.randomUUID() } });
    assert.equal(absentProject.status, 404);
  });

  test('who may read and change which rules', async () => {
    const manageA = await cli(['token', 'create', '--name', 'alerts-a', '--scope', 'alert:manage,observe:read', '--project', env.projectA]);
    const readA = await cli(['token', 'create', '--name', 'alerts-ra', '--scope', 'observe:read', '--project', env.projectA]);
    const noProject = await api('POST', ALERTS(), { token: manageA, body: valid() });
    assert.equal(noProject.status, 400, 'a bound token names its project');
    const inB = await api('POST', ALERTS(), { token: manageA, body: { ...valid(), project_id: env.projectB } });
    assert.equal(inB.status, 404, 'another project is not found');
    const ruleA = await createRule({ ...valid(), project_id: env.projectA }, { token: manageA });
    const ruleB = await createRule({ ...valid(), project_id: env.projectB });
    const ruleAll = await createRule(valid());

    assert.equal((await api('GET', ALERTS(), { token: null })).status, 401);
    assert.equal((await api('GET', ALERTS(), { token: env.token })).status, 403, 'ingest cannot read rules');
    assert.equal((await api('POST', ALERTS(), { token: env.tokenRead, body: valid() })).status, 403);
    assert.equal((await api('PATCH', `${ALERTS()}/${ruleAll.id}`, { token: env.tokenRead, body: { threshold: 1 } })).status, 403);
    assert.equal((await api('DELETE', `${ALERTS()}/${ruleAll.id}`, { token: env.tokenRead })).status, 403);

    const listA = (await api('GET', `${ALERTS()}?limit=1000`, { token: readA })).json.rules.map((r) => r.id);
    assert.ok(listA.includes(ruleA.id));
    assert.ok(!listA.includes(ruleB.id) && !listA.includes(ruleAll.id), 'a bound token lists its projects only');
    assert.equal((await api('GET', `${ALERTS()}?project_id=${env.projectB}`, { token: readA })).status, 404);
    for (const [m, suffix, body] of [['GET', ''], ['GET', '/events'], ['POST', '/test'], ['PATCH', '', { threshold: 2 }], ['DELETE', '']]) {
      const r = await api(m, `${ALERTS()}/${ruleB.id}${suffix}`, { token: manageA, body });
      assert.equal(r.status, 404, `${m} ${suffix} of another project's rule`);
    }
    assert.equal((await api('GET', `${ALERTS()}/${ruleA.id}`, { token: readA })).status, 200);
    assert.equal((await api('GET', `${ALERTS()}/not-a-uuid`)).status, 404);
    const all = (await api('GET', `${ALERTS()}?limit=1000`, { token: env.tokenRead })).json.rules.map((r) => r.id);
    assert.ok(all.includes(ruleA.id) && all.includes(ruleB.id) && all.includes(ruleAll.id));
    assert.equal((await api('GET', `${ALERTS()}?state=burning`)).status, 400);
    const firingOnly = (await api('GET', `${ALERTS()}?state=firing&limit=1000`)).json.rules;
    assert.ok(firingOnly.every((r) => r.state === 'firing'));

    const patched = await api('PATCH', `${ALERTS()}/${ruleA.id}`, { token: manageA, body: { threshold: 7, enabled: false } });
    assert.equal(patched.status, 200, JSON.stringify(patched.json));
    assert.equal(patched.json.threshold, 7);
    assert.equal(patched.json.enabled, false);
    assert.equal((await api('PATCH', `${ALERTS()}/${ruleA.id}`, { token: manageA, body: { for_seconds: 'soon' } })).status, 400);
    assert.equal((await api('PATCH', `${ALERTS()}/${ruleA.id}`, { token: manageA, body: { project_id: env.projectB } })).status, 404);

    const metrics = (await get(`${env.apiUrl}/metrics`)).body.toString();
    for (const m of ['lookout_alert_evaluations_total{result="ok"}', 'lookout_alert_instances{state="firing"}',
      'lookout_alert_rules{state="disabled"}',
      'lookout_alert_notifications_total{outcome="sent"}', 'lookout_task_runs_total{task="alert_eval"']) {
      assert.ok(metrics.includes(m), `/metrics has ${m}`);
    }
    const tested = await api('POST', `${ALERTS()}/${ruleAll.id}/test`, { token: env.tokenRead });
    assert.equal(tested.status, 200);
    assert.equal(tested.json.condition, 'gt');
    assert.equal(tested.json.absent, true);
    assert.equal(tested.json.condition_met, false);
    const preview = await api('POST', `${ALERTS()}/test`, { token: env.tokenRead, body: { ...valid(), condition: 'absent', threshold: undefined } });
    assert.equal(preview.status, 200, JSON.stringify(preview.json));
    assert.equal(preview.json.condition_met, true);

    const del = await api('DELETE', `${ALERTS()}/${ruleA.id}`, { token: manageA });
    assert.equal(del.status, 200);
    assert.equal((await api('GET', `${ALERTS()}/${ruleA.id}`)).status, 404);

    // the audit log: admin only; create, update, delete of rule A by manageA's token
    assert.equal((await api('GET', `${env.apiUrl}/api/audit`, { token: env.tokenRead })).status, 403);
    const audit = await api('GET', `${env.apiUrl}/api/audit?object_id=${ruleA.id}`);
    assert.equal(audit.status, 200);
    const actions = audit.json.entries.map((e) => e.action).reverse();
    assert.deepEqual(actions, ['create', 'update', 'delete']);
    const tokenId = (await q('SELECT created_by FROM alert_rules WHERE id = $1', [ruleB.id]))[0].created_by;
    assert.ok(tokenId, 'the creating token is kept');
    assert.ok(audit.json.entries.every((e) => e.token_id !== null && e.object_type === 'alert_rule'));
    assert.equal(audit.json.entries.find((e) => e.action === 'update').changes.fields, 'threshold,enabled');
    for (const e of audit.json.entries) assert.ok(!JSON.stringify(e).includes('secret'));
  });
});
