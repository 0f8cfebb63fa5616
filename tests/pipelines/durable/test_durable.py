"""Durable runs through the flowrun binary: a run killed with SIGKILL at
seeded random moments after `data flowing`, rerun until it exits 0, ends
with the output of an uninterrupted run (every key once); a damaged or
locked ledger and a changed configuration or model file are refused with
a clear message before data moves; append-parts sinks make a rerun after
a completed run incremental; --retry-dead; flowrun state."""
import csv
import fcntl
import glob
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests", "engine", "runtime"))
from flowrun_test import FLOWRUN, FlowrunCase  # noqa: E402

SEED = 20261204
SANITIZE = os.environ.get("FLOWRUN_SANITIZE") == "1"


def run_and_kill(args, delay, env):
    """Starts flowrun -v, waits for `data flowing` on its stderr, lets it run
    for delay seconds (the random moment; it may finish first), SIGKILLs it.
    Returns the exit code (-9 when killed)."""
    proc = subprocess.Popen([FLOWRUN, "-v", *args], stderr=subprocess.PIPE, text=True, env=env)
    for line in proc.stderr:
        if "data flowing" in line:
            break
    drain = threading.Thread(target=proc.stderr.read)  # keep its pipe from filling
    drain.start()
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    drain.join()
    proc.stderr.close()
    return proc.returncode


def csv_rows(folder):
    """Every row of the parts _manifest.json lists (the sink's committed
    output), as {key: row}; a key twice fails."""
    with open(os.path.join(folder, "_manifest.json")) as f:
        parts = json.load(f)["parts"]
    rows = {}
    for part in parts:
        with open(os.path.join(folder, part["file"]), newline="") as f:
            for row in csv.DictReader(f):
                assert row["key"] not in rows, "key %s written twice" % row["key"]
                rows[row["key"]] = row
    return rows


class Durable(FlowrunCase):
    def env(self):
        return {**os.environ, "XDG_STATE_HOME": self.state_home}

    def kill_until_done(self, pipeline, kills, longest):
        """kills random SIGKILLs (seeded), then reruns until exit 0."""
        rng = random.Random(SEED)
        codes = []
        for _ in range(kills):
            codes.append(run_and_kill([pipeline, "--no-progress"], rng.uniform(0, longest),
                                      self.env()))
        for _ in range(5):
            run = self.flowrun(pipeline, "--no-progress")
            if run.code == 0:
                return codes, run
        self.fail("no clean exit after the kills: %s\n%s" % (codes, run.stderr))

    GEN = """
name: durable-gen
state: $DIR/%s-state
dead_letters: $DIR/dead.jsonl
stages:
  gen:  {plugin: gen-source, count: %d, kind: tensor, size: 16}
  pass: {plugin: passthrough, inputs: gen}
  csv:  {plugin: csv-sink, inputs: pass, path: $DIR/%s, mode: append-parts, max_rows: 400}
  all:  {plugin: capture-sink, inputs: pass, path: $DIR/%s}
"""

    def test_kill_9_gen_source_then_rerun_equals_uninterrupted(self):
        count = 4000 if SANITIZE else 20000
        ref = self.pipeline(self.GEN % ("ref", count, "ref-csv", "ref.jsonl"), "ref.yaml")
        run = self.flowrun(ref)
        self.assertEqual(run.code, 0, run.stderr)
        p = self.pipeline(self.GEN % ("p", count, "csv", "all.jsonl"), "p.yaml")
        codes, run = self.kill_until_done(p, 8, run.summary["wall_seconds"])
        self.assertIn(-9, codes)  # at least one kill landed mid-run
        want = csv_rows(self.path("ref-csv"))
        self.assertEqual(len(want), count)
        self.assertEqual(csv_rows(self.path("csv")), want)
        lines = self.lines("all.jsonl")
        self.assertEqual(sorted(r["key"] for r in lines),
                         sorted(r["key"] for r in self.lines("ref.jsonl")))
        # capture-sink rewrites its file: after a completed run the next is a new full run;
        # csv-sink appends parts and acknowledges ids its manifest has, so nothing repeats.
        self.assertIn(run.summary["ledger"]["start"],
                      ("resumed", "new full run after a completed one"))
        state = subprocess.run([FLOWRUN, "state", p], capture_output=True, text=True)
        self.assertEqual(state.returncode, 0, state.stderr)
        self.assertRegex(state.stdout, r"gen +%d +0 +0 +0" % count)

    def make_files(self, folder, names):
        os.makedirs(folder, exist_ok=True)
        for name in names:
            path = os.path.join(folder, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write("content of %s\n" % name)

    DIR_PIPELINE = """
name: durable-dir
state: $DIR/%s-state
dead_letters: $DIR/dead.jsonl
stages:
  files: {plugin: dir-source, path: $DIR/data}
  dig:   {plugin: passthrough, inputs: files, digest: true}
  csv:   {plugin: csv-sink, inputs: dig, path: $DIR/%s, mode: append-parts, max_rows: 25}
"""

    def test_kill_9_dir_source_then_rerun_equals_uninterrupted(self):
        names = ["class-%d/%04d.jpg" % (i % 7, i) for i in range(400)]
        self.make_files(self.path("data"), names)
        ref = self.pipeline(self.DIR_PIPELINE % ("ref", "ref"), "ref.yaml")
        run = self.flowrun(ref)
        self.assertEqual(run.code, 0)
        p = self.pipeline(self.DIR_PIPELINE % ("p", "out"), "p.yaml")
        codes, _ = self.kill_until_done(p, 6, run.summary["wall_seconds"])
        self.assertIn(-9, codes)
        want = csv_rows(self.path("ref"))
        self.assertEqual(sorted(want), sorted(names))
        self.assertEqual(csv_rows(self.path("out")), want)

    def test_append_parts_rerun_reads_only_new_keys(self):
        self.make_files(self.path("data"), ["a/%03d.jpg" % i for i in range(100)])
        p = self.pipeline(self.DIR_PIPELINE % ("p", "out"), "p.yaml")
        run = self.flowrun(p)
        self.assertEqual((run.code, run.summary["records_in"]), (0, 100), run.stderr)
        self.make_files(self.path("data"), ["b/%03d.jpg" % i for i in range(50)])
        for i in range(10):
            os.unlink(self.path("data/a/%03d.jpg" % i))
        run = self.flowrun(p)
        self.assertEqual((run.code, run.summary["records_in"]), (0, 50), run.stderr)
        self.assertEqual(run.summary["ledger"]["start"], "incremental")
        self.assertEqual(run.summary["ledger"]["skipped_done"], 90)
        self.assertIn("incremental: 90 keys skipped", run.stderr)
        rows = csv_rows(self.path("out"))  # each key once over both runs' parts
        self.assertEqual(len(rows), 150)
        # A file rewritten in place is a new version: read again.
        with open(self.path("data/b/000.jpg"), "w") as f:
            f.write("new content, new size\n")
        run = self.flowrun(p)
        self.assertEqual((run.code, run.summary["records_in"]), (0, 1), run.stderr)
        self.assertEqual(run.summary["ledger"]["changed"], 1)

    SMALL = """
name: small
state: $DIR/state
dead_letters: $DIR/dead.jsonl
stages:
  gen:  {plugin: gen-source, count: 50}
  pass: {plugin: passthrough, inputs: gen%s}
  out:  {plugin: capture-sink, inputs: pass, path: $DIR/out.jsonl}
"""

    def test_damaged_ledger_is_refused_then_fresh_keeps_it_aside(self):
        p = self.pipeline(self.SMALL % "")
        self.assertEqual(self.flowrun(p).code, 0)
        with open(self.path("out.jsonl"), "rb") as f:
            before = f.read()
        db = self.path("state/ledger.db")
        with open(db, "r+b") as f:  # a torn write over the header and first pages
            f.write(os.urandom(8192))
        run = self.flowrun(p)
        self.assertEqual(run.code, 2, run.stderr)
        self.assertIn("ledger %s is damaged" % db, run.stderr)
        self.assertIn("sqlite3 %s .recover" % db, run.stderr)
        self.assertIn("--fresh", run.stderr)
        with open(self.path("out.jsonl"), "rb") as f:
            self.assertEqual(f.read(), before)  # nothing ran
        run = self.flowrun("run", "--fresh", p)
        self.assertEqual(run.code, 0, run.stderr)
        self.assertTrue(os.path.exists(db + ".damaged"))

    def test_truncated_ledger_is_refused(self):
        p = self.pipeline(self.SMALL % "")
        self.assertEqual(self.flowrun(p).code, 0)
        os.truncate(self.path("state/ledger.db"), 0)
        run = self.flowrun(p)
        self.assertEqual(run.code, 2, run.stderr)
        self.assertIn("is damaged (empty file)", run.stderr)

    def test_locked_ledger_names_the_holder(self):
        p = self.pipeline(self.SMALL % "")
        os.makedirs(self.path("state"))
        with open(self.path("state/lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            lock.write("4242\n")
            lock.flush()
            run = self.flowrun(p)
        self.assertEqual(run.code, 2, run.stderr)
        self.assertIn("is in use by another flowrun (pid 4242)", run.stderr)
        self.assertFalse(os.path.exists(self.path("out.jsonl")))

    def test_state_that_is_not_a_directory(self):
        p = self.pipeline(self.SMALL % "")
        with open(self.path("state"), "w") as f:
            f.write("a file")
        run = self.flowrun(p)
        self.assertEqual(run.code, 2, run.stderr)
        self.assertIn("cannot make the state directory %s" % self.path("state"), run.stderr)

    def position(self, pipeline, text):
        """line:col of the key text in the file."""
        with open(pipeline) as f:
            for n, line in enumerate(f, 1):
                if text in line:
                    return "%d:%d" % (n, line.index(text) + 1)
        self.fail(text)

    def test_changed_model_file_refuses_to_resume(self):
        with open(self.path("model.bin"), "wb") as f:
            f.write(b"weights v1" * 1000)
        p = self.pipeline(self.SMALL % ", file: $DIR/model.bin, fatal_after: 20")
        self.assertEqual(self.flowrun(p).code, 3)  # the run stopped: the next one resumes
        with open(self.path("model.bin"), "wb") as f:
            f.write(b"weights v2" * 1000)
        run = self.flowrun(p)
        self.assertEqual(run.code, 2, run.stderr)
        where = self.position(p, "file:")
        self.assertRegex(run.stderr, re.escape("%s:%s: pass.file content is \"" % (p, where)))
        self.assertIn("Continuing would mix results of two configurations", run.stderr)
        with open(self.path("model.bin"), "wb") as f:
            f.write(b"weights v1" * 1000)
        run = self.flowrun(p)  # the same model again: it resumes (and fails again on purpose)
        self.assertEqual(run.code, 3, run.stderr)
        self.assertEqual(run.summary["ledger"]["start"], "resumed")

    def test_changed_resize_filter_refuses_to_resume(self):
        from PIL import Image
        os.makedirs(self.path("img/x"))
        for i in range(30):
            Image.new("RGB", (40, 30), (i * 8, 100, 200)).save(self.path("img/x/%02d.jpg" % i))
        text = """
name: images
state: $DIR/state
dead_letters: $DIR/dead.jsonl
stages:
  files:  {plugin: dir-source, path: $DIR/img}
  decode: {plugin: jpeg-decode, inputs: files}
  resize: {plugin: resize-224, inputs: decode, width: 8, height: 8, filter: %s}
  pass:   {plugin: passthrough, inputs: resize, fatal_after: 10}
  out:    {plugin: capture-sink, inputs: pass, path: $DIR/out.jsonl}
"""
        p = self.pipeline(text % "bilinear")
        self.assertEqual(self.flowrun(p).code, 3)
        p = self.pipeline(text % "bicubic")
        run = self.flowrun(p)
        self.assertEqual(run.code, 2, run.stderr)
        self.assertIn('%s:%s: resize.filter is "bicubic", was "bilinear"'
                      % (p, self.position(p, "filter:")), run.stderr)
        self.assertFalse(os.path.exists(self.path("out.jsonl")))
        run = self.flowrun("run", "--fresh", p)  # starting over is allowed
        self.assertEqual(run.code, 3, run.stderr)
        self.assertEqual(run.summary["ledger"]["start"], "new run")

    def test_retry_dead_reads_dead_keys_again(self):
        p = self.pipeline(self.DIR_PIPELINE.replace("dig:   {plugin: passthrough, inputs: files, "
                                                    "digest: true}",
                                                    "dig:   {plugin: passthrough, inputs: files, "
                                                    "digest: true, reject_every: 5}") % ("p", "out"))
        self.make_files(self.path("data"), ["k-%02d" % i for i in range(20)])
        run = self.flowrun(p)
        self.assertEqual((run.code, run.summary["dead_letters"]), (1, 4), run.stderr)
        run = self.flowrun(p)  # completed, append-parts: nothing new, nothing failed now
        self.assertEqual((run.code, run.summary["records_in"]), (0, 0), run.stderr)
        self.assertEqual(len(self.lines("dead.jsonl")), 4)  # the ledger keeps them
        run = self.flowrun("run", "--retry-dead", p)
        self.assertEqual((run.code, run.summary["records_in"]), (1, 4), run.stderr)
        keys = subprocess.run([FLOWRUN, "state", "--keys=dead", p], capture_output=True,
                              text=True)
        self.assertEqual([line.split("\t")[1] for line in keys.stdout.splitlines()],
                         ["k-00", "k-05", "k-10", "k-15"])


if __name__ == "__main__":
    unittest.main()
