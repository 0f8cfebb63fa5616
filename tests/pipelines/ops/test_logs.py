"""--log-format json: every line flowrun writes on stderr during a run is one
JSON event with time, level and message, and stage/instance/node/key where
they apply; under systemd (JOURNAL_STREAM names stderr) text lines carry
their syslog priority for journald."""
import datetime
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests", "engine", "runtime"))
from flowrun_test import FLOWRUN, FlowrunCase, free_ports  # noqa: E402

PIPELINE = """
name: logged
state: $DIR/state
dead_letters: $DIR/dead.jsonl
stages:
  src:  {plugin: gen-source, count: 40}
  mid:  {plugin: passthrough, inputs: src, replicas: 2, reject_every: 7}
  sink: {plugin: null-sink, inputs: mid}
"""


class JsonLogs(FlowrunCase):
    def events(self, *args):
        run = self.flowrun("--log-format", "json", "-v", "run", self.pipeline(PIPELINE), *args,
                           summary=False)
        self.assertEqual(run.code, 1, run.stderr)  # some dead letters
        lines = run.stderr.splitlines()
        self.assertGreater(len(lines), 3)
        return [json.loads(line) for line in lines]  # every line parses

    def test_every_line_is_an_event(self):
        events = self.events()
        for e in events:
            self.assertEqual(set(e) - {"time", "level", "stage", "instance", "node", "key",
                                       "message"}, set(), e)
            self.assertIn(e["level"], ("error", "warning", "info", "debug"))
            self.assertTrue(e["time"].endswith("Z"))
            datetime.datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
        messages = [e["message"] for e in events]
        self.assertTrue(any("data flowing" in m for m in messages), messages)
        self.assertTrue(any(m.startswith("logged: dead_letters in ") and "records in 40" in m
                            for m in messages), messages)

    def test_a_dead_letter_names_its_stage_instance_and_key(self):
        dead = [e for e in self.events() if e["message"].startswith("dead-lettered")]
        self.assertEqual(sorted(e["key"] for e in dead),
                         ["rec-%06d" % n for n in range(0, 40, 7)])
        for e in dead:
            self.assertEqual(e["stage"], "mid")
            self.assertIn(e["instance"], (0, 1))
            self.assertEqual(e["level"], "debug")
            self.assertIn("rejected", e["message"])

    def test_a_node_is_named(self):
        yaml = self.pipeline("""
name: noded
dead_letters: $DIR/dead.jsonl
nodes:
  only: {endpoint: "tcp://127.0.0.1:%d"}
stages:
  src:  {plugin: gen-source, count: 5}
  sink: {plugin: null-sink, inputs: src}
""" % free_ports(4), name="noded.yaml")
        run = self.flowrun("--log-format", "json", "-v", "run", "--node", "only", yaml,
                           summary=False)
        self.assertEqual(run.code, 0, run.stderr)
        events = [json.loads(line) for line in run.stderr.splitlines()]
        self.assertTrue(events)
        self.assertEqual({e.get("node") for e in events}, {"only"})

    def test_an_unknown_format_is_a_usage_error(self):
        run = self.flowrun("--log-format", "xml", "run", self.pipeline(PIPELINE), summary=False)
        self.assertEqual(run.code, 2)
        self.assertIn('--log-format: expected text or json, got "xml"', run.stderr)


BROKEN = """name: broken
stages:
  src:  {plugin: gen-source, count: 10, bogus: 3}
  mid:  {plugin: passthrough, inputs: srcx}
  sink: {plugin: null-sink, inputs: mid}
"""


class JsonErrorsBeforeTheRun(FlowrunCase):
    """Errors found before anything runs are events too, their place as fields."""

    def errors(self, *args):
        run = self.flowrun("--log-format", "json", *args, summary=False)
        self.assertEqual(run.code, 2, run.stderr)
        events = [json.loads(line) for line in run.stderr.splitlines()]  # every line parses
        self.assertTrue(events)
        for e in events:
            self.assertEqual(e["level"], "error", e)
            datetime.datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
        return events

    def test_config_and_graph_errors_carry_file_line_col_stage_and_key(self):
        path = self.pipeline(BROKEN)
        events = self.errors("run", path)
        self.assertEqual(len(events), 3, events)
        unknown, missing, total = events
        self.assertEqual({k: unknown[k] for k in ("file", "line", "col", "stage", "config_key")},
                         {"file": path, "line": 3, "col": 41, "stage": "src",
                          "config_key": "bogus"})
        self.assertEqual(unknown["message"],
                         '%s:3:41: stage "src": unknown key "bogus"' % path)
        self.assertEqual((missing["line"], missing["col"], missing["stage"]), (4, 39, "mid"))
        self.assertNotIn("config_key", missing)
        self.assertIn('input "srcx" is not a stage', missing["message"])
        self.assertEqual(total["message"], "2 errors in %s" % path)
        self.assertNotIn("file", total)

    def test_a_configuration_error_found_by_init_has_its_place(self):
        """csv-sink's init refuses replicas (fr_config_error): the same fields."""
        path = self.pipeline("""name: refused
state: $DIR/state
stages:
  src: {plugin: gen-source, count: 10, kind: tensor}
  out:
    plugin: csv-sink
    inputs: src
    path: $DIR/out.csv
    replicas: 2
""")
        run = self.flowrun("--log-format", "json", "run", path, summary=False)
        self.assertEqual(run.code, 2, run.stderr)
        events = [json.loads(line) for line in run.stderr.splitlines()]
        errors = [e for e in events if e["level"] == "error"]
        self.assertTrue(errors, events)
        for e in errors:  # replicas is the engine's key, not the plugin's: the stage's place
            self.assertEqual({k: e[k] for k in ("file", "line", "col", "stage", "config_key")},
                             {"file": path, "line": 5, "col": 3, "stage": "out",
                              "config_key": "replicas"})
            self.assertIn("a file sink writes one output", e["message"])

    def test_validate_and_state_write_events_too(self):
        path = self.pipeline(BROKEN)
        self.assertEqual([e.get("config_key") for e in self.errors("validate", path)],
                         ["bogus", None, None])
        missing = self.path("missing.yaml")
        events = self.errors("state", missing)
        self.assertEqual(events[0]["file"], missing)

    def test_usage_errors_are_events(self):
        path = self.pipeline(BROKEN)
        events = self.errors("run", "--bogus", path)
        self.assertEqual([e["message"] for e in events],
                         ["run: --bogus: unknown option or missing value "
                          "(see flowrun run --help)"])
        events = self.errors("run", "--metrics", "nowhere", path)
        self.assertEqual(len(events), 1)
        self.assertTrue(events[0]["message"].startswith("--metrics: "), events)

    def test_the_bundle_commands_write_events_too(self):
        """train, classify, evaluate and serve (the model server's own lines:
        tests/pipelines/classify/test_serve.py)."""
        missing = self.path("missing.yaml")
        self.assertEqual(self.errors("train", missing)[0]["file"], missing)
        (event,) = self.errors("train", self.pipeline(BROKEN))
        self.assertEqual(event["message"], "train: %s: no logreg-train stage with a `model`: "
                         "nothing to bundle" % self.pipeline(BROKEN))
        missing = self.path("no-bundle")
        for command in ("serve", "classify", "evaluate"):
            args = [missing] + {"serve": [], "classify": ["photo.jpg"],
                                "evaluate": [os.path.dirname(missing)]}[command]
            (event,) = self.errors(command, *args)
            self.assertTrue(event["message"].startswith("%s: %s/manifest.json: " %
                                                        (command, missing)), event)
        (event,) = self.errors("classify", "--threads", "x", missing, "photo.jpg")
        self.assertEqual(event["message"], '--threads: expected a whole number in 0..256, got "x"')
        (event,) = self.errors("evaluate", missing)
        self.assertTrue(event["message"].startswith("usage: flowrun evaluate"), event)
        # as an option of the command, too
        run = self.flowrun("serve", "--log-format", "json", missing, summary=False)
        self.assertEqual(run.code, 2)
        self.assertTrue(json.loads(run.stderr)["message"].startswith("serve: %s/" % missing))

    def test_the_other_commands_write_events_too(self):
        (event,) = self.errors("frobnicate")
        self.assertEqual(event["message"], "unknown command 'frobnicate' (see flowrun --help)")
        (event,) = self.errors("top", "nowhere")
        self.assertTrue(event["message"].startswith("top: nowhere: "), event)
        (event,) = self.errors("new-plugin", "Bad_Name")
        self.assertTrue(event["message"].startswith('new-plugin: name "Bad_Name": '), event)
        unexpected, usage = self.errors("keygen", "a", "b")
        self.assertEqual(unexpected["message"], "keygen: unexpected argument 'b'")
        self.assertTrue(usage["message"].startswith("usage: flowrun keygen"), usage)
        (event,) = self.errors("state", "--keys=some", self.pipeline(BROKEN))
        self.assertTrue(event["message"].startswith("state: --keys some: expected"), event)

    def test_text_stays_text(self):
        path = self.pipeline(BROKEN)
        run = self.flowrun("run", path, summary=False)
        self.assertEqual(run.code, 2)
        self.assertEqual(run.stderr.splitlines()[0],
                         '%s:3:41: stage "src": unknown key "bogus"' % path)
        self.assertEqual(run.stderr.splitlines()[-1], "flowrun: 2 errors in %s" % path)
        run = self.flowrun("serve", self.path("no-bundle"), summary=False)
        self.assertEqual(run.code, 2)
        self.assertTrue(run.stderr.startswith("flowrun serve: %s/manifest.json: " %
                                              self.path("no-bundle")), run.stderr)


class JournalLogs(FlowrunCase):
    def test_text_lines_carry_their_priority_under_journald(self):
        err = open(self.path("stderr"), "w+")
        st = os.fstat(err.fileno())
        env = {**os.environ, "JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino),
               "XDG_STATE_HOME": self.state_home}
        code = subprocess.run([FLOWRUN, "-v", "run", self.pipeline(PIPELINE)], stderr=err,
                              env=env).returncode
        self.assertEqual(code, 1)
        err.seek(0)
        lines = err.read().splitlines()
        logged = [line for line in lines if line.startswith("<")]
        self.assertTrue(any(line.startswith("<7>flowrun: debug: ") and "data flowing" in line
                            for line in logged), lines)
        self.assertTrue(any(line.startswith("<7>[mid#") for line in logged), lines)
        # on another stream (JOURNAL_STREAM inherited by a child), no prefix
        env["JOURNAL_STREAM"] = "1:1"
        run = subprocess.run([FLOWRUN, "-v", "run", self.pipeline(PIPELINE)],
                             capture_output=True, text=True, env=env)
        self.assertIn("flowrun: debug: ", run.stderr)
        self.assertNotIn("<7>", run.stderr)


if __name__ == "__main__":
    unittest.main()
