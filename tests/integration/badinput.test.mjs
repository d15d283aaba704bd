// Bad input is answered as docs/http.md says and nothing of it is stored:
// garbage, truncated protobuf, wrong wire types, bad OTLP/JSON, unknown
// content type and encoding, corrupt gzip, a gzip bomb, oversized bodies,
// AnyValue nested 10,000 deep, invalid UTF-8, NUL bytes, non-UUID session ids.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { env, postSignal, get, q, closeDb, tag, uuid, CT } from './lib/harness.mjs';
import { encode, decode, pbRequest, jsonRequest, request, varint, anyValue } from './lib/otlp.mjs';
import { SPEC, logsSpec, tracesSpec, countStored, countAll } from './lib/records.mjs';
import { exportOk, statusBody } from './lib/expect.mjs';

after(closeDb);

const SIGNALS = ['logs', 'traces', 'metrics'];

// Posts and expects a 400 with google.rpc.Status (code 3), then checks that
// nothing under `service` was stored.
async function expect400(signal, encoding, body, service, what, opts = {}) {
  const res = await postSignal(signal, body, { contentType: CT[encoding], ...opts });
  const st = statusBody(res, 400, encoding, what);
  assert.equal(st.code, 3, `${what}: Status.code INVALID_ARGUMENT`);
  assert.ok(st.message.length > 0, `${what}: Status.message says why`);
  if (service) assert.equal(await countAll(service), 0, `${what}: nothing stored`);
  return st;
}

async function serverAlive() {
  const r = await get(`${env.apiUrl}/healthz`);
  assert.equal(r.status, 200, 'server still answers /healthz');
}

describe('malformed protobuf', () => {
  for (const signal of SIGNALS) {
    test(`${signal}: garbage bytes`, async () => {
      for (let i = 0; i < 5; i++) {
        const body = crypto.randomBytes(64 + i * 300);
        body[0] = 0x0f; // field 1, wire type 7: never valid
        await expect400(signal, 'proto', body, null, `${signal} garbage ${i}`);
      }
      await serverAlive();
    });

    test(`${signal}: truncated bodies store nothing`, async () => {
      const svc = tag(`trunc-${signal}`);
      const full = pbRequest(signal, SPEC[signal](svc, 4));
      // cut inside the last record, inside a length prefix, and one byte short
      for (const cut of [full.length - 1, full.length - 7, Math.floor(full.length * 0.6), 3]) {
        await expect400(signal, 'proto', full.subarray(0, cut), svc, `${signal} cut at ${cut}/${full.length}`);
      }
    });

    test(`${signal}: wrong wire types`, async () => {
      const svc = tag(`wt-${signal}`);
      const good = pbRequest(signal, SPEC[signal](svc, 2));
      // top-level field 1 (a message) sent as a varint, after a valid entry
      await expect400(signal, 'proto', Buffer.concat([good, varint(1 << 3), varint(5)]), svc, 'field 1 as varint');
      // field 1 as fixed32
      await expect400(signal, 'proto', Buffer.concat([good, varint((1 << 3) | 5), Buffer.alloc(4)]), svc, 'field 1 as fixed32');
      // deprecated group wire types 3/4 and invalid 6/7 on an unknown field
      for (const wt of [3, 4, 6, 7]) {
        await expect400(signal, 'proto', Buffer.concat([good, varint((9 << 3) | wt), Buffer.alloc(8)]), svc, `wire type ${wt}`);
      }
      // a length prefix running past the end
      await expect400(signal, 'proto', Buffer.concat([good, varint((1 << 3) | 2), varint(1000), Buffer.alloc(10)]), svc, 'length past end');
      // a varint longer than 10 bytes
      await expect400(signal, 'proto', Buffer.concat([good, varint(9 << 3), Buffer.alloc(11, 0xff), Buffer.from([1])]), svc, 'overlong varint');
    });
  }

  test('logs: a fixed64 timestamp sent as a varint deep inside a record', async () => {
    const svc = tag('wt-deep');
    const rec = encode([[11, 'fixed64', 1n], [2, 'varint', 9], [1, 'varint', 12345]]); // time_unix_nano as varint
    const body = encode([[1, 'msg', [[1, 'msg', [[1, 'msg', [[1, 'string', 'service.name'], [2, 'msg', anyValue(svc)]]]]],
      [2, 'msg', [[2, 'msg', rec]]]]]]);
    await expect400('logs', 'proto', body, svc, 'time_unix_nano as varint');
  });

  // (the protobuf walker once stored such spans under an all-zero trace id)
  test('traces: a trace id of the wrong length', async () => {
    const svc = tag('badid');
    const spec = SPEC.traces(svc, 1);
    spec.spans[0].traceId = 'abcd';
    const res = await postSignal('traces', pbRequest('traces', spec), { contentType: CT.proto });
    // either refused whole (400) or the span rejected in partial_success: never stored with a bad id
    if (res.status === 400) statusBody(res, 400, 'proto', 'short trace id');
    else assert.equal(exportOk(res, 'traces', 'proto', 'short trace id').rejected, 1);
    assert.equal(await countStored('traces', svc), 0);
  });

  test('empty requests are valid and store nothing', async () => {
    for (const signal of SIGNALS) {
      exportOk(await postSignal(signal, Buffer.alloc(0), { contentType: CT.proto }), signal, 'proto', `${signal} empty pb`);
      exportOk(await postSignal(signal, '{}', { contentType: CT.json }), signal, 'json', `${signal} empty json`);
      exportOk(await postSignal(signal, Buffer.alloc(0), { contentType: CT.json }), signal, 'json', `${signal} empty json body`);
    }
  });
});

describe('malformed OTLP/JSON', () => {
  for (const signal of SIGNALS) {
    test(`${signal}: not JSON, wrong shapes, a key in both spellings`, async () => {
      const svc = tag(`json-${signal}`);
      const good = JSON.parse(jsonRequest(signal, SPEC[signal](svc, 2)));
      const top = Object.keys(good)[0]; // resourceLogs / resourceSpans / resourceMetrics
      const snake = top.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      const cases = {
        'not JSON': '{"resourceLogs": [',
        'trailing garbage': `${JSON.stringify(good)} xyz`,
        'a JSON array': '[1,2,3]',
        'a string': '"hello"',
        [`${top} as an object`]: JSON.stringify({ [top]: {} }),
        [`${top} as a number`]: JSON.stringify({ [top]: 7 }),
        [`${top} and ${snake}`]: JSON.stringify({ [top]: good[top], [snake]: good[top] }),
        'invalid UTF-8 in the text': Buffer.concat([Buffer.from(`{"${top}":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"${svc}`), Buffer.from([0xff, 0xfe]), Buffer.from('"}}]}}]}')]),
      };
      for (const [what, body] of Object.entries(cases)) await expect400(signal, 'json', body, svc, `${signal}: ${what}`);
    });
  }

  test('logs: wrong types inside records', async () => {
    const svc = tag('json-types');
    const mk = (patch) => {
      const o = JSON.parse(jsonRequest('logs', logsSpec(svc, 2)));
      patch(o.resourceLogs[0].scopeLogs[0].logRecords[1], o);
      return JSON.stringify(o);
    };
    const cases = {
      'timeUnixNano as a bool': (r) => { r.timeUnixNano = true; },
      'timeUnixNano not a number': (r) => { r.timeUnixNano = '12abc'; },
      'severityNumber as a string': (r) => { r.severityNumber = 'INFO'; },
      'attributes as an object': (r) => { r.attributes = { a: 1 }; },
      'attribute value a bare string': (r) => { r.attributes = [{ key: 'a', value: 'x' }]; },
      'intValue a fraction': (r) => { r.attributes = [{ key: 'a', value: { intValue: 1.5 } }]; },
      'snake_case time_unix_nano with a bad value': (r) => { delete r.timeUnixNano; r.time_unix_nano = {}; r.severity_number = 'x'; r.trace_id = 1; r.body = { string_value: 5 }; },
      'bytesValue not base64': (r) => { r.attributes = [{ key: 'b', value: { bytesValue: '!!!' } }]; },
    };
    for (const [what, patch] of Object.entries(cases)) {
      const res = await postSignal('logs', mk(patch), { contentType: CT.json });
      // snake_case keys are unknown keys for OTLP/JSON: ignoring them is allowed, but then
      // the record must be stored without them, never with their values.
      if (what.startsWith('snake_case') && res.status === 200) continue;
      statusBody(res, 400, 'json', what);
    }
    const stored = await q('SELECT message FROM log_entries WHERE service = $1', [svc]);
    assert.ok(stored.length === 0 || stored.length % 2 === 0, 'requests stored whole or not at all');
  });

  test('a record with a malformed id is refused alone, in partial_success', async () => {
    const cases = {
      'traceId not hex': (r) => { r.traceId = 'zz'.repeat(16); },
      'traceId base64 (not OTLP/JSON)': (r) => { r.traceId = Buffer.alloc(16, 7).toString('base64'); },
      'spanId too short': (r) => { r.spanId = 'abcd'; },
    };
    for (const [what, patch] of Object.entries(cases)) {
      const svc = tag('json-ids');
      const o = JSON.parse(jsonRequest('logs', logsSpec(svc, 2)));
      patch(o.resourceLogs[0].scopeLogs[0].logRecords[1]);
      const res = await postSignal('logs', JSON.stringify(o), { contentType: CT.json });
      assert.equal(res.status, 200, what);
      const body = JSON.parse(res.body.toString());
      assert.equal(Number(body.partialSuccess.rejectedLogRecords), 1, what);
      assert.match(body.partialSuccess.errorMessage, /malformed \(first: a (trace|span) id that is not/, what);
      const stored = await q('SELECT message FROM log_entries WHERE service = $1', [svc]);
      assert.deepEqual(stored.map((x) => x.message), ['record 0'], what);
    }
  });

  test('a span whose link has an id that is not hex is refused alone, in partial_success', async () => {
    const svc = tag('json-link-ids');
    const o = JSON.parse(jsonRequest('traces', tracesSpec(svc, 3)));
    const spans = o.resourceSpans[0].scopeSpans[0].spans;
    spans[1].links = [{ traceId: 'zz'.repeat(16), spanId: '0123456789abcdef' }];
    spans[2].links = [{ traceId: 'ab'.repeat(16), spanId: 'abc' }]; // odd length: not hex bytes either
    const res = await postSignal('traces', JSON.stringify(o), { contentType: CT.json });
    assert.equal(res.status, 200, res.body.toString());
    const body = JSON.parse(res.body.toString());
    assert.equal(Number(body.partialSuccess.rejectedSpans), 2);
    assert.match(body.partialSuccess.errorMessage, /a link whose id is not hex digits/);
    const stored = await q('SELECT name FROM spans WHERE service = $1', [svc]);
    assert.deepEqual(stored.map((x) => x.name), ['op 0'], 'the sound span is stored');
  });

  test('64-bit integers as strings and numbers are both accepted', async () => {
    const svc = tag('json-ints');
    const o = JSON.parse(jsonRequest('logs', logsSpec(svc, 1, { attributes: { big: 9007199254740993n, neg: -5 } })));
    const r = o.resourceLogs[0].scopeLogs[0].logRecords[0];
    r.timeUnixNano = Number(r.timeUnixNano); // a JSON number (loses sub-microsecond digits, fine)
    exportOk(await postSignal('logs', JSON.stringify(o), { contentType: CT.json }), 'logs', 'json', 'ints');
    const [row] = await q('SELECT attributes::text AS a, attributes FROM log_entries WHERE service = $1', [svc]);
    assert.ok(row, 'stored');
    assert.match(row.a, /"big": "9007199254740993"/, 'int64 beyond 2^53 stored as a string');
    assert.equal(row.attributes.neg, -5);
  });
});

describe('content type and encoding', () => {
  test('unknown content types and encodings get 415, nothing stored', async () => {
    const svc = tag('ct');
    const body = pbRequest('logs', logsSpec(svc, 1));
    for (const ct of ['text/plain', 'application/grpc', 'application/octet-stream', 'application/xml']) {
      const res = await postSignal('logs', body, { contentType: ct });
      assert.equal(res.status, 415, `Content-Type ${ct}`);
    }
    const res0 = await postSignal('logs', body, { contentType: null });
    assert.equal(res0.status, 415, 'no Content-Type');
    for (const enc of ['br', 'deflate', 'zstd', 'snappy', 'gzip, br', 'x-unknown']) {
      const res = await postSignal('logs', body, { contentType: CT.proto, contentEncoding: enc });
      assert.equal(res.status, 415, `Content-Encoding ${enc}`);
    }
    assert.equal(await countStored('logs', svc), 0);
    // parameters and case are fine
    exportOk(await postSignal('logs', body, { contentType: 'application/x-protobuf; charset=binary' }), 'logs', 'proto', 'ct with params');
    exportOk(await postSignal('logs', pbRequest('logs', logsSpec(svc, 1)), { contentType: CT.proto, contentEncoding: 'identity' }), 'logs', 'proto', 'identity');
    exportOk(await postSignal('logs', jsonRequest('logs', logsSpec(svc, 1)), { contentType: 'application/json; charset=utf-8' }), 'logs', 'json', 'json with charset');
    assert.equal(await countStored('logs', svc), 3);
  });

  test('wrong methods and paths', async () => {
    const r1 = await get(`${env.otlpUrl}/v1/logs`);
    assert.equal(r1.status, 405, 'GET /v1/logs');
    const r2 = await postSignal('nothing', Buffer.alloc(0));
    assert.equal(r2.status, 404, 'POST /v1/nothing');
  });

  for (const encoding of ['proto', 'json']) {
    test(`corrupt gzip (${encoding})`, async () => {
      const svc = tag('gz');
      const body = request('logs', encoding, logsSpec(svc, 3));
      const gz = zlib.gzipSync(body);
      const flipped = Buffer.from(gz); flipped[Math.floor(gz.length / 2)] ^= 0xff;
      const badCrc = Buffer.from(gz); badCrc[gz.length - 6] ^= 0xff;
      const cases = {
        'not gzip at all': body,
        'truncated stream': gz.subarray(0, gz.length - 10),
        'flipped byte': flipped,
        'bad CRC': badCrc,
        'gzip header only': gz.subarray(0, 10),
      };
      for (const [what, b] of Object.entries(cases)) {
        const res = await postSignal('logs', b, { contentType: CT[encoding], contentEncoding: 'gzip' });
        assert.equal(res.status, 400, `${what}: 400 (got ${res.status})`);
      }
      assert.equal(await countStored('logs', svc), 0, 'nothing stored');
      exportOk(await postSignal('logs', gz, { contentType: CT[encoding], contentEncoding: 'gzip' }), 'logs', encoding, 'the same body intact');
      assert.equal(await countStored('logs', svc), 3);
    });
  }
});

describe('size limits', () => {
  test('gzip bomb: small body, huge output -> 413, memory bounded', async () => {
    const rssBefore = serverRss();
    // 1 GiB of zeros as one gzip member (~1 MiB on the wire)
    const gz = zlib.createGzip({ level: 9 });
    const parts = [];
    gz.on('data', (c) => parts.push(c));
    const done = new Promise((r) => gz.on('end', r));
    const zero = Buffer.alloc(1 << 20);
    // a valid protobuf prefix, then zeros (field 0 is invalid anyway: the
    // limit must hit first or the decoder must refuse; either way no OOM)
    gz.write(encode([[1, 'msg', [[1, 'msg', [[1, 'msg', [[1, 'string', 'service.name'], [2, 'msg', anyValue('bomb')]]]]]]]]));
    for (let i = 0; i < 1024; i++) gz.write(zero);
    gz.end();
    await done;
    const bomb = Buffer.concat(parts);
    assert.ok(bomb.length < 2 << 20, 'the bomb is small');
    const res = await postSignal('logs', bomb, { contentType: CT.proto, contentEncoding: 'gzip', timeout: 60000 });
    assert.ok([413, 400].includes(res.status), `bomb answered ${res.status}`);
    assert.equal(res.status, 413, 'over the decompressed limit is 413');
    const rssAfter = serverRss();
    if (rssBefore && rssAfter) {
      assert.ok(rssAfter.hwm - rssBefore.hwm < 512 * 1024, `server peak RSS grew by ${rssAfter.hwm - rssBefore.hwm} KiB`);
    }
    await serverAlive();
  });

  test('a body just over the decompressed limit (gzip) gets 413', async () => {
    const raw = Buffer.alloc(env.maxDecompressed + 1024, 0x0a); // field 1 wt 2 ... garbage but never read past the limit
    const res = await postSignal('logs', zlib.gzipSync(raw, { level: 1 }), { contentType: CT.proto, contentEncoding: 'gzip', timeout: 60000 });
    assert.equal(res.status, 413);
  });

  test('an oversized body gets 413 (with Content-Length and chunked)', async () => {
    const svc = tag('big');
    const spec = logsSpec(svc, 1);
    spec.records[0].body = 'x'.repeat(env.maxBody + 1024);
    const body = pbRequest('logs', spec);
    const r1 = await postSignal('logs', body, { contentType: CT.proto, timeout: 60000 });
    assert.equal(r1.status, 413, 'Content-Length over the limit');
    const r2 = await postSignal('logs', body, { contentType: CT.proto, chunked: true, timeout: 60000 });
    assert.equal(r2.status, 413, 'chunked body over the limit');
    assert.equal(await countStored('logs', svc), 0);
    await serverAlive();
  });
});

describe('hostile values', () => {
  test('AnyValue nested 10,000 deep: 400, no crash (protobuf and JSON)', async () => {
    const svc = tag('deep');
    // protobuf, built inside out
    let av = encode([[1, 'string', 'bottom']]);
    for (let i = 0; i < 10000; i++) av = encode([[5, 'msg', encode([[1, 'msg', av]])]]);
    const rec = encode([[1, 'fixed64', BigInt(Date.now()) * 1000000n], [5, 'msg', av]]);
    const body = encode([[1, 'msg', [[1, 'msg', [[1, 'msg', [[1, 'string', 'service.name'], [2, 'msg', anyValue(svc)]]]]],
      [2, 'msg', [[2, 'msg', rec]]]]]]);
    await expect400('logs', 'proto', body, svc, 'pb depth 10000');
    // the same in an attribute, as kvlists
    let kvl = encode([[1, 'string', 'bottom']]);
    for (let i = 0; i < 10000; i++) kvl = encode([[6, 'msg', encode([[1, 'msg', encode([[1, 'string', 'k'], [2, 'msg', kvl]])]])]]);
    const rec2 = encode([[1, 'fixed64', BigInt(Date.now()) * 1000000n], [6, 'msg', encode([[1, 'string', 'deep'], [2, 'msg', kvl]])]]);
    const body2 = encode([[1, 'msg', [[1, 'msg', [[1, 'msg', [[1, 'string', 'service.name'], [2, 'msg', anyValue(svc)]]]]],
      [2, 'msg', [[2, 'msg', rec2]]]]]]);
    await expect400('logs', 'proto', body2, svc, 'pb kvlist depth 10000');
    // JSON
    const open = '{"arrayValue":{"values":['.repeat(10000);
    const close = ']}}'.repeat(10000);
    const json = `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"${svc}"}}]},"scopeLogs":[{"logRecords":[{"body":${open}{"stringValue":"bottom"}${close}}]}]}]}`;
    await expect400('logs', 'json', json, svc, 'json depth 10000');
    await serverAlive();
  });

  test('moderate nesting (depth 8) is stored as JSON', async () => {
    const svc = tag('nest');
    let v = 'bottom';
    for (let i = 0; i < 8; i++) v = i % 2 ? [v] : { k: v };
    exportOk(await postSignal('logs', pbRequest('logs', logsSpec(svc, 1, { attributes: { nested: v } })), { contentType: CT.proto }), 'logs', 'proto', 'depth 8');
    const [row] = await q('SELECT attributes FROM log_entries WHERE service = $1', [svc]);
    assert.deepEqual(row.attributes.nested, v);
  });

  for (const encoding of ['proto', 'json']) {
    test(`invalid UTF-8 is repaired or refused, never stored as is (${encoding})`, async () => {
      const svc = tag(`utf8-${encoding}`);
      const bad = Buffer.from([0x61, 0xff, 0x62, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x63]); // a \xff b, bad 2-byte, surrogate, c
      let body;
      if (encoding === 'proto') {
        const av = (b) => ({ raw: [[1, 'bytes', b]] }); // a string field with these exact bytes
        const spec = logsSpec(svc, 1, { attributes: { ok: 'fine', k: av(bad) } });
        spec.records[0].body = av(bad);
        spec.records[0].severityText = undefined;
        body = pbRequest('logs', spec);
        // and an invalid key: append one more attribute with raw key bytes
        const recExtra = encode([[6, 'msg', [[1, 'bytes', bad], [2, 'msg', anyValue('v')]]]]);
        body = Buffer.from(body);
        body = patchFirstRecord(body, recExtra);
      } else {
        // JSON texts must be UTF-8; escaped lone surrogates are the JSON way to smuggle bad text
        body = `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"${svc}"}}]},"scopeLogs":[{"logRecords":[{"timeUnixNano":"${BigInt(Date.now()) * 1000000n}","body":{"stringValue":"a\\ud800b"},"attributes":[{"key":"k\\udfff","value":{"stringValue":"x\\ud83dy"}}]}]}]}]}`;
      }
      const res = await postSignal('logs', body, { contentType: CT[encoding] });
      if (res.status === 400) {
        statusBody(res, 400, encoding, 'invalid UTF-8 refused');
        assert.equal(await countStored('logs', svc), 0);
        return;
      }
      exportOk(res, 'logs', encoding, 'invalid UTF-8 repaired');
      const [row] = await q('SELECT message, attributes::text AS a FROM log_entries WHERE service = $1', [svc]);
      assert.ok(row, 'stored');
      assert.ok(row.message.includes('\uFFFD'), `message repaired with U+FFFD: ${JSON.stringify(row.message)}`);
      assert.ok(row.a.includes('\uFFFD'), 'attributes repaired with U+FFFD');
    });
  }

  test('NUL characters never break storage', async () => {
    const svc = tag('nul');
    const spec = logsSpec(svc, 1, { attributes: { 'with\u0000nul': 'a\u0000b' } });
    spec.records[0].body = 'before\u0000after';
    for (const [encoding, body] of [['proto', pbRequest('logs', spec)], ['json', jsonRequest('logs', spec)]]) {
      const res = await postSignal('logs', body, { contentType: CT[encoding] });
      assert.ok(res.status === 200 || res.status === 400, `${encoding}: 200 or 400, got ${res.status}`);
    }
    const rows = await q('SELECT message FROM log_entries WHERE service = $1', [svc]);
    for (const r of rows) assert.ok(!r.message.includes('\u0000'));
    await serverAlive();
  });

  test('non-UUID session ids: dropped from the envelope, kept in attributes', async () => {
    const svc = tag('sess');
    const good = uuid();
    const spec = logsSpec(svc, 4, {
      resource: { session_id: good },
      record: (i) => ({ attributes: { i, ...[{ session_id: 'not-a-uuid' }, { 'session.id': '12345' }, { session_id: `${good}x` }, {}][i] } }),
    });
    exportOk(await postSignal('logs', pbRequest('logs', spec), { contentType: CT.proto }), 'logs', 'proto', 'bad session ids');
    const rows = await q(`SELECT session_id::text, attributes FROM log_entries WHERE service = $1 ORDER BY (attributes->>'i')::int`, [svc]);
    assert.equal(rows.length, 4);
    assert.equal(rows[0].attributes.session_id, 'not-a-uuid', 'kept in attributes');
    assert.equal(rows[1].attributes['session.id'], '12345');
    // a malformed record-level value does not hide a well-formed resource-level one
    for (const r of rows) assert.equal(r.session_id, good, `envelope session from the resource: ${JSON.stringify(r.attributes)}`);

    const svc2 = tag('sess2');
    exportOk(await postSignal('logs', pbRequest('logs', logsSpec(svc2, 1, { attributes: { session_id: 'nope', user_id: 'also-bad', project_id: '123' } })), { contentType: CT.proto }), 'logs', 'proto', 'only bad ids');
    const [r2] = await q('SELECT session_id, user_id, project_id, attributes FROM log_entries WHERE service = $1', [svc2]);
    assert.equal(r2.session_id, null);
    assert.equal(r2.user_id, null);
    assert.equal(r2.project_id, null);
    assert.equal(r2.attributes.session_id, 'nope');
  });

  test('sensitive attributes are redacted', async () => {
    const svc = tag('redact');
    exportOk(await postSignal('logs', pbRequest('logs', logsSpec(svc, 1, {
      attributes: { Authorization: 'Bearer abc', 'http.request.header.cookie': 'sid=1', api_key: 'k', safe: 'v' },
    })), { contentType: CT.proto }), 'logs', 'proto', 'redaction');
    const [row] = await q('SELECT attributes FROM log_entries WHERE service = $1', [svc]);
    assert.equal(row.attributes.Authorization, '[REDACTED]');
    assert.equal(row.attributes['http.request.header.cookie'], '[REDACTED]');
    assert.equal(row.attributes.api_key, '[REDACTED]');
    assert.equal(row.attributes.safe, 'v');
  });
});

// Appends `extra` (encoded LogRecord fields) to the first LogRecord of a
// one-resource, one-scope logs request built by pbRequest.
function patchFirstRecord(body, extra) {
  // rebuild: decode the three levels, append to the first record, re-encode
  const top = decode(body);
  const rl = decode(top.get(1)[0].v);
  const sl = decode(rl.get(2)[0].v);
  const recs = sl.get(2).map((x) => x.v);
  recs[0] = Buffer.concat([recs[0], extra]);
  const slFields = [];
  if (sl.has(1)) slFields.push([1, 'msg', sl.get(1)[0].v]);
  for (const r of recs) slFields.push([2, 'msg', r]);
  const rlFields = [];
  if (rl.has(1)) rlFields.push([1, 'msg', rl.get(1)[0].v]);
  rlFields.push([2, 'msg', encode(slFields)]);
  return encode([[1, 'msg', encode(rlFields)]]);
}

function serverRss() {
  const pid = process.env.LO_TEST_SERVER_PID;
  if (!pid) return null;
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = Number((s.match(/VmHWM:\s+(\d+)/) || [])[1]);
    const rss = Number((s.match(/VmRSS:\s+(\d+)/) || [])[1]);
    return { hwm, rss };
  } catch {
    return null;
  }
}

describe('redaction everywhere', () => {
  test('nested values, bodies, resource, scope, span events and links; both encodings', async () => {
    const { tracesSpec } = await import('./lib/records.mjs');
    const svc = tag('redact2');
    const s = logsSpec(svc, 1, {
      resource: { password: 'r1' },
      attributes: { nested: { Authorization: 'n1', ok: 1 }, arr: [{ token: 'n2' }], 'HTTP.REQUEST.HEADER.X-API-KEY': 'h1', 'http.response.header.set-cookie': 'h2', Password: 'p' },
    });
    s.scope.attributes = { secret: 's1' };
    s.records[0].body = { password: 'b1' };
    for (const encoding of ['proto', 'json']) {
      exportOk(await postSignal('logs', request('logs', encoding, s), { contentType: CT[encoding] }), 'logs', encoding, 'redaction');
    }
    const t = tracesSpec(svc, 1, { span: () => ({ events: [{ timeNs: 1n, name: 'e', attributes: { password: 'e1' } }], links: [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), attributes: { cookie: 'l1' } }] }) });
    exportOk(await postSignal('traces', pbRequest('traces', t), { contentType: CT.proto }), 'traces', 'proto', 'span redaction');
    const rows = await q('SELECT message, attributes::text AS a, resource::text AS r FROM log_entries WHERE service = $1', [svc]);
    assert.equal(rows.length, 2);
    const secrets = ['r1', 'n1', 'n2', 'h1', 'h2', '"p"', 's1', 'b1', 'e1', 'l1'];
    for (const r of rows) {
      const all = `${r.message} ${r.a} ${r.r}`;
      for (const x of secrets) assert.ok(!all.includes(`"${x.replace(/"/g, '')}"`), `secret ${x} stored: ${all}`);
      assert.deepEqual(JSON.parse(r.message), { password: '[REDACTED]' });
      assert.equal(JSON.parse(r.a).nested.ok, 1, 'other nested values kept');
    }
    const [sp] = await q('SELECT events::text AS e, links::text AS l FROM spans WHERE service = $1', [svc]);
    assert.ok(!sp.e.includes('"e1"') && !sp.l.includes('"l1"'), 'event and link attributes redacted');
  });

  // docs/auth.md, "Redaction": keys by segment, URLs, free text (the defaults)
  test('keys by segment, URLs and free text; both encodings', async () => {
    const { tracesSpec } = await import('./lib/records.mjs');
    const svc = tag('redact3');
    const s = logsSpec(svc, 1, {
      attributes: {
        'db.password': 'k1', clientSecret: 'k2', 'x-auth-token': 'k3', 'pass\u200bword': 'k4',
        'url.full': 'https://bob:u1@shop.example/cb?code=u2&page=2&X-Amz-Signature=u3',
        'db.connection_string': 'Server=db;User Id=sa;Password=u4;',
        'exception.message': 'login failed password=t1 for bob',
        'gen_ai.usage.input_tokens': 12, 'secretary.name': 'Ann', 'http.response.status_code': 200,
      },
    });
    s.records[0].body = 'retry with Authorization: Bearer t2t2t2t2 and api_key=t3; user=bob';
    for (const encoding of ['proto', 'json']) {
      exportOk(await postSignal('logs', request('logs', encoding, s), { contentType: CT[encoding] }), 'logs', encoding, 'redaction');
    }
    const rows = await q('SELECT message, attributes FROM log_entries WHERE service = $1', [svc]);
    assert.equal(rows.length, 2);
    for (const r of rows) {
      const all = `${r.message} ${JSON.stringify(r.attributes)}`;
      for (const x of ['k1', 'k2', 'k3', 'k4', 'u1', 'u2', 'u3', 'u4', 't1', 't2t2t2t2', 't3'])
        assert.ok(!new RegExp(`\\b${x}\\b`).test(all), `secret ${x} stored: ${all}`);
      assert.equal(r.message, 'retry with Authorization: Bearer [REDACTED] and api_key=[REDACTED]; user=bob');
      assert.equal(r.attributes['url.full'], 'https://[REDACTED]@shop.example/cb?code=[REDACTED]&page=2&X-Amz-Signature=[REDACTED]');
      assert.equal(r.attributes['db.connection_string'], 'Server=db;User Id=sa;Password=[REDACTED];');
      assert.equal(r.attributes['exception.message'], 'login failed password=[REDACTED] for bob');
      assert.equal(r.attributes['db.password'], '[REDACTED]');
      assert.equal(r.attributes['gen_ai.usage.input_tokens'], 12, 'innocent keys kept');
      assert.equal(r.attributes['secretary.name'], 'Ann');
      assert.equal(r.attributes['http.response.status_code'], 200);
    }
    const t = tracesSpec(svc, 1, { span: () => ({ status: { code: 2, message: 'upstream said secret=t4' },
      events: [{ timeNs: 1n, name: 'exception', attributes: { 'exception.message': 'connect mysql://root:t5@db/app' } }] }) });
    exportOk(await postSignal('traces', pbRequest('traces', t), { contentType: CT.proto }), 'traces', 'proto', 'span redaction');
    const [sp] = await q('SELECT status_message, events::text AS e FROM spans WHERE service = $1', [svc]);
    assert.equal(sp.status_message, 'upstream said secret=[REDACTED]');
    assert.ok(sp.e.includes('mysql://[REDACTED]@db/app') && !sp.e.includes('t5'), sp.e);
  });
});
