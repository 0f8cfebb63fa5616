"""A run split over nodes (flowrun run --node NAME, one process each) is
one run: nodes join the coordinator with the same pipeline, flowrun and
plugins or are refused; data flows only once all joined; dead letters and
commits reach the coordinator, which owns the verdict every node exits
with; a lost node stops every other within node_timeout, naming it."""
import json
import os
import signal
import subprocess
import unittest


import wire_client as w
from node_process import Node as NodeProcess
from flowrun_test import FLOWRUN, FlowrunCase, free_ports


SPLIT = """
name: split
dead_letters: $DIR/dead.jsonl
cluster: {join_timeout: %(join)s, node_timeout: 2s%(security)s}
nodes:
  edge: {endpoint: "tcp://127.0.0.1:%(edge)d"%(edge_keys)s}
  core: {endpoint: "tcp://127.0.0.1:%(core)d"%(core_bind)s%(core_keys)s}
stages:
  gen:  {plugin: gen-source, count: %(count)d, size: 1KiB, node: edge}
  mid:  {plugin: passthrough, inputs: gen, %(mid)s node: core}
  sink: {plugin: capture-sink, inputs: mid, path: $DIR/out.jsonl, %(sink)s node: edge}
"""


def Node(name, yaml):
    return NodeProcess(name, [FLOWRUN, "-v", "run", "--node", name, yaml])


class Split(FlowrunCase):
    CURVE = False

    def yaml(self, count=200, mid="", sink="", join="20s", name="p.yaml", curve=None,
             core_bind=""):
        curve = self.CURVE if curve is None else curve
        self.ports = {"edge": free_ports(4), "core": free_ports(4)}
        keys = {}
        for node in ("edge", "core"):
            keys[node + "_keys"] = (", public_key: $DIR/%s.pub, secret_key: $DIR/%s.key"
                                    % (node, node) if curve else "")
        security = ", security: curve" if curve else ""
        bind = ', bind: "%s"' % core_bind if core_bind else ""
        return self.pipeline(SPLIT % dict(self.ports, count=count, mid=mid, sink=sink, join=join,
                                          security=security, core_bind=bind, **keys), name)

    def run_nodes(self, yaml, names=("edge", "core"), yamls=None):
        nodes = [Node(n, (yamls or {}).get(n, yaml)) for n in names]
        codes = [n.finish() for n in nodes]
        return codes, nodes

    def test_one_verdict_for_the_whole_run(self):
        # core listens on every address of the host (bind:), the others
        # reach it at its endpoint.
        port = free_ports(4)
        yaml = self.yaml(count=500, core_bind="tcp://0.0.0.0:%d" % port)
        with open(yaml) as f:
            text = f.read().replace('"tcp://127.0.0.1:%d"' % self.ports["core"],
                                    '"tcp://127.0.0.1:%d"' % port)
        with open(yaml, "w") as f:
            f.write(text)
        codes, nodes = self.run_nodes(yaml)
        self.assertEqual(codes, [0, 0], "".join(n.stderr for n in nodes))
        self.assertEqual(len(self.lines("out.jsonl")), 500)
        self.assertIn("every node joined", nodes[0].stderr)

    def test_a_stage_that_drops_records_fails_every_node(self):
        codes, nodes = self.run_nodes(self.yaml(count=500, mid="drop_every: 100,"))
        self.assertEqual(codes, [3, 3], "".join(n.stderr for n in nodes))
        self.assertIn("5 of 500 records were neither delivered", nodes[0].stderr)

    def test_dead_letters_are_written_by_the_coordinator(self):
        codes, nodes = self.run_nodes(self.yaml(count=500, mid="reject_every: 50,"))
        self.assertEqual(codes, [1, 1], "".join(n.stderr for n in nodes))
        dead = self.lines("dead.jsonl")
        self.assertEqual(len(dead), 10)
        self.assertEqual({d["stage"] for d in dead}, {"mid"})

    def test_a_different_pipeline_file_is_refused(self):
        yaml = self.yaml()
        other = self.path("other.yaml")
        with open(yaml) as f, open(other, "w") as g:
            g.write(f.read() + "# changed\n")
        codes, nodes = self.run_nodes(yaml, yamls={"core": other})
        self.assertEqual(codes, [3, 3])
        self.assertIn('node "core" (tcp://127.0.0.1:%d) refused: its pipeline file differs'
                      % self.ports["core"], nodes[0].stderr)
        self.assertIn('coordinator "edge" refused node "core": its pipeline file differs',
                      nodes[1].stderr)
        self.assertFalse(os.path.exists(self.path("out.jsonl")))

    def test_a_missing_node_is_named_after_join_timeout(self):
        codes, nodes = self.run_nodes(self.yaml(join="1s"), names=("edge",))
        self.assertEqual(codes, [3])
        self.assertIn('nodes not joined after join_timeout 1.0 s: "core" (tcp://127.0.0.1:%d)'
                      % self.ports["core"], nodes[0].stderr)

    def test_a_signal_while_joining_stops_at_once(self):
        node = Node("edge", self.yaml(join="60s"))
        node.wait_for('for nodes "core" (tcp://127.0.0.1:%d)' % self.ports["core"])
        node.proc.send_signal(signal.SIGTERM)
        self.assertEqual(node.finish(), 4, node.stderr)

    def kill_one(self, victim):
        yaml = self.yaml(count=100000, sink="delay: 20ms,")
        nodes = {n: Node(n, yaml) for n in ("edge", "core")}
        for n in nodes.values():
            n.wait_for("data flowing")
        nodes[victim].proc.send_signal(signal.SIGKILL)
        nodes[victim].finish()
        survivor = nodes["core" if victim == "edge" else "edge"]
        return survivor, survivor.finish()

    def test_a_lost_worker_stops_the_coordinator(self):
        survivor, code = self.kill_one("core")
        self.assertEqual(code, 3, survivor.stderr)
        self.assertIn('node "core" (tcp://127.0.0.1:%d) lost: nothing heard for 2.0 s'
                      % self.ports["core"], survivor.stderr)
        self.assertFalse(os.path.exists(self.path("out.jsonl")))

    def test_a_lost_coordinator_stops_the_worker(self):
        survivor, code = self.kill_one("edge")
        self.assertEqual(code, 3, survivor.stderr)
        self.assertIn('node "edge" (tcp://127.0.0.1:%d) lost' % self.ports["edge"],
                      survivor.stderr)

    def test_a_failed_stage_stops_every_node(self):
        codes, nodes = self.run_nodes(self.yaml(count=5000, mid="fatal_after: 100,"))
        self.assertEqual(codes, [3, 3], "".join(n.stderr for n in nodes))
        self.assertIn('node "core": stage "mid" failed', nodes[0].stderr)
        self.assertFalse(os.path.exists(self.path("out.jsonl")))

    def test_replicas_on_two_nodes_share_the_work(self):
        yaml = self.yaml(count=3000, mid="replicas: {edge: 1, core: 2},")
        with open(yaml) as f:
            text = f.read().replace("replicas: {edge: 1, core: 2}, node: core",
                                    "replicas: {edge: 1, core: 2}")
        with open(yaml, "w") as f:
            f.write(text)
        summaries = [self.path("%s.json" % n) for n in ("edge", "core")]
        nodes = [NodeProcess(n, [FLOWRUN, "-v", "run", "--node", n, yaml, "--summary", s])
                 for n, s in zip(("edge", "core"), summaries)]
        codes = [n.finish() for n in nodes]
        self.assertEqual(codes, [0, 0], "".join(n.stderr for n in nodes))
        self.assertEqual(len(self.lines("out.jsonl")), 3000)
        took = []
        for path in summaries:
            with open(path) as f:
                took.append(json.load(f)["stages"]["mid"]["records_in"])
        self.assertEqual(sum(took), 3000)
        self.assertTrue(all(took), took)  # both nodes' replicas worked

    def test_replicas_name_known_nodes(self):
        yaml = self.yaml(mid="replicas: {edge: 1, cor: 2},")
        run = self.flowrun("validate", yaml, summary=False)
        self.assertEqual(run.code, 2)
        self.assertIn('stage "mid": key "replicas": unknown node "cor"', run.stderr)
        run = self.flowrun("validate", self.yaml(mid="replicas: {edge: 1, core: 0},"),
                           summary=False)
        self.assertIn('stage "mid": key "replicas": node "core": expected a count from 1 to 256',
                      run.stderr)
        run = self.flowrun("validate", self.yaml(mid="replicas: {edge: 1},"), summary=False)
        self.assertIn('key "node": the stage\'s replicas: already place it on nodes', run.stderr)


class SplitUnderCurve(Split):
    """Every test of Split again with CURVE on every link, and CURVE's own."""
    CURVE = True

    def setUp(self):
        super().setUp()
        for node in ("edge", "core"):
            subprocess.run([FLOWRUN, "keygen", self.path(node)], check=True,
                           capture_output=True)

    def test_keygen_writes_a_private_secret_key(self):
        self.assertEqual(os.stat(self.path("edge.key")).st_mode & 0o777, 0o600)
        again = subprocess.run([FLOWRUN, "keygen", self.path("edge")], capture_output=True,
                               text=True)
        self.assertEqual(again.returncode, 3)
        self.assertIn("File exists (--force replaces it)", again.stderr)

    def test_a_secret_key_readable_by_others_is_refused(self):
        os.chmod(self.path("core.key"), 0o644)
        codes, nodes = self.run_nodes(self.yaml(join="1s"), names=("core",))
        self.assertEqual(codes, [3])
        self.assertIn('node "core": secret key file %s is readable by others (mode 644)'
                      % self.path("core.key"), nodes[0].stderr)

    def test_a_key_pair_that_does_not_match_is_refused(self):
        subprocess.run([FLOWRUN, "keygen", "--force", self.path("core")], check=True,
                       capture_output=True)
        yaml = self.yaml(join="1s")
        with open(self.path("edge.pub")) as f, open(self.path("core.pub"), "w") as g:
            g.write(f.read())  # another node's public key
        codes, nodes = self.run_nodes(yaml, names=("core",))
        self.assertEqual(codes, [3])
        self.assertIn("does not belong to public key", nodes[0].stderr)

    def test_an_unknown_key_injects_nothing(self):
        yaml = self.yaml(count=300, sink="delay: 20ms,")
        nodes = {n: Node(n, yaml) for n in ("edge", "core")}
        for n in nodes.values():
            n.wait_for("data flowing")
        # A peer that knows core's public key but has a key of its own.
        public = w.inject_under_curve(
            self.path("core.pub"), "tcp://127.0.0.1:%d" % self.ports["core"],
            [[w.header(kind=w.BYTES, id_="gen:evil", key="evil"), b"x"], w.eos("gen#0")])
        line = nodes["core"].wait_for("refused a connection")
        self.assertIn("to tcp://127.0.0.1:%d from 127.0.0.1: CURVE key %s is not a node"
                      % (self.ports["core"], public), line)
        codes = [nodes[n].finish() for n in ("edge", "core")]
        self.assertEqual(codes, [0, 0], "".join(n.stderr for n in nodes.values()))
        keys = [r["key"] for r in self.lines("out.jsonl")]
        self.assertEqual(len(keys), 300)
        self.assertNotIn("evil", keys)


class ClusterConfig(FlowrunCase):
    BAD = """
name: bad
cluster: {coordinator: hub, security: tls, node_timout: 5s, join_timeout: 2h}
nodes:
  edge: {endpoint: "tcp://127.0.0.1:7100"}
stages:
  gen:  {plugin: gen-source, node: edge}
  sink: {plugin: null-sink, inputs: gen, node: edge}
"""

    def test_cluster_keys_are_checked(self):
        run = self.flowrun("validate", self.pipeline(self.BAD), summary=False)
        self.assertEqual(run.code, 2, run.stderr)
        self.assertIn('cluster: key "coordinator": unknown node "hub"', run.stderr)
        self.assertIn('cluster: key "security": expected none or curve, got "tls"', run.stderr)
        self.assertIn('cluster: unknown key "node_timout" (did you mean "node_timeout"?)',
                      run.stderr)
        self.assertIn('cluster: key "join_timeout": expected a duration from 100ms to 1h',
                      run.stderr)

    def test_curve_needs_every_public_key(self):
        text = self.BAD.replace("hub, security: tls, node_timout: 5s, join_timeout: 2h",
                                "edge, security: curve")
        run = self.flowrun("validate", self.pipeline(text), summary=False)
        self.assertEqual(run.code, 2, run.stderr)
        self.assertIn('node "edge": missing key "public_key" (cluster: security: curve)',
                      run.stderr)


if __name__ == "__main__":
    unittest.main()
