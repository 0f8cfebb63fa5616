"""flowrun top in a terminal (tmux): it shows every stage of a running
pipeline from its metrics endpoint and quits on q; an endpoint that cannot
be reached is a clear error."""
import os
import re
import socket
import subprocess
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests", "engine", "runtime"))
from flowrun_test import FLOWRUN, FlowrunCase  # noqa: E402
from ops_run import Flowrun, release  # noqa: E402

PIPELINE = """
name: watched
state: $DIR/state
dead_letters: $DIR/dead.jsonl
stages:
  numbers:  {plugin: gen-source, count: 500, hold: $DIR/hold}
  relay:    {plugin: passthrough, inputs: numbers, replicas: 2, reject_every: 9}
  discard:  {plugin: null-sink, inputs: relay}
"""


def tmux(*args):
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


class Top(FlowrunCase):
    def setUp(self):
        super().setUp()
        self.fifo = self.path("hold")
        os.mkfifo(self.fifo)
        self.session = "flowrun-top-" + uuid.uuid4().hex[:8]
        self.socket = self.path("tmux.sock")

    def tmux(self, *args):
        return tmux("-S", self.socket, *args)

    def tearDown(self):
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True)
        super().tearDown()

    def screen_until(self, *words, pattern=None, deadline_s=60):
        """The pane, captured until it shows every word and matches pattern
        (top redraws each second: a condition reached, not a duration assumed)."""
        end = time.monotonic() + deadline_s
        while True:
            screen = self.tmux("capture-pane", "-p", "-t", self.session)
            if all(w in screen for w in words) and (
                    not pattern or re.search(pattern, screen, re.M)):
                return screen
            if time.monotonic() > end:
                raise AssertionError("top never showed %s:\n%s" % (words, screen))
            time.sleep(0.2)

    def test_shows_every_stage_and_quits_on_q(self):
        run = Flowrun(["-v", "run", self.pipeline(PIPELINE), "--metrics", "127.0.0.1:0"],
                      env={"XDG_STATE_HOME": self.state_home})
        try:
            port = run.wait_metrics_port()
            run.wait_for("holding")
            # top, then a signal the test waits for when it has quit
            self.tmux("new-session", "-d", "-s", self.session, "-x", "160", "-y", "40",
                      "%s top 127.0.0.1:%d; echo top-exit=$?; tmux -S %s wait-for -S quit-%s; "
                      "sleep 600" % (FLOWRUN, port, self.socket, self.session))
            screen = self.screen_until("numbers", "relay", "discard", "gen-source",
                                       "passthrough", "null-sink", "IN/s", "BUSY%", "QUEUED",
                                       "DEAD", "watched",
                                       # every dead letter counted: 0, 9, ..., 495
                                       pattern=r"^relay .* 56$")
            self.tmux("send-keys", "-t", self.session, "q")
            self.tmux("wait-for", "quit-" + self.session)
            self.assertIn("top-exit=0", self.tmux("capture-pane", "-p", "-t", self.session))
        finally:
            release(self.fifo)
        self.assertEqual(run.finish(), 1, run.stderr)

    def test_an_unreachable_endpoint_is_a_clear_error(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # bound, not listening: refused
            run = subprocess.run([FLOWRUN, "top", "127.0.0.1:%d" % port], capture_output=True,
                                 text=True, stdin=subprocess.DEVNULL, timeout=60)
        self.assertEqual(run.returncode, 1)
        self.assertIn("flowrun top: cannot reach http://127.0.0.1:%d/metrics: Connection refused"
                      % port, run.stderr)
        self.assertEqual(run.stdout, "")

    def test_usage(self):
        run = subprocess.run([FLOWRUN, "top"], capture_output=True, text=True)
        self.assertEqual(run.returncode, 2)
        self.assertIn("usage: flowrun top", run.stderr)


if __name__ == "__main__":
    unittest.main()
