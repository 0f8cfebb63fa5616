// csv_vs_parquet.mjs — the same rows written by csv-sink and parquet-sink
// (both layouts, with model_version) compare equal through DuckDB SQL: the
// CSV read with explicit types, the Parquet as it is, EXCEPT ALL both ways.
// DuckDB reads an empty CSV field (unquoted, or quoted "") as NULL, so the
// CSV side maps a NULL label back to '' (a label is never NULL in flowrun)
// and a NULL model_version stays NULL (no version) on both sides.
// The comparison is shown to catch one changed digit in the CSV.
//     node csv_vs_parquet.mjs SINK_WRITE
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { query } from '../lib/parquet/parquet-check.mjs';

const writer = process.argv[2];
const dir = mkdtempSync(join(tmpdir(), 'csv-vs-parquet-'));
const ROWS = 3000, WIDTH = 6;
const write = (plugin, path, ...config) =>
  execFileSync(writer, [plugin, `${ROWS}`, `${WIDTH}`, 'path', path, 'model_version', 'true', ...config],
    { stdio: 'inherit' });
const sql = (s) => `'${s.replaceAll("'", "''")}'`;
const cols = Array.from({ length: WIDTH }, (_, c) => `c${c}`);

function csvView(file) {
  const types = ['key: \'VARCHAR\'', 'label: \'VARCHAR\'', ...cols.map((c) => `${c}: 'FLOAT'`),
    'model_version: \'BIGINT\''].join(', ');
  return `SELECT key, coalesce(label, '') AS label, ${cols.join(', ')}, model_version
    FROM read_csv(${sql(file)}, header = true, delim = ',', quote = '"', escape = '"',
                  columns = {${types}})`;
}

// Rows in a but not in b plus rows in b but not in a.
async function difference(a, b) {
  const [[n]] = await query(`SELECT (SELECT count(*) FROM (${a} EXCEPT ALL ${b}))
                                  + (SELECT count(*) FROM (${b} EXCEPT ALL ${a}))`);
  return Number(n);
}

let ok = true;
const expect = (cond, message) => { if (!cond) { console.error(message); ok = false; } };
try {
  const csv = join(dir, 'rows.csv'), cols_pq = join(dir, 'columns.parquet'), list_pq = join(dir, 'list.parquet');
  write('csv-sink', csv);
  write('parquet-sink', cols_pq, 'compression', 'zstd');
  write('parquet-sink', list_pq, 'layout', 'list', 'compression', 'snappy');

  const [[n, emptyLabels, nullVersions]] = await query(
    `SELECT count(*), count(*) FILTER (WHERE label = ''), count(*) FILTER (WHERE model_version IS NULL) FROM (${csvView(csv)})`);
  expect(Number(n) === ROWS, `csv: ${n} rows`);
  expect(Number(emptyLabels) === 231, `csv: ${emptyLabels} empty labels, want 231`);
  expect(Number(nullVersions) === ROWS / 3, `csv: ${nullVersions} null versions`);

  const parquetColumns = `SELECT * FROM read_parquet(${sql(cols_pq)})`;
  expect(await difference(csvView(csv), parquetColumns) === 0, 'csv and columns parquet differ');

  const csvAsList = `SELECT key, label, [${cols.join(', ')}]::FLOAT[] AS features, model_version FROM (${csvView(csv)})`;
  const parquetList = `SELECT * FROM read_parquet(${sql(list_pq)})`;
  expect(await difference(csvAsList, parquetList) === 0, 'csv and list parquet differ');

  // One changed digit in the CSV must show up as two differing rows.
  const text = readFileSync(csv, 'utf8');
  const line = text.split('\r\n')[2];
  const value = line.split(',').at(2);
  const changed = value.replace(/\d(?=\D*$)/, (d) => `${(Number(d) + 1) % 10}`);
  const bad = join(dir, 'bad.csv');
  writeFileSync(bad, text.replace(line, line.replace(`,${value},`, `,${changed},`)));
  const caught = await difference(csvView(bad), parquetColumns);
  expect(caught === 2, `a changed value (${value} -> ${changed}) gave ${caught} differing rows, want 2`);
  if (caught === 2) console.log('csv vs parquet: a changed digit was caught (expected)');
} catch (e) {
  console.error(e.stack);
  ok = false;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(ok ? 'csv vs parquet: equal through DuckDB SQL' : 'csv vs parquet: FAILED');
process.exit(ok ? 0 : 1);
