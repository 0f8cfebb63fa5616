// readback.mjs — parquet-sink output read back by DuckDB and hyparquet, both
// layouts, all codecs, 0, 1 and 100,000 rows, and rolled part files.
//     node readback.mjs SINK_WRITE
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkParquet, query } from '../lib/parquet/parquet-check.mjs';

const writer = process.argv[2];
const dir = mkdtempSync(join(tmpdir(), 'parquet-sink-'));
const meta = { 'flowrun.pipeline': '', createdBy: 'flowrun parquet-sink' };
let ok = true;
const run = (file, rows, width, config) =>
  execFileSync(writer, ['parquet-sink', `${rows}`, `${width}`, 'path', file, ...config], { stdio: 'inherit' });
try {
  let i = 0;
  for (const layout of ['columns', 'list'])
    for (const codec of ['none', 'snappy', 'zstd'])
      for (const rows of [0, 1, 500]) {
        const file = join(dir, `t${i++}.parquet`);
        run(file, rows, 4, ['layout', layout, 'compression', codec, 'model_version', 'true']);
        ok = (await checkParquet(file, { rows, width: rows ? 4 : 1, layout, codec, version: 1,
          createdBy: meta.createdBy })) && ok;
      }
  const big = join(dir, 'big.parquet');
  run(big, 100000, 8, ['row_group_bytes', '1MiB']);
  ok = (await checkParquet(big, { rows: 100000, width: 8, layout: 'columns', codec: 'zstd', version: 0, rowGroups: 4 })) && ok;

  // Rolling: 2,500 rows at max_rows 1,000 give three parts and a manifest.
  const parts = join(dir, 'parts');
  run(parts, 2500, 3, ['max_rows', '1000', 'compression', 'snappy']);
  const manifest = JSON.parse(readFileSync(join(parts, '_manifest.json'), 'utf8'));
  const files = manifest.parts.map((p) => p.file).join(',');
  if (files !== 'part-00000.parquet,part-00001.parquet,part-00002.parquet' ||
      manifest.parts.map((p) => p.rows).join(',') !== '1000,1000,500') {
    console.error(`manifest: ${JSON.stringify(manifest)}`);
    ok = false;
  }
  const [[n, distinct]] = await query(`SELECT count(*), count(DISTINCT key) FROM '${parts}/*.parquet'`);
  if (Number(n) !== 2500) { console.error(`parts hold ${n} rows`); ok = false; }
  void distinct;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(ok ? 'parquet-sink readback: all equal' : 'parquet-sink readback: FAILED');
process.exit(ok ? 0 : 1);
