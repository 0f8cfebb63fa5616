#!/usr/bin/python3
"""The image stages as a pipeline, through the flowrun binary:

    dir-source -> jpeg-decode -> resize-224 -> capture-sink

over the hostile corpus of make-bad-images plus a few make-fruits images.
Every file is accounted for (delivered, or dead-lettered by jpeg-decode with
the reason its name announces), the counts in the --summary JSON add up, the
exit code is 1 (completed with dead letters), and what arrived is bit for
bit Pillow's Image.open().convert("RGB").resize((224, 224), BILINEAR).

    test_images_pipeline.py MAKE_BAD_IMAGES MAKE_FRUITS
"""
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from PIL import Image

FLOWRUN = os.environ["FLOWRUN_BIN"]
MAKE_BAD, MAKE_FRUITS = sys.argv[1], sys.argv[2]
FRUITS = 24


def fnv(data):
    """FNV-1a 64 as capture-sink writes it."""
    return format(functools.reduce(lambda h, b: ((h ^ b) * 1099511628211) & (2**64 - 1),
                                   data, 1469598103934665603), "016x")


def expected(name):
    """("OK", None) or ("REJECT", reason prefix) from a make-bad-images name."""
    outcome = name.split("--", 1)[0]
    if outcome == "ok":
        return "OK", None
    return "REJECT", outcome[len("reject-"):].replace("-", " ")


def lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


class ImagesPipeline(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="flowrun-images-")
        self.data = os.path.join(self.dir, "in")
        os.makedirs(os.path.join(self.data, "bad"))
        subprocess.run([MAKE_BAD, os.path.join(self.data, "bad")], check=True)
        subprocess.run([MAKE_FRUITS, "--count", str(FRUITS), "--classes", "4",
                        os.path.join(self.data, "fruits")], check=True, capture_output=True)
        self.files = sorted(os.path.relpath(os.path.join(d, f), self.data)
                            for d, _, fs in os.walk(self.data) for f in fs)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_pipeline(self):
        pipeline = os.path.join(self.dir, "images.yaml")
        with open(pipeline, "w") as f:
            f.write(f"""
name: images
dead_letters: {self.dir}/dead.jsonl
state: {self.dir}/state
stages:
  files:  {{plugin: dir-source, path: {self.data}, suffix: .jpg}}
  decode: {{plugin: jpeg-decode, inputs: files}}
  resize: {{plugin: resize-224, inputs: decode, filter: bilinear}}
  sink:   {{plugin: capture-sink, inputs: resize, path: {self.dir}/out.jsonl}}
""")
        summary = os.path.join(self.dir, "summary.json")
        proc = subprocess.run([FLOWRUN, pipeline, "--summary", summary], capture_output=True,
                              text=True, timeout=240)
        with open(summary) as f:
            return proc, json.load(f)

    def test_every_file_accounted_for(self):
        proc, s = self.run_pipeline()
        self.assertEqual(proc.returncode, 1, proc.stderr)  # completed, with dead letters

        def version(key):  # the file's version in its id, stamped by the engine
            st = os.stat(os.path.join(self.data, key))
            return "%d-%d" % (st.st_size, st.st_mtime_ns)

        out = lines(os.path.join(self.dir, "out.jsonl"))
        dead = lines(os.path.join(self.dir, "dead.jsonl"))

        bad = [f for f in self.files if f.startswith("bad/")]
        fruits = [f for f in self.files if f.startswith("fruits/")]
        self.assertEqual(len(fruits), FRUITS)
        want_ok = fruits + [f for f in bad if expected(os.path.basename(f))[0] == "OK"]
        want_dead = [f for f in bad if expected(os.path.basename(f))[0] == "REJECT"]
        self.assertGreaterEqual(len(want_dead), 10)

        # Each file exactly once, delivered or dead-lettered as its name says.
        self.assertEqual(sorted(r["key"] for r in out), sorted(want_ok))
        self.assertEqual(sorted(d["key"] for d in dead), sorted(want_dead))
        for d in dead:
            reason = expected(os.path.basename(d["key"]))[1]
            self.assertEqual((d["stage"], d["plugin"], d["attempts"]), ("decode", "jpeg-decode", 1))
            self.assertTrue(d["reason"].lower().startswith(reason.lower()),
                            f"{d['key']}: expected a reason starting with '{reason}', "
                            f"got '{d['reason']}'")
            self.assertEqual(d["id"], "files:%s@%s" % (d["key"], version(d["key"])))
            self.assertEqual(d["label"], "bad")

        # The counts in the summary add up.
        n = len(self.files)
        self.assertEqual((s["records_in"], s["records_done"], s["dead_letters"], s["unaccounted"]),
                         (n, n, len(want_dead), 0))
        self.assertEqual(s["stages"]["sink"]["committed"], len(want_ok))
        self.assertEqual(s["status"], "dead_letters")

        # What arrived: 224x224 RGB, labels from the folders, pixels equal to
        # Pillow's decode + bilinear resize.
        for r in out:
            self.assertEqual((r["kind"], r["dims"], r["size"]),
                             ("image", [224, 224, 3], 224 * 224 * 3))
            self.assertEqual(r["label"], os.path.basename(os.path.dirname(r["key"])))
            self.assertEqual(r["id"], "files:%s@%s" % (r["key"], version(r["key"])))
            im = Image.open(os.path.join(self.data, r["key"])).convert("RGB")
            want = np.asarray(im.resize((224, 224), resample=Image.BILINEAR))
            self.assertEqual(r["fnv"], fnv(want.tobytes()), f"{r['key']} differs from Pillow")


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
