#!/usr/bin/python3
"""Configuration errors that used to surface only at run time: replicas
past what ZeroMQ and the open-files limit allow (once "Too many open files"
mid-start, exit 3) are refused by validate and run with exit 2 and a
message naming the stage; an unwritable dead_letters path exits 2; a
value only a stage's init can judge (a model file that is no model, a url
of no known kind, a file sink given replicas) is reported at its place in
the file and exits 2, as validate's errors do."""
import os
import shutil
import subprocess
import tempfile
import unittest

FLOWRUN = os.environ["FLOWRUN_BIN"]


class HostileConfig(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="flowrun-hostile-config-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def pipeline(self, text):
        path = os.path.join(self.dir, "p.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def flowrun(self, *args):
        return subprocess.run([FLOWRUN, *args], capture_output=True, text=True, timeout=120)

    def test_replicas_past_the_socket_limit(self):
        path = self.pipeline(f"""
dead_letters: {self.dir}/dead.jsonl
stages:
  src: {{plugin: gen-source, count: 10, replicas: 64}}
  mid: {{plugin: passthrough, inputs: src, replicas: 64}}
  sink: {{plugin: null-sink, inputs: mid}}
""")
        for args in (["validate", path], [path]):
            r = self.flowrun(*args)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(f"{path}:4:3: stage \"src\": replicas 64: node \"local\" would need",
                          r.stderr)
            self.assertIn("ZeroMQ sockets", r.stderr)

    def test_replicas_within_the_limit_run(self):
        path = self.pipeline(f"""
dead_letters: {self.dir}/dead.jsonl
stages:
  src: {{plugin: gen-source, count: 100, replicas: 8}}
  mid: {{plugin: passthrough, inputs: src, replicas: 8}}
  sink: {{plugin: null-sink, inputs: mid}}
""")
        r = self.flowrun(path)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_unwritable_dead_letters_is_a_configuration_error(self):
        path = self.pipeline(f"""
dead_letters: {self.dir}/file/under/a/file.jsonl
stages:
  src: {{plugin: gen-source, count: 3}}
  sink: {{plugin: null-sink, inputs: src}}
""")
        with open(os.path.join(self.dir, "file"), "w") as f:
            f.write("a file, not a folder")
        r = self.flowrun(path)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("cannot write dead letters to", r.stderr)

    def test_a_model_file_that_is_no_model_is_a_configuration_error(self):
        model = os.path.join(self.dir, "model.json")
        with open(model, "w") as f:
            f.write("this is not a classifier")
        path = self.pipeline(f"""
dead_letters: {self.dir}/dead.jsonl
stages:
  src: {{plugin: gen-source, count: 3, kind: tensor, size: 16}}
  predict:
    plugin: logreg-predict
    inputs: src
    model: {model}
  sink: {{plugin: null-sink, inputs: predict}}
""")
        r = self.flowrun(path)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(f"{path}:8:12: stage \"predict\": key \"model\": ", r.stderr)
        self.assertIn(model, r.stderr)

    def test_a_url_of_no_known_kind_is_a_configuration_error(self):
        path = self.pipeline(f"""
dead_letters: {self.dir}/dead.jsonl
stages:
  src: {{plugin: s3-source, url: "ftp://example.org/photos/"}}
  sink: {{plugin: null-sink, inputs: src}}
""")
        r = self.flowrun(path)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(f"{path}:4:33: stage \"src\": key \"url\": \"ftp://example.org/photos/\": "
                      "expected s3://bucket/prefix/", r.stderr)

    def test_a_file_sink_with_replicas_is_a_configuration_error(self):
        path = self.pipeline(f"""
dead_letters: {self.dir}/dead.jsonl
stages:
  src: {{plugin: gen-source, count: 3, kind: tensor, size: 16}}
  sink: {{plugin: csv-sink, inputs: src, path: {self.dir}/out.csv, replicas: 2}}
""")
        r = self.flowrun(path)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(f"{path}:5:3: stage \"sink\": key \"replicas\": 2: a file sink writes "
                      "one output", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "out.csv")))

    def test_a_trainer_with_replicas_is_a_configuration_error(self):
        path = self.pipeline(f"""
dead_letters: {self.dir}/dead.jsonl
stages:
  src: {{plugin: gen-source, count: 3, kind: tensor, size: 16}}
  train: {{plugin: logreg-train, inputs: src, model: {self.dir}/m.json, replicas: 2}}
""")
        r = self.flowrun(path)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(f"{path}:5:3: stage \"train\": key \"replicas\": 2: one model is trained",
                      r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "m.json")))

    def test_control_bytes_in_messages_stay_on_their_line(self):
        # a path with a newline and a terminal escape, reported by a stage's init
        path = self.pipeline(f"""
dead_letters: {self.dir}/dead.jsonl
stages:
  src: {{plugin: dir-source, path: "/nonexistent/a\\n[src] error: forged\\e[31m"}}
  sink: {{plugin: null-sink, inputs: src}}
""")
        r = self.flowrun(path)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("/nonexistent/a\\x0a[src] error: forged\\x1b[31m", r.stderr)
        self.assertNotIn("\x1b", r.stderr)
        self.assertFalse(any(line.startswith("[src] error: forged") for line in
                             r.stderr.splitlines()), r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
