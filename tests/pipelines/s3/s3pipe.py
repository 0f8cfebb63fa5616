"""What the s3 pipeline tests share: flowrun runs of s3-source -> capture-sink,
the bucket's content as boto3 (the independent client) sees it, and the
fault-injecting proxy (faultproxy.py) started as a child with its report
lines read from a pipe."""
import functools
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests/plugins/lib/s3"))
from s3test import boto, new_bucket, put_many, server_env  # noqa: E402,F401

FLOWRUN = os.environ["FLOWRUN_BIN"]


def fnv(data):
    """FNV-1a 64 as capture-sink writes it."""
    return format(functools.reduce(lambda h, b: ((h ^ b) * 1099511628211) & (2**64 - 1),
                                   data, 1469598103934665603), "016x")


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f]


def bucket_content(s3, bucket, prefix=""):
    """{key: (fnv, label)} of every object under prefix, read back with boto3."""
    keys = [o["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for o in page.get("Contents", [])]

    def one(key):
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        parent = key.rsplit("/", 1)[0] if "/" in key else ""
        return key, (fnv(data), parent.rsplit("/", 1)[-1])

    with ThreadPoolExecutor(16) as pool:
        return dict(pool.map(one, keys))


class Run:
    """A pipeline s3-source -> capture-sink in a fresh temporary directory
    (plugin="dir-source": that, with url as its path)."""

    def __init__(self, workdir, url, env, plugin="s3-source", cwd=None, **source):
        self.dir = tempfile.mkdtemp(prefix="run-", dir=workdir)
        self.out = os.path.join(self.dir, "out.jsonl")
        self.dead = os.path.join(self.dir, "dead.jsonl")
        self.summary_path = os.path.join(self.dir, "summary.json")
        opts = "".join(f", {k}: {json.dumps(v)}" for k, v in source.items())
        self.yaml = os.path.join(self.dir, "s3.yaml")
        with open(self.yaml, "w") as f:
            f.write(f"""
name: s3-test
dead_letters: {self.dead}
stages:
  src:  {{plugin: {plugin}, {"url" if plugin == "s3-source" else "path"}: {json.dumps(url)}{opts}}}
  sink: {{plugin: capture-sink, inputs: src, path: {self.out}}}
""")
        self.env = env
        self.cwd = cwd

    def run(self, timeout=240):
        return self.start().wait(timeout)

    def start(self):
        """Starts flowrun in the background; wait() collects it."""
        self.popen = subprocess.Popen([FLOWRUN, self.yaml, "--summary", self.summary_path],
                                      env=self.env, cwd=self.cwd, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
        return self

    def wait(self, timeout=240):
        out, err = self.popen.communicate(timeout=timeout)
        self.proc = subprocess.CompletedProcess(self.popen.args, self.popen.returncode, out, err)
        self.summary = None
        if os.path.exists(self.summary_path):
            with open(self.summary_path) as f:
                self.summary = json.load(f)
        return self

    def records(self):
        return lines(self.out)

    def dead_letters(self):
        return lines(self.dead)


class Proxy:
    """faultproxy.py in front of the server; .lines is a queue of its report
    lines ("request ...", "fault ..."), read from its stdout pipe."""

    def __init__(self, upstream, rules):
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(HERE, "faultproxy.py"), upstream,
             json.dumps(rules)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline().split()
        assert first[:1] == ["listening"], f"faultproxy did not start: {first}"
        self.endpoint = f"http://127.0.0.1:{first[1]}"
        self.lines = queue.Queue()
        self.log = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, prefix, timeout=120):
        """Blocks until the proxy reports a line starting with prefix."""
        while True:
            line = self.lines.get(timeout=timeout)
            self.log.append(line)
            if line.startswith(prefix):
                return line

    def resume(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def drain(self):
        """Every line reported so far, in order: asks the proxy for a "mark"
        line, so whatever it printed before is in the queue."""
        urllib.request.urlopen(self.endpoint + "/faultproxy-mark", timeout=60).close()
        self.wait_for("mark")
        self.log.pop()
        return self.log

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()
