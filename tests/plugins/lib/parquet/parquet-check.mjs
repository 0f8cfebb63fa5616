// parquet-check.mjs — checks a Parquet file of testdata rows with DuckDB and
// with hyparquet: schema, row count, every value to the bit, statistics,
// created_by and key/value metadata.  Shared by the parquet library and
// parquet-sink tests.
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import * as data from './testdata.mjs';

const src = process.env.FLOWRUN_SOURCE_DIR;
if (!src) throw new Error('FLOWRUN_SOURCE_DIR is not set (run through ctest)');
const readers = await import(pathToFileURL(`${src}/tools/deps/npm/readers.mjs`));

let duck;
export async function duckdb() {
  if (!duck) duck = await (await readers.DuckDBInstance.create(':memory:')).connect();
  return duck;
}

export async function query(sql) {
  return (await (await duckdb()).runAndReadAll(sql)).getRowsJS();
}

const sqlString = (s) => `'${s.replaceAll("'", "''")}'`;

// Compares one row as a reader returned it with testdata row r.
function checkRow(m, who, r, got, spec) {
  m.expect(got.key === data.key(r), `${who} row ${r}: key ${JSON.stringify(got.key)}`);
  m.expect(got.label === data.label(r), `${who} row ${r}: label ${JSON.stringify(got.label)}`);
  const features = spec.layout === 'list' ? got.features
    : Array.from({ length: spec.width }, (_, c) => got[`c${c}`]);
  m.expect(features && features.length === spec.width, `${who} row ${r}: ${features?.length} features`);
  for (let c = 0; c < spec.width && features; c++) {
    const bits = data.bitsOf(features[c]);
    m.expect(bits === data.featureBits(r, c),
      `${who} row ${r} col ${c}: bits ${bits.toString(16)} want ${data.featureBits(r, c).toString(16)}`);
  }
  if (spec.version) {
    const v = got.model_version === null || got.model_version === undefined ? null : BigInt(got.model_version);
    m.expect(v === data.version(r), `${who} row ${r}: model_version ${v}`);
  }
}

async function checkDuckdbSchema(m, file, spec) {
  const cols = await query(`DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`);
  const want = [['key', 'VARCHAR'], ['label', 'VARCHAR']];
  if (spec.layout === 'list') want.push(['features', 'FLOAT[]']);
  else for (let c = 0; c < spec.width; c++) want.push([`c${c}`, 'FLOAT']);
  if (spec.version) want.push(['model_version', 'BIGINT']);
  m.expect(JSON.stringify(cols.map((c) => [c[0], c[1]])) === JSON.stringify(want),
    `duckdb schema ${JSON.stringify(cols.map((c) => [c[0], c[1]]))}`);
}

// Statistics of c0 / the list's element and key per row group, against the
// rows each group holds.
async function checkStatistics(m, file, spec) {
  const rows = await query(`SELECT row_group_id, row_group_num_rows, path_in_schema,
      stats_min_value, stats_max_value, stats_null_count, compression
    FROM parquet_metadata(${sqlString(file)}) ORDER BY row_group_id, column_id`);
  const groups = new Map();
  for (const [g, n, path, min, max, nulls, codec] of rows) {
    if (!groups.has(g)) groups.set(g, { n: Number(n), cols: {} });
    groups.get(g).cols[path] = { min, max, nulls: Number(nulls), codec };
  }
  if (spec.rowGroups) m.expect(groups.size >= spec.rowGroups, `only ${groups.size} row groups`);
  let first = 0;
  for (const [, g] of groups) {
    const keys = [];
    let fmin = Infinity, fmax = -Infinity, nulls = 0;
    for (let r = first; r < first + g.n; r++) {
      keys.push(Buffer.from(data.key(r)));
      const f = new Float32Array(new Uint32Array([data.featureBits(r, 0)]).buffer)[0];
      fmin = Math.min(fmin, f); fmax = Math.max(fmax, f);
      if (data.version(r) === null) nulls++;
    }
    keys.sort(Buffer.compare);
    const feature = g.cols[spec.layout === 'list' ? 'features, list, element' : 'c0'];
    m.expect(feature !== undefined, `no statistics for the features: ${Object.keys(g.cols)}`);
    if (spec.layout !== 'list' && feature) {
      m.expect(Math.fround(Number(feature.min)) === fmin, `c0 min ${feature.min} want ${fmin}`);
      m.expect(Math.fround(Number(feature.max)) === fmax, `c0 max ${feature.max} want ${fmax}`);
    }
    m.expect(g.cols.key.min === keys[0].toString(), `key min ${g.cols.key.min}`);
    m.expect(g.cols.key.max === keys.at(-1).toString(), `key max ${g.cols.key.max}`);
    m.expect(g.cols.key.nulls === 0, 'key null count');
    if (spec.version) m.expect(g.cols.model_version.nulls === nulls, `null count ${g.cols.model_version.nulls} want ${nulls}`);
    m.expect(g.cols.key.codec === { none: 'UNCOMPRESSED', snappy: 'SNAPPY', zstd: 'ZSTD' }[spec.codec],
      `codec ${g.cols.key.codec}`);
    first += g.n;
  }
  m.expect(first === spec.rows, `row groups hold ${first} rows`);
}

async function checkDuckdb(m, file, spec) {
  await checkDuckdbSchema(m, file, spec);
  const rows = await query(`SELECT * FROM read_parquet(${sqlString(file)})`);
  m.expect(rows.length === spec.rows, `duckdb: ${rows.length} rows, want ${spec.rows}`);
  const names = (await query(`DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`)).map((c) => c[0]);
  rows.forEach((row, r) => checkRow(m, 'duckdb', r, Object.fromEntries(names.map((n, i) => [n, row[i]])), spec));
  await checkStatistics(m, file, spec);
  const [[createdBy]] = await query(`SELECT created_by FROM parquet_file_metadata(${sqlString(file)})`);
  if (spec.createdBy) m.expect(createdBy.startsWith(spec.createdBy), `created_by ${createdBy}`);
  const kv = await query(`SELECT decode(key), decode(value) FROM parquet_kv_metadata(${sqlString(file)})`);
  for (const [k, v] of Object.entries(spec.metadata ?? {}))
    m.expect(kv.some(([key, value]) => key === k && value === v), `kv ${k}: ${JSON.stringify(kv)}`);
}

async function checkHyparquet(m, file, spec) {
  const bytes = readFileSync(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const meta = readers.parquetMetadata(buffer);
  m.expect(Number(meta.num_rows) === spec.rows, `hyparquet: num_rows ${meta.num_rows}`);
  const rows = await readers.parquetReadObjects({ file: buffer, compressors: readers.compressors });
  m.expect(rows.length === spec.rows, `hyparquet: ${rows.length} rows`);
  rows.forEach((row, r) => checkRow(m, 'hyparquet', r, row, spec));
}

// spec: {rows, width, layout, codec, version, rowGroups?, createdBy?, metadata?}
export async function checkParquet(file, spec) {
  const m = new data.Mismatches(`${file} ${JSON.stringify(spec)}`);
  try {
    await checkDuckdb(m, file, spec);
    await checkHyparquet(m, file, spec);
  } catch (e) {
    m.expect(false, `reader failed: ${e.stack}`);
  }
  return m.report();
}
