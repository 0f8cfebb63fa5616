#!/usr/bin/python3
"""s3-source against a malicious S3 server (hostile_s3.py), through the
flowrun binary: hostile listing sizes become dead letters naming the size
(no allocation, no overflow); a looping or trickling listing ends with a
clear error or on SIGTERM; endless pages and error bodies are cut at their
caps with flowrun's peak RSS bounded (measured here with getrusage)."""
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
FLOWRUN = os.environ["FLOWRUN_BIN"]
# Generous: flowrun with its plugins loaded stays far below this; an
# endless body buffered whole passes it within seconds.  ASan's shadow
# memory and quarantine count too.
RSS_BOUND_MB = 900 if os.environ.get("FLOWRUN_SANITIZE") in ("1", "ON", "TRUE") else 300


class Server:
    def __init__(self, scenario):
        self.proc = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "hostile_s3.py"),
                                      scenario], stdout=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline().split()
        assert first[:1] == ["listening"], first
        self.endpoint = f"http://127.0.0.1:{first[1]}"

    def wait_for(self, line):
        for got in self.proc.stdout:
            if got.strip() == line:
                return
        raise AssertionError(f"the server ended before saying {line!r}")

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f]


def peak_rss_mb(pid):
    """Peak RSS of the waited-for child pid, from wait4's rusage."""
    _, status, usage = os.wait4(pid, 0)
    return status, usage.ru_maxrss / 1024


class HostileS3(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="flowrun-hostile-s3-")
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, scenario, **source):
        self.server = Server(scenario)
        self.out = os.path.join(self.dir, "out.jsonl")
        self.dead = os.path.join(self.dir, "dead.jsonl")
        opts = "".join(f", {k}: {json.dumps(v)}" for k, v in source.items())
        yaml = os.path.join(self.dir, "p.yaml")
        with open(yaml, "w") as f:
            f.write(f"""
name: hostile
dead_letters: {self.dead}
stages:
  src: {{plugin: s3-source, url: "s3://b/", suffix: .jpg, endpoint: "{self.server.endpoint}"{opts}}}
  sink: {{plugin: capture-sink, inputs: src, path: {self.out}}}
""")
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDHOSTILE", AWS_SECRET_ACCESS_KEY="secret",
                   AWS_SHARED_CREDENTIALS_FILE="/nonexistent", AWS_CONFIG_FILE="/nonexistent",
                   AWS_REGION="us-east-1")
        env.pop("AWS_SESSION_TOKEN", None)
        return subprocess.Popen([FLOWRUN, "-v", yaml], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)

    def finish(self, proc, timeout=120):
        """(exit code, stderr, peak RSS in MB) of a flowrun run."""
        err = []
        # stderr is read to the end (the run closes it when it exits), then reaped
        for line in proc.stderr:
            err.append(line)
        status, rss = peak_rss_mb(proc.pid)
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stderr.close()
        return proc.returncode, "".join(err), rss

    def test_hostile_sizes_are_dead_letters(self):
        code, err, _ = self.finish(self.start("sizes", attempts=1))
        self.assertEqual(code, 1, err)
        self.assertEqual(sorted(r["key"] for r in read_jsonl(self.out)),
                         ["good/a.jpg", "good/b.jpg"])
        dead = {d["record"]["key"] if "record" in d else d.get("key"): d for d in
                read_jsonl(self.dead)}
        reasons = {k: json.dumps(v) for k, v in dead.items()}
        self.assertEqual(sorted(reasons), ["bad/garbage.jpg", "bad/max.jpg", "bad/minus.jpg",
                                           "bad/missing.jpg", "bad/tera.jpg"], err)
        for key in ["bad/garbage.jpg", "bad/max.jpg", "bad/minus.jpg", "bad/missing.jpg"]:
            self.assertIn("no valid <Size>", reasons[key])
        self.assertIn("listed size 1000000000000 bytes is above max_object_size 268435456",
                      reasons["bad/tera.jpg"])

    def test_same_continuation_token_fails_clearly(self):
        code, err, _ = self.finish(self.start("same-token"))
        self.assertEqual(code, 3, err)
        self.assertIn("returned the same continuation token twice", err)

    def test_trickling_listing_hits_its_deadline(self):
        code, err, _ = self.finish(self.start("trickle", listing_deadline="2s"))
        self.assertEqual(code, 3, err)
        self.assertIn("the listing took longer than its deadline of 2 s", err)

    def test_sigterm_during_a_trickling_listing(self):
        proc = self.start("trickle")
        self.server.wait_for("trickling")
        proc.send_signal(signal.SIGTERM)
        code, err, _ = self.finish(proc)
        self.assertEqual(code, 4, err)
        self.assertIn("stopping", err)

    def test_trickling_get_hits_the_object_deadline(self):
        code, err, _ = self.finish(self.start("trickle-get", object_deadline="2s", attempts=1))
        self.assertEqual(code, 1, err)
        dead = [json.dumps(d) for d in read_jsonl(self.dead)]
        self.assertEqual(len(dead), 2, err)
        for d in dead:
            self.assertIn("the transfer took longer than its deadline of 2 s", d)

    def test_endless_listing_page_is_cut(self):
        code, err, rss = self.finish(self.start("huge-page", max_listing_page="4MiB"))
        self.assertEqual(code, 3, err)
        self.assertIn("reply larger than 4194304 bytes", err)
        self.assertLess(rss, RSS_BOUND_MB)

    def test_endless_error_body_is_cut(self):
        code, err, rss = self.finish(self.start("huge-error", attempts=1))
        self.assertEqual(code, 1, err)
        dead = [json.dumps(d) for d in read_jsonl(self.dead)]
        self.assertEqual(len(dead), 2, err)
        for d in dead:
            self.assertIn("HTTP 500, error body over 65536 bytes not read", d)
        self.assertLess(rss, RSS_BOUND_MB)


if __name__ == "__main__":
    unittest.main(verbosity=2)
