#!/usr/bin/python3
"""s3-source's local fallback through the flowrun binary: a file:///folder
URL or a plain path (absolute or relative) reads the folder through fswalk
and yields exactly the records dir-source yields (key = path under the
folder, label = parent folder, same ids, same bytes), also with replicas and
limit; an unknown scheme or a missing folder fails the run clearly.

    test_s3_local.py MAKE_FRUITS
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from s3pipe import Run

MAKE_FRUITS = sys.argv.pop(1)
ENV = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


class S3SourceLocal(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="flowrun-s3-local-")
        cls.data = os.path.join(cls.dir, "data")
        os.makedirs(cls.data)
        subprocess.run([MAKE_FRUITS, "--count", "24", "--classes", "4", cls.data], check=True,
                       capture_output=True)
        cls.fruits = sum(f.endswith(".jpg") for _, _, fs in os.walk(cls.data) for f in fs)
        odd = os.path.join(cls.data, "Training", "Pêche+&% ü")
        os.makedirs(odd)
        for name, body in [("1 a.jpg", b"\xff\xd8 one"), ("empty.jpg", b""), (".hidden.jpg", b"x"),
                           ("notes.txt", b"not an image")]:
            with open(os.path.join(odd, name), "wb") as f:
                f.write(body)
        with open(os.path.join(cls.data, "top.jpg"), "wb") as f:
            f.write(b"at the root")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def run_source(self, url, plugin="s3-source", cwd=None, **opts):
        run = Run(self.dir, url, ENV, plugin=plugin, cwd=cwd, **opts).run()
        return run

    def records(self, run):
        self.assertEqual(run.proc.returncode, 0, run.proc.stderr)
        self.assertEqual(run.dead_letters(), [])
        return run.records()

    def test_same_records_as_dir_source(self):
        expected = self.records(self.run_source(self.data, "dir-source", suffix=".jpg"))
        self.assertEqual(len(expected), self.fruits + 3)  # no .hidden, no .txt
        labels = {r["key"]: r["label"] for r in expected}
        self.assertEqual(labels["Training/Pêche+&% ü/1 a.jpg"], "Pêche+&% ü")
        self.assertEqual(labels["top.jpg"], "")
        for url, cwd in [(f"file://{self.data}", None), (f"file://{self.data}/", None),
                         (f"file://localhost{self.data}", None), (self.data + "/", None),
                         ("data", self.dir)]:
            with self.subTest(url=url):
                self.assertEqual(self.records(self.run_source(url, cwd=cwd, suffix=".jpg")),
                                 expected)

    def test_every_file_without_suffix(self):
        expected = self.records(self.run_source(self.data, "dir-source"))
        self.assertEqual(self.records(self.run_source(f"file://{self.data}")), expected)

    def test_replicas_and_limit(self):
        expected = self.records(self.run_source(self.data, "dir-source", suffix=".jpg", limit=10))
        got = self.records(self.run_source(f"file://{self.data}", suffix=".jpg", limit=10,
                                           replicas=3))
        self.assertEqual(sorted(got, key=lambda r: r["key"]), expected)

    def test_bad_urls_fail_clearly(self):
        missing = os.path.join(self.dir, "no such folder")
        run = self.run_source(f"file://{missing}")
        self.assertEqual(run.proc.returncode, 3, run.proc.stderr)
        self.assertIn(missing, run.proc.stderr)
        self.assertIn("No such file or directory", run.proc.stderr)
        # a url of no known kind is the configuration's error: exit 2, at the key
        for url in ["http://127.0.0.1/bucket/", "file://otherhost/data"]:
            run = self.run_source(url)
            self.assertEqual(run.proc.returncode, 2, run.proc.stderr)
            self.assertIn(f'stage "src": key "url": "{url}": expected s3://bucket/prefix/, '
                          "file:///folder or a local path", run.proc.stderr)
            self.assertFalse(os.path.exists(run.out))


if __name__ == "__main__":
    unittest.main(verbosity=2)
