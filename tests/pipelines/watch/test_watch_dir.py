"""Watching dir-source: files written while the run goes on are read at a
later round, a file rewritten (new size and mtime) is read again with its
new version (on_change: reprocess) or not (on_change: ignore), and SIGTERM
ends the run with exit 0 and every record delivered.

Synchronisation: the debug lines `watch: round N listed: K new keys` (the
rounds found the files written), then one more round (a round begins only
once everything listed before was read)."""
import json
import os
import signal
import subprocess
import sys
import unittest
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests", "engine", "runtime"))
sys.path.insert(0, HERE)
from flowrun_test import FLOWRUN, FlowrunCase  # noqa: E402
from test_watch_s3 import WatchRun  # noqa: E402


class RoundWatch(WatchRun):
    def listed(self, new_keys):
        """Waits until the rounds' listings found new_keys new keys in all
        (each `watch: round N listed: K new keys` line adds K), then for one
        more round: a round begins once everything listed before was read."""
        found = 0
        while found < new_keys:
            found += int(self.wait_for("watch: round ").split("listed: ")[1].split()[0])
        self.wait_for("watch: round ")


class WatchDir(FlowrunCase):
    PIPELINE = """
name: watch-dir
state: $DIR/state-%(change)s
stages:
  files: {plugin: dir-source, path: $DIR/in, watch: 100ms, on_change: %(change)s}
  cap: {plugin: capture-sink, inputs: files, path: $DIR/out-%(change)s.jsonl}
"""

    def write(self, rel, text):
        path = self.path(os.path.join("in", rel))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def watch(self, change):
        for i in range(3):
            self.write(f"a/{i}.txt", f"first {i}")
        p = self.pipeline(self.PIPELINE % {"change": change}, f"{change}.yaml")
        run = RoundWatch(p, self.path("summary.json"), dict(os.environ,
                                                            XDG_STATE_HOME=self.state_home))
        run.listed(3)
        for i in range(3, 6):
            self.write(f"b/{i}.txt", f"second {i}")
        self.write("a/0.txt", "rewritten, longer")  # a new size: a new version
        run.listed(4 if change == "reprocess" else 3)
        self.assertEqual(run.stop(signal.SIGTERM), 0, run.stderr)
        records = self.lines(f"out-{change}.jsonl")
        return run, Counter(r["key"] for r in records), {r["id"] for r in records}

    def test_files_written_while_watching_are_read_rewritten_one_again(self):
        run, keys, ids = self.watch("reprocess")
        self.assertEqual(keys, Counter({"a/0.txt": 2, "a/1.txt": 1, "a/2.txt": 1, "b/3.txt": 1,
                                        "b/4.txt": 1, "b/5.txt": 1}))
        self.assertEqual(len([i for i in ids if i.startswith("files:a/0.txt@")]), 2)
        self.assertEqual(run.summary["records_in"], 7)
        self.assertEqual(run.summary["watch"]["keys_seen"], 7)
        self.assertIn("ending the input", run.stderr)

    def test_on_change_ignore_reads_a_rewritten_file_once(self):
        run, keys, _ = self.watch("ignore")
        self.assertEqual(keys, Counter({"a/0.txt": 1, "a/1.txt": 1, "a/2.txt": 1, "b/3.txt": 1,
                                        "b/4.txt": 1, "b/5.txt": 1}))
        self.assertEqual(run.summary["records_in"], 6)


class SentKeyDeleted(FlowrunCase):
    PIPELINE = """
name: watch-sent
state: $DIR/state
dead_letters: $DIR/dead.jsonl
stages:
  files: {plugin: dir-source, path: $DIR/in, watch: 100ms}
  dig:   {plugin: passthrough, inputs: files, digest: true}
  csv:   {plugin: csv-sink, inputs: dig, path: $DIR/csv, mode: append-parts, max_rows: 25}
"""

    def test_listed_key_sent_then_deleted_while_killed_is_a_dead_letter(self):
        # Killed (FLOWRUN_FAILPOINT) at the first commit, after SIGTERM: the
        # listed keys were sent, none done.  One is deleted meanwhile: the
        # restart's listing no longer finds it and nothing pushes it, so only
        # the source's journal of keys in flight brings it to a dead letter
        # instead of leaving it pending in the ledger forever.
        names = ["class-%d/%04d.jpg" % (i % 3, i) for i in range(40)]
        os.makedirs(self.path("in"))
        for name in names:
            os.makedirs(os.path.dirname(self.path("in/" + name)), exist_ok=True)
            with open(self.path("in/" + name), "w") as f:
                f.write("content of %s\n" % name)
        p = self.pipeline(self.PIPELINE, "p.yaml")
        env = dict(os.environ, XDG_STATE_HOME=self.state_home)
        first = RoundWatch(p, self.path("summary.json"),
                           dict(env, FLOWRUN_FAILPOINT="sink-commit:1"))
        first.wait_for("watch: round ")  # listed;
        first.wait_for("watch: round ")  # all of it sent
        first.proc.send_signal(signal.SIGTERM)  # its commit is killed by the failpoint
        self.assertEqual(first.proc.wait(timeout=300), -signal.SIGKILL)
        first.reader.join()
        self.assertIn("flowrun: failpoint sink-commit:1\n", list(iter(first.lines.get, None)))
        victim = sorted(names)[0]  # listed first: in the first part, sent
        os.unlink(self.path("in/" + victim))
        run = RoundWatch(p, self.path("summary.json"), env)
        run.wait_for(f"{victim} (version ")  # read again from the journal
        run.wait_for("dead-lettered")
        run.wait_for("watch: round ")  # the first round listed;
        run.wait_for("watch: round ")  # the next begins once all of it was read
        self.assertEqual(run.stop(signal.SIGTERM), 1, run.stderr)  # with a dead letter
        self.assertEqual([d["key"] for d in self.lines("dead.jsonl")], [victim])
        self.assertEqual((run.summary["dead_letters"], run.summary["unaccounted"]), (1, 0))
        with open(self.path("csv/_manifest.json")) as f:
            ids = [i for part in json.load(f)["parts"] for i in part["ids"]]
        self.assertEqual(sorted(i.split(":", 1)[1].rsplit("@", 1)[0] for i in ids),
                         sorted(set(names) - {victim}))


class MaxAgeFromUpload(FlowrunCase):
    """A sink's max_age counts from each row's upload (here a file's mtime),
    not from the row's arrival: with max_age 1h, a part holding a file
    written now waits, and a file modified two hours ago makes its part
    (with the young row) published at once. Synchronisation: the rounds'
    listings, then the sink's `published a part of 2 rows` (a part that
    waited for its hour would end the test by its timeout)."""

    PIPELINE = """
name: watch-upload-age
state: $DIR/state
stages:
  files: {plugin: dir-source, path: $DIR/in, watch: 100ms}
  decode: {plugin: jpeg-decode, inputs: files}
  rows: {plugin: csv-sink, inputs: decode, path: $DIR/parts, mode: append-parts, max_age: 1h}
"""

    def jpeg(self, name, age_seconds):
        from PIL import Image
        os.makedirs(self.path("in"), exist_ok=True)
        path = self.path(os.path.join("in", name))
        Image.new("RGB", (4, 4), (200, 10, 10)).save(path + ".tmp", "JPEG")
        if age_seconds:
            mtime = os.stat(path + ".tmp").st_mtime - age_seconds
            os.utime(path + ".tmp", (mtime, mtime))
        os.rename(path + ".tmp", path)

    def test_an_old_upload_publishes_its_part_at_once(self):
        os.makedirs(self.path("in"))
        p = self.pipeline(self.PIPELINE, "age.yaml")
        run = RoundWatch(p, self.path("summary.json"), dict(os.environ,
                                                            XDG_STATE_HOME=self.state_home))
        self.jpeg("young.jpg", 0)
        run.listed(1)
        self.jpeg("old.jpg", 7200)
        run.wait_for("published a part of 2 rows")
        with open(self.path("parts/_manifest.json")) as f:
            manifest = json.load(f)
        self.assertEqual([part["rows"] for part in manifest["parts"]], [2])
        self.assertEqual(run.stop(signal.SIGTERM), 0, run.stderr)
        self.assertEqual(run.summary["records_in"], 2)


if __name__ == "__main__":
    unittest.main()
