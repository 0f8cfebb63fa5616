"""Watching s3-source over the local radosgw (ctest fixture s3_server).

A watching run lists its prefix every period and reads what the ledger has
not seen; the test uploads while it runs and follows it on its stderr (the
debug lines `published a part of N rows` and `watch: round N listed`, and
the sinks' manifests they announce), never on time:

- three waves while it runs, SIGTERM (exit 0, everything committed), a wave
  while it is stopped, a restart, a wave and SIGKILL once a part of it is
  out, a restart: every object is in the CSV and in the Parquet output once
  (read back by DuckDB), the object overwritten in wave 2 twice, one row per
  ETag, each row carrying its version;
- an object deleted between its listing and its GET (the proxy holds the
  GET until the test deleted it) is a dead letter naming it, and the run
  goes on;
- 20,000 tiny objects: listed a page at a time (the base never holds more
  than two pages waiting), each read once across two rounds, peak RSS
  bounded.
"""
import io
import json
import os
import queue
import random
import re
import resource
import signal
import subprocess
import sys
import threading
import unittest
import urllib.parse
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests", "engine", "runtime"))
sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests", "plugins", "lib", "s3"))
sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests", "pipelines", "s3"))
from flowrun_test import FLOWRUN, FlowrunCase  # noqa: E402
from s3pipe import Proxy  # noqa: E402
from s3test import boto, md5, new_bucket, put_many, server_env  # noqa: E402

SEED = 20261205
SANITIZE = os.environ.get("FLOWRUN_SANITIZE", "0") in ("1", "ON", "TRUE", "true")


class WatchRun:
    """flowrun -v on a watching pipeline; its stderr lines in a queue."""

    def __init__(self, pipeline, summary, env):
        self.summary_path = summary
        if os.path.exists(summary):
            os.unlink(summary)
        self.proc = subprocess.Popen([FLOWRUN, "-v", pipeline, "--no-progress",
                                      "--summary", summary],
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.lines = queue.Queue()
        self.log = []    # every line read so far
        self.cursor = 0  # wait_for looks from here on
        self.reader = threading.Thread(target=self._read)
        self.reader.start()
        self.wait_for("data flowing")
        self.cursor = 0  # the sources' first lines may come before it: later waits see them

    def _read(self):
        for line in self.proc.stderr:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, text, timeout=300):
        """The next stderr line containing text; fails if the run ends first."""
        while True:
            if self.cursor == len(self.log):
                line = self.lines.get(timeout=timeout)
                if line is None:
                    raise AssertionError("flowrun ended waiting for %r:\n%s"
                                         % (text, "".join(self.log)))
                self.log.append(line)
            line = self.log[self.cursor]
            self.cursor += 1
            if text in line:
                return line

    def wait_committed(self, objects, folders):
        """Until every (key, etag) of objects is committed in every folder
        (its _manifest.json), re-reading them at each published part."""
        want = {"images:%s@%s" % kv for kv in objects}
        while not all(want <= set(manifest_ids(f)) for f in folders):
            self.wait_for("published a part")

    def stop(self, sig):
        self.proc.send_signal(sig)
        self.proc.wait(timeout=300)
        self.reader.join()
        self.proc.stderr.close()
        while True:
            line = self.lines.get()
            if line is None:
                break
            self.log.append(line)
        self.stderr = "".join(self.log)
        self.summary = None
        if sig != signal.SIGKILL:
            with open(self.summary_path) as f:
                self.summary = json.load(f)
        return self.proc.returncode


def manifest_ids(folder):
    path = os.path.join(folder, "_manifest.json")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [i for part in json.load(f)["parts"] for i in part["ids"]]


def part_files(folder):
    with open(os.path.join(folder, "_manifest.json")) as f:
        return [os.path.join(folder, p["file"]) for p in json.load(f)["parts"]]


def duckdb_rows(kind, folder):
    """(key, version) of every row of the folder's committed parts, by DuckDB."""
    r = subprocess.run(["node", os.path.join(HERE, "rows.mjs"), kind, *part_files(folder)],
                       capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr
    return Counter(tuple(json.loads(line)) for line in r.stdout.splitlines())


def jpeg(rng):
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (40, 24), tuple(rng.randrange(256) for _ in range(3))).save(buf, "JPEG")
    return buf.getvalue()


class WatchS3(FlowrunCase):
    PIPELINE = """
name: watch-s3
state: $DIR/state
dead_letters: $DIR/dead.jsonl
stages:
  images: {plugin: s3-source, url: "s3://%s/Uploads/", suffix: .jpg, concurrency: 8,
           watch: 300ms}
  decode: {plugin: jpeg-decode, inputs: images}
  resize: {plugin: resize-224, inputs: decode, width: 4, height: 4}
  csv:    {plugin: csv-sink, inputs: resize, path: $DIR/csv, mode: append-parts,
           max_age: 200ms, version_column: true}
  pq:     {plugin: parquet-sink, inputs: resize, path: $DIR/pq, mode: append-parts,
           max_age: 200ms, version_column: true}
"""

    def setUp(self):
        super().setUp()
        self.s3 = boto()
        self.rng = random.Random(SEED)
        self.env = {**server_env(), "XDG_STATE_HOME": self.state_home}

    def upload(self, bucket, names):
        """Uploads a JPEG under each name; returns [(key, etag)]."""
        objects = {"Uploads/class-%d/%s.jpg" % (i % 3, n): jpeg(self.rng)
                   for i, n in enumerate(names)}
        put_many(self.s3, bucket, objects)
        return [(k, md5(v)) for k, v in objects.items()]

    def start(self, pipeline):
        return WatchRun(pipeline, self.path("summary.json"), self.env)

    def test_waves_sigterm_restart_kill9_every_object_once(self):
        bucket = new_bucket(self.s3, "watch")
        p = self.pipeline(self.PIPELINE % bucket)
        folders = [self.path("csv"), self.path("pq")]
        run = self.start(p)
        uploaded = []
        for wave in range(3):
            objects = self.upload(bucket, ["w%d-%02d" % (wave, i) for i in range(8)])
            if wave == 1:  # an object of wave 0 overwritten: new content, new ETag
                again = {uploaded[0][0]: jpeg(self.rng)}
                put_many(self.s3, bucket, again)
                objects += [(k, md5(v)) for k, v in again.items()]
            uploaded += objects
            run.wait_committed(objects, folders)
        self.assertEqual(run.stop(signal.SIGTERM), 0, run.stderr)
        self.assertIn("ending the input", run.stderr)
        self.assertEqual(run.summary["records_in"], 25)

        stopped = self.upload(bucket, ["stopped-%02d" % i for i in range(6)])
        uploaded += stopped
        run = self.start(p)
        run.wait_committed(stopped, folders)
        killed = self.upload(bucket, ["killed-%02d" % i for i in range(30)])
        uploaded += killed
        run.wait_committed(killed[:1], folders[:1])  # a part of the wave is out: kill mid-wave
        self.assertEqual(run.stop(signal.SIGKILL), -signal.SIGKILL)

        run = self.start(p)
        run.wait_committed(killed, folders)
        self.assertEqual(run.stop(signal.SIGTERM), 0, run.stderr)

        want = Counter(uploaded)
        self.assertEqual(len(want), 8 * 3 + 1 + 6 + 30)
        self.assertEqual(duckdb_rows("csv", self.path("csv")), want)
        self.assertEqual(duckdb_rows("parquet", self.path("pq")), want)
        overwritten = [v for k, v in want if k == uploaded[0][0]]
        self.assertEqual(len(set(overwritten)), 2, "one row per ETag of the overwritten object")

    def test_object_deleted_before_its_get_is_a_dead_letter(self):
        bucket = new_bucket(self.s3, "watchdel")
        p = self.pipeline(self.PIPELINE % bucket)
        objects = self.upload(bucket, ["a", "b", "c"])
        victim = objects[1][0]
        path = f"/{bucket}/" + urllib.parse.quote(victim, safe="/-_.~")
        proxy = Proxy(self.env["AWS_ENDPOINT_URL"],
                      [{"match": "^" + re.escape(f"GET {path}") + "$", "fault": "pause"}])
        try:
            self.env["AWS_ENDPOINT_URL"] = proxy.endpoint
            run = self.start(p)
            proxy.wait_for("fault pause")  # listed, and its GET is on its way
            self.s3.delete_object(Bucket=bucket, Key=victim)
            proxy.resume()
            # not found: tried again (gone_retries, 3 by default), then dead-lettered
            for retry in (1, 2, 3):
                run.wait_for(f"not found at its GET (retry {retry} of 3")
            run.wait_for("dead-lettered")
            others = [o for o in objects if o[0] != victim]
            run.wait_committed(others, [self.path("csv"), self.path("pq")])
            code = run.stop(signal.SIGTERM)
        finally:
            proxy.stop()
        self.assertEqual(code, 1, run.stderr)  # completed, with a dead letter
        dead = self.lines("dead.jsonl")
        self.assertEqual([d["key"] for d in dead], [victim])
        self.assertIn("deleted since listed", dead[0]["reason"])
        self.assertIn("3 retries", dead[0]["reason"])
        self.assertIn(f"s3://{bucket}/{victim}", dead[0]["reason"])
        self.assertEqual(duckdb_rows("csv", self.path("csv")), Counter(others))

    MANY = 2000 if SANITIZE else 20000

    def test_many_objects_listed_a_page_at_a_time_each_read_once(self):
        bucket = new_bucket(self.s3, "watchmany")
        put_many(self.s3, bucket, {"many/%05d.txt" % i: b"x" for i in range(self.MANY)})
        p = self.pipeline("""
name: watch-many
state: $DIR/state
stages:
  objects: {plugin: s3-source, url: "s3://%s/many/", watch: 200ms}
  sink: {plugin: null-sink, inputs: objects}
""" % bucket)
        run = self.start(p)
        # Round 1 reads everything; round 2 begins only once nothing is
        # waiting or in flight, and must find nothing new.
        run.wait_for("watch: round 2 listed")
        self.assertEqual(run.stop(signal.SIGTERM), 0, run.stderr)
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        stage = run.summary["stages"]["objects"]
        metrics = stage.get("metrics", stage)
        self.assertEqual(run.summary["records_in"], self.MANY)
        self.assertEqual(metrics["keys_seen"], self.MANY)
        # Another page is listed while fewer than a page wait: two pages at most, never the
        # bucket (a listing held whole would wait with every key).
        self.assertLess(metrics["waiting_peak"], 2000)
        self.assertLess(peak_kib, 256 * 1024, "peak RSS %d KiB" % peak_kib)
        done = subprocess.run([FLOWRUN, "state", "--keys=done", p], capture_output=True,
                              text=True, env=self.env, timeout=120)
        keys = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("objects")]
        self.assertEqual(len(keys), self.MANY, done.stdout[-2000:] + done.stderr)
        self.assertEqual(len(set(keys)), self.MANY)


if __name__ == "__main__":
    unittest.main()
