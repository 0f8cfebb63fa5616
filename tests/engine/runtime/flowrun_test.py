"""Helpers for tests that drive the flowrun CLI: a scratch directory,
pipeline files, runs with their exit code, stderr and summary."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

FLOWRUN = os.environ["FLOWRUN_BIN"]


class Run:
    def __init__(self, proc, summary_path):
        self.code = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.summary = None
        if summary_path and os.path.exists(summary_path):
            with open(summary_path) as f:
                self.summary = json.load(f)


class FlowrunCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="flowrun-test-")
        # Where pipelines without `state:` keep their ledger: beside, not in, the scratch
        # directory, whose listing tests check.
        self.state_home = tempfile.mkdtemp(prefix="flowrun-state-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(self.state_home, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def pipeline(self, text, name="p.yaml"):
        path = self.path(name)
        with open(path, "w") as f:
            f.write(text.replace("$DIR", self.dir))
        return path

    def flowrun(self, *args, summary=True, timeout=240, env=None):
        summary_path = self.path("summary.json") if summary else None
        if summary_path and os.path.exists(summary_path):
            os.unlink(summary_path)
        cmd = [FLOWRUN, *args] + (["--summary", summary_path] if summary else [])
        # The ledger of a pipeline without `state:` lives in the scratch directory.
        env = {**os.environ, "XDG_STATE_HOME": self.state_home, **(env or {})}
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        return Run(proc, summary_path)

    def lines(self, name):
        with open(self.path(name)) as f:
            return [json.loads(line) for line in f]


def signal_when_flowing(pipeline, signo, timeout):
    """Runs `flowrun -v PIPELINE`, sends it signo once it logs `data flowing`
    (every instance ready: the synchronisation point, never a sleep) and waits
    for it.  Returns its exit code and the rest of its stderr."""
    proc = subprocess.Popen([FLOWRUN, "-v", pipeline], stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "data flowing" in line:
            break
    proc.send_signal(signo)
    rest = proc.stderr.read()
    proc.stderr.close()
    return proc.wait(timeout=timeout), rest


def free_ports(n):
    """A base port whose n consecutive ports are free now: a node listens on
    its endpoint's port and the next ones (data slots, the coordinator's
    control socket).  Below the kernel's ephemeral range: a port chosen in it
    can be given to another process's outgoing connection before the node
    binds it (seen: "Address already in use" in engine-cluster)."""
    import random
    import socket
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        ephemeral = int(f.read().split()[0])
    low = 10000 if ephemeral > 20000 else 1024
    for _ in range(200):
        base = random.randrange(low, ephemeral - n)
        socks = []
        try:
            for k in range(n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", base + k))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no %d free consecutive ports" % n)
