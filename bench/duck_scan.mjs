// DuckDB scanning one column of a Parquet file on one thread, beside
// bench/pq_scan.c (bench/cold_bench.sh): node bench/duck_scan.mjs FILE COLUMN [RUNS]
// prints "<column> <rows> <seconds>" of the best run.  sum(hash(col))
// makes DuckDB decode every value (no answer from statistics).
import { connect, rows } from '../tests/parquet/duckdb.mjs';

const [file, col, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 5);
const conn = await connect();
await rows(conn, 'SET threads = 1');
const sql = `SELECT count(*) AS n, sum(hash("${col.replace(/"/g, '')}")) AS h FROM read_parquet('${file.replace(/'/g, "''")}')`;
let best = Infinity;
let n = 0;
for (let i = 0; i < runs; i++) {
  const t0 = process.hrtime.bigint();
  const r = await rows(conn, sql);
  const t = Number(process.hrtime.bigint() - t0) / 1e9;
  n = r[0].n;
  if (t < best) best = t;
}
console.log(`${col} ${n} ${best.toFixed(6)}`);
