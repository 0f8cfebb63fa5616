// bench/sinks: csv-sink and parquet-sink against DuckDB's own Parquet writer,
// measured in the same run on the same rows.
//
// 100,000 rows x 200 float32 features (N(0,1), seeded) with a key and one of
// 100 labels.  flowrun: bench-sink pushes the rows through the plugin loaded
// by the harness and times process() + flush (formatting, compression,
// write, fsync, rename).  DuckDB (@duckdb/node-api): the same rows, loaded
// from csv-sink's CSV into a table beforehand, written with
// COPY t TO 'x.parquet' (FORMAT parquet, COMPRESSION c), timed around the
// COPY; with 1 thread (as a sink instance runs) and with DuckDB's default.
// Each case runs --repeat times interleaved; the median is kept.
//
//   node bench/sinks/run.mjs BUILD_DIR [--rows N] [--width W] [--repeat K]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i < 0 ? dflt : Number(args[i + 1]); };
const build = args[0];
if (!build || build.startsWith('--')) {
  console.error('usage: node bench/sinks/run.mjs BUILD_DIR [--rows N] [--width W] [--repeat K]');
  process.exit(2);
}
const ROWS = opt('--rows', 100000), WIDTH = opt('--width', 200), REPEAT = opt('--repeat', 3);
const source = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const readers = await import(pathToFileURL(join(source, 'tools/deps/npm/readers.mjs')));
const bench = join(build, 'bench', 'bench-sink');
const env = { ...process.env, FLOWRUN_PLUGIN_PATH: join(build, 'lib', 'flowrun', 'plugins') };
const dir = mkdtempSync(join(tmpdir(), 'bench-sinks-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sizeOf = (p) => statSync(p).size;

const flowrunCases = [
  { name: 'csv-sink', plugin: 'csv-sink', ext: 'csv', config: [] },
  { name: 'csv-sink gzip', plugin: 'csv-sink', ext: 'csv.gz', config: ['gzip', 'true'] },
  ...['none', 'snappy', 'zstd'].map((c) => ({ name: `parquet-sink ${c}`, codec: c, plugin: 'parquet-sink',
    ext: 'parquet', config: ['compression', c] })),
];
const duckCodecs = { none: 'uncompressed', snappy: 'snappy', zstd: 'zstd' };

function runFlowrun(c, i) {
  const path = join(dir, `f${i}.${c.ext}`);
  rmSync(path, { force: true });
  const out = execFileSync(bench, [c.plugin, `${ROWS}`, `${WIDTH}`, 'path', path, ...c.config], { env });
  return { ...JSON.parse(out), bytes: sizeOf(path), path };
}

try {
  const csv = runFlowrun(flowrunCases[0], 'data');
  const db = await (await readers.DuckDBInstance.create(':memory:')).connect();
  const cols = Array.from({ length: WIDTH }, (_, c) => `c${c}: 'FLOAT'`).join(', ');
  await db.run(`CREATE TABLE t AS SELECT * FROM read_csv('${csv.path}', header = true,
    columns = {key: 'VARCHAR', label: 'VARCHAR', ${cols}})`);
  const [[n]] = (await db.runAndReadAll('SELECT count(*) FROM t')).getRowsJS();
  if (Number(n) !== ROWS) throw new Error(`DuckDB loaded ${n} rows`);
  const [[threads]] = (await db.runAndReadAll("SELECT current_setting('threads')")).getRowsJS();

  async function runDuck(codec, nthreads, i) {
    const path = join(dir, `d${i}.parquet`);
    rmSync(path, { force: true });
    await db.run(`SET threads = ${nthreads}`);
    const t0 = process.hrtime.bigint();
    await db.run(`COPY t TO '${path}' (FORMAT parquet, COMPRESSION ${duckCodecs[codec]})`);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return { seconds, bytes: sizeOf(path) };
  }

  const results = new Map();
  const add = (name, r) => { if (!results.has(name)) results.set(name, []); results.get(name).push(r); };
  for (let k = 0; k < REPEAT; k++) {
    for (const c of flowrunCases) add(c.name, runFlowrun(c, k));
    for (const codec of ['none', 'snappy', 'zstd']) {
      add(`duckdb 1 thread ${codec}`, await runDuck(codec, 1, k));
      add(`duckdb ${threads} threads ${codec}`, await runDuck(codec, threads, k));
    }
  }
  const summary = (name) => {
    const rs = results.get(name);
    const s = median(rs.map((r) => r.seconds));
    return { seconds: s, rowsPerSecond: ROWS / s, bytesPerRow: rs[0].bytes / ROWS };
  };
  console.log(`bench/sinks: ${ROWS} rows x ${WIDTH} float32, median of ${REPEAT}, ${cpus().length} CPUs (${cpus()[0].model})`);
  console.log('case                       rows/s     bytes/row');
  for (const name of results.keys()) {
    const s = summary(name);
    console.log(`${name.padEnd(24)} ${s.rowsPerSecond.toFixed(0).padStart(9)} ${s.bytesPerRow.toFixed(1).padStart(12)}`);
  }
  console.log('\nparquet-sink / DuckDB COPY, same codec: speed ratio (>1: flowrun faster), size ratio (<1: flowrun smaller)');
  for (const codec of ['none', 'snappy', 'zstd']) {
    const f = summary(`parquet-sink ${codec}`);
    for (const d of [`duckdb 1 thread ${codec}`, `duckdb ${threads} threads ${codec}`]) {
      const s = summary(d);
      console.log(`${codec.padEnd(7)} vs ${d.padEnd(24)} speed ${(f.rowsPerSecond / s.rowsPerSecond).toFixed(2)}  size ${(f.bytesPerRow / s.bytesPerRow).toFixed(3)}`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
