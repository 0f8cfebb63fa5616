"""A flowrun run to operate: started with --metrics on a free port and -v,
its stderr read line by line (the synchronisation points are its log lines),
and a source that holds the run open on a FIFO until the test releases it
(gen-source's `hold`)."""
import json
import os
import queue
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests", "engine", "runtime"))
from flowrun_test import FLOWRUN  # noqa: E402

LINE_TIMEOUT = 120  # seconds a log line may take to come: a failure, not a wait


class Flowrun:
    def __init__(self, args, env=None, log_json=False):
        self.lines = []
        self._queue = queue.Queue()
        self.proc = subprocess.Popen([FLOWRUN, *args], stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, **(env or {})})
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.log_json = log_json
        self.port = None

    def _read(self):
        for line in self.proc.stderr:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def _match(self, pattern, line):
        text = json.loads(line)["message"] if self.log_json else line
        return re.search(pattern, text)

    def wait_for(self, pattern):
        """The first line matching pattern (a regular expression), among those
        read so far or the next ones; with JSON logs, matched against the
        event's message.  Threads log in any order: a test waits for each
        moment it needs, not for an order between them."""
        for line in self.lines:
            match = self._match(pattern, line)
            if match:
                return match
        while True:
            try:
                line = self._queue.get(timeout=LINE_TIMEOUT)
            except queue.Empty:
                raise AssertionError("no line matching %r within %ds:\n%s"
                                     % (pattern, LINE_TIMEOUT, "\n".join(self.lines)))
            if line is None:
                raise AssertionError("flowrun ended before a line matching %r:\n%s"
                                     % (pattern, "\n".join(self.lines)))
            self.lines.append(line)
            match = self._match(pattern, line)
            if match:
                return match

    def wait_metrics_port(self):
        self.port = int(self.wait_for(r"metrics on http://127\.0\.0\.1:(\d+)/metrics").group(1))
        return self.port

    def finish(self, timeout=120):
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=timeout)
        while True:
            line = self._queue.get()
            if line is None:
                break
            self.lines.append(line)
        self.proc.stderr.close()
        return code

    @property
    def stderr(self):
        return "\n".join(self.lines)


def get(port, path, accept=None):
    """(status, content type, body) of GET http://127.0.0.1:port/path."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path))
    if accept:
        req.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers["Content-Type"], r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read().decode()


def release(fifo):
    """Lets a held gen-source end: a writer comes and goes."""
    with open(fifo, "w"):
        pass


def samples(text):
    """{(name, frozenset(labels.items())): value} of an exposition text."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        assert m, "not a sample line: %r" % line
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), frozenset(labels.items()))] = float(m.group(3))
    return out


def value(text, name, **labels):
    """The one sample of name whose labels include labels."""
    found = [v for (n, ls), v in samples(text).items()
             if n == name and set(labels.items()) <= set(ls)]
    assert len(found) == 1, "%d samples of %s %s" % (len(found), name, labels)
    return found[0]
