// Bytes per row of each column of cold Parquet files, with DuckDB's
// parquet_metadata (compressed and uncompressed column chunks, bloom filters,
// encodings); what is left is bloom filters, page indexes and the footer.
//   node bench/cold_columns.mjs FILE...   (e.g. the files LO_CB_KEEP kept)
import fs from 'node:fs';
import { connect, rows } from '../tests/parquet/duckdb.mjs';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: cold_columns.mjs FILE...');
  process.exit(2);
}
const conn = await connect();
const list = '[' + files.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ') + ']';
const n = Number((await rows(conn, `SELECT count(*) AS n FROM read_parquet(${list})`))[0].n);
const cols = await rows(conn, `SELECT path_in_schema AS col, sum(total_compressed_size) AS comp,
    sum(total_uncompressed_size) AS unc, sum(coalesce(bloom_filter_length, 0)) AS bloom,
    string_agg(DISTINCT encodings, ' / ') AS enc
  FROM parquet_metadata(${list}) GROUP BY 1 ORDER BY 2 DESC`);
const bytes = files.reduce((s, f) => s + fs.statSync(f).size, 0);
const per = (x) => (Number(x) / n).toFixed(2);
console.log(`${files.length} files, ${n} rows, ${bytes} bytes: ${per(bytes)} B/row`);
console.log('| column | B/row | B/row uncompressed | bloom B/row | encodings |');
console.log('|---|---:|---:|---:|---|');
let chunks = 0;
for (const c of cols) {
  chunks += Number(c.comp);
  console.log(`| ${c.col} | ${per(c.comp)} | ${per(c.unc)} | ${per(c.bloom)} | ${c.enc} |`);
}
console.log(`| (bloom filters, page indexes, footer) | ${per(bytes - chunks)} | | | |`);
