// rows.mjs — prints the key and version of every row of CSV or Parquet files,
// read with DuckDB (independent of flowrun's writers), one JSON line each.
//     node rows.mjs csv|parquet FILE...
import { pathToFileURL } from 'node:url';

const readers = await import(pathToFileURL(`${process.env.FLOWRUN_SOURCE_DIR}/tools/deps/npm/readers.mjs`));
const db = await (await readers.DuckDBInstance.create(':memory:')).connect();
const files = process.argv.slice(3).map((f) => `'${f.replaceAll("'", "''")}'`).join(', ');
const source = process.argv[2] === 'csv'
    ? `read_csv([${files}], header = true, all_varchar = true)`
    : `read_parquet([${files}])`;
const reader = await db.runAndReadAll(`SELECT key, version FROM ${source}`);
for (const row of reader.getRowsJS()) console.log(JSON.stringify(row));
