// The DuckDB client of the Parquet checks, loaded from tests/integration's
// node_modules (installed by scripts/deps.sh from its package-lock.json).
import { createRequire } from 'node:module';

const require = createRequire(new URL('../integration/package.json', import.meta.url));
const { DuckDBInstance } = require('@duckdb/node-api');

export async function connect() {
  const db = await DuckDBInstance.create(':memory:');
  return db.connect();
}

export async function rows(conn, sql) {
  const r = await conn.runAndReadAll(sql);
  return r.getRowObjectsJson();
}
