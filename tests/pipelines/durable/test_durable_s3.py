"""Durable runs over the local radosgw (ctest fixture s3_server): 300
generated JPEGs read by s3-source, decoded and resized, written by csv-sink
and parquet-sink (append-parts, rolling parts); the run is killed with
SIGKILL at seeded random moments after `data flowing` and rerun until it
exits 0; the final outputs equal an uninterrupted run's (every key once,
same values), and a second rerun reads nothing."""
import io
import json
import os
import random
import sys
import unittest

sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests", "engine", "runtime"))
sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests", "plugins", "lib", "s3"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from flowrun_test import FlowrunCase  # noqa: E402
from s3test import boto, new_bucket, put_many, server_env  # noqa: E402
from test_durable import SEED, csv_rows, run_and_kill  # noqa: E402

IMAGES = 300


def manifest_ids(folder):
    """The ids the parts of folder hold, from _manifest.json; twice fails."""
    with open(os.path.join(folder, "_manifest.json")) as f:
        ids = [i for part in json.load(f)["parts"] for i in part["ids"]]
    assert len(ids) == len(set(ids)), "an id committed twice"
    return sorted(ids)


class DurableS3(FlowrunCase):
    @classmethod
    def setUpClass(cls):
        from PIL import Image
        cls.s3 = boto()
        cls.bucket = new_bucket(cls.s3, "durable")
        rng = random.Random(SEED)
        objects = {}
        for i in range(IMAGES):
            img = Image.new("RGB", (48, 32), tuple(rng.randrange(256) for _ in range(3)))
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=90)
            objects["Training/class-%d/%03d.jpg" % (i % 5, i)] = buf.getvalue()
        put_many(cls.s3, cls.bucket, objects)

    PIPELINE = """
name: durable-s3
state: $DIR/%s-state
dead_letters: $DIR/%s-dead.jsonl
stages:
  images: {plugin: s3-source, url: "s3://%s/Training/", suffix: .jpg, concurrency: 8}
  decode: {plugin: jpeg-decode, inputs: images}
  resize: {plugin: resize-224, inputs: decode, width: 4, height: 4}
  dig:    {plugin: passthrough, inputs: resize, digest: true}
  csv:    {plugin: csv-sink, inputs: dig, path: $DIR/%s-csv, mode: append-parts, max_rows: 20}
  pq:     {plugin: parquet-sink, inputs: dig, path: $DIR/%s-pq, mode: append-parts, max_rows: 30}
"""

    def test_kill_9_over_radosgw_then_rerun_equals_uninterrupted(self):
        env = {**server_env(), "XDG_STATE_HOME": self.state_home}
        ref = self.pipeline(self.PIPELINE % (("ref",) * 2 + (self.bucket,) + ("ref",) * 2),
                            "ref.yaml")
        run = self.flowrun(ref, env=env)
        self.assertEqual(run.code, 0, run.stderr)
        p = self.pipeline(self.PIPELINE % (("p",) * 2 + (self.bucket,) + ("p",) * 2), "p.yaml")
        rng = random.Random(SEED)
        # Kill moments within an uninterrupted run's length, so they land mid-run.
        longest = run.summary["wall_seconds"]
        codes = [run_and_kill([p, "--no-progress"], rng.uniform(0, longest), env)
                 for _ in range(5)]
        self.assertIn(-9, codes)
        for _ in range(5):
            run = self.flowrun(p, "--no-progress", env=env)
            if run.code == 0:
                break
        self.assertEqual(run.code, 0, "%s\n%s" % (codes, run.stderr))
        want = csv_rows(self.path("ref-csv"))
        self.assertEqual(len(want), IMAGES)
        self.assertEqual(csv_rows(self.path("p-csv")), want)
        self.assertEqual(manifest_ids(self.path("p-pq")), manifest_ids(self.path("ref-pq")))
        run = self.flowrun(p, "--no-progress", env=env)  # completed, append-parts: nothing new
        self.assertEqual((run.code, run.summary["records_in"]), (0, 0), run.stderr)
        self.assertEqual(run.summary["ledger"]["skipped_done"], IMAGES)


if __name__ == "__main__":
    unittest.main()
