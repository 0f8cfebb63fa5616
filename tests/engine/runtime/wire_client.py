"""Builds flowrun wire messages (include/flowrun/wire.h) byte by byte, for
tests that play a hostile or honest peer with a raw ZeroMQ socket."""
import re
import struct
import subprocess

import zmq

DATA, EOS = 1, 2
NONE, BYTES, IMAGE, TENSOR = 0, 1, 2, 3


def header(kind=BYTES, dims=(), rank=None, type_=DATA, id_="", key="", label="",
           media="", attrs=(), n_attrs=None, magic=b"FR", major=1):
    rank = len(dims) if rank is None else rank
    dims = list(dims) + [0] * (4 - len(dims))
    n_attrs = len(attrs) if n_attrs is None else n_attrs
    fixed = magic + struct.pack("<BBHBBB3x4IQI", major, 0, 40, type_, kind, rank, *dims, 0,
                                n_attrs)
    strings = [id_, key, label, media] + [s for pair in attrs for s in pair]
    table = b"".join(struct.pack("<I", len(s.encode())) + s.encode() for s in strings)
    return fixed + table


def eos(sender):
    return [header(kind=NONE, type_=EOS, key=sender)]


def image(key, h, w, payload=None, source="gen"):
    body = bytes((i * 7) % 256 for i in range(h * w * 3)) if payload is None else payload
    return [header(kind=IMAGE, dims=(h, w, 3), id_="%s:%s" % (source, key), key=key,
                   label="x"), body]


# ---- the control plane of a split run (engine/cluster/cluster.h) ----------------

def pipeline_hash(path):
    """FNV-1a 64 of the pipeline file, as the nodes compare it."""
    h = 1469598103934665603
    with open(path, "rb") as f:
        for b in f.read():
            h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def plugin_list(flowrun, stages):
    """'stage=plugin version (ABI M.m); ...' for [(stage, plugin)] in file order."""
    items = []
    for stage, plugin in stages:
        out = subprocess.run([flowrun, "describe", plugin], capture_output=True, text=True,
                             check=True).stdout
        abi, version = re.search(r"plugin ABI (\S+), version (\S+)", out).groups()
        items.append("%s=%s %s (ABI %s)" % (stage, plugin, version, abi))
    return "; ".join(items)


def flowrun_version(flowrun):
    out = subprocess.run([flowrun, "--version"], capture_output=True, text=True).stdout
    return out.split()[1]


def join(ctx, control, node, flowrun, yaml, stages):
    """Joins a split run as `node` with a DEALER, as flowrun does; returns
    the socket once the coordinator said GO."""
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.ROUTING_ID, node.encode())
    sock.setsockopt(zmq.LINGER, 5000)
    sock.connect(control)
    words = ["JOIN", node, pipeline_hash(yaml), flowrun_version(flowrun),
             plugin_list(flowrun, stages), "1", ""]
    sock.send_multipart([w.encode() for w in words])
    while True:
        frames = sock.recv_multipart()
        if frames[0] == b"GO":
            return sock
        if frames[0] != b"HB":
            raise RuntimeError("not admitted: %r" % frames)


def finish(sock, emitted):
    """Reports the node done with `emitted` source records; returns the verdict."""
    sock.send_multipart([b"DONE", b"0 %d" % emitted])
    while True:
        frames = sock.recv_multipart()
        if frames[0] in (b"VERDICT", b"STOP"):
            return int(frames[1].split()[0])


def inject_under_curve(server_key_file, endpoint, messages, timeout_ms=60000):
    """Connects a PUSH to a flowrun endpoint under CURVE with a key pair of
    its own, sends messages, and returns its public key once the server
    refused the handshake (a socket monitor event, no sleep)."""
    public, secret = zmq.curve_keypair()
    ctx = zmq.Context()
    push = ctx.socket(zmq.PUSH)
    push.curve_publickey, push.curve_secretkey = public, secret
    with open(server_key_file, "rb") as f:
        push.curve_serverkey = f.read().strip()
    push.setsockopt(zmq.LINGER, 0)
    monitor = push.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_AUTH)
    push.connect(endpoint)
    for frames in messages:
        push.send_multipart(frames, flags=zmq.NOBLOCK)
    refused = monitor.poll(timeout_ms)
    push.disable_monitor()
    monitor.close()
    push.close()
    ctx.term()
    if not refused:
        raise RuntimeError("the server at %s neither admitted nor refused us" % endpoint)
    return public.decode()
