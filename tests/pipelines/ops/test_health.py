"""/health/live and /health/ready change state at the moments they name:
not ready while a split run waits for its nodes, ready once data flows, not
ready (but live) after a stage failed.  Synchronised on the run's log lines."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests", "engine", "runtime"))
from flowrun_test import FlowrunCase, free_ports  # noqa: E402
from ops_run import Flowrun, get, release, value  # noqa: E402

SPLIT = """
name: split
dead_letters: $DIR/dead.jsonl
nodes:
  a: {endpoint: "tcp://127.0.0.1:%(a)d"}
  b: {endpoint: "tcp://127.0.0.1:%(b)d"}
stages:
  src:  {plugin: gen-source, count: 50, hold: $DIR/hold, node: a}
  sink: {plugin: null-sink, inputs: src, node: b}
"""
FAILING = """
name: failing
state: $DIR/state
dead_letters: $DIR/dead.jsonl
stages:
  src:  {plugin: gen-source, count: 10, hold: $DIR/hold}
  mid:  {plugin: passthrough, inputs: src, fatal_after: 5}
  sink: {plugin: null-sink, inputs: mid}
"""


def health(port, which):
    status, _, body = get(port, "/health/" + which)
    return status, json.loads(body)


class Health(FlowrunCase):
    def setUp(self):
        super().setUp()
        self.fifo = self.path("hold")
        os.mkfifo(self.fifo)
        self.runs = []

    def tearDown(self):
        for r in self.runs:
            if r.proc.poll() is None:
                r.proc.kill()
                r.finish()
        super().tearDown()

    def start(self, *args):
        r = Flowrun(["-v", "run", *args])
        self.runs.append(r)
        return r

    def test_ready_only_once_every_node_joined_and_data_flows(self):
        base = free_ports(8)
        yaml = self.pipeline(SPLIT % {"a": base, "b": base + 4})
        a = self.start("--node", "a", yaml, "--metrics", "127.0.0.1:0")
        port = a.wait_metrics_port()
        a.wait_for("waiting on .* for nodes")
        self.assertEqual(health(port, "ready"), (503, {"ready": False, "phase": "joining"}))
        self.assertEqual(health(port, "live"), (200, {"live": True, "phase": "joining"}))
        b = self.start("--node", "b", yaml)
        a.wait_for("data flowing")
        self.assertEqual(health(port, "ready"), (200, {"ready": True, "phase": "flowing"}))
        self.assertEqual(health(port, "live")[0], 200)
        a.wait_for("holding")
        _, _, text = get(port, "/metrics")  # the coordinator node sees every node
        self.assertEqual(value(text, "flowrun_node_up", node="a"), 1)
        self.assertEqual(value(text, "flowrun_node_up", node="b"), 1)
        self.assertEqual(value(text, "flowrun_component_sent_events_total", stage="src",
                               node="a"), 50)
        release(self.fifo)
        self.assertEqual([a.finish(), b.finish()], [0, 0], a.stderr + b.stderr)

    def test_not_ready_after_a_stage_failed_but_live(self):
        r = self.start(self.pipeline(FAILING), "--metrics", "127.0.0.1:0")
        port = r.wait_metrics_port()
        r.wait_for("data flowing")
        r.wait_for('stage "mid" failed')
        r.wait_for("holding")
        # the source holds the run open: the coordinator still answers
        self.assertEqual(health(port, "ready"), (503, {"ready": False, "phase": "failed"}))
        self.assertEqual(health(port, "live"), (200, {"live": True, "phase": "failed"}))
        release(self.fifo)
        self.assertEqual(r.finish(), 3, r.stderr)

    def test_other_paths_and_methods(self):
        r = self.start(self.pipeline(FAILING.replace("fatal_after: 5", "fatal_after: 0")),
                       "--metrics", "127.0.0.1:0")
        port = r.wait_metrics_port()
        r.wait_for("holding")
        status, _, body = get(port, "/nope")
        self.assertEqual(status, 404)
        self.assertIn("/metrics, /health/live, /health/ready", json.loads(body)["error"])
        release(self.fifo)
        self.assertEqual(r.finish(), 0, r.stderr)


class MetricsAddress(FlowrunCase):
    PIPE = FAILING.replace("hold: $DIR/hold", "").replace("fatal_after: 5", "fatal_after: 0")

    def test_a_bad_metrics_key_is_a_config_error_at_its_line(self):
        path = self.pipeline(self.PIPE + "metrics: localhost\n")
        run = self.flowrun("run", path, summary=False)
        self.assertEqual(run.code, 2)
        self.assertRegex(run.stderr, r"p\.yaml:\d+:\d+: key \"metrics\": ")

    def test_a_bad_metrics_option_is_a_usage_error(self):
        run = self.flowrun("run", self.pipeline(self.PIPE), "--metrics", "127.0.0.1:http",
                           summary=False)
        self.assertEqual(run.code, 2)
        self.assertIn("--metrics: ", run.stderr)

    def test_a_port_in_use_stops_the_run_before_it_starts(self):
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            port = s.getsockname()[1]
            run = self.flowrun("run", self.pipeline(self.PIPE), "--metrics",
                               "127.0.0.1:%d" % port, summary=False)
        self.assertEqual(run.code, 2, run.stderr)
        self.assertIn("metrics: ", run.stderr)
        self.assertNotIn("data flowing", run.stderr)


if __name__ == "__main__":
    unittest.main()
