"""Follows a watching flowrun pipeline (pipelines/fruits-watch.yaml and the
like): starts `flowrun -v PIPELINE`, reads its stderr on a thread, and at
each `published a part` line re-reads the sink's _manifest.json and stamps
the record ids that appeared with the time the line arrived: when each row
became visible.  Used by tools/demo-watch and bench/watch/run.py.

Standard library only (the demo installs no Python packages)."""
import json
import os
import queue
import signal
import subprocess
import threading
import time


class Follower:
    def __init__(self, flowrun, pipeline, manifest_folder, env, summary=None):
        self.folder = manifest_folder
        self.committed = {}  # record id -> time.time() it was first seen committed
        self.cond = threading.Condition()
        self.lines = queue.Queue()
        args = [flowrun, "-v", pipeline, "--no-progress"]
        if summary:
            args += ["--summary", summary]
        self.proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True, env=env)
        self.log = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        self.started = self.wait_line("data flowing")

    def _read(self):
        for line in self.proc.stderr:
            now = time.time()
            self.log.append(line)
            if "published a part" in line:
                self._stamp(now)
            self.lines.put(line)
        self.lines.put(None)
        with self.cond:
            self.cond.notify_all()

    def _stamp(self, now):
        try:
            with open(os.path.join(self.folder, "_manifest.json")) as f:
                parts = json.load(f)["parts"]
        except (OSError, ValueError):
            return  # the other sink published first: its own line follows
        with self.cond:
            for part in parts:
                for rid in part["ids"]:
                    self.committed.setdefault(rid, now)
            self.cond.notify_all()

    def wait_line(self, text, timeout=600):
        while True:
            line = self.lines.get(timeout=timeout)
            if line is None:
                raise RuntimeError("flowrun ended:\n" + "".join(self.log[-30:]))
            if text in line:
                return time.time()

    def wait_committed(self, ids, timeout=600):
        """Blocks until every id is committed; returns {id: time}."""
        deadline = time.time() + timeout
        with self.cond:
            while not all(i in self.committed for i in ids):
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("rows missing: %d of %d" % (
                        sum(i not in self.committed for i in ids), len(ids)))
                self.cond.wait(timeout=max(0.0, deadline - time.time()))
            return {i: self.committed[i] for i in ids}

    def stop(self):
        """SIGTERM: the input ends, what is in flight is committed.  Exit code."""
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=600)
        self.thread.join()
        return code


def percentile(values, q):
    """The q-th percentile (0..100), nearest rank."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, int(round(q / 100.0 * len(s) + 0.5)) - 1))
    return s[k]
