#!/usr/bin/python3
"""S3 keys with "." and ".." segments, through s3-source against radosgw:
each must fetch exactly its own object, never the one its dot segments
would normalise to (a decoy with other bytes sits there), cross-checked
with boto3's listing and reads."""
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests/pipelines/s3"))
from s3pipe import Run, boto, bucket_content, new_bucket, put_many, server_env  # noqa: E402

DOTTED = ["dots/a/../b.jpg", "dots/./c.jpg", "dots/x/./../y.jpg", "dots/../../esc.jpg",
          "dots/../dots/d.jpg", "dots/e/..", "dots/%2E%2E/f.jpg", "dots/.../g.jpg"]
DECOYS = ["dots/b.jpg", "dots/c.jpg", "dots/y.jpg", "esc.jpg", "dots/d.jpg", "dots/f.jpg"]


class DotKeys(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="flowrun-dot-keys-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_dot_segments_fetch_their_own_object(self):
        s3 = boto()
        bucket = new_bucket(s3, "dots")
        objects = {k: f"object {k}".encode() for k in DOTTED}
        objects.update({k: f"decoy {k}".encode() for k in DECOYS})
        put_many(s3, bucket, objects)
        expected = bucket_content(s3, bucket, "dots/")
        self.assertTrue(set(DOTTED) <= set(expected), sorted(expected))
        run = Run(self.dir, f"s3://{bucket}/dots/", server_env()).run()
        self.assertEqual(run.proc.returncode, 0, run.proc.stderr)
        got = {r["key"]: (r["fnv"], r["label"]) for r in run.records()}
        self.assertEqual({k: v[0] for k, v in got.items()}, {k: v[0] for k, v in expected.items()})
        self.assertEqual(run.dead_letters(), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
