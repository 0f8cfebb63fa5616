// query.mjs PARQUET — the demo's last word: DuckDB reading flowrun's Parquet
// output with SQL, as a data team would.
import { DuckDBInstance } from '../deps/npm/readers.mjs';

const file = process.argv[2];
const sql = `
  SELECT label, count(*) AS images,
         round(avg(c0), 2) AS mean_pc1, round(avg(c1), 2) AS mean_pc2
  FROM read_parquet('${file.replaceAll("'", "''")}')
  GROUP BY label ORDER BY images DESC, label LIMIT 8`;
const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
const total = await conn.runAndReadAll(
  `SELECT count(*) AS n, count(DISTINCT label) AS labels FROM read_parquet('${file.replaceAll("'", "''")}')`);
const [n, labels] = total.getRows()[0];
console.log(`DuckDB: ${n} rows, ${labels} labels in ${file}`);
console.log(sql.trim().replace(/\n\s+/g, '\n  '));
const result = await conn.runAndReadAll(sql);
const columns = result.columnNames();
const rows = result.getRows().map((r) => r.map(String));
const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
console.log(line(columns));
for (const r of rows) console.log(line(r));
