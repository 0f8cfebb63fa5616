// check_parquet.mjs — reads gen-source rows back from parquet-sink files
// with DuckDB and checks them: one row per record rec-000000.., the label
// class-(n % labels), every feature the float whose four bytes are n & 0xff
// (gen-source's payload; n & 0xff == 255 is a NaN).  Prints "ok ROWS" or
// the mismatches.
//     node check_parquet.mjs GLOB COUNT WIDTH LABELS
import { pathToFileURL } from 'node:url';

const [glob, count, width, labels] = [process.argv[2], ...process.argv.slice(3).map(Number)];
const readers = await import(pathToFileURL(`${process.env.FLOWRUN_SOURCE_DIR}/tools/deps/npm/readers.mjs`));
const db = await (await readers.DuckDBInstance.create(':memory:')).connect();
const rows = (await db.runAndReadAll(
  `SELECT key, label, * EXCLUDE (key, label) FROM read_parquet('${glob.replaceAll("'", "''")}') ORDER BY key`)).getRowsJS();
const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
const bad = [];
if (rows.length !== count) bad.push(`${rows.length} rows, want ${count}`);
rows.forEach((row, n) => {
  const b = n & 0xff;
  if (row[0] !== `rec-${String(n).padStart(6, '0')}`) bad.push(`row ${n}: key ${row[0]}`);
  if (row[1] !== `class-${n % labels}`) bad.push(`row ${n}: label ${row[1]}`);
  if (row.length !== 2 + width) bad.push(`row ${n}: ${row.length - 2} features`);
  for (let c = 2; c < row.length; c++) {
    f32[0] = row[c];
    if (b === 255 ? !Number.isNaN(row[c]) : u32[0] !== b * 0x01010101)
      bad.push(`row ${n} col ${c - 2}: ${row[c]}`);
  }
});
console.log(bad.length ? bad.slice(0, 10).join('\n') : `ok ${rows.length}`);
process.exit(bad.length ? 1 : 0);
