// readback.mjs — flowrun-parquet files read back by DuckDB and hyparquet:
// both layouts, all codecs, 0, 1, a few thousand and 100,000 rows.
//     node readback.mjs PQ_WRITE
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkParquet } from './parquet-check.mjs';

const writer = process.argv[2];
const dir = mkdtempSync(join(tmpdir(), 'pq-readback-'));
const cases = [];
for (const layout of ['columns', 'list'])
  for (const codec of ['none', 'snappy', 'zstd']) {
    cases.push({ rows: 1, width: 5, layout, codec, version: 1 });
    cases.push({ rows: 3000, width: 3, layout, codec, version: layout === 'list' ? 1 : 0 });
  }
cases.push({ rows: 0, width: 4, layout: 'columns', codec: 'zstd', version: 1 });
cases.push({ rows: 0, width: 4, layout: 'list', codec: 'none', version: 0 });
cases.push({ rows: 100000, width: 8, layout: 'columns', codec: 'zstd', version: 1, rowGroups: 4, rgBytes: 1 << 20 });
cases.push({ rows: 100000, width: 8, layout: 'list', codec: 'snappy', version: 1, rowGroups: 4, rgBytes: 1 << 20 });

let ok = true;
try {
  for (const [i, c] of cases.entries()) {
    const file = join(dir, `case${i}.parquet`);
    execFileSync(writer, [file, c.layout, c.codec, `${c.rows}`, `${c.width}`, `${c.rgBytes ?? 1 << 26}`, `${c.version}`]);
    ok = (await checkParquet(file, { ...c, createdBy: 'flowrun test',
      metadata: { 'flowrun.pipeline': 'test', 'flowrun.note': 'a "quoted" value' } })) && ok;
  }
  // The checks must catch a wrong value: features shifted by one row.
  const file = join(dir, 'skewed.parquet');
  execFileSync(writer, [file, 'columns', 'none', '3', '2', `${1 << 20}`, '0', '1']);
  const caught = !(await checkParquet(file, { rows: 3, width: 2, layout: 'columns', codec: 'none', version: 0 }));
  console.log(caught ? 'readback: the skewed file was caught (expected)' : 'readback: skewed file NOT caught');
  ok = caught && ok;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(ok ? 'readback: all cases equal' : 'readback: FAILED');
process.exit(ok ? 0 : 1);
