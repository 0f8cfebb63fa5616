// testdata.mjs — the same rows as testdata.h, computed independently in JS,
// and the comparison helpers the reader checks share.
export function featureBits(row, col) {
  let x = (Math.imul(row, 2654435761) ^ ((Math.imul(col, 40503) + 0x9e3779b9) | 0)) >>> 0;
  for (let i = 0; i < 3; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
  }
  if ((x & 0x7f800000) >>> 0 === 0x7f800000) x = (x & ~0x40000000) >>> 0;
  if (row === 1 && col === 0) x = 0x80000000;
  return x;
}

export function key(row) {
  if (row % 7 === 3) return `dir,with "quotes"\nand newline/${row}.jpg`;
  if (row % 11 === 5) return `Früchte/日本/${row}.jpg`;
  return `Training/Apple/${row}.jpg`;
}

export function label(row) {
  return row % 13 === 6 ? '' : `Apple ${row % 5}`;
}

export function version(row) {
  return row % 3 === 0 ? null : BigInt(row) + 1000000000000n;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
export function bitsOf(number) {
  f32[0] = number;
  return u32[0];
}

// Collects mismatches (at most a few, then a count) instead of stopping at
// the first, so one run shows what is wrong.
export class Mismatches {
  constructor(what) { this.what = what; this.list = []; this.count = 0; }
  expect(cond, message) {
    if (cond) return;
    this.count++;
    if (this.list.length < 10) this.list.push(message);
  }
  report() {
    if (!this.count) return true;
    console.error(`${this.what}: ${this.count} mismatches:\n  ` + this.list.join('\n  '));
    return false;
  }
}
