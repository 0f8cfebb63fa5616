// hostile_keys.mjs — keys and labels that are not UTF-8 reach the Parquet
// writer as U+FFFD, so DuckDB (which refuses a whole file over one invalid
// STRING value) and hyparquet read every row.
//     node hostile_keys.mjs PQ_HOSTILE_KEYS
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const readers = await import(pathToFileURL(`${process.env.FLOWRUN_SOURCE_DIR}/tools/deps/npm/readers.mjs`));
const dir = mkdtempSync(join(tmpdir(), 'pq-hostile-'));
const file = join(dir, 'keys.parquet');
execFileSync(process.argv[2], [file]);
const want = [
  ['', ''],
  ['bad\uFFFD\uFFFD key', 'label\uFFFD'],
  ['over\uFFFD\uFFFDlong', 'sur\uFFFD\uFFFD\uFFFDrogate'],
  ['Pêche/水果.jpg', 'ok'],
  ['ctl\x01\x1b[31m', 'tab\there'],
];
let duck, hyp;
try {
  const db = await (await readers.DuckDBInstance.create(':memory:')).connect();
  duck = (await db.runAndReadAll(`SELECT key, label FROM read_parquet('${file}')`)).getRowsJS();
  const buf = readFileSync(file);
  hyp = (await readers.parquetReadObjects({
    file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength),
    compressors: readers.compressors,
  })).map((r) => [r.key, r.label]);
} finally {
  rmSync(dir, { recursive: true });
}
const bad = [];
for (const [name, rows] of [['duckdb', duck], ['hyparquet', hyp]])
  if (JSON.stringify(rows) !== JSON.stringify(want))
    bad.push(`${name}: ${JSON.stringify(rows)}\n  want ${JSON.stringify(want)}`);
console.log(bad.length ? bad.join('\n') : `ok ${duck.length} rows`);
process.exit(bad.length ? 1 : 0);
