// Assertions on lookout's OTLP responses, in the request's encoding.

import assert from 'node:assert/strict';
import { decodeExportResponse, decodeStatus } from './otlp.mjs';

const REJECTED_KEY = { logs: 'rejectedLogRecords', traces: 'rejectedSpans', metrics: 'rejectedDataPoints' };

function ctOf(res) { return String(res.headers['content-type'] || '').split(';')[0].trim(); }

// A 200 with an Export*ServiceResponse; returns { rejected, message }.
export function exportOk(res, signal, encoding, what = '') {
  assert.equal(res.status, 200, `${what}: expected 200, got ${res.status} ${res.body.toString('utf8', 0, 300)}`);
  if (encoding === 'json') {
    assert.equal(ctOf(res), 'application/json', `${what}: response content type`);
    const o = JSON.parse(res.body.toString('utf8'));
    assert.equal(typeof o, 'object');
    const ps = o.partialSuccess;
    if (!ps) return { rejected: 0, message: '' };
    return { rejected: Number(ps[REJECTED_KEY[signal]] || 0), message: ps.errorMessage || '' };
  }
  assert.equal(ctOf(res), 'application/x-protobuf', `${what}: response content type`);
  const r = decodeExportResponse(res.body);
  return r.partialSuccess ? { rejected: r.partialSuccess.rejected, message: r.partialSuccess.message } : { rejected: 0, message: '' };
}

// An error answer carrying google.rpc.Status in the request's encoding;
// returns { code, message }.
export function statusBody(res, status, encoding, what = '') {
  assert.equal(res.status, status, `${what}: expected ${status}, got ${res.status} ${res.body.toString('utf8', 0, 300)}`);
  if (encoding === 'json') {
    assert.equal(ctOf(res), 'application/json', `${what}: error content type`);
    const o = JSON.parse(res.body.toString('utf8'));
    assert.equal(typeof o.code, 'number', `${what}: Status.code in JSON body`);
    return { code: o.code, message: o.message || '' };
  }
  assert.equal(ctOf(res), 'application/x-protobuf', `${what}: error content type`);
  return decodeStatus(res.body);
}

export function retryAfter(res, what = '') {
  const v = res.headers['retry-after'];
  assert.ok(v !== undefined && /^\d+$/.test(String(v)) && Number(v) >= 1, `${what}: Retry-After header (got ${v})`);
  return Number(v);
}
