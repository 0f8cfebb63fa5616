"""Durable runs over the local radosgw (ctest fixture s3_server): 300
generated JPEGs read by s3-source, decoded, resized, embedded by a tiny
seeded convolutional network (resnet50-embed runs any such ONNX model; the
test needs no ResNet50), scaled and projected by online-scaler and
incremental-pca (fit: batch, checkpointed), written by csv-sink and
parquet-sink both to local folders and to s3:// (append-parts, rolling
parts).  Runs are killed with SIGKILL at seeded random moments after `data
flowing`, at least 20 times in all, landing in every phase (listing and
reading, embedding while the fitted stages accumulate and checkpoint, their
fit at flush, the sinks' commits); after each kill the same command is run
again, killed again or let finish, until it exits 0.  Then every output,
read back independently (CSV with Python's csv, Parquet with DuckDB, S3
with boto3), equals an uninterrupted run's: the same keys, once each, the
same values; no multipart upload is left open, and a further rerun reads
nothing."""
import csv
import glob
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests", "engine", "runtime"))
sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests", "plugins", "lib", "s3"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from flowrun_test import FlowrunCase  # noqa: E402
from s3test import boto, new_bucket, put_many, server_env  # noqa: E402
from test_durable import SEED, run_and_kill  # noqa: E402

IMAGES = 300
KILLS = 20  # SIGKILLs that landed while a run was going
PARQUET_ROWS = os.path.join(os.environ["FLOWRUN_SOURCE_DIR"],
                            "tests/pipelines/fruits/parquet_rows.mjs")
# Float values of two runs agree to this (relative to the column's scale): the
# embedding's batches differ between a resumed and an uninterrupted run, so the
# last bits may; a fit that missed or doubled a row moves them by far more.
TOLERANCE = 1e-5


def tiny_network(path):
    """A seeded convolutional network over 16x16 RGB images as ONNX
    (torch.onnx): conv, relu, conv, relu, global average pool: 12
    features."""
    import torch
    torch.manual_seed(SEED)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, stride=2, padding=1), torch.nn.ReLU(),
                              torch.nn.Conv2d(8, 12, 3, padding=1), torch.nn.ReLU(),
                              torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()).eval()
    torch.onnx.export(net, torch.randn(1, 3, 16, 16), path, opset_version=13,
                      input_names=["x"], output_names=["features"],
                      dynamic_axes={"x": {0: "n"}, "features": {0: "n"}})


def images(rng):
    """{key: JPEG bytes}: a colour and random dots, so the features spread in
    every direction PCA keeps."""
    from PIL import Image
    objects = {}
    for i in range(IMAGES):
        img = Image.new("RGB", (48, 32), tuple(rng.randrange(256) for _ in range(3)))
        for _ in range(40):
            img.putpixel((rng.randrange(48), rng.randrange(32)),
                         tuple(rng.randrange(256) for _ in range(3)))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=90)
        objects["Training/class-%d/%03d.jpg" % (i % 5, i)] = buf.getvalue()
    return objects


def committed(files):
    """{name: bytes} of an output folder (local or S3) -> the part files its
    _manifest.json lists, as {part name: bytes}; an id committed twice fails."""
    manifest = json.loads(files["_manifest.json"])
    ids = [i for part in manifest["parts"] for i in part["ids"]]
    assert len(ids) == len(set(ids)), "an id committed twice"
    return {part["file"]: files[part["file"]] for part in manifest["parts"]}


def csv_values(parts):
    """{key: [label, floats...]} over the parts; a key twice fails."""
    rows = {}
    for data in parts.values():
        for row in csv.reader(io.StringIO(data.decode())):
            if row[0] == "key":
                continue
            assert row[0] not in rows, "key %s written twice" % row[0]
            rows[row[0]] = [row[1]] + [float(v) for v in row[2:]]
    return rows


def parquet_values(parts):
    """The same, read by DuckDB (independent of flowrun's writer)."""
    with tempfile.TemporaryDirectory(prefix="pq-") as folder:
        for name, data in parts.items():
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)
        out = subprocess.run(["node", PARQUET_ROWS, folder + "/*.parquet"], capture_output=True,
                             text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = {}
    for line in out.stdout.splitlines()[1:]:
        row = json.loads(line)
        assert row[0] not in rows, "key %s written twice" % row[0]
        rows[row[0]] = [row[1]] + [float(v) for v in row[2:]]
    return rows


class DurableS3(FlowrunCase):
    @classmethod
    def setUpClass(cls):
        cls.s3 = boto()
        cls.bucket = new_bucket(cls.s3, "durable")
        cls.out = new_bucket(cls.s3, "durable-out")
        put_many(cls.s3, cls.bucket, images(random.Random(SEED)))

    PIPELINE = """
name: durable-s3
state: $DIR/{tag}-state
dead_letters: $DIR/{tag}-dead.jsonl
stages:
  images: {{plugin: s3-source, url: "s3://{bucket}/Training/", suffix: .jpg, concurrency: 8}}
  decode: {{plugin: jpeg-decode, inputs: images}}
  resize: {{plugin: resize-224, inputs: decode, width: 16, height: 16}}
  embed:  {{plugin: resnet50-embed, inputs: resize, model: $DIR/tiny.onnx, preprocess: torch,
           precision: fp32, batch: 8}}
  scale:  {{plugin: online-scaler, inputs: embed, fit: batch, checkpoint_rows: 40}}
  pca:    {{plugin: incremental-pca, inputs: scale, components: 3, fit: batch,
           checkpoint_rows: 40}}
  csv:    {{plugin: csv-sink, inputs: pca, path: $DIR/{tag}-csv, mode: append-parts,
           max_rows: 20}}
  pq:     {{plugin: parquet-sink, inputs: pca, path: $DIR/{tag}-pq, mode: append-parts,
           max_rows: 30}}
  s3csv:  {{plugin: csv-sink, inputs: pca, path: "s3://{out}/{tag}/csv", mode: append-parts,
           max_rows: 25}}
  s3pq:   {{plugin: parquet-sink, inputs: pca, path: "s3://{out}/{tag}/pq",
           mode: append-parts, max_rows: 40}}
"""

    def make(self, tag):
        return self.pipeline(self.PIPELINE.format(tag=tag, bucket=self.bucket, out=self.out),
                             tag + ".yaml")

    def local(self, folder):
        names = os.listdir(self.path(folder))
        return {n: open(os.path.join(self.path(folder), n), "rb").read() for n in names}

    def remote(self, prefix):
        keys = [o["Key"] for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.out, Prefix=prefix + "/") for o in page.get("Contents", [])]
        return {k[len(prefix) + 1:]: self.s3.get_object(Bucket=self.out, Key=k)["Body"].read()
                for k in keys}

    def outputs(self, tag):
        """Each of the four outputs of run tag, read back: {sink: {key: values}}."""
        return {"csv": csv_values(committed(self.local(tag + "-csv"))),
                "pq": parquet_values(committed(self.local(tag + "-pq"))),
                "s3csv": csv_values(committed(self.remote(tag + "/csv"))),
                "s3pq": parquet_values(committed(self.remote(tag + "/pq")))}

    def assert_same_values(self, got, want, what):
        self.assertEqual(sorted(got), sorted(want), what + ": keys")
        scale = max(abs(v) for row in want.values() for v in row[1:])
        for key, row in want.items():
            self.assertEqual(got[key][0], row[0], "%s: %s: label" % (what, key))
            diff = max(abs(a - b) for a, b in zip(got[key][1:], row[1:]))
            self.assertEqual(len(got[key]), len(row), "%s: %s: width" % (what, key))
            self.assertLessEqual(diff, TOLERANCE * scale, "%s: %s: %s vs %s"
                                 % (what, key, got[key], row))

    def kill_and_rerun(self, pipeline, rng, longest, env):
        """The same command, each run killed at a random moment (uniform
        over an uninterrupted run's length after `data flowing`), until one
        exits 0.  Returns how many kills landed."""
        landed = 0
        for _ in range(50):
            code = run_and_kill([pipeline, "--no-progress"], rng.uniform(0, longest), env)
            if code != -9:
                self.assertEqual(code, 0, "a rerun after %d kills" % landed)
                return landed
            landed += 1
        self.fail("50 kills and no run finished")

    def test_kill_9_at_20_moments_over_radosgw_then_rerun_equals_uninterrupted(self):
        tiny_network(self.path("tiny.onnx"))
        env = {**server_env(), "XDG_STATE_HOME": self.state_home}
        run = self.flowrun(self.make("ref"), env=env)
        self.assertEqual(run.code, 0, run.stderr)
        want = self.outputs("ref")
        self.assertEqual(len(want["csv"]), IMAGES)
        for sink in ("pq", "s3csv", "s3pq"):
            self.assert_same_values(want[sink], want["csv"], "ref " + sink)
        rng = random.Random(SEED)
        longest = run.summary["wall_seconds"]
        landed, rounds = 0, 0
        # Rounds of a new run (its own state and outputs) killed and rerun
        # until it exits 0, until KILLS kills landed in all.
        while landed < KILLS:
            rounds += 1
            tag = "r%d" % rounds
            landed += self.kill_and_rerun(self.make(tag), rng, longest, env)
            got = self.outputs(tag)
            for sink in got:
                self.assert_same_values(got[sink], want["csv"], "%s %s" % (tag, sink))
            for folder in (tag + "-csv", tag + "-pq"):  # the killed runs' leftovers went
                self.assertEqual(sorted(self.local(folder)),
                                 sorted(["_manifest.json"] + list(committed(self.local(folder)))))
            run = self.flowrun(self.make(tag), "--no-progress", env=env)
            self.assertEqual((run.code, run.summary["records_in"]), (0, 0), run.stderr)
            self.assertEqual(run.summary["ledger"]["skipped_done"], IMAGES)
        self.assertEqual(self.s3.list_multipart_uploads(Bucket=self.out).get("Uploads", []), [])
        print("%d kills landed over %d rounds" % (landed, rounds))


if __name__ == "__main__":
    unittest.main()
