"""The flowrun command line: validate, errors with file:line:col, the
graph checks, --dry-run, plugins, describe, help and exit codes, and the
dir-source plugin as a user sees it."""
import json
import os
import re

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
        self.assertIn(p + ':3:30: stage "gen": key "count": expected an integer from 0 to 1000000000000, got "-3"', err)
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


class InputFiles(FlowrunCase):
    """Files the stages read (FR_PARAM_INPUT_FILE keys) are checked before
    any data moves, by validate and by run --dry-run."""
    PIPE = """nodes:
  edge: {endpoint: "tcp://127.0.0.1:7101"}
  gpu: {endpoint: "tcp://127.0.0.1:7102"}
stages:
  files: {plugin: dir-source, path: $DIR, node: edge}
  decode: {plugin: jpeg-decode, inputs: files, node: edge}
  resize: {plugin: resize-224, inputs: decode, node: edge}
  embed:
    plugin: resnet50-embed
    inputs: resize
    node: gpu
    model: %s
  scale: {plugin: online-scaler, inputs: embed, fit: %s, model: $DIR/scaler.stats, node: gpu}
  pca: {plugin: incremental-pca, inputs: scale, components: 2, model: $DIR/out.pca, node: gpu}
  sink: {plugin: capture-sink, inputs: pca, path: $DIR/o.jsonl, node: gpu}
dead_letters: $DIR/dead.jsonl
"""

    def test_missing_model_is_reported_before_the_run(self):
        p = self.pipeline(self.PIPE % ("$DIR/nope/resnet50.onnx", "none"))
        for args in (["validate", p], ["run", "--dry-run", p], ["validate", p, "--node", "gpu"]):
            run = self.flowrun(*args, summary=False)
            self.assertEqual(run.code, 2, args)
            self.assertIn('%s:12:5: stage "embed": key "model": cannot read "%s": '
                          'No such file or directory' % (p, self.path("nope/resnet50.onnx")),
                          run.stderr)
            # fit: none reads the scaler's model; the PCA (fit: batch) writes its own
            with open(p) as f:
                col = f.read().splitlines()[12].index("model:") + 1
            self.assertIn('%s:13:%d: stage "scale": key "model": cannot read "%s": No such file'
                          % (p, col, self.path("scaler.stats")), run.stderr)
            self.assertNotIn("out.pca", run.stderr)
            self.assertIn("flowrun: 2 errors in", run.stderr)
        # the node that reads no file has nothing to report
        run = self.flowrun("validate", p, "--node", "edge", summary=False)
        self.assertEqual(run.code, 0, run.stderr)

    def test_directory_and_present_files(self):
        p = self.pipeline(self.PIPE % ("$DIR", "batch"))
        run = self.flowrun("validate", p, summary=False)
        self.assertEqual(run.code, 2)
        self.assertIn('stage "embed": key "model": cannot read "%s": it is a directory, not a '
                      'file' % self.dir, run.stderr)
        # fit: batch writes the scaler's model: not checked
        self.assertNotIn("scaler.stats", run.stderr)
        with open(self.path("resnet50.onnx"), "wb"):
            pass
        p = self.pipeline(self.PIPE % ("$DIR/resnet50.onnx", "batch"))
        run = self.flowrun("validate", p, summary=False)
        self.assertEqual(run.code, 0, run.stderr)

    def test_describe_says_when_a_file_is_read(self):
        run = self.flowrun("describe", "online-scaler", summary=False)
        self.assertIn("model (input file, default \"\")", run.stdout)
        self.assertIn("read, and checked before the run, when fit=none", run.stdout)
        run = self.flowrun("describe", "resnet50-embed", summary=False)
        self.assertIn("model (input file, required)", run.stdout)


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
        self.assertRegex(run.stdout, r"^flowrun \d+\.\d+\.\d+ \(plugin ABI 1\.1\)")

    def test_unknown_command(self):
        run = self.flowrun("frobnicate", summary=False)
        self.assertEqual(run.code, 2)
        self.assertIn("unknown command 'frobnicate'", run.stderr)

    def test_plugins_and_describe(self):
        run = self.flowrun("plugins", summary=False)
        self.assertEqual(run.code, 0, run.stderr)
        self.assertRegex(run.stdout, r"dir-source\s+1\.1\s+Read every file")
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
        self.assertEqual(out[0]["id"], "files:Test/Banana/9_100.jpg")
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


class UserPlugins(FlowrunCase):
    """What a user of the build tree sees: the shipped plugins, never the
    test-only ones, and the README's table of them says what describe says."""

    def user_plugins(self):
        run = self.flowrun("plugins", summary=False, env={"FLOWRUN_PLUGIN_PATH": ""})
        self.assertEqual(run.code, 0, run.stderr)
        lines = run.stdout.splitlines()[1:]  # after the header, before "(plugin path: ...)"
        return {line.split()[0] for line in lines if line.strip() and not line.startswith("(")}

    def test_no_test_only_plugin_on_the_default_path(self):
        names = self.user_plugins()
        self.assertIn("resnet50-embed", names)
        for test_only in ("gen-source", "passthrough", "capture-sink", "null-sink", "rows-source"):
            self.assertNotIn(test_only, names)

    def test_readme_table_matches_describe(self):
        with open(os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "README.md")) as f:
            text = f.read()
        section = text[text.index("## Plugins shipped"):].split("\n## ")[0]
        rows = {}  # name -> (input, output) as the README writes them
        for line in re.findall(r"^\| `.*$", section, re.M):
            name, ports = [cell.strip() for cell in line.strip("|").split("|")[:2]]
            left, right = [side.strip().strip("`") for side in ports.split("→")]
            rows[name.strip("`")] = (left, right)
        self.assertEqual(set(rows), self.user_plugins())
        for name, (want_in, want_out) in rows.items():
            run = self.flowrun("describe", name, summary=False)
            self.assertEqual(run.code, 0, run.stderr)
            ports = dict(re.findall(r"^  (input|output): +(.*)$", run.stdout, re.M))
            # describe says "none (a source)", the table "none"
            self.assertEqual(want_in, ports["input"].split(" (")[0], name)
            self.assertEqual(want_out, ports["output"].split(" (")[0], name)
