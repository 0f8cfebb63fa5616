"""Hostile peers on the wire: every malformed or forged frame sent to a
node's data endpoint is counted and dropped with a log line naming the
peer and the endpoint, never a crash; end of stream counts only from the
upstream instances the graph names, once each; a payload whose size
disagrees with its declared kind and dims never reaches a plugin."""
import json
import os
import subprocess
import unittest

import zmq

from flowrun_test import FLOWRUN, FlowrunCase, free_ports
import wire_client as w

PIPELINE = """
name: hostile
dead_letters: $DIR/dead.jsonl
cluster: {coordinator: core}
nodes:
  edge: {endpoint: "tcp://127.0.0.1:%d"}
  core: {endpoint: "tcp://127.0.0.1:%d"}
stages:
  src:    {plugin: dir-source, path: $DIR, node: edge}
  dec:    {plugin: jpeg-decode, inputs: src, replicas: 2, node: edge}
  resize: {plugin: resize-224, inputs: dec, width: 8, height: 8, node: core}
  sink:   {plugin: capture-sink, inputs: resize, path: $DIR/out.jsonl, node: core}
"""

# (what it is, the frames); each must be dropped as malformed.
HOSTILE = [
    ("one garbage frame", [b"hello"]),
    ("empty frame", [b""]),
    ("bad magic", [w.header(magic=b"XX"), b""]),
    ("another wire major", [w.header(major=9), b""]),
    ("rank past 4", [w.header(kind=w.TENSOR, dims=(1,), rank=9), b"1234"]),
    ("string table overrun", [w.header(key="abc")[:-2], b""]),
    ("a billion attributes", [w.header(n_attrs=10**9), b""]),
    ("unknown message type", [w.header(type_=7), b""]),
    ("unknown payload kind", [w.header(kind=9), b""]),
    ("224x224 image with a 16-byte payload", w.image("forged-small", 224, 224, b"x" * 16)),
    ("224x224 image without a payload frame", w.image("forged-none", 224, 224)[:1]),
    ("image of rank 2", [w.header(kind=w.IMAGE, dims=(4, 4), id_="gen:r2"), b"x" * 16]),
    ("image with a zero dimension", [w.header(kind=w.IMAGE, dims=(0, 4, 3)), b""]),
    ("image whose size overflows", [w.header(kind=w.IMAGE, dims=(2**32 - 1,) * 3), b"x"]),
    ("three frames", w.image("three", 2, 2) + [b"extra"]),
    ("EOS with a payload", w.eos("dec#0") + [b"x"]),
    ("EOS from a stranger", w.eos("evil#0")),
    ("EOS from a replica that does not exist", w.eos("dec#2")),
    ("EOS from a stage of the receiving node", w.eos("resize#0")),
    ("EOS from a stage that is not upstream", w.eos("src#0")),
    ("EOS sender without a replica number", w.eos("dec")),
]


class HostilePeer(FlowrunCase):
    def test_malformed_frames_are_counted_and_dropped(self):
        edge_port, core_port = free_ports(2), free_ports(2)
        yaml = self.pipeline(PIPELINE % (edge_port, core_port))
        summary = self.path("summary.json")
        core = subprocess.Popen([FLOWRUN, "-v", "run", "--node", "core", yaml, "--summary",
                                 summary], stderr=subprocess.PIPE, text=True)
        ctx = zmq.Context()
        # The test plays node edge: it joins the run as flowrun does (no
        # CURVE here, so anyone can), then sends hostile data.
        control = w.join(ctx, "tcp://127.0.0.1:%d" % (core_port + 1), "edge", FLOWRUN, yaml,
                         [("src", "dir-source"), ("dec", "jpeg-decode"), ("resize", "resize-224"),
                          ("sink", "capture-sink")])
        push = ctx.socket(zmq.PUSH)
        push.setsockopt(zmq.LINGER, 5000)
        push.connect("tcp://127.0.0.1:%d" % core_port)
        push.send_multipart(w.image("good-1", 4, 6))
        for _, frames in HOSTILE:
            push.send_multipart(frames)
        push.send_multipart(w.eos("dec#0"))
        push.send_multipart(w.eos("dec#0"))  # a second EOS from the same instance
        push.send_multipart(w.image("good-2", 3, 3))
        push.send_multipart(w.eos("dec#1"))
        push.close()
        self.assertEqual(w.finish(control, 2), 0)
        control.close()
        ctx.term()
        _, err = core.communicate(timeout=120)
        self.assertEqual(core.returncode, 0, err)
        self.assertFalse(os.path.exists(self.path("dead.jsonl")))
        dropped = [l for l in err.splitlines() if "dropped a malformed message" in l]
        self.assertEqual(len(dropped), len(HOSTILE) + 1, err)
        where = "from 127.0.0.1 on tcp://127.0.0.1:%d" % core_port
        for line in dropped:
            self.assertIn(where, line)
            self.assertTrue(line.startswith("[resize] "), line)
        self.assertIn("payload has 16", err)
        self.assertIn('second end of stream from "dec#0"', err)
        self.assertIn('"evil#0", which is not an upstream instance', err)
        with open(summary) as f:
            stages = json.load(f)["stages"]
        self.assertEqual(stages["resize"]["malformed"], len(HOSTILE) + 1)
        self.assertEqual(stages["resize"]["records_in"], 2)
        keys = sorted(r["key"] for r in self.lines("out.jsonl"))
        self.assertEqual(keys, ["good-1", "good-2"])
        for r in self.lines("out.jsonl"):
            self.assertEqual((r["dims"], r["size"]), ([8, 8, 3], 192))


if __name__ == "__main__":
    unittest.main()
