"""A watching run split over two nodes (loopback) ends on SIGTERM to any
node as it does in one process: the sources' input ends, what is in flight
crosses the nodes and is committed in the coordinator's ledger, and every
node exits 0 (the coordinator's ledger holds every key as done).

Synchronisation: the coordinator's debug lines `watch: round N listed: K
new keys` (the rounds found the files), then one more round (a round
begins only once everything listed before was read); `data flowing` on
the other node."""
import os
import signal
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "engine", "runtime"))
from flowrun_test import FLOWRUN, FlowrunCase, free_ports  # noqa: E402
from node_process import Node, kill_all  # noqa: E402

PIPELINE = """
name: watch-split
state: ${STATE}
dead_letters: $DIR/dead.jsonl
cluster: {join_timeout: 20s, node_timeout: 5s}
nodes:
  edge: {endpoint: "tcp://127.0.0.1:%(edge)d"}
  core: {endpoint: "tcp://127.0.0.1:%(core)d"}
stages:
  files: {plugin: dir-source, path: $DIR/in, watch: 100ms, node: edge}
  mid:   {plugin: passthrough, inputs: files, node: core}
  cap:   {plugin: capture-sink, inputs: mid, path: $DIR/out.jsonl, node: core}
"""


class WatchSplitDrain(FlowrunCase):
    def setUp(self):
        super().setUp()
        os.makedirs(self.path("in"))
        self.yaml = self.pipeline(PIPELINE % {"edge": free_ports(4), "core": free_ports(4)})

    def tearDown(self):
        kill_all()
        super().tearDown()

    def write(self, names):
        for name in names:
            with open(self.path(os.path.join("in", name)), "w") as f:
                f.write("contents of " + name)

    def start(self):
        """Both nodes, each with a state directory of its own (on one
        machine; the pipeline file, and so its hash, is the same)."""
        nodes = {}
        for name in ("core", "edge"):
            os.environ["STATE"] = self.path("state-" + name)
            nodes[name] = Node(name, [FLOWRUN, "-v", "run", "--node", name, self.yaml])
        del os.environ["STATE"]
        nodes["core"].wait_for("data flowing")
        return nodes

    @staticmethod
    def listed(edge, new_keys):
        """Waits until the rounds listed new_keys new keys in all, then one
        more round; returns each round's count."""
        counts = []
        while sum(counts) < new_keys:
            line = edge.wait_for("watch: round ")
            counts.append(int(line.split("listed: ")[1].split()[0]))
        edge.wait_for("watch: round ")
        return counts

    def drained(self, nodes, signalled):
        nodes[signalled].proc.send_signal(signal.SIGTERM)
        codes = {name: node.finish() for name, node in nodes.items()}
        logs = "".join(n.stderr for n in nodes.values())
        self.assertEqual(codes, {"core": 0, "edge": 0}, logs)
        for name, node in nodes.items():
            self.assertIn("ending the input; committing what is in flight", node.stderr, name)
            self.assertNotIn("interrupted", node.stderr, name)
        other = "core" if signalled == "edge" else "edge"
        self.assertIn('node "%s": Terminated: ending the input' % signalled,
                      nodes[other].stderr)
        return nodes["edge"].stderr

    def committed(self, coordinator_log):
        return sum(int(line.split(" committed ")[1].split()[0])
                   for line in coordinator_log.splitlines()
                   if 'stage "cap" committed' in line)

    def done_keys(self):
        """The keys the coordinator's ledger holds as done (flowrun state)."""
        env = dict(os.environ, STATE=self.path("state-edge"))
        state = subprocess.run([FLOWRUN, "state", "--keys=done", self.yaml], env=env,
                               capture_output=True, text=True, check=True)
        return sorted(line.split()[1] for line in state.stdout.splitlines())

    def drain(self, signalled):
        names = ["a.txt", "b.txt", "c.txt"]
        self.write(names)
        nodes = self.start()
        self.listed(nodes["edge"], 3)
        log = self.drained(nodes, signalled)
        self.assertEqual(sorted(r["key"] for r in self.lines("out.jsonl")), names)
        self.assertEqual(self.committed(log), 3, log)
        self.assertEqual(self.done_keys(), names)

    def test_sigterm_to_the_coordinator_drains_every_node(self):
        self.drain("edge")

    def test_sigterm_to_another_node_drains_every_node(self):
        self.drain("core")


if __name__ == "__main__":
    unittest.main()
