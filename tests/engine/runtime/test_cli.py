"""The flowrun command line: validate, errors with file:line:col, the
graph checks, --dry-run, plugins, describe, help and exit codes, and the
dir-source plugin as a user sees it."""
import json
import os

from flowrun_test import FlowrunCase


class Validate(FlowrunCase):
    def test_valid_file(self):
        p = self.pipeline("""
stages:
  gen:  {plugin: gen-source, count: 3}
  sink: {plugin: capture-sink, inputs: gen, path: $DIR/o.jsonl}
""")
        run = self.flowrun("validate", p, summary=False)
        self.assertEqual(run.code, 0, run.stderr)
        self.assertEqual(run.stdout, "%s: ok (2 stages)\n" % p)

    def test_every_error_of_a_file_in_one_run(self):
        p = self.pipeline("""name: bad
stages:
  gen:  {plugin: gen-source, count: -3, sise: 10}
  mid:  {plugin: passthrough, inputs: gne}
  sink: {plugin: capture-sink, inputs: mid}
  other: {plugin: no-such-plugin}
""")
        run = self.flowrun("validate", p, summary=False)
        self.assertEqual(run.code, 2)
        err = run.stderr
        self.assertIn(p + ':3:41: stage "gen": unknown key "sise" (did you mean "size"?)', err)
        self.assertIn(p + ':3:30: stage "gen": key "count": expected an integer at least 0, got "-3"', err)
        self.assertIn(p + ':4:39: stage "mid": input "gne" is not a stage of this pipeline '
                      '(did you mean "gen"?)', err)
        self.assertIn(p + ':5:3: stage "sink": missing required key "path"', err)
        self.assertIn(p + ':6:19: stage "other": no plugin "no-such-plugin"', err)
        self.assertRegex(err, r"flowrun: \d+ errors in ")

    def test_type_mismatch_names_both_stages_and_types(self):
        p = self.pipeline("""
stages:
  files: {plugin: dir-source, path: $DIR}
  pass:  {plugin: passthrough, inputs: files}
  bad:   {plugin: dir-source, path: $DIR, inputs: pass}
""")
        run = self.flowrun("validate", p, summary=False)
        self.assertEqual(run.code, 2)
        self.assertIn('stage "bad": plugin dir-source is a source and takes no inputs',
                      run.stderr)

    def test_cycle_and_sink_as_input(self):
        p = self.pipeline("""
stages:
  gen:  {plugin: gen-source}
  a:    {plugin: passthrough, inputs: [gen, b]}
  b:    {plugin: passthrough, inputs: a}
  sink: {plugin: capture-sink, inputs: b, path: $DIR/o}
  after: {plugin: passthrough, inputs: sink}
""")
        run = self.flowrun("validate", p, summary=False)
        self.assertEqual(run.code, 2)
        self.assertIn('stage "a": is on a cycle', run.stderr)
        self.assertIn('stage "b": is on a cycle', run.stderr)
        self.assertIn('stage "after": input "sink" is a sink (plugin capture-sink has no output)',
                      run.stderr)

    def test_dead_letters_must_be_local(self):
        p = self.pipeline("""
dead_letters: s3://bucket/dead.jsonl
stages:
  gen:  {plugin: gen-source}
  sink: {plugin: capture-sink, inputs: gen, path: $DIR/o}
""")
        run = self.flowrun("validate", p, summary=False)
        self.assertEqual(run.code, 2)
        self.assertIn(p + ':2:15: key "dead_letters": expected a local file, got '
                      '"s3://bucket/dead.jsonl"', run.stderr)

    def test_missing_file(self):
        run = self.flowrun("validate", self.path("nope.yaml"), summary=False)
        self.assertEqual(run.code, 2)
        self.assertIn("nope.yaml", run.stderr)


class DryRun(FlowrunCase):
    PIPE = """
name: demo
stages:
  gen:  {plugin: gen-source, count: 3, replicas: 2}
  sink: {plugin: capture-sink, inputs: gen, path: $DIR/o.jsonl}
"""

    def test_text_and_dot(self):
        p = self.pipeline(self.PIPE)
        run = self.flowrun("run", "--dry-run", p, summary=False)
        self.assertEqual(run.code, 0, run.stderr)
        self.assertIn("pipeline demo", run.stdout)
        self.assertRegex(run.stdout, r"gen\s+gen-source\s+x2")
        self.assertIn("-> sink", run.stdout)
        self.assertFalse(os.path.exists(self.path("o.jsonl")))
        run = self.flowrun("run", "--dry-run", "--dot", p, summary=False)
        self.assertTrue(run.stdout.startswith('digraph "demo" {'))
        self.assertIn('"gen" -> "sink"', run.stdout)


class Commands(FlowrunCase):
    def test_help_and_version(self):
        run = self.flowrun("--help", summary=False)
        self.assertEqual(run.code, 0)
        for word in ("run PIPELINE.yaml", "validate", "describe", "exit codes"):
            self.assertIn(word, run.stdout)
        for cmd in ("run", "validate", "plugins", "describe"):
            run = self.flowrun(cmd, "--help", summary=False)
            self.assertEqual(run.code, 0, cmd)
            self.assertIn("usage: flowrun " + cmd, run.stdout)
        run = self.flowrun("--version", summary=False)
        self.assertRegex(run.stdout, r"^flowrun \d+\.\d+\.\d+ \(plugin ABI 1\.\d+\)")

    def test_unknown_command(self):
        run = self.flowrun("frobnicate", summary=False)
        self.assertEqual(run.code, 2)
        self.assertIn("unknown command 'frobnicate'", run.stderr)

    def test_plugins_and_describe(self):
        run = self.flowrun("plugins", summary=False)
        self.assertEqual(run.code, 0, run.stderr)
        self.assertRegex(run.stdout, r"dir-source\s+1\.\d+\s+Read every file")
        run = self.flowrun("describe", "dir-source", summary=False)
        self.assertEqual(run.code, 0)
        self.assertIn("output: bytes/*", run.stdout)
        self.assertIn("path (path, required)", run.stdout)
        self.assertIn("suffix (string, default \"\")", run.stdout)
        run = self.flowrun("describe", "nope", summary=False)
        self.assertEqual(run.code, 2)
        self.assertIn('no plugin "nope"', run.stderr)


class DirSource(FlowrunCase):
    def make_tree(self):
        files = {"data/Training/Apple Braeburn/2_100.jpg": b"\xff\xd8a",
                 "data/Training/Apple Braeburn/10_100.jpg": b"\xff\xd8bb",
                 "data/Training/Banana/1_100.jpg": b"\xff\xd8ccc",
                 "data/Test/Banana/9_100.jpg": b"\xff\xd8d",
                 "data/notes.txt": b"not an image",
                 "data/.hidden/x.jpg": b"hidden"}
        for name, data in files.items():
            os.makedirs(os.path.dirname(self.path(name)), exist_ok=True)
            with open(self.path(name), "wb") as f:
                f.write(data)

    def test_keys_labels_order_suffix_limit(self):
        self.make_tree()
        p = self.pipeline("""
stages:
  files: {plugin: dir-source, path: $DIR/data, suffix: .jpg}
  sink:  {plugin: capture-sink, inputs: files, path: $DIR/o.jsonl}
dead_letters: $DIR/dead.jsonl
""")
        run = self.flowrun(p)
        self.assertEqual(run.code, 0, run.stderr)
        out = self.lines("o.jsonl")
        self.assertEqual([(r["key"], r["label"]) for r in out], [
            ("Test/Banana/9_100.jpg", "Banana"),
            ("Training/Apple Braeburn/10_100.jpg", "Apple Braeburn"),
            ("Training/Apple Braeburn/2_100.jpg", "Apple Braeburn"),
            ("Training/Banana/1_100.jpg", "Banana")])
        self.assertEqual([r["size"] for r in out], [3, 4, 3, 5])
        self.assertEqual(out[0]["media"], "jpeg")
        # The engine stamps the id: stage, key, and the file's version "<size>-<mtime ns>".
        st = os.stat(os.path.join(self.dir, "data", "Test/Banana/9_100.jpg"))
        self.assertEqual(out[0]["id"],
                         "files:Test/Banana/9_100.jpg@%d-%d" % (st.st_size, st.st_mtime_ns))
        p = self.pipeline("""
stages:
  files: {plugin: dir-source, path: $DIR/data, limit: 2, replicas: 2}
  sink:  {plugin: capture-sink, inputs: files, path: $DIR/o2.jsonl}
dead_letters: $DIR/dead.jsonl
""")
        run = self.flowrun(p)
        self.assertEqual(run.code, 0, run.stderr)
        self.assertEqual(sorted(r["key"] for r in self.lines("o2.jsonl")),
                         ["Test/Banana/9_100.jpg", "Training/Apple Braeburn/10_100.jpg"])

    def test_missing_directory_fails_with_its_name(self):
        p = self.pipeline("""
stages:
  files: {plugin: dir-source, path: $DIR/absent}
  sink:  {plugin: capture-sink, inputs: files, path: $DIR/o.jsonl}
dead_letters: $DIR/dead.jsonl
""")
        run = self.flowrun(p)
        self.assertEqual(run.code, 3)
        self.assertIn('stage "files": cannot list ' + self.path("absent"), run.stderr)
