// readers.mjs — the npm readers flowrun's tests use, re-exported from here so
// a test anywhere in the tree imports them by this file's path (package
// resolution starts next to node_modules):
//   const r = await import(pathToFileURL(`${process.env.FLOWRUN_SOURCE_DIR}/tools/deps/npm/readers.mjs`));
export { DuckDBInstance } from '@duckdb/node-api';
export { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
export { compressors } from 'hyparquet-compressors';
