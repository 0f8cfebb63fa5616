"""csv-sink and parquet-sink in a pipeline run by the flowrun binary:
gen-source (float tensors) fanned out to both sinks; every record in both
outputs with the right values, the summary's counts adding up; and a
SIGTERM in the middle of the run leaving no file under a final name."""
import csv
import json
import math
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests", "engine", "runtime"))
from flowrun_test import FLOWRUN, signal_when_flowing  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
COUNT, WIDTH, LABELS = 3000, 200, 4


def feature(n):
    """gen-source fills record n's payload with the byte n & 0xff."""
    return struct.unpack("<f", bytes([n & 0xFF]) * 4)[0]


class SinksPipeline(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pipeline-sinks-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def pipeline(self, count, parquet_extra=""):
        path = os.path.join(self.dir, "p.yaml")
        with open(path, "w") as f:
            f.write("""
name: sinks
dead_letters: {d}/dead.jsonl
stages:
  gen: {{plugin: gen-source, kind: tensor, size: {size}, count: {count}, labels: {labels}}}
  csv: {{plugin: csv-sink, inputs: gen, path: {d}/out.csv}}
  pq:  {{plugin: parquet-sink, inputs: gen, path: {d}/{pq}}}
""".format(d=self.dir, size=4 * WIDTH, count=count, labels=LABELS, pq=parquet_extra))
        return path

    def test_fan_out_to_both_sinks(self):
        p = self.pipeline(COUNT, "parts, max_rows: 1000, compression: snappy")
        summary = os.path.join(self.dir, "summary.json")
        run = subprocess.run([FLOWRUN, p, "--summary", summary], capture_output=True, text=True,
                             timeout=240)
        self.assertEqual(run.returncode, 0, run.stderr)
        with open(summary) as f:
            s = json.load(f)
        self.assertEqual((s["records_in"], s["records_done"], s["dead_letters"], s["unaccounted"]),
                         (COUNT, COUNT, 0, 0))
        self.assertEqual(s["status"], "delivered")
        self.assertEqual(s["stages"]["csv"]["committed"], COUNT)
        self.assertEqual(s["stages"]["pq"]["committed"], COUNT)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "dead.jsonl")))

        with open(os.path.join(self.dir, "out.csv"), newline="") as f:
            table = list(csv.reader(f, strict=True))
        self.assertEqual(table[0], ["key", "label"] + ["c%d" % i for i in range(WIDTH)])
        self.assertEqual(len(table), COUNT + 1)
        for row in table[1:]:
            n = int(row[0][4:])
            self.assertEqual(row[0], "rec-%06d" % n)
            self.assertEqual(row[1], "class-%d" % (n % LABELS))
            want = feature(n)
            if math.isnan(want):
                self.assertEqual(set(row[2:]), {"NaN"})
            else:
                self.assertEqual({struct.unpack("<f", struct.pack("<f", float(v)))[0]
                                  for v in row[2:]}, {want})
        self.assertEqual(sorted(int(r[0][4:]) for r in table[1:]), list(range(COUNT)))

        parts = os.path.join(self.dir, "parts")
        with open(os.path.join(parts, "_manifest.json")) as f:
            manifest = json.load(f)
        self.assertEqual([p["rows"] for p in manifest["parts"]], [1000, 1000, 1000])
        self.assertEqual(sorted(i for p in manifest["parts"] for i in p["ids"]),
                         sorted("gen:rec-%06d" % n for n in range(COUNT)))
        self.assertEqual(sorted(os.listdir(parts)), ["_manifest.json", "part-00000.parquet",
                                                     "part-00001.parquet", "part-00002.parquet"])
        check = subprocess.run(["node", os.path.join(HERE, "check_parquet.mjs"),
                                parts + "/*.parquet", str(COUNT), str(WIDTH), str(LABELS)],
                               capture_output=True, text=True, timeout=120)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertEqual(check.stdout.strip(), "ok %d" % COUNT)

    def test_sigterm_mid_run_leaves_no_file(self):
        for signo in (signal.SIGTERM, signal.SIGINT):
            p = self.pipeline(100000000, "out.parquet")
            code, rest = signal_when_flowing(p, signo, timeout=120)
            self.assertEqual(code, 4, rest)
            self.assertEqual(os.listdir(self.dir), ["p.yaml"])  # no final file, no temporary


if __name__ == "__main__":
    unittest.main()
