"""csv-sink output read back independently: Python's csv module (RFC 4180),
gzip, and an exact decimal -> float32 rounding (fractions), so every feature
is checked to the bit.  The rows are tests/plugins/lib/parquet/testdata.h's,
recomputed here.  The checker is shown to catch a value printed with too few
digits and a key whose quotes were lost.
    test_csv.py SINK_WRITE"""
import csv
import gzip
import io
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
from fractions import Fraction

WRITER = sys.argv.pop(1) if len(sys.argv) > 1 else os.environ.get("SINK_WRITE")
M32 = 0xFFFFFFFF


def feature_bits(row, col):  # testdata_bits()
    x = ((row * 2654435761) & M32) ^ ((col * 40503 + 0x9E3779B9) & M32)
    for _ in range(3):
        x ^= (x << 13) & M32
        x ^= x >> 17
        x ^= (x << 5) & M32
    if x & 0x7F800000 == 0x7F800000:
        x &= ~0x40000000 & M32
    if row == 1 and col == 0:
        x = 0x80000000
    return x


def key(row):
    if row % 7 == 3:
        return 'dir,with "quotes"\nand newline/%d.jpg' % row
    if row % 11 == 5:
        return "Früchte/日本/%d.jpg" % row
    return "Training/Apple/%d.jpg" % row


def label(row):
    return "" if row % 13 == 6 else "Apple %d" % (row % 5)


def version(row):
    return None if row % 3 == 0 else row + 1000000000000


def f32_value(bits):
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def f32_bits_of_decimal(text):
    """The float32 nearest to the decimal text (ties to even), computed with
    exact rationals: no double rounding through a float64."""
    neg = text.startswith("-")
    exact = abs(Fraction(text))
    if exact == 0:
        return 0x80000000 if neg else 0
    guess = struct.unpack("<I", struct.pack("<f", float(exact)))[0]
    best = None
    for bits in (guess - 1, guess, guess + 1):
        if bits < 0 or bits >= 0x7F800000:
            continue
        err = abs(Fraction(f32_value(bits)) - exact)
        if best is None or err < best[0] or (err == best[0] and bits % 2 == 0):
            best = (err, bits)
    return best[1] | (0x80000000 if neg else 0)


def check_rows(text, rows, width, prefix="c", with_version=False):
    """Returns a list of mismatches (empty when every value is right)."""
    bad = []
    if not text.endswith("\r\n"):
        bad.append("the file does not end with CRLF")
    table = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    header = ["key", "label"] + ["%s%d" % (prefix, c) for c in range(width)]
    header += ["model_version"] if with_version else []
    if table[:1] != [header]:
        bad.append("header %r" % table[:1])
    if len(table) != rows + 1:
        bad.append("%d rows, want %d" % (len(table) - 1, rows))
    for r, line in enumerate(table[1:rows + 1]):
        if len(line) != len(header):
            bad.append("row %d: %d fields" % (r, len(line)))
            continue
        if line[0] != key(r) or line[1] != label(r):
            bad.append("row %d: key/label %r %r" % (r, line[0], line[1]))
        for c in range(width):
            if f32_bits_of_decimal(line[2 + c]) != feature_bits(r, c):
                bad.append("row %d col %d: %s is not %08x" % (r, c, line[2 + c], feature_bits(r, c)))
        if with_version:
            want = version(r)
            if line[-1] != ("" if want is None else str(want)):
                bad.append("row %d: model_version %r" % (r, line[-1]))
    return bad[:10]


class CsvSink(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="csv-sink-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, name, rows, width, *config):
        path = os.path.join(self.dir, name)
        subprocess.run([WRITER, "csv-sink", str(rows), str(width), "path", path, *config],
                       check=True)
        return path

    def test_values_quoting_and_float_round_trip(self):
        for rows, width in ((0, 3), (1, 5), (2000, 7)):
            path = self.write("plain-%d.csv" % rows, rows, width, "model_version", "true")
            with open(path, encoding="utf-8", newline="") as f:
                text = f.read()
            # with 0 rows the width is the declared type's, here "*": 1
            self.assertEqual(check_rows(text, rows, width if rows else 1, with_version=True), [])
        # RFC 4180: the field quoted, its quotes doubled, its LF kept as is
        self.assertIn('\r\n"dir,with ""quotes""\nand newline/3.jpg",', text)

    def test_column_prefix(self):
        path = self.write("prefix.csv", 10, 3, "column_prefix", "pc")
        with open(path, encoding="utf-8", newline="") as f:
            self.assertEqual(check_rows(f.read(), 10, 3, prefix="pc"), [])

    def test_gzip(self):
        plain = self.write("p.csv", 500, 4)
        for level in ("1", "9"):
            gz = self.write("g%s.csv.gz" % level, 500, 4, "gzip", "true", "gzip_level", level)
            with open(plain, "rb") as f, gzip.open(gz, "rb") as g:
                self.assertEqual(g.read(), f.read())
        parts = self.write("gz-parts", 250, 2, "gzip", "true", "max_rows", "100")
        names = sorted(os.listdir(parts))
        self.assertEqual(names, ["_manifest.json", "part-00000.csv.gz", "part-00001.csv.gz",
                                 "part-00002.csv.gz"])
        text = ""
        for name in names[1:]:
            with gzip.open(os.path.join(parts, name), "rt", encoding="utf-8", newline="") as g:
                body = g.read()
                text += body if not text else body.split("\r\n", 1)[1]
        self.assertEqual(check_rows(text, 250, 2), [])
        with open(os.path.join(parts, "_manifest.json")) as f:
            manifest = json.load(f)
        self.assertEqual([p["rows"] for p in manifest["parts"]], [100, 100, 50])
        self.assertEqual(manifest["parts"][2]["ids"], ["src:%d" % i for i in range(200, 250)])

    def test_checker_catches_bugs(self):
        path = self.write("bug.csv", 20, 3)
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
        self.assertEqual(check_rows(text, 20, 3), [])
        # a value printed with %.6g (too few digits to round-trip)
        first = text.split("\r\n")[1].split(",")[2]
        short = "%.6g" % float(first)
        self.assertNotEqual(f32_bits_of_decimal(short), f32_bits_of_decimal(first))
        self.assertNotEqual(check_rows(text.replace("," + first + ",", "," + short + ",", 1),
                                       20, 3), [])
        # a key whose quotes were lost
        lost = text.replace('"dir,with ""quotes""', 'dir,with "quotes"', 1)
        self.assertNotEqual(check_rows(lost, 20, 3), [])


if __name__ == "__main__":
    unittest.main()
