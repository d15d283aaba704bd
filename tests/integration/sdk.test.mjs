// The OpenTelemetry JS SDK exporters (protobuf and JSON, gzip on and off)
// against lookout: every field that was sent must be in PostgreSQL, with the
// correlation envelope (docs/architecture.md), as soon as the export succeeded (a 200
// means committed, so nothing here polls).

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { env, q, closeDb, tag as mkTag, uuid, assertTimeUs } from './lib/harness.mjs';
import { sendTraces, sendLogs, sendMetrics } from './lib/sdk.mjs';

after(closeDb);

const US = (col) => `(extract(epoch from ${col}) * 1000000)::bigint::text AS ${col.replace(/\W/g, '')}_us`;
const orEmpty = (v) => (v === null || v === undefined ? '' : v);

// What lookout stores for an attribute map sent through the JS SDK.
function storedAttrs(attrs) {
  const conv = (v) => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    if (Array.isArray(v)) return v.map(conv);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, conv(x)]));
    return v;
  };
  const redacted = new Set(['authorization', 'cookie', 'set-cookie', 'password', 'passwd', 'secret', 'token', 'api_key', 'apikey', 'x-api-key']);
  return Object.fromEntries(Object.entries(attrs || {}).map(([k, v]) => [k, redacted.has(k.toLowerCase()) ? '[REDACTED]' : conv(v)]));
}

for (const encoding of ['proto', 'json']) {
  for (const gzip of [false, true]) {
    describe(`SDK ${encoding} exporters, gzip ${gzip ? 'on' : 'off'}`, () => {
      const ids = { session: uuid(), project: env.projectA, user: uuid() };
      const opts = (t) => ({ encoding, gzip, url: env.otlpUrl, token: env.token, tag: t, ids });

      test('traces: spans, events, links, status, attributes, envelope, trace summary', async () => {
        const t = mkTag(`tr-${encoding}${gzip ? '-gz' : ''}`);
        const sent = await sendTraces(opts(t));
        const rows = await q(`SELECT encode(trace_id,'hex') AS trace_id, encode(span_id,'hex') AS span_id,
            encode(parent_span_id,'hex') AS parent_span_id, project_id::text, session_id::text, user_id::text,
            service, name, kind, status_code, status_message, trace_state, flags, attributes, events,
            events::text AS events_text, links,
            resource, scope_name, scope_version, dropped_attributes_count, dropped_events_count,
            dropped_links_count, duration_ns::text, ${US('start_time')}, ${US('end_time')}
          FROM spans WHERE service = $1`, [sent.service]);
        assert.equal(rows.length, sent.spans.length, 'one row per span sent');
        const bySpan = new Map(rows.map((r) => [r.span_id, r]));
        for (const s of sent.spans) {
          const r = bySpan.get(s.spanId);
          assert.ok(r, `span ${s.name} stored`);
          const what = `span "${s.name}"`;
          assert.equal(r.trace_id, s.traceId, `${what} trace_id`);
          assert.equal(r.parent_span_id, s.parentSpanId, `${what} parent_span_id`);
          assert.equal(r.name, s.name);
          assert.equal(r.kind, s.kind, `${what} kind`);
          assertTimeUs(assert, r.start_time_us, s.startNs, `${what} start_time`);
          assertTimeUs(assert, r.end_time_us, s.endNs, `${what} end_time`);
          assert.equal(BigInt(r.duration_ns), s.endNs - s.startNs, `${what} duration_ns`);
          assert.equal(r.status_code, s.statusCode, `${what} status_code`);
          assert.equal(orEmpty(r.status_message), orEmpty(s.statusMessage), `${what} status_message`);
          assert.equal(orEmpty(r.trace_state), '', `${what} trace_state`);
          assert.equal(r.flags, 257, `${what} flags (sampled | has-is-remote)`);
          assert.deepEqual(r.attributes, storedAttrs(s.attributes), `${what} attributes`);
          assert.deepEqual(r.resource, sent.resource, `${what} resource`);
          assert.equal(r.scope_name, s.scopeName);
          assert.equal(r.scope_version, s.scopeVersion);
          assert.equal(r.dropped_attributes_count, 0);
          assert.equal(r.dropped_events_count, 0);
          assert.equal(r.dropped_links_count, 0);
          // events
          const ev = r.events || [];
          assert.equal(ev.length, s.events.length, `${what} events`);
          // event times exceed 2^53: read them from the text, not the parsed JSON
          const evTimes = [...(r.events_text || '').matchAll(/"time_unix_nano":\s*"?(\d+)"?/g)].map((m) => BigInt(m[1]));
          s.events.forEach((e, i) => {
            assert.equal(ev[i].name, e.name, `${what} event ${i} name`);
            assert.equal(evTimes[i], e.timeNs, `${what} event ${i} time`);
            assert.deepEqual(ev[i].attributes || {}, storedAttrs(e.attributes), `${what} event ${i} attributes`);
          });
          // links
          const ln = r.links || [];
          assert.equal(ln.length, s.links.length, `${what} links`);
          s.links.forEach((l, i) => {
            assert.equal(String(ln[i].trace_id).toLowerCase(), l.traceId, `${what} link ${i} trace_id`);
            assert.equal(String(ln[i].span_id).toLowerCase(), l.spanId, `${what} link ${i} span_id`);
            assert.deepEqual(ln[i].attributes || {}, storedAttrs(l.attributes), `${what} link ${i} attributes`);
          });
          // envelope: session/project from the span's attributes, user from the resource
          assert.equal(r.session_id, ids.session, `${what} session_id`);
          assert.equal(r.project_id, ids.project, `${what} project_id`);
          assert.equal(r.user_id, ids.user, `${what} user_id`);
          assert.equal(r.service, sent.service);
        }

        // one summary row per trace
        const root = sent.spans.find((s) => s.name === 'GET /api/orders/:id');
        const inTrace = sent.spans.filter((s) => s.traceId === root.traceId);
        const [tr] = await q(`SELECT encode(trace_id,'hex') AS trace_id, project_id::text, session_id::text, user_id::text,
            service, root_span_name, status_code, span_count, error_count, ${US('start_time')}, ${US('end_time')}
          FROM traces WHERE trace_id = decode($1,'hex')`, [root.traceId]);
        assert.ok(tr, 'traces summary row');
        assert.equal(tr.root_span_name, root.name);
        assert.equal(tr.service, sent.service);
        assert.equal(tr.span_count, inTrace.length);
        assert.equal(tr.error_count, inTrace.filter((s) => s.statusCode === 2).length);
        assert.equal(tr.status_code, 2);
        assertTimeUs(assert, tr.start_time_us, inTrace.reduce((m, s) => (s.startNs < m ? s.startNs : m), root.startNs), 'trace start');
        assertTimeUs(assert, tr.end_time_us, inTrace.reduce((m, s) => (s.endNs > m ? s.endNs : m), root.endNs), 'trace end');
        assert.equal(tr.session_id, ids.session);
        assert.equal(tr.project_id, ids.project);
        assert.equal(tr.user_id, ids.user);
      });

      test('logs: severities, trace context, attributes, body, envelope', async () => {
        const t = mkTag(`lg-${encoding}${gzip ? '-gz' : ''}`);
        const sent = await sendLogs(opts(t));
        const rows = await q(`SELECT id::text, project_id::text, session_id::text, user_id::text,
            encode(trace_id,'hex') AS trace_id, encode(span_id,'hex') AS span_id, service, level,
            severity_number, severity_text, message, attributes, resource, scope_name, scope_version,
            event_name, flags, dropped_attributes_count, ${US('time')}, ${US('observed_time')}
          FROM log_entries WHERE service = $1`, [sent.service]);
        assert.equal(rows.length, sent.logs.length, 'one row per log record sent');
        assert.equal(new Set(rows.map((r) => r.id)).size, rows.length, 'ids are unique');
        const byIndex = new Map(rows.map((r) => [r.attributes['log.index'], r]));
        const levelOf = (n, text) => {
          if (n >= 1 && n <= 4) return 'trace';
          if (n <= 8 && n >= 5) return 'debug';
          if (n <= 12 && n >= 9) return 'info';
          if (n <= 16 && n >= 13) return 'warn';
          if (n <= 20 && n >= 17) return 'error';
          if (n <= 24 && n >= 21) return 'fatal';
          // severity text alone: its level when it is a usual spelling (docs/query-api.md, "Levels")
          const spellings = { notice: 'info', warning: 'warn', err: 'error', critical: 'fatal' };
          return text ? spellings[text.toLowerCase()] || text.toLowerCase() : 'unspecified';
        };
        for (const l of sent.logs) {
          const r = byIndex.get(l.attributes['log.index']);
          const what = `log ${l.attributes['log.index']}`;
          assert.ok(r, `${what} stored`);
          assert.match(r.id, /^[0-9a-f-]{36}$/);
          assertTimeUs(assert, r.time_us, l.timeNs, `${what} time`);
          assertTimeUs(assert, r.observed_time_us, l.observedNs, `${what} observed_time`);
          assert.equal(r.severity_number, l.severityNumber, `${what} severity_number`);
          assert.equal(orEmpty(r.severity_text), orEmpty(l.severityText), `${what} severity_text`);
          assert.equal(r.level, levelOf(l.severityNumber, l.severityText), `${what} level`);
          if (typeof l.body === 'string') assert.equal(r.message, l.body, `${what} message`);
          else assert.deepEqual(JSON.parse(r.message), storedAttrs(l.body), `${what} message (body as JSON)`);
          assert.deepEqual(r.attributes, storedAttrs(l.attributes), `${what} attributes`);
          assert.deepEqual(r.resource, sent.resource, `${what} resource`);
          assert.equal(r.scope_name, l.scopeName);
          assert.equal(r.scope_version, l.scopeVersion);
          assert.equal(orEmpty(r.event_name), orEmpty(l.eventName), `${what} event_name`);
          assert.equal(r.flags, l.flags, `${what} flags`);
          assert.equal(r.dropped_attributes_count, 0);
          assert.equal(r.trace_id, l.traceId, `${what} trace_id`);
          assert.equal(r.span_id, l.spanId, `${what} span_id`);
          assert.equal(r.session_id, ids.session, `${what} session_id`);
          assert.equal(r.project_id, ids.project, `${what} project_id`);
          assert.equal(r.user_id, ids.user, `${what} user_id (from the resource)`);
          assert.equal(r.service, sent.service);
        }
        assert.equal(byIndex.get(100).attributes.password, '[REDACTED]', 'password attribute redacted');
      });

      test('metrics: counter, up-down counter, gauges, histogram, exponential histogram; series and samples', async () => {
        const t = mkTag(`mt-${encoding}${gzip ? '-gz' : ''}`);
        const sent = await sendMetrics(opts(t));
        assert.equal(sent.requests, 1, 'the SDK exported once');
        const series = await q(`SELECT series_id::text, project_id::text, service, name, type, temporality, monotonic,
            unit, description, labels, resource FROM metric_series WHERE service = $1`, [sent.service]);
        assert.equal(series.length, sent.expect.length, 'one series per metric and label set');
        for (const e of sent.expect) {
          const what = `${e.name} ${JSON.stringify(e.labels)}`;
          const s = series.find((x) => x.name === e.name && JSON.stringify(sortKeys(x.labels)) === JSON.stringify(sortKeys(e.labels)));
          assert.ok(s, `${what}: series stored`);
          assert.equal(s.type, e.type, `${what} type`);
          assert.equal(s.temporality, e.temporality || 0, `${what} temporality`);
          assert.equal(s.monotonic, e.monotonic || false, `${what} monotonic`);
          assert.equal(orEmpty(s.unit), e.unit, `${what} unit`);
          assert.equal(orEmpty(s.description), e.description, `${what} description`);
          assert.deepEqual(s.resource, sent.resource, `${what} resource (metadata)`);
          assert.equal(s.project_id, ids.project, `${what} series project_id`);
          const samples = await q(`SELECT value, count::text, sum, min, max, buckets, flags, project_id::text,
              session_id::text, user_id::text, encode(trace_id,'hex') AS trace_id, encode(span_id,'hex') AS span_id, service,
              ${US('time')}, ${US('start_time')}
            FROM metric_samples WHERE series_id = $1::bigint`, [s.series_id]);
          assert.equal(samples.length, 1, `${what}: one sample`);
          const p = samples[0];
          if (e.type <= 2) {
            assert.equal(p.value, e.value, `${what} value`);
          } else {
            assert.equal(Number(p.count), e.count, `${what} count`);
            assert.ok(Math.abs(p.sum - e.sum) < 1e-9, `${what} sum ${p.sum} != ${e.sum}`);
            assert.equal(p.min, e.min, `${what} min`);
            assert.equal(p.max, e.max, `${what} max`);
            if (e.exponential) {
              assert.equal(typeof p.buckets.scale, 'number', `${what} scale`);
              assert.equal(Number(p.buckets.zero_count), e.zeroCount, `${what} zero_count`);
              const pos = (p.buckets.positive?.counts || []).map(Number).reduce((a, b) => a + b, 0);
              const neg = (p.buckets.negative?.counts || []).map(Number).reduce((a, b) => a + b, 0);
              assert.equal(pos + neg + Number(p.buckets.zero_count), e.count, `${what} bucket counts add up`);
              assert.equal(typeof p.buckets.positive.offset, 'number', `${what} positive offset`);
            } else {
              assert.deepEqual(p.buckets.bounds, e.bounds, `${what} bucket bounds`);
              assert.deepEqual(p.buckets.counts.map(Number), e.counts, `${what} bucket counts`);
            }
          }
          assert.ok(BigInt(p.time_us) > 0n && BigInt(p.start_time_us) <= BigInt(p.time_us), `${what} times`);
          assert.ok(Math.abs(Number(BigInt(p.time_us) / 1000n) - Date.now()) < 120000, `${what} time is now`);
          assert.equal(p.project_id, ids.project, `${what} sample project_id`);
          assert.equal(p.session_id, ids.session, `${what} sample session_id`);
          assert.equal(p.user_id, ids.user, `${what} sample user_id`);
          assert.equal(p.service, sent.service);
          assert.equal(p.trace_id, null);
          assert.equal(p.span_id, null);
          assert.equal(p.flags, 0, `${what} flags`);
          if (e.type <= 2) {
            assert.equal(p.count, null, `${what}: no count on a gauge/sum`);
            assert.equal(p.buckets, null, `${what}: no buckets on a gauge/sum`);
          } else {
            assert.equal(p.value, null, `${what}: no value on a histogram`);
          }
        }
      });
    });
  }
}

function sortKeys(o) {
  return Object.fromEntries(Object.entries(o || {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
