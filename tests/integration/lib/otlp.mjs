// A tiny OTLP encoder (protobuf and OTLP/JSON) and protobuf decoder written
// for the tests, independent of the server and of the SDK: it builds raw
// request bodies (also broken ones) and decodes protobuf responses.
//
// Request specs are plain objects:
//   logs:    { resource: {k: v}, scope: {name, version, attributes}, records: [
//              { timeNs, observedNs, severityNumber, severityText, body, attributes,
//                traceId, spanId, flags, eventName } ] }
//   traces:  { resource, scope, spans: [{ traceId, spanId, parentSpanId, traceState, name,
//              kind, startNs, endNs, attributes, events: [{timeNs, name, attributes}],
//              links: [{traceId, spanId, traceState, attributes, flags}],
//              status: {code, message}, flags }] }
//   metrics: { resource, scope, metrics: [{ name, description, unit,
//              gauge: {points}, sum: {points, temporality, monotonic},
//              histogram: {points, temporality}, expHistogram: {points, temporality},
//              summary: {points} }] }
//   points:  { attributes, startNs, timeNs, value (double) | intValue (BigInt/int),
//              count, sum, min, max, bucketCounts, bounds, scale, zeroCount,
//              positive: {offset, counts}, negative, quantiles: [[q, v]],
//              exemplars: [{ timeNs, value | intValue, traceId, spanId, attributes }] }
// Attribute values: string, boolean, integer number or BigInt (int), other
// number (double), Buffer/Uint8Array (bytes), array, plain object (kvlist),
// { double: n } to force a double, { raw: AnyValueFields } for anything else.

// ------------------------------------------------------------ protobuf out

export function varint(n) {
  let v = BigInt.asUintN(64, BigInt(n));
  const out = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}

const WT = { varint: 0, fixed64: 1, double: 1, bytes: 2, string: 2, msg: 2, fixed32: 5, sint: 0 };

// fields: array of [fieldNo, kind, value]; undefined/null values are skipped.
// kinds: varint, sint (zigzag), fixed64, fixed32, double, string, bytes, msg
// (value: fields array or Buffer), packed_fixed64, packed_double, packed_varint,
// raw (value: Buffer appended as is, fieldNo ignored).
export function encode(fields) {
  const parts = [];
  for (const f of fields) {
    if (!f) continue;
    const [no, kind, value] = f;
    if (value === undefined || value === null) continue;
    if (kind === 'raw') { parts.push(Buffer.from(value)); continue; }
    if (kind.startsWith('packed_')) {
      const inner = Buffer.concat(value.map((x) => scalar(kind.slice(7), x)));
      parts.push(varint((no << 3) | 2), varint(inner.length), inner);
      continue;
    }
    parts.push(varint((no << 3) | WT[kind]));
    if (kind === 'string' || kind === 'bytes' || kind === 'msg') {
      const b = kind === 'msg' ? (Buffer.isBuffer(value) ? value : encode(value))
        : kind === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
      parts.push(varint(b.length), b);
    } else {
      parts.push(scalar(kind, value));
    }
  }
  return Buffer.concat(parts);
}

function scalar(kind, v) {
  switch (kind) {
    case 'varint': return varint(typeof v === 'boolean' ? (v ? 1 : 0) : v);
    case 'sint': { const n = BigInt(v); return varint((n << 1n) ^ (n >> 63n)); }
    case 'fixed64': { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v))); return b; }
    case 'fixed32': { const b = Buffer.alloc(4); b.writeUInt32LE(Number(v) >>> 0); return b; }
    case 'double': { const b = Buffer.alloc(8); b.writeDoubleLE(Number(v)); return b; }
    default: throw new Error(`scalar kind ${kind}`);
  }
}

const hex = (s) => (s === undefined || s === null ? undefined : Buffer.from(s, 'hex'));

export function anyValue(v) {
  if (v && typeof v === 'object' && 'raw' in v) return v.raw;
  if (v && typeof v === 'object' && 'double' in v) return [[4, 'double', v.double]];
  if (typeof v === 'string') return [[1, 'string', v]];
  if (typeof v === 'boolean') return [[2, 'varint', v]];
  if (typeof v === 'bigint') return [[3, 'varint', v]];
  if (typeof v === 'number') return Number.isInteger(v) ? [[3, 'varint', v]] : [[4, 'double', v]];
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return [[7, 'bytes', v]];
  if (Array.isArray(v)) return [[5, 'msg', v.map((x) => [1, 'msg', anyValue(x)])]];
  if (v && typeof v === 'object') return [[6, 'msg', Object.entries(v).map(([k, x]) => [1, 'msg', kv(k, x)])]];
  return [];
}

export function kv(k, v) { return [[1, 'string', k], [2, 'msg', anyValue(v)]]; }
const attrs = (no, o) => Object.entries(o || {}).map(([k, v]) => [no, 'msg', kv(k, v)]);
const resource = (r) => (r ? [[1, 'msg', attrs(1, r)]] : []);
const scope = (s) => (s ? [[1, 'msg', [[1, 'string', s.name], [2, 'string', s.version], ...attrs(3, s.attributes)]]] : []);

function logRecord(r) {
  return [
    [1, 'fixed64', r.timeNs], [11, 'fixed64', r.observedNs],
    [2, 'varint', r.severityNumber], [3, 'string', r.severityText],
    r.body !== undefined ? [5, 'msg', anyValue(r.body)] : null,
    ...attrs(6, r.attributes),
    [7, 'varint', r.droppedAttributesCount],
    [8, 'fixed32', r.flags], [9, 'bytes', hex(r.traceId)], [10, 'bytes', hex(r.spanId)],
    [12, 'string', r.eventName],
  ];
}

function span(s) {
  return [
    [1, 'bytes', hex(s.traceId)], [2, 'bytes', hex(s.spanId)], [3, 'string', s.traceState],
    [4, 'bytes', hex(s.parentSpanId)], [5, 'string', s.name], [6, 'varint', s.kind],
    [7, 'fixed64', s.startNs], [8, 'fixed64', s.endNs], ...attrs(9, s.attributes),
    [10, 'varint', s.droppedAttributesCount],
    ...(s.events || []).map((e) => [11, 'msg', [[1, 'fixed64', e.timeNs], [2, 'string', e.name], ...attrs(3, e.attributes)]]),
    [12, 'varint', s.droppedEventsCount],
    ...(s.links || []).map((l) => [13, 'msg', [[1, 'bytes', hex(l.traceId)], [2, 'bytes', hex(l.spanId)],
      [3, 'string', l.traceState], ...attrs(4, l.attributes), [6, 'fixed32', l.flags]]]),
    [14, 'varint', s.droppedLinksCount],
    s.status ? [15, 'msg', [[2, 'string', s.status.message], [3, 'varint', s.status.code]]] : null,
    [16, 'fixed32', s.flags],
  ];
}

const exemplars = (no, list) => (list || []).map((e) => [no, 'msg', [
  ...attrs(7, e.attributes), [2, 'fixed64', e.timeNs],
  e.value !== undefined ? [3, 'double', e.value] : null,
  e.intValue !== undefined ? [6, 'fixed64', e.intValue] : null,
  [4, 'bytes', hex(e.spanId)], [5, 'bytes', hex(e.traceId)],
]]);

function numberPoint(p) {
  return [
    ...attrs(7, p.attributes), [2, 'fixed64', p.startNs], [3, 'fixed64', p.timeNs],
    p.value !== undefined ? [4, 'double', p.value] : null,
    p.intValue !== undefined ? [6, 'fixed64', p.intValue] : null,
    ...exemplars(5, p.exemplars),
    [8, 'varint', p.flags],
  ];
}

function histPoint(p) {
  return [
    ...attrs(9, p.attributes), [2, 'fixed64', p.startNs], [3, 'fixed64', p.timeNs],
    [4, 'fixed64', p.count], [5, 'double', p.sum],
    p.bucketCounts ? [6, 'packed_fixed64', p.bucketCounts] : null,
    p.bounds ? [7, 'packed_double', p.bounds] : null,
    ...exemplars(8, p.exemplars),
    [10, 'varint', p.flags], [11, 'double', p.min], [12, 'double', p.max],
  ];
}

function expPoint(p) {
  const buckets = (b) => (b ? [[1, 'sint', b.offset], [2, 'packed_varint', b.counts]] : undefined);
  return [
    ...attrs(1, p.attributes), [2, 'fixed64', p.startNs], [3, 'fixed64', p.timeNs],
    [4, 'fixed64', p.count], [5, 'double', p.sum], [6, 'sint', p.scale], [7, 'fixed64', p.zeroCount],
    [8, 'msg', buckets(p.positive)], [9, 'msg', buckets(p.negative)], [10, 'varint', p.flags],
    ...exemplars(11, p.exemplars),
    [12, 'double', p.min], [13, 'double', p.max], [14, 'double', p.zeroThreshold],
  ];
}

function summaryPoint(p) {
  return [
    ...attrs(7, p.attributes), [2, 'fixed64', p.startNs], [3, 'fixed64', p.timeNs],
    [4, 'fixed64', p.count], [5, 'double', p.sum],
    ...(p.quantiles || []).map(([q, v]) => [6, 'msg', [[1, 'double', q], [2, 'double', v]]]),
    [8, 'varint', p.flags],
  ];
}

function metric(m) {
  const f = [[1, 'string', m.name], [2, 'string', m.description], [3, 'string', m.unit]];
  if (m.gauge) f.push([5, 'msg', m.gauge.points.map((p) => [1, 'msg', numberPoint(p)])]);
  if (m.sum) f.push([7, 'msg', [...m.sum.points.map((p) => [1, 'msg', numberPoint(p)]), [2, 'varint', m.sum.temporality], [3, 'varint', m.sum.monotonic]]]);
  if (m.histogram) f.push([9, 'msg', [...m.histogram.points.map((p) => [1, 'msg', histPoint(p)]), [2, 'varint', m.histogram.temporality]]]);
  if (m.expHistogram) f.push([10, 'msg', [...m.expHistogram.points.map((p) => [1, 'msg', expPoint(p)]), [2, 'varint', m.expHistogram.temporality]]]);
  if (m.summary) f.push([11, 'msg', m.summary.points.map((p) => [1, 'msg', summaryPoint(p)])]);
  return f;
}

// One resource, one scope per request (enough for the tests); pass an array
// of specs to get several ResourceX entries.
export function pbRequest(signal, specs) {
  const list = Array.isArray(specs) ? specs : [specs];
  return encode(list.map((s) => {
    if (signal === 'logs') return [1, 'msg', [...resource(s.resource), [2, 'msg', [...scope(s.scope), ...s.records.map((r) => [2, 'msg', logRecord(r)])]]]];
    if (signal === 'traces') return [1, 'msg', [...resource(s.resource), [2, 'msg', [...scope(s.scope), ...s.spans.map((x) => [2, 'msg', span(x)])]]]];
    if (signal === 'metrics') return [1, 'msg', [...resource(s.resource), [2, 'msg', [...scope(s.scope), ...s.metrics.map((m) => [2, 'msg', metric(m)])]]]];
    throw new Error(`signal ${signal}`);
  }));
}

// ------------------------------------------------------------ OTLP/JSON out

export function jsonAnyValue(v) {
  if (v && typeof v === 'object' && 'rawJson' in v) return v.rawJson;
  if (v && typeof v === 'object' && 'double' in v) return { doubleValue: v.double };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'bigint') return { intValue: v.toString() };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: v } : { doubleValue: v };
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { bytesValue: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(jsonAnyValue) } };
  if (v && typeof v === 'object') return { kvlistValue: { values: jattrs(v) } };
  return {};
}
const jattrs = (o) => Object.entries(o || {}).map(([key, v]) => ({ key, value: jsonAnyValue(v) }));
const ns = (v) => (v === undefined ? undefined : String(v));
const jscope = (s) => (s ? { name: s.name, version: s.version, attributes: jattrs(s.attributes) } : undefined);
const jexemplars = (list) => (list ? list.map((e) => ({
  filteredAttributes: jattrs(e.attributes), timeUnixNano: ns(e.timeNs), asDouble: e.value,
  asInt: e.intValue !== undefined ? String(e.intValue) : undefined, traceId: e.traceId, spanId: e.spanId,
})) : undefined);
const jnum = (p) => ({
  attributes: jattrs(p.attributes), startTimeUnixNano: ns(p.startNs), timeUnixNano: ns(p.timeNs),
  asDouble: p.value, asInt: p.intValue !== undefined ? String(p.intValue) : undefined, flags: p.flags,
  exemplars: jexemplars(p.exemplars),
});

export function jsonRequest(signal, specs) {
  const list = Array.isArray(specs) ? specs : [specs];
  const res = (s) => (s.resource ? { attributes: jattrs(s.resource) } : undefined);
  if (signal === 'logs') {
    return JSON.stringify({ resourceLogs: list.map((s) => ({ resource: res(s), scopeLogs: [{ scope: jscope(s.scope), logRecords: s.records.map((r) => ({
      timeUnixNano: ns(r.timeNs), observedTimeUnixNano: ns(r.observedNs), severityNumber: r.severityNumber,
      severityText: r.severityText, body: r.body !== undefined ? jsonAnyValue(r.body) : undefined, attributes: jattrs(r.attributes),
      flags: r.flags, traceId: r.traceId, spanId: r.spanId, eventName: r.eventName, droppedAttributesCount: r.droppedAttributesCount,
    })) }] })) });
  }
  if (signal === 'traces') {
    return JSON.stringify({ resourceSpans: list.map((s) => ({ resource: res(s), scopeSpans: [{ scope: jscope(s.scope), spans: s.spans.map((x) => ({
      traceId: x.traceId, spanId: x.spanId, traceState: x.traceState, parentSpanId: x.parentSpanId, name: x.name, kind: x.kind,
      startTimeUnixNano: ns(x.startNs), endTimeUnixNano: ns(x.endNs), attributes: jattrs(x.attributes),
      droppedAttributesCount: x.droppedAttributesCount, droppedEventsCount: x.droppedEventsCount, droppedLinksCount: x.droppedLinksCount,
      events: (x.events || []).map((e) => ({ timeUnixNano: ns(e.timeNs), name: e.name, attributes: jattrs(e.attributes) })),
      links: (x.links || []).map((l) => ({ traceId: l.traceId, spanId: l.spanId, traceState: l.traceState, attributes: jattrs(l.attributes), flags: l.flags })),
      status: x.status, flags: x.flags,
    })) }] })) });
  }
  if (signal === 'metrics') {
    return JSON.stringify({ resourceMetrics: list.map((s) => ({ resource: res(s), scopeMetrics: [{ scope: jscope(s.scope), metrics: s.metrics.map((m) => {
      const o = { name: m.name, description: m.description, unit: m.unit };
      if (m.gauge) o.gauge = { dataPoints: m.gauge.points.map(jnum) };
      if (m.sum) o.sum = { dataPoints: m.sum.points.map(jnum), aggregationTemporality: m.sum.temporality, isMonotonic: m.sum.monotonic };
      if (m.histogram) o.histogram = { aggregationTemporality: m.histogram.temporality, dataPoints: m.histogram.points.map((p) => ({
        attributes: jattrs(p.attributes), startTimeUnixNano: ns(p.startNs), timeUnixNano: ns(p.timeNs), count: ns(p.count), sum: p.sum,
        bucketCounts: (p.bucketCounts || []).map(String), explicitBounds: p.bounds, min: p.min, max: p.max,
        exemplars: jexemplars(p.exemplars) })) };
      if (m.summary) o.summary = { dataPoints: m.summary.points.map((p) => ({
        attributes: jattrs(p.attributes), startTimeUnixNano: ns(p.startNs), timeUnixNano: ns(p.timeNs), count: ns(p.count), sum: p.sum,
        quantileValues: (p.quantiles || []).map(([quantile, value]) => ({ quantile, value })) })) };
      if (m.expHistogram) o.exponentialHistogram = { aggregationTemporality: m.expHistogram.temporality, dataPoints: m.expHistogram.points.map((p) => ({
        attributes: jattrs(p.attributes), startTimeUnixNano: ns(p.startNs), timeUnixNano: ns(p.timeNs), count: ns(p.count), sum: p.sum,
        scale: p.scale, zeroCount: ns(p.zeroCount), zeroThreshold: p.zeroThreshold, min: p.min, max: p.max,
        positive: p.positive ? { offset: p.positive.offset, bucketCounts: p.positive.counts.map(String) } : undefined,
        negative: p.negative ? { offset: p.negative.offset, bucketCounts: p.negative.counts.map(String) } : undefined })) };
      return o;
    }) }] })) });
  }
  throw new Error(`signal ${signal}`);
}

export function request(signal, encoding, specs) {
  return encoding === 'json' ? Buffer.from(jsonRequest(signal, specs)) : pbRequest(signal, specs);
}

// ------------------------------------------------------------- protobuf in

// Decodes one message level: Map fieldNo -> [{ wt, v }] (v: BigInt for
// varint/fixed, Buffer for length-delimited).  Throws on malformed input.
export function decode(buf) {
  const out = new Map();
  let i = 0;
  const rv = () => {
    let r = 0n; let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++];
      r |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return r;
      shift += 7n;
      if (shift > 63n) throw new Error('varint too long');
    }
  };
  while (i < buf.length) {
    const tag = rv();
    const no = Number(tag >> 3n); const wt = Number(tag & 7n);
    let v;
    if (wt === 0) v = rv();
    else if (wt === 1) { if (i + 8 > buf.length) throw new Error('truncated'); v = buf.readBigUInt64LE(i); i += 8; }
    else if (wt === 5) { if (i + 4 > buf.length) throw new Error('truncated'); v = BigInt(buf.readUInt32LE(i)); i += 4; }
    else if (wt === 2) { const n = Number(rv()); if (i + n > buf.length) throw new Error('truncated'); v = buf.subarray(i, i + n); i += n; }
    else throw new Error(`wire type ${wt}`);
    if (!out.has(no)) out.set(no, []);
    out.get(no).push({ wt, v });
  }
  return out;
}

// Export*ServiceResponse -> { partialSuccess: null | { rejected, message } }
export function decodeExportResponse(buf) {
  const m = decode(buf);
  if (!m.has(1)) return { partialSuccess: null };
  const ps = decode(m.get(1)[0].v);
  return {
    partialSuccess: {
      rejected: ps.has(1) ? Number(BigInt.asIntN(64, ps.get(1)[0].v)) : 0,
      message: ps.has(2) ? ps.get(2)[0].v.toString('utf8') : '',
    },
  };
}

// google.rpc.Status -> { code, message }
export function decodeStatus(buf) {
  const m = decode(buf);
  return {
    code: m.has(1) ? Number(BigInt.asIntN(32, m.get(1)[0].v)) : 0,
    message: m.has(2) ? m.get(2)[0].v.toString('utf8') : '',
  };
}
