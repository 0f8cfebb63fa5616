"""Three test hosts (network namespaces, netns_hosts.py) run one pipeline:
its output equals the one-process run's; a killed worker stops the others
with an error naming it, and a rerun on new hosts resumes from the
coordinator node's ledger with nothing lost or repeated; replicas on two
nodes fed by credit give the slower node fewer records; under CURVE a peer in a fourth namespace with a
key of its own gets nothing into the output."""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

from PIL import Image

from netns_hosts import Hosts

FLOWRUN = os.environ["FLOWRUN_BIN"]
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "engine", "runtime"))
from node_process import Node as NodeProcess, kill_all  # noqa: E402

PORT = 7100
IMAGES = """
name: three
dead_letters: $DIR/dead.jsonl
cluster: {node_timeout: 3s%(security)s}
nodes:
  edge: {endpoint: "tcp://%(edge)s:7100"%(edge_keys)s}
  w1:   {endpoint: "tcp://%(w1)s:7100"%(w1_keys)s}
  w2:   {endpoint: "tcp://%(w2)s:7100"%(w2_keys)s}
stages:
  src:    {plugin: dir-source, path: $DIR/images, node: edge}
  dec:    {plugin: jpeg-decode, inputs: src, node: edge}
  resize: {plugin: resize-224, inputs: dec, replicas: 2, node: w1}
  sink:   {plugin: capture-sink, inputs: resize, path: $DIR/%(out)s, %(sink)s node: w2}
"""
ONE = """
name: one
dead_letters: $DIR/dead-one.jsonl
stages:
  src:    {plugin: dir-source, path: $DIR/images}
  dec:    {plugin: jpeg-decode, inputs: src}
  resize: {plugin: resize-224, inputs: dec, replicas: 2}
  sink:   {plugin: capture-sink, inputs: resize, path: $DIR/one.jsonl}
"""
# Rolling parts on w2, committed as they go, and the ledger on the
# coordinator node edge, where the source runs.
RESUMABLE = """
name: resumable
state: $DIR/state
dead_letters: $DIR/dead.jsonl
%(cluster)s
stages:
  src:    {plugin: dir-source, path: $DIR/images%(edge)s}
  dec:    {plugin: jpeg-decode, inputs: src%(edge)s}
  resize: {plugin: resize-224, inputs: dec, width: 4, height: 4, replicas: 2%(w1)s}
  slow:   {plugin: passthrough, inputs: resize, delay: 100ms%(w2)s}
  sink:   {plugin: csv-sink, inputs: slow, path: $DIR/%(out)s, mode: append-parts,
           max_age: 200ms%(w2)s}
"""
NODES = ("edge", "w1", "w2")


def Node(hosts, name, yaml):
    """flowrun -v run --node NAME inside the node's namespace."""
    return NodeProcess(name, hosts.command(name, [FLOWRUN, "-v", "run", "--node", name, yaml]))


class ThreeHosts(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="flowrun-netns-")
        os.makedirs(self.path("images/red"))
        os.makedirs(self.path("images/blue"))
        for i in range(24):
            label = "red" if i % 2 else "blue"
            img = Image.new("RGB", (60 + 7 * i, 40 + 5 * i), (40 + 8 * i, 255 - 9 * i, 3 * i))
            img.save(self.path("images/%s/%02d.jpg" % (label, i)), quality=90)

    def tearDown(self):
        kill_all()
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def pipeline(self, hosts, out="three.jsonl", sink="", curve=False):
        keys = {}
        for node in NODES:
            keys[node + "_keys"] = (", public_key: $DIR/%s.pub, secret_key: $DIR/%s.key"
                                    % (node, node) if curve else "")
            if curve:
                subprocess.run([FLOWRUN, "keygen", "--force", self.path(node)], check=True,
                               capture_output=True)
        text = IMAGES % dict(hosts.addr, out=out, sink=sink,
                             security=", security: curve" if curve else "", **keys)
        path = self.path("three.yaml")
        with open(path, "w") as f:
            f.write(text.replace("$DIR", self.dir))
        return path

    def lines(self, name):
        with open(self.path(name)) as f:
            return sorted((json.loads(line) for line in f), key=lambda r: r["id"])

    def test_three_hosts_give_the_one_process_output(self):
        one = self.path("one.yaml")
        with open(one, "w") as f:
            f.write(ONE.replace("$DIR", self.dir))
        run = subprocess.run([FLOWRUN, "-q", "run", one], capture_output=True, text=True)
        self.assertEqual(run.returncode, 0, run.stderr)
        with Hosts(NODES) as hosts:
            yaml = self.pipeline(hosts)
            nodes = [Node(hosts, n, yaml) for n in NODES]
            codes = [n.finish() for n in nodes]
        self.assertEqual(codes, [0, 0, 0], "".join(n.stderr for n in nodes))
        self.assertEqual(self.lines("three.jsonl"), self.lines("one.jsonl"))
        self.assertEqual(len(self.lines("three.jsonl")), 24)
        # No CURVE, addresses that are not loopback: every node says so.
        for n in nodes:
            self.assertIn('node "w1" listens on tcp://10.77.0.2:7100 without authentication',
                          n.stderr)

    def test_a_killed_worker_stops_the_run_everywhere(self):
        with Hosts(NODES) as hosts:
            yaml = self.pipeline(hosts, sink="delay: 1s,")
            nodes = {n: Node(hosts, n, yaml) for n in NODES}
            for n in nodes.values():
                n.wait_for("data flowing")
            nodes["w2"].proc.send_signal(signal.SIGKILL)  # the busy one: its sink is slow
            nodes["w2"].finish()
            codes = [nodes[n].finish() for n in ("edge", "w1")]
        self.assertEqual(codes, [3, 3], nodes["edge"].stderr + nodes["w1"].stderr)
        lost = 'node "w2" (tcp://10.77.0.3:7100) lost: nothing heard for 3.0 s (node_timeout)'
        self.assertIn(lost, nodes["edge"].stderr)
        self.assertIn(lost, nodes["w1"].stderr)  # told by the coordinator
        self.assertFalse(os.path.exists(self.path("three.jsonl")))  # nothing partial

    def csv_rows(self, folder):
        """{key: row} of the parts the manifest lists; a key twice fails."""
        with open(self.path(folder + "/_manifest.json")) as f:
            parts = json.load(f)["parts"]
        rows = {}
        for part in parts:
            with open(self.path(folder + "/" + part["file"]), newline="") as f:
                for row in list(csv.reader(f))[1:]:  # after the header
                    self.assertNotIn(row[0], rows, "key written twice")
                    rows[row[0]] = row
        return rows

    def resumable(self, hosts):
        path = self.path("resumable.yaml")
        nodes = ("cluster: {node_timeout: 3s}\nnodes:\n" + "".join(
            '  %s: {endpoint: "tcp://%s:7100"}\n' % (n, hosts.addr[n]) for n in NODES))
        with open(path, "w") as f:
            f.write((RESUMABLE % dict(cluster=nodes, out="out", edge=", node: edge",
                                      w1=", node: w1", w2=", node: w2")).replace("$DIR", self.dir))
        return path

    def test_after_a_lost_worker_a_rerun_on_new_hosts_resumes_from_the_ledger(self):
        one = self.path("one.yaml")
        with open(one, "w") as f:
            f.write((RESUMABLE % dict(cluster="", out="one", edge="", w1="", w2=""))
                    .replace("$DIR/state", "$DIR/state-one").replace("$DIR", self.dir)
                    .replace("delay: 100ms", "delay: 0"))
        run = subprocess.run([FLOWRUN, "-q", "run", one], capture_output=True, text=True)
        self.assertEqual(run.returncode, 0, run.stderr)
        want = self.csv_rows("one")
        self.assertEqual(len(want), 24)
        with Hosts(NODES) as hosts:
            yaml = self.resumable(hosts)
            nodes = {n: Node(hosts, n, yaml) for n in NODES}
            for n in nodes.values():
                n.wait_for("data flowing")
            nodes["edge"].wait_for('stage "sink" committed')  # some parts are in
            nodes["w2"].proc.send_signal(signal.SIGKILL)
            nodes["w2"].finish()
            codes = [nodes[n].finish() for n in ("edge", "w1")]
        self.assertEqual(codes, [3, 3], nodes["edge"].stderr + nodes["w1"].stderr)
        self.assertIn('node "w2" (tcp://10.77.0.3:7100) lost', nodes["w1"].stderr)
        first = self.csv_rows("out")  # what was committed: whole parts only
        self.assertLess(len(first), 24)
        # The rerun: new namespaces, and w2's local state is gone (a new host).
        shutil.rmtree(self.path("state/stages/slow"), ignore_errors=True)
        shutil.rmtree(self.path("state/stages/sink"), ignore_errors=True)
        with Hosts(NODES) as hosts:
            yaml = self.resumable(hosts)
            nodes = {n: Node(hosts, n, yaml) for n in NODES}
            codes = [nodes[n].finish() for n in NODES]
        self.assertEqual(codes, [0, 0, 0], "".join(n.stderr for n in nodes.values()))
        self.assertRegex(nodes["edge"].stderr, r"resumed: [1-9]\d* keys skipped \([1-9]")
        got = self.csv_rows("out")  # every key once, the first attempt's parts kept
        self.assertEqual(got, want)
        for key, row in first.items():
            self.assertEqual(got[key], row)

    CREDIT = """
name: credit
state: $DIR/state-credit
dead_letters: $DIR/dead-credit.jsonl
cluster: {node_timeout: 10s}
nodes:
%(nodes)s
stages:
  src:  {plugin: gen-source, count: 400, size: 262144, node: edge}
  work: {plugin: passthrough, inputs: src, delay: "${PASS_DELAY:-0}", replicas: {w1: 2, w2: 2}}
  sink: {plugin: capture-sink, inputs: work, path: $DIR/credit.jsonl, node: edge}
"""

    def test_replicas_fed_by_credit_give_a_slower_node_fewer_records(self):
        # The same pipeline file on every node; w2's replicas take 100 ms a
        # record (PASS_DELAY in its environment only), w1's no time at all.
        # Records of 256 KiB: the credit is each pipe's queue (--queue), and
        # the kernel's socket buffers between hosts, which hold thousands of
        # small records, hold only a few of these.
        with Hosts(NODES) as hosts:
            nodes = "".join('  %s: {endpoint: "tcp://%s:7100"}\n' % (n, hosts.addr[n])
                            for n in NODES)
            yaml = self.path("credit.yaml")
            with open(yaml, "w") as f:
                f.write((self.CREDIT % dict(nodes=nodes)).replace("$DIR", self.dir))
            delay = {"edge": [], "w1": [], "w2": ["env", "PASS_DELAY=100ms"]}
            procs = {n: NodeProcess(n, hosts.command(n, delay[n] + [
                FLOWRUN, "-v", "run", "--node", n, yaml, "--summary",
                self.path(n + ".json")])) for n in NODES}
            codes = [procs[n].finish() for n in NODES]
        self.assertEqual(codes, [0, 0, 0], "".join(p.stderr for p in procs.values()))
        keys = [r["key"] for r in self.lines("credit.jsonl")]
        self.assertEqual(sorted(keys), ["rec-%06d" % i for i in range(400)])  # each once
        took = {}
        for n in ("w1", "w2"):
            with open(self.path(n + ".json")) as f:
                took[n] = json.load(f)["stages"]["work"]["records_in"]
        self.assertEqual(took["w1"] + took["w2"], 400)
        self.assertLess(took["w2"], took["w1"], took)

    def test_a_stranger_under_curve_injects_nothing(self):
        with Hosts(NODES + ("evil",)) as hosts:
            yaml = self.pipeline(hosts, sink="delay: 250ms,", curve=True)
            nodes = {n: Node(hosts, n, yaml) for n in NODES}
            for n in nodes.values():
                n.wait_for("data flowing")
            # From the fourth host: a client key of its own, w2's public key.
            inject = subprocess.run(hosts.command("evil", [
                "/usr/bin/python3", os.path.join(HERE, "inject.py"), self.path("w2.pub"),
                "tcp://%s:7100" % hosts.addr["w2"]]), capture_output=True, text=True)
            self.assertEqual(inject.returncode, 0, inject.stderr)
            line = nodes["w2"].wait_for("refused a connection")
            self.assertIn("to tcp://10.77.0.3:7100 from 10.77.0.4: CURVE key %s is not a node"
                          % inject.stdout.strip(), line)
            codes = [nodes[n].finish() for n in NODES]
        self.assertEqual(codes, [0, 0, 0], "".join(n.stderr for n in nodes.values()))
        keys = [r["key"] for r in self.lines("three.jsonl")]
        self.assertEqual(len(keys), 24)
        self.assertNotIn("evil", keys)


if __name__ == "__main__":
    unittest.main()
