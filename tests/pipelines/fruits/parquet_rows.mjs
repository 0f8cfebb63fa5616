// parquet_rows.mjs — prints a Parquet file's rows as JSON lines, read with
// DuckDB (independent of flowrun's writer): [key, label, c0, c1, ...] in the
// file's column order, and on the first line the column names and types.
//     node parquet_rows.mjs FILE.parquet
import { pathToFileURL } from 'node:url';

const readers = await import(pathToFileURL(`${process.env.FLOWRUN_SOURCE_DIR}/tools/deps/npm/readers.mjs`));
const db = await (await readers.DuckDBInstance.create(':memory:')).connect();
const file = process.argv[2].replaceAll("'", "''");
const reader = await db.runAndReadAll(`SELECT * FROM read_parquet('${file}')`);
const names = reader.columnNames();
const types = reader.columnTypes().map((t) => String(t));
console.log(JSON.stringify({ names, types }));
for (const row of reader.getRowsJS()) console.log(JSON.stringify(row));
