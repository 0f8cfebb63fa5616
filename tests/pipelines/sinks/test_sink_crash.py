"""Sinks killed inside their commit, then the same command run again: the
output holds every record exactly once (the manifests know what was
committed; without a ledger the source sends everything again and the sinks
acknowledge what they hold instead of writing it twice).  The kill comes
from FLOWRUN_FAILPOINT (HACKING.md) at every publishing step of a run:
before each part, before each manifest, and between a manifest and the
acknowledgement.  Also: a stopped run publishes none of its parts, and
overwrite keeps the previous output until the new one is committed."""
import csv
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests", "engine", "runtime"))
from flowrun_test import FLOWRUN, signal_when_flowing  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
COUNT, WIDTH, LABELS = 250, 8, 3
CSV_PARTS, PQ_PARTS = 7, 5  # 250 rows in parts of 40 and of 60
KEYS = ["rec-%06d" % n for n in range(COUNT)]


class SinkCrash(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sink-crash-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def pipeline(self, count=COUNT, mode="append-parts"):
        path = os.path.join(self.dir, "p.yaml")
        with open(path, "w") as f:
            f.write("""
name: crash
state: {d}/state
dead_letters: {d}/dead.jsonl
stages:
  gen: {{plugin: gen-source, kind: tensor, size: {size}, count: {count}, labels: {labels}}}
  csv: {{plugin: csv-sink, inputs: gen, path: {d}/csv, max_rows: 40, mode: {mode}}}
  pq:  {{plugin: parquet-sink, inputs: gen, path: {d}/pq, max_rows: 60, mode: {mode}}}
""".format(d=self.dir, size=4 * WIDTH, count=count, labels=LABELS, mode=mode))
        return path

    def run_flowrun(self, failpoint=None, expect=0):
        env = dict(os.environ)
        env.pop("FLOWRUN_FAILPOINT", None)
        if failpoint:
            env["FLOWRUN_FAILPOINT"] = failpoint
        summary = os.path.join(self.dir, "summary.json")
        if os.path.exists(summary):
            os.unlink(summary)
        run = subprocess.run([FLOWRUN, self.pipeline(), "--summary", summary], env=env,
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, expect, run.stderr)
        if failpoint:
            self.assertIn("flowrun: failpoint " + failpoint, run.stderr)
        return summary

    def manifest_ids(self, folder):
        with open(os.path.join(self.dir, folder, "_manifest.json")) as f:
            m = json.load(f)
        listed = sorted(p["file"] for p in m["parts"])
        self.assertEqual(sorted(os.listdir(os.path.join(self.dir, folder))),
                         ["_manifest.json"] + listed, "only the listed parts, no leftovers")
        return sorted(i for p in m["parts"] for i in p["ids"])

    def check_exactly_once(self):
        ids = ["gen:" + k for k in KEYS]
        self.assertEqual(self.manifest_ids("csv"), ids)
        self.assertEqual(self.manifest_ids("pq"), ids)
        keys = []
        for part in sorted(glob.glob(os.path.join(self.dir, "csv", "part-*.csv"))):
            with open(part, newline="") as f:
                keys += [row[0] for row in list(csv.reader(f))[1:]]
        self.assertEqual(sorted(keys), KEYS)
        check = subprocess.run(["node", os.path.join(HERE, "check_parquet.mjs"),
                                os.path.join(self.dir, "pq", "*.parquet"), str(COUNT), str(WIDTH),
                                str(LABELS)], capture_output=True, text=True, timeout=120)
        self.assertEqual(check.stdout.strip(), "ok %d" % COUNT, check.stderr)

    def test_killed_at_every_publishing_step_then_rerun(self):
        # Each sink publishes its parts, then its manifest: CSV_PARTS + 1 and
        # PQ_PARTS + 1 passes, counted per sink plugin; the first sink to
        # reach the n-th kills the run.
        steps = ["sink-commit:%d" % n for n in range(1, max(CSV_PARTS, PQ_PARTS) + 2)]
        steps += ["sink-ack:1"]
        for step in steps:
            with self.subTest(step=step):
                for folder in ("csv", "pq", "state"):  # a new run from nothing
                    shutil.rmtree(os.path.join(self.dir, folder), ignore_errors=True)
                self.run_flowrun(step, expect=-signal.SIGKILL)
                summary = self.run_flowrun()
                self.check_exactly_once()
                with open(summary) as f:
                    s = json.load(f)
                self.assertEqual((s["records_in"], s["dead_letters"], s["unaccounted"]),
                                 (COUNT, 0, 0))
                self.assertEqual(s["stages"]["csv"]["committed"], COUNT)
                self.assertEqual(s["stages"]["pq"]["committed"], COUNT)

    def test_ack_lost_then_rerun_writes_nothing_again(self):
        # Killed after a sink's manifest listed all its parts but before the
        # engine heard: the rerun acknowledges every record from that
        # manifest and writes no new part there.
        self.run_flowrun("sink-ack:1", expect=-signal.SIGKILL)
        complete = [f for f in ("csv", "pq")
                    if os.path.exists(os.path.join(self.dir, f, "_manifest.json"))]
        self.assertTrue(complete)
        before = {f: sorted(os.listdir(os.path.join(self.dir, f))) for f in complete}
        summary = self.run_flowrun()
        with open(summary) as f:
            s = json.load(f)
        for f in complete:
            self.assertEqual(s["stages"][f]["metrics"]["duplicates_skipped"], COUNT)
            self.assertEqual(sorted(os.listdir(os.path.join(self.dir, f))), before[f])
        self.check_exactly_once()

    def stop_mid_run(self, mode):
        p = self.pipeline(count=100000000, mode=mode)
        code, rest = signal_when_flowing(p, signal.SIGTERM, timeout=120)
        self.assertEqual(code, 4, rest)

    def test_stopped_run_publishes_no_part(self):
        self.stop_mid_run("append-parts")
        for folder in ("csv", "pq"):
            self.assertEqual(os.listdir(os.path.join(self.dir, folder)), [])

    def snapshot(self, folder):
        out = {}
        for name in os.listdir(os.path.join(self.dir, folder)):
            with open(os.path.join(self.dir, folder, name), "rb") as f:
                out[name] = f.read()
        return out

    def test_overwrite_keeps_the_old_output_until_the_new_commits(self):
        self.run_flowrun()
        before = {f: self.snapshot(f) for f in ("csv", "pq")}
        self.stop_mid_run("overwrite")
        for f in ("csv", "pq"):
            self.assertEqual(self.snapshot(f), before[f])

if __name__ == "__main__":
    unittest.main()
