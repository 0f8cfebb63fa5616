#!/usr/bin/python3
"""dir-source and s3-source's file:// mode on a hostile folder, through the
flowrun binary: a FIFO, a dangling link, a link to a device, a link loop, a
sparse file far above max_object_size and a name full of control bytes and
invalid UTF-8.  Every entry ends as a record or a dead letter with its
reason (none skipped silently, none opened blocking: a FIFO would hang the
run), the loop is walked once, the outputs stay parseable JSON, and the
peak RSS stays far below the sparse file's size."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

FLOWRUN = os.environ["FLOWRUN_BIN"]
SANITIZE = os.environ.get("FLOWRUN_SANITIZE") in ("1", "ON", "TRUE")
RSS_BOUND_MB = 900 if SANITIZE else 300
ODD = b"odd\x01\x1b[31m\"quote\\ \xff\xfe name.jpg"


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:  # strict: the outputs must be valid UTF-8 JSON
        return [json.loads(line) for line in f]


class HostileFiles(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="flowrun-hostile-files-")
        root = self.root = os.path.join(self.dir, "in")
        os.makedirs(os.path.join(root, "cls"))
        with open(os.path.join(root, "cls", "good.jpg"), "wb") as f:
            f.write(b"good bytes")
        with open(os.path.join(root.encode(), b"cls", ODD), "wb") as f:
            f.write(b"odd bytes")
        os.mkfifo(os.path.join(root, "cls", "fifo.jpg"))
        os.symlink("/nonexistent/target.jpg", os.path.join(root, "cls", "dangling.jpg"))
        os.symlink("/dev/zero", os.path.join(root, "cls", "zero.jpg"))
        os.symlink("..", os.path.join(root, "cls", "loop"))
        with open(os.path.join(root, "cls", "sparse.jpg"), "wb") as f:
            f.truncate(3 << 30)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_source(self, plugin, location):
        out = os.path.join(self.dir, plugin + ".out.jsonl")
        dead = os.path.join(self.dir, plugin + ".dead.jsonl")
        yaml = os.path.join(self.dir, plugin + ".yaml")
        with open(yaml, "w") as f:
            f.write(f"""
name: hostile-files
dead_letters: {dead}
stages:
  src: {{plugin: {plugin}, {location}: {json.dumps(self.root)}, suffix: .jpg}}
  sink: {{plugin: capture-sink, inputs: src, path: {out}}}
""")
        proc = subprocess.Popen([FLOWRUN, yaml], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        err = proc.stderr.read().decode("utf-8", "replace")
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stderr.close()
        self.assertEqual(proc.returncode, 1, err)
        self.assertLess(usage.ru_maxrss / 1024, RSS_BOUND_MB)
        return read_jsonl(out), read_jsonl(dead)

    def check(self, records, dead):
        self.assertEqual(sorted(r["key"] for r in records),
                         sorted(["cls/good.jpg", "cls/" + ODD.decode("utf-8", "replace")]))
        reasons = {json.dumps(d) for d in dead}
        self.assertEqual(len(dead), 4, reasons)
        for want in ["fifo.jpg: a FIFO, not a regular file",
                     "dangling.jpg: a dangling symbolic link",
                     "zero.jpg: a device, not a regular file",
                     "sparse.jpg: 3221225472 bytes, above max_object_size 268435456"]:
            self.assertTrue(any(want in r for r in reasons), (want, reasons))

    def test_dir_source(self):
        self.check(*self.run_source("dir-source", "path"))

    def test_s3_source_local(self):
        self.check(*self.run_source("s3-source", "url"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
