// Sends realistic telemetry through the real OpenTelemetry JS SDK exporters
// (protobuf or JSON, gzip on or off) and returns what was sent, normalized,
// so tests can compare it with what lookout stored.
//
//   const sent = await sendTraces({ encoding: 'proto', gzip: false, url, token, tag, ids });
//
// `tag` is unique per call: it is service.name's suffix and the attribute
// `test.tag` on every record, so a test finds exactly its own rows.
// `ids` gives the UUIDs used for session/project/user attributes.

import { context, trace, SpanKind, SpanStatusCode, ValueType } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, InMemorySpanExporter,
} from '@opentelemetry/sdk-trace-base';
import {
  LoggerProvider, BatchLogRecordProcessor, SimpleLogRecordProcessor, InMemoryLogRecordExporter,
} from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader, AggregationType } from '@opentelemetry/sdk-metrics';
import { OTLPTraceExporter as TraceProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as TraceJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPLogExporter as LogsProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPLogExporter as LogsJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter as MetricsProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPMetricExporter as MetricsJson } from '@opentelemetry/exporter-metrics-otlp-http';

const EXPORTERS = {
  traces: { proto: TraceProto, json: TraceJson },
  logs: { proto: LogsProto, json: LogsJson },
  metrics: { proto: MetricsProto, json: MetricsJson },
};

export function hrToNs(hr) {
  return BigInt(hr[0]) * 1000000000n + BigInt(hr[1]);
}

// Wraps an exporter so every export's result is recorded (the providers
// swallow export failures).
function recording(real, results) {
  const w = {
    export(items, cb) {
      real.export(items, (r) => { results.push(r); cb(r); });
    },
    shutdown: () => real.shutdown(),
    forceFlush: () => (real.forceFlush ? real.forceFlush() : Promise.resolve()),
  };
  if (real.selectAggregationTemporality) w.selectAggregationTemporality = (k) => real.selectAggregationTemporality(k);
  if (real.selectAggregation) w.selectAggregation = (k) => real.selectAggregation(k);
  return w;
}

function makeExporter(signal, { encoding, gzip, url, token, headers }) {
  const Cls = EXPORTERS[signal][encoding];
  if (!Cls) throw new Error(`unknown encoding ${encoding}`);
  const h = { ...(headers || {}) };
  if (token) h.Authorization = `Bearer ${token}`;
  return new Cls({
    url: `${url.replace(/\/$/, '')}/v1/${signal}`,
    headers: h,
    compression: gzip ? 'gzip' : 'none',
    timeoutMillis: 10000,
  });
}

function checkResults(signal, results) {
  if (results.length === 0) throw new Error(`${signal}: nothing was exported`);
  for (const r of results) {
    if (r.code !== 0) {
      const e = new Error(`${signal}: export failed: ${r.error ? r.error.message : 'code ' + r.code}`);
      e.cause = r.error;
      throw e;
    }
  }
}

export function baseResource(tag, extra = {}) {
  return {
    'service.name': `svc-${tag}`,
    'service.version': '1.4.2',
    'service.namespace': 'lookout-tests',
    'deployment.environment.name': 'test',
    'host.name': 'itest-host',
    'process.pid': 4242,
    ...extra,
  };
}

// ---------------------------------------------------------------- traces

// Exports one trace of nested spans (server -> internal -> client, plus a
// producer/consumer pair and an error span), with events, a link to a
// second trace, and attributes of every kind the API allows (string, bool,
// int, double and homogeneous arrays of each).
export async function sendTraces(opts) {
  const { tag, ids = {} } = opts;
  const results = [];
  const mem = new InMemorySpanExporter();
  const resAttrs = baseResource(tag, ids.user ? { user_id: ids.user } : {});
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resAttrs),
    spanProcessors: [
      new BatchSpanProcessor(recording(makeExporter('traces', opts), results),
        { maxExportBatchSize: 512, scheduledDelayMillis: 60000 }),
      new SimpleSpanProcessor(mem),
    ],
  });
  const tracer = provider.getTracer('lookout-itest', '0.3.1');
  const common = { 'test.tag': tag };
  if (ids.session) common.session_id = ids.session;
  if (ids.project) common.project_id = ids.project;

  // a separate trace the main one links to
  const other = tracer.startSpan('upstream-batch', { kind: SpanKind.PRODUCER, attributes: { ...common } });
  other.end();

  const root = tracer.startSpan('GET /api/orders/:id', {
    kind: SpanKind.SERVER,
    attributes: {
      ...common,
      'http.request.method': 'GET',
      'http.route': '/api/orders/:id',
      'http.response.status_code': 200,
      'server.port': 8443,
      'test.double': 3.25,
      'test.bool': true,
      'test.strings': ['alpha', 'beta', 'gamma'],
      'test.ints': [1, 2, 3, -4],
      'test.doubles': [0.5, 1.5, -2.25],
      'test.bools': [true, false, true],
      'test.unicode': 'żółć ✓ 漢字 🚀',
    },
    links: [{ context: other.spanContext(), attributes: { 'link.reason': 'batch', 'link.n': 7 } }],
  });
  root.addEvent('request.received', { 'payload.bytes': 1234, 'payload.kind': 'json' });
  const rootCtx = trace.setSpan(context.active(), root);

  const child = tracer.startSpan('load order', { kind: SpanKind.INTERNAL, attributes: { ...common, 'order.id': 'o-77' } }, rootCtx);
  const childCtx = trace.setSpan(rootCtx, child);
  const db = tracer.startSpan('SELECT orders', {
    kind: SpanKind.CLIENT,
    attributes: { ...common, 'db.system.name': 'postgresql', 'db.query.text': 'SELECT * FROM orders WHERE id = $1', 'db.rows': 1 },
  }, childCtx);
  db.addEvent('cache.miss');
  db.setStatus({ code: SpanStatusCode.OK });
  db.end();
  child.end();

  const failing = tracer.startSpan('charge card', { kind: SpanKind.CLIENT, attributes: { ...common, 'peer.service': 'payments' } }, rootCtx);
  failing.recordException(Object.assign(new Error('card declined: insufficient funds'), { name: 'PaymentError' }));
  failing.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined' });
  failing.end();

  const pub = tracer.startSpan('publish order.updated', { kind: SpanKind.PRODUCER, attributes: { ...common, 'messaging.system': 'kafka' } }, rootCtx);
  const pubCtx = trace.setSpan(rootCtx, pub);
  pub.end();
  const con = tracer.startSpan('consume order.updated', { kind: SpanKind.CONSUMER, attributes: { ...common } }, pubCtx);
  con.end();

  root.setStatus({ code: SpanStatusCode.ERROR, message: 'downstream failure' });
  root.end();

  await provider.forceFlush();
  const finished = mem.getFinishedSpans(); // before shutdown, which empties the in-memory exporter
  await provider.shutdown();
  checkResults('traces', results);

  const spans = finished.map((s) => ({
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    parentSpanId: s.parentSpanContext ? s.parentSpanContext.spanId : null,
    name: s.name,
    kind: s.kind + 1, // API SpanKind is OTLP's minus one
    startNs: hrToNs(s.startTime),
    endNs: hrToNs(s.endTime),
    statusCode: s.status.code,
    statusMessage: s.status.message || null,
    attributes: { ...s.attributes },
    events: s.events.map((e) => ({ name: e.name, timeNs: hrToNs(e.time), attributes: { ...(e.attributes || {}) } })),
    links: s.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId, attributes: { ...(l.attributes || {}) } })),
    scopeName: 'lookout-itest',
    scopeVersion: '0.3.1',
  }));
  return { service: resAttrs['service.name'], resource: resAttrs, spans, requests: results.length };
}

// ------------------------------------------------------------------ logs

// Exports log records: every severity band, a record inside a span (trace
// context), structured attributes (incl. nested maps, arrays, bytes), a
// map body, an event name, and session/project/user ids.
export async function sendLogs(opts) {
  const { tag, ids = {} } = opts;
  const results = [];
  const mem = new InMemoryLogRecordExporter();
  const resAttrs = baseResource(tag, ids.user ? { user_id: ids.user } : {});
  const provider = new LoggerProvider({
    resource: resourceFromAttributes(resAttrs),
    processors: [
      new BatchLogRecordProcessor({ exporter: recording(makeExporter('logs', opts), results), scheduledDelayMillis: 60000 }),
      new SimpleLogRecordProcessor({ exporter: mem }),
    ],
  });
  const logger = provider.getLogger('lookout-itest-logs', '2.0.0');
  const tracer = new BasicTracerProvider().getTracer('ctx');
  const span = tracer.startSpan('work');
  const spanCtx = trace.setSpan(context.active(), span);
  const common = { 'test.tag': tag };
  if (ids.session) common.session_id = ids.session;
  if (ids.project) common.project_id = ids.project;

  const sev = [
    [SeverityNumber.TRACE, 'TRACE', 'trace'], [SeverityNumber.DEBUG2, 'DEBUG2', 'debug'],
    [SeverityNumber.INFO, 'INFO', 'info'], [SeverityNumber.WARN4, 'WARN4', 'warn'],
    [SeverityNumber.ERROR, 'ERROR', 'error'], [SeverityNumber.FATAL, 'FATAL', 'fatal'],
  ];
  const now = Date.now();
  sev.forEach(([n, text], i) => {
    logger.emit({
      severityNumber: n, severityText: text, body: `message ${i} at ${text}`,
      timestamp: now - 1000 + i, attributes: { ...common, 'log.index': i, 'test.double': 0.25 * i },
    });
  });
  // inside a span: trace context; structured attributes and a map body
  logger.emit({
    severityNumber: SeverityNumber.INFO, severityText: 'Info', body: { msg: 'order placed', amount: 12.5, items: ['a', 'b'] },
    context: spanCtx, timestamp: now,
    eventName: 'order.placed',
    attributes: {
      ...common,
      'log.index': 100,
      'http.request.method': 'POST',
      'user.action': 'checkout',
      nested: { level1: { level2: ['x', 1, true] } },
      'test.bytes': new Uint8Array([0, 1, 2, 250, 255]),
      'test.ints': [1, 2, 3],
      password: 'hunter2',
    },
  });
  // severity number 0: level from the text
  logger.emit({ severityText: 'NOTICE', body: 'no severity number', timestamp: now, attributes: { ...common, 'log.index': 200 } });
  // no severity at all, no timestamp: observed time fallback
  logger.emit({ body: 'bare record', attributes: { ...common, 'log.index': 300 } });
  span.end();

  await provider.forceFlush();
  const finished = mem.getFinishedLogRecords(); // before shutdown, which empties the in-memory exporter
  await provider.shutdown();
  checkResults('logs', results);

  const logs = finished.map((r) => ({
    timeNs: hrToNs(r.hrTime),
    observedNs: hrToNs(r.hrTimeObserved),
    severityNumber: r.severityNumber || 0,
    severityText: r.severityText || null,
    body: r.body,
    attributes: { ...r.attributes },
    traceId: r.spanContext ? r.spanContext.traceId : null,
    spanId: r.spanContext ? r.spanContext.spanId : null,
    flags: r.spanContext ? r.spanContext.traceFlags : 0,
    eventName: r.eventName || null,
    scopeName: 'lookout-itest-logs',
    scopeVersion: '2.0.0',
  }));
  return { service: resAttrs['service.name'], resource: resAttrs, logs, requests: results.length };
}

// --------------------------------------------------------------- metrics

// Records a counter, an up-down counter, a synchronous gauge, an observable
// gauge and a histogram, and exports them once (cumulative temporality).
export async function sendMetrics(opts) {
  const { tag, ids = {} } = opts;
  const results = [];
  const extra = {};
  if (ids.session) extra.session_id = ids.session;
  if (ids.project) extra.project_id = ids.project;
  if (ids.user) extra.user_id = ids.user;
  const resAttrs = baseResource(tag, extra);
  const reader = new PeriodicExportingMetricReader({
    exporter: recording(makeExporter('metrics', opts), results),
    exportIntervalMillis: 600000,
    exportTimeoutMillis: 10000,
  });
  const provider = new MeterProvider({
    resource: resourceFromAttributes(resAttrs),
    readers: [reader],
    views: [{ instrumentName: 'itest.payload_size', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 40 } } }],
  });
  const meter = provider.getMeter('lookout-itest-metrics', '1.0.0');

  const requests = meter.createCounter('itest.requests', { description: 'requests served', unit: '{request}' });
  requests.add(5, { route: '/a', 'test.tag': tag });
  requests.add(2, { route: '/a', 'test.tag': tag });
  requests.add(1, { route: '/b', 'test.tag': tag });
  const inflight = meter.createUpDownCounter('itest.inflight', { description: 'in-flight requests', unit: '{request}' });
  inflight.add(4, { 'test.tag': tag });
  inflight.add(-3, { 'test.tag': tag });
  const temp = meter.createGauge('itest.temperature', { description: 'temperature', unit: 'Cel' });
  temp.record(21.5, { room: 'lab', 'test.tag': tag });
  const queue = meter.createObservableGauge('itest.queue_depth', { valueType: ValueType.INT });
  queue.addCallback((r) => r.observe(17, { queue: 'q1', 'test.tag': tag }));
  const latency = meter.createHistogram('itest.latency', { description: 'latency', unit: 'ms' });
  const values = [3, 7, 12, 48, 250, 999, 0.5];
  for (const v of values) latency.record(v, { route: '/a', 'test.tag': tag });

  const size = meter.createHistogram('itest.payload_size', { description: 'payload size', unit: 'By' });
  const sizes = [0, 12, 130, 1400, 1500, 64000];
  for (const v of sizes) size.record(v, { 'test.tag': tag });

  await provider.shutdown(); // one final collection and export
  checkResults('metrics', results);

  const sum = values.reduce((a, b) => a + b, 0);
  return {
    service: resAttrs['service.name'],
    resource: resAttrs,
    requests: results.length,
    expect: [
      { name: 'itest.requests', type: 2, monotonic: true, temporality: 2, unit: '{request}', description: 'requests served', labels: { route: '/a', 'test.tag': tag }, value: 7 },
      { name: 'itest.requests', type: 2, monotonic: true, temporality: 2, unit: '{request}', description: 'requests served', labels: { route: '/b', 'test.tag': tag }, value: 1 },
      { name: 'itest.inflight', type: 2, monotonic: false, temporality: 2, unit: '{request}', description: 'in-flight requests', labels: { 'test.tag': tag }, value: 1 },
      { name: 'itest.temperature', type: 1, unit: 'Cel', description: 'temperature', labels: { room: 'lab', 'test.tag': tag }, value: 21.5 },
      { name: 'itest.queue_depth', type: 1, unit: '', description: '', labels: { queue: 'q1', 'test.tag': tag }, value: 17 },
      {
        name: 'itest.payload_size', type: 4, temporality: 2, unit: 'By', description: 'payload size', labels: { 'test.tag': tag },
        count: sizes.length, sum: sizes.reduce((a, b) => a + b, 0), min: 0, max: 64000, exponential: true, zeroCount: 1,
      },
      {
        name: 'itest.latency', type: 3, temporality: 2, unit: 'ms', description: 'latency', labels: { route: '/a', 'test.tag': tag },
        count: values.length, sum, min: Math.min(...values), max: Math.max(...values),
        bounds: [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000],
        counts: bucketCounts(values, [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000]),
      },
    ],
  };
}

function bucketCounts(values, bounds) {
  const c = new Array(bounds.length + 1).fill(0);
  for (const v of values) {
    let i = 0;
    while (i < bounds.length && v > bounds[i]) i++;
    c[i]++;
  }
  return c;
}
