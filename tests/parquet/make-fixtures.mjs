// Writes the reader's reference files into tests/parquet/fixtures/ with
// DuckDB (an independent writer).  The unit test (tests/unit/test_parquet.c)
// reads them and compares with the values these queries produce; run again
// only to regenerate them: node tests/parquet/make-fixtures.mjs
import { connect } from './duckdb.mjs';

const dir = new URL('./fixtures/', import.meta.url).pathname;
const conn = await connect();

// 1000 rows: i = 0..999.  Every column is a function of i that the C test
// recomputes.
const base = `SELECT
    i::BIGINT AS id,
    (i * 7 - 3000)::INTEGER AS n32,
    (i * 0.25)::DOUBLE AS d,
    (i % 3 = 0) AS flag,
    'svc-' || (i % 10) AS service,
    CASE WHEN i % 4 = 0 THEN NULL ELSE 'msg ' || i END AS body,
    CASE WHEN i % 5 = 0 THEN NULL ELSE i * 11 END::BIGINT AS maybe,
    make_timestamptz(1700000000000000 + i * 1000001) AS ts
  FROM range(1000) t(i)`;

const files = [
  ['snappy.parquet', "COMPRESSION snappy"],
  ['zstd.parquet', "COMPRESSION zstd"],
  ['gzip.parquet', "COMPRESSION gzip"],
  ['uncompressed.parquet', "COMPRESSION uncompressed"],
  ['v2.parquet', "COMPRESSION zstd, PARQUET_VERSION v2"],
];
for (const [name, opts] of files) {
  await conn.run(`COPY (${base}) TO '${dir}${name}' (FORMAT parquet, ${opts})`);
}
for (const [name] of files) {
  const enc = await conn.runAndReadAll(
    `SELECT path_in_schema, encodings, compression FROM parquet_metadata('${dir}${name}') WHERE row_group_id = 0`);
  console.log(name, JSON.stringify(enc.getRowObjectsJson().map((r) => `${r.path_in_schema}:${r.encodings}:${r.compression}`)));
}
