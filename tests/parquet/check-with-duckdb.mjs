// Checks files written by lookout's Parquet writer with DuckDB: the schema,
// the metadata (codec, statistics, bloom filters) and every value.  The
// files come from tests/unit/test_parquet.c run with LO_PQ_CHECK_DIR set
// (make parquet-check); their rows are functions of the row number i that
// the test and this script share.
//   node tests/parquet/check-with-duckdb.mjs FILE...
import { connect, rows } from './duckdb.mjs';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: check-with-duckdb.mjs FILE...');
  process.exit(2);
}
const conn = await connect();
let failures = 0;
function check(ok, what) {
  if (!ok) {
    failures++;
    console.error(`FAIL ${what}`);
  }
}

const expectTypes = {
  ts: 'TIMESTAMP WITH TIME ZONE', n: 'INTEGER', d: 'DOUBLE', b: 'BOOLEAN', s: 'VARCHAR',
  body: 'VARCHAR', attrs: 'JSON', id: 'UUID', span: 'BLOB', big: 'BIGINT',
};

for (const f of files) {
  const codec = f.match(/lookout-(\w+)\.parquet$/)?.[1]?.toUpperCase();
  const schema = await rows(conn, `SELECT name, duckdb_type, repetition_type FROM parquet_schema('${f}') WHERE type IS NOT NULL`);
  for (const [name, type] of Object.entries(expectTypes)) {
    const col = schema.find((r) => r.name === name);
    check(col && col.duckdb_type === type, `${f}: column ${name} is ${col?.duckdb_type}, want ${type}`);
  }

  const meta = await rows(conn, `SELECT row_group_id, path_in_schema AS col, compression, encodings,
      stats_min_value, stats_max_value, stats_null_count, bloom_filter_offset
    FROM parquet_metadata('${f}')`);
  check(meta.length === 3 * 10, `${f}: ${meta.length} column chunks, want 30`);
  for (const m of meta) {
    check(m.compression === codec, `${f}: ${m.col} codec ${m.compression}, want ${codec}`);
    check(m.stats_min_value !== null && m.stats_max_value !== null && m.stats_null_count !== null,
      `${f}: ${m.col} rg ${m.row_group_id} lacks statistics`);
    const bloom = ['s', 'id', 'big'].includes(m.col);
    check((m.bloom_filter_offset !== null) === bloom, `${f}: ${m.col} bloom filter offset ${m.bloom_filter_offset}`);
  }
  const ts = meta.find((m) => m.col === 'ts' && m.row_group_id === '0');
  check(ts.encodings.includes('DELTA_BINARY_PACKED'), `${f}: ts encodings ${ts.encodings}`);
  check(ts.stats_min_value === '2023-11-14 22:13:20+00', `${f}: ts min ${ts.stats_min_value}`);
  const s = meta.find((m) => m.col === 's' && m.row_group_id === '0');
  check(s.encodings.includes('RLE_DICTIONARY') && s.stats_null_count === '2000', `${f}: s ${JSON.stringify(s)}`);
  // unique text: no dictionary; neighbours share a prefix ('line 1234...')
  for (const col of ['body', 'attrs']) {
    const m = meta.find((x) => x.col === col && x.row_group_id === '0');
    check(m.encodings.includes('DELTA_BYTE_ARRAY') && !m.encodings.includes('RLE_DICTIONARY'),
      `${f}: ${col} encodings ${m.encodings}`);
  }

  const probe = async (col, v) => (await rows(conn, `SELECT bool_and(bloom_filter_excludes) AS ex FROM parquet_bloom_probe('${f}', '${col}', ${v})`))[0].ex;
  check((await probe('s', "'svc-3'")) === false, `${f}: the bloom filter of s excludes svc-3`);
  check((await probe('s', "'absent'")) === true, `${f}: the bloom filter of s does not exclude 'absent'`);
  check((await probe('big', '-5000000000000000')) === false, `${f}: the bloom filter of big excludes row 0's value`);

  // every value, compared in SQL with the row functions (microseconds exact)
  const bad = await rows(conn, `WITH t AS (SELECT row_number() OVER () - 1 AS i, * FROM '${f}')
    SELECT count(*) AS rows, count(*) FILTER (WHERE (
      epoch_us(ts) = 1700000000000000 + i * 1000 + i % 7
      AND big = i * 1000000000000 - 5000000000000000
      AND d = i * 0.5 - 10
      AND body = 'line ' || i || ' ' || repeat('x', (i % 13)::INTEGER)
      AND (CASE WHEN i % 5 = 0
            THEN n IS NULL AND b IS NULL AND s IS NULL AND attrs IS NULL AND span IS NULL
            ELSE n = i * 3 - 100 AND b = (i % 2 = 1) AND s = 'svc-' || (i % 50)
              AND attrs::VARCHAR = '{"k":' || i || '}'
              AND hex(span) = upper(
                (SELECT string_agg(lpad(to_hex((((i * 2654435761) >> (8 * k)) & 255)::INTEGER), 2, '0'), '' ORDER BY k)
                 FROM range(8) r(k)))
           END)) IS NOT TRUE) AS wrong,
      count(*) FILTER (WHERE lower(replace(id::VARCHAR, '-', '')) <> lower(
        lpad(to_hex((i & 255)::INTEGER), 2, '0') || lpad(to_hex(((i >> 8) & 255)::INTEGER), 2, '0') ||
        lpad(to_hex(((i >> 16) & 255)::INTEGER), 2, '0') || lpad(to_hex(((i >> 24) & 255)::INTEGER), 2, '0') ||
        '111111111111111111111111')) AS wrong_ids
    FROM t`);
  check(bad[0].rows === '30000', `${f}: ${bad[0].rows} rows, want 30000`);
  check(bad[0].wrong === '0', `${f}: ${bad[0].wrong} rows differ from what was written`);
  check(bad[0].wrong_ids === '0', `${f}: ${bad[0].wrong_ids} ids differ from what was written`);
  console.log(`${f}: schema, ${meta.length} column chunks (${codec}, statistics, bloom filters), ${bad[0].rows} rows checked`);
}
if (failures) {
  console.error(`check-with-duckdb: ${failures} failures`);
  process.exit(1);
}
console.log(`check-with-duckdb: ${files.length} files passed`);
